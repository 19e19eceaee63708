package node

import (
	"context"
	"time"

	"github.com/kvclass/kvclass/web"
)

// This file is the sidecar's watch over its upstream: the student's server
// cannot tell the proxy it is down, so the sidecar asks it every
// watchEvery and reports each change over the registry session
// (join.Session.SetStatus), which marks the node down on the proxy with the
// reason while it stays joined, and up again when the server is back.

// watchEvery is how often the sidecar asks its upstream while it serves;
// while it does not, the wait doubles up to watchBackoff.
const (
	watchEvery   = time.Second
	watchBackoff = 5 * time.Second
	// refreshEvery is how often the upstream's keys are re-read while
	// writes flow, to catch writes that bypassed the sidecar.
	refreshEvery = 10 * time.Second
)

// startWatch starts the watch; it ends with ctx or stopWatch.
func (s *sidecar) startWatch(ctx context.Context) {
	ctx, cancel := context.WithCancel(ctx)
	s.mu.Lock()
	s.stop, s.done = cancel, make(chan struct{})
	s.mu.Unlock()
	go s.watch(ctx)
}

// stopWatch ends the watch and waits for it.
func (s *sidecar) stopWatch() {
	s.mu.Lock()
	stop, done := s.stop, s.done
	s.mu.Unlock()
	if stop != nil {
		stop()
		<-done
	}
}

// watch asks the upstream whether it serves until ctx ends: every
// watchEvery while it does, so a killed server is reported within about a
// second (a hung one within the call's timeout more); while it does not,
// the wait doubles up to watchBackoff. When the server is back, or writes
// flowed for a while, its keys are read again.
func (s *sidecar) watch(ctx context.Context) {
	s.mu.Lock()
	done := s.done
	s.mu.Unlock()
	defer close(done)
	wait := watchEvery
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		_, err := s.up.probe(ctx)
		if ctx.Err() != nil {
			return
		}
		back := s.setHealth(err)
		if err != nil {
			wait = min(2*wait, watchBackoff)
		} else {
			wait = watchEvery
			if back || s.mirror.needsLoad(refreshEvery) {
				s.refresh(ctx) // a server that restarted may have lost its keys
			}
		}
		timer.Reset(wait)
	}
}

// setHealth records one answer of the upstream (err nil: it serves) and
// reports a change; it returns whether the upstream is back after being
// down.
func (s *sidecar) setHealth(err error) (back bool) {
	down := ""
	if err != nil {
		down = "upstream: " + err.Error()
	}
	s.mu.Lock()
	was := s.down
	s.down = down
	s.mu.Unlock()
	if down == was {
		return false
	}
	if down != "" {
		s.up.client.CloseIdleConnections() // they end at a dead server
		s.log.Warn("your server does not serve: the proxy marks this node down until it does", "upstream", s.up.String(), "why", err.Error())
	} else {
		s.log.Info("your server serves again: the proxy marks this node up", "upstream", s.up.String())
	}
	s.report(down)
	return was != "" && down == ""
}

// report tells the proxy (over the registry session, when the node
// joined) and the node's page that the upstream serves (down "") or not.
func (s *sidecar) report(down string) {
	n := s.n
	n.mu.Lock()
	session := n.session
	n.mu.Unlock()
	if session != nil {
		session.SetStatus(down == "", down)
	}
	v := n.view()
	v.Count, v.Keys = s.mirror.view()
	change := web.ChangeUp
	if down != "" {
		change = web.ChangeDown
	}
	n.hub.Publish(web.Event{Type: web.EventNode, Node: n.Name(), Change: change, View: &v})
}
