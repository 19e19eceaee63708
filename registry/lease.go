package registry

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kvclass/kvclass/kvapi"
)

// maxHealthChecks bounds concurrent health checks of config nodes.
const maxHealthChecks = 16

// Run keeps the membership current until ctx ends, then returns nil: it marks
// joined nodes down when their heartbeats stop, removes those down longer than
// the expiry (but not a node that reported itself down and still
// heartbeats), health-checks config nodes (GET /health every HealthInterval;
// one failed check marks a node down, one passing check up again), and prunes
// the failed-join records. Run it once per Registry.
func (r *Registry) Run(ctx context.Context) error {
	if !r.running.CompareAndSwap(false, true) {
		return errors.New("registry: Run called twice")
	}
	defer r.running.Store(false)

	var rounds sync.WaitGroup
	defer rounds.Wait()
	var busy atomic.Bool
	startRound := func() {
		if len(r.static) == 0 || !busy.CompareAndSwap(false, true) {
			return
		}
		rounds.Go(func() {
			defer busy.Store(false)
			r.checkConfigNodes(ctx)
		})
	}
	startRound()
	health := time.NewTicker(r.opts.HealthInterval)
	defer health.Stop()
	timer := time.NewTimer(r.sweep())
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
			timer.Reset(r.sweep())
		case <-r.wake:
			timer.Reset(r.sweep())
		case <-health.C:
			startRound()
		case <-r.checkNow:
			startRound()
		}
	}
}

// sweep applies lease and expiry deadlines and returns how long until the
// next one, at most one heartbeat interval (so a test clock moved by
// Options.Now is noticed).
func (r *Registry) sweep() time.Duration {
	r.limiter.prune()
	now := r.now()
	next := r.opts.Heartbeat
	soon := func(t time.Time) {
		if d := t.Sub(now); d < next {
			next = max(d, time.Millisecond)
		}
	}
	r.update(func(d *delivery) error {
		for _, m := range r.list {
			e := r.byName[m.Name]
			if e == nil || !e.joined {
				continue
			}
			if e.up || e.nodeDown {
				deadline := e.lastBeat.Add(kvapi.MissedBeats * e.interval)
				if now.Before(deadline) {
					// Up, or down by its own report but heartbeating: a
					// student fixing the server behind it keeps the place.
					soon(deadline)
					continue
				}
				e.nodeDown = false
				r.markDown(e, reasonMissed, d)
				r.log.Info("node down", "node", e.name, "reason", reasonMissed)
			}
			expires := e.since.Add(r.opts.Expiry)
			if now.Before(expires) {
				soon(expires)
				continue
			}
			d.closeSession(e, kvapi.CloseReplaced, "expired")
			r.release(e, ChangeLeave, d)
			r.log.Info("node expired", "node", e.name, "down_for", now.Sub(e.since).Round(time.Second).String())
		}
		return nil
	})
	return next
}

// checkConfigNodes health-checks every config place that no joined node
// holds, and applies the results.
func (r *Registry) checkConfigNodes(ctx context.Context) {
	type target struct{ name, url string }
	var targets []target
	r.mu.Lock()
	for _, name := range r.static {
		if e := r.byName[name]; !e.joined {
			targets = append(targets, target{name, e.url})
		}
	}
	r.mu.Unlock()
	var wg sync.WaitGroup
	sem := make(chan struct{}, maxHealthChecks)
	for _, t := range targets {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			err := getHealth(ctx, r.health, t.url, r.opts.UserAgent)
			if ctx.Err() == nil {
				r.applyHealth(t.name, t.url, err)
			}
		})
	}
	wg.Wait()
}

// applyHealth records one health check of the config node name at url.
func (r *Registry) applyHealth(name, url string, err error) {
	var changes []Change
	r.update(func(d *delivery) error {
		e := r.byName[name]
		if e == nil || e.joined || e.url != url {
			return nil
		}
		if err == nil {
			r.beat(e, d)
		} else {
			r.markDown(e, "health check: "+err.Error(), d)
		}
		changes = d.changes
		return nil
	})
	for _, c := range changes {
		r.log.Info("config node "+string(c.Kind), "node", name, "reason", c.Member.Reason)
	}
}
