package join

// This file holds a session's background goroutine: pings, rejoins with
// backoff, and the leave.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/websocket"

	"github.com/kvclass/kvclass/kvapi"
)

// run keeps the session until Close or Leave, or until the instructor
// removes the node (Err then returns ErrKicked).
func (s *Session) run(conn *websocket.Conn, hb time.Duration) {
	defer close(s.done)
	defer s.waitRelay()
	defer s.releaseState()
	defer s.client.CloseIdleConnections()
	backoff := s.opts.MinBackoff
	for {
		start := time.Now()
		why, stop := s.keep(conn, hb)
		if stop {
			return
		}
		if s.kicked(why) {
			return
		}
		if time.Since(start) > hb {
			backoff = s.opts.MinBackoff // the connection worked for a while
		}
		for {
			wait := time.Duration(0)
			switch {
			case errors.Is(why, errURLChanged):
				s.log.Info("rejoining the proxy", "why", why.Error())
			case errors.Is(why, errLeaving):
			default:
				wait = jitter(backoff)
				backoff = min(2*backoff, s.opts.MaxBackoff)
				s.log.Warn("rejoining the proxy", "why", why.Error(), "in", wait.Round(time.Millisecond).String())
			}
			if s.pause(wait) {
				return
			}
			var err error
			conn, hb, err = s.attempt()
			if err == nil {
				s.log.Info("rejoined the proxy", "node", s.opts.Name, "url", s.currentURL())
				s.saveState()
				break
			}
			if s.kicked(err) {
				return
			}
			why = err
		}
	}
}

// keep pings over conn and watches it until it fails (why), or the session
// ends (stop).
func (s *Session) keep(conn *websocket.Conn, hb time.Duration) (why error, stop bool) {
	lease := (kvapi.MissedBeats + 1) * hb
	readerDone := make(chan error, 1)
	_ = conn.SetReadDeadline(time.Now().Add(lease))
	conn.SetPongHandler(func(string) error { return conn.SetReadDeadline(time.Now().Add(lease)) })
	go func() {
		for {
			if _, _, err := conn.ReadMessage(); err != nil {
				readerDone <- err
				return
			}
		}
	}()
	hangUp := func(reason string) {
		_ = conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, reason), time.Now().Add(time.Second))
		_ = conn.Close()
		<-readerDone
	}
	ticker := time.NewTicker(hb)
	defer ticker.Stop()
	// A join starts the node up on the proxy: a node that is down says so
	// again on every new connection.
	sent := kvapi.Status{Type: kvapi.StatusType, Up: true}
	sendStatus := func() error {
		st := s.currentStatus()
		if st == sent {
			return nil
		}
		_ = conn.SetWriteDeadline(time.Now().Add(writeWait))
		if err := conn.WriteJSON(st); err != nil {
			return err
		}
		sent = st
		if st.Up {
			s.log.Info("told the proxy this node is up again", "node", s.opts.Name)
		} else {
			s.log.Warn("told the proxy this node is down", "node", s.opts.Name, "reason", st.Reason)
		}
		return nil
	}
	fail := func(err error) (error, bool) {
		_ = conn.Close()
		<-readerDone
		return fmt.Errorf("cannot tell the proxy the node's status: %w", err), false
	}
	if err := sendStatus(); err != nil {
		return fail(err)
	}
	for {
		select {
		case <-s.ctx.Done():
			hangUp("closed")
			return nil, true
		case err := <-readerDone:
			_ = conn.Close()
			return describeClose(err, lease), false
		case <-ticker.C:
			if err := conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(hb)); err != nil {
				_ = conn.Close()
				<-readerDone
				return fmt.Errorf("cannot ping the proxy: %w", err), false
			}
		case <-s.statusChanged:
			if err := sendStatus(); err != nil {
				return fail(err)
			}
		case <-s.urlChanged:
			hangUp("rejoining with a new URL")
			return errURLChanged, false
		case req := <-s.leaveReq:
			req.result <- s.leaveOn(req.ctx, conn, readerDone)
			return nil, true
		}
	}
}

// describeClose explains why the proxy connection ended.
func describeClose(err error, lease time.Duration) error {
	var closeErr *websocket.CloseError
	if errors.As(err, &closeErr) {
		switch closeErr.Code {
		case kvapi.CloseKicked:
			return ErrKicked
		case websocket.CloseGoingAway:
			return errors.New("the proxy is stopping")
		}
		return fmt.Errorf("the proxy closed the connection: %s (%d)", cleanMessage(closeErr.Text), closeErr.Code)
	}
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		return fmt.Errorf("no answer from the proxy for %v", lease)
	}
	return fmt.Errorf("lost the proxy connection: %w", err)
}

// kicked reports whether why means the instructor removed the node: over
// the websocket's close code, or as the proxy's refusal of a kicked secret.
// Then the session ends, with ErrKicked as its Err: a removed node does not
// come back by itself.
func (s *Session) kicked(why error) bool {
	var refused *Error
	if !errors.Is(why, ErrKicked) && !(errors.As(why, &refused) && refused.Status == http.StatusForbidden && strings.Contains(refused.Message, "removed")) {
		return false
	}
	s.mu.Lock()
	s.err = ErrKicked
	s.mu.Unlock()
	s.log.Error("the instructor removed this node from the class; it will not rejoin", "node", s.opts.Name)
	s.forgetState()
	return true
}

// pause waits before the next rejoin attempt; it reports whether the session
// ended meanwhile (Close, or Leave, which it carries out over HTTP).
func (s *Session) pause(wait time.Duration) (stop bool) {
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		s.mu.Lock()
		leaving := s.leaving
		s.mu.Unlock()
		var tick <-chan time.Time
		if !leaving {
			tick = timer.C
		}
		select {
		case <-s.ctx.Done():
			return true
		case req := <-s.leaveReq:
			req.result <- s.postLeave(req.ctx)
			return true
		case <-s.urlChanged:
			if !leaving {
				return false
			}
		case <-tick:
			return false
		}
	}
}

// attempt is one rejoin, cancelled by Close or Leave.
func (s *Session) attempt() (*websocket.Conn, time.Duration, error) {
	ctx, cancel := context.WithCancel(s.ctx)
	defer cancel()
	s.mu.Lock()
	if s.leaving {
		s.mu.Unlock()
		return nil, 0, errLeaving
	}
	s.attemptCancel = cancel
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.attemptCancel = nil
		s.mu.Unlock()
	}()
	return s.dialJoin(ctx)
}

// waitRelay ends the relay loop, if any, and waits for it: the session is
// over, and the proxy must not reach the node through it any more.
func (s *Session) waitRelay() {
	if s.relayDone == nil {
		return
	}
	s.cancel()
	<-s.relayDone
}
