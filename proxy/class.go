package proxy

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/kvclass/kvclass/check"
	"github.com/kvclass/kvclass/kvapi"
	"github.com/kvclass/kvclass/web"
)

// This file gathers what the page shows of the lessons beyond the seed (the
// Class: N/R/W, misplaced keys, a rebalance, anti-entropy, a check), and
// runs the instructor's linearizability check from the page.

// class returns the page's Class.
func (p *Proxy) class() *web.Class {
	t := p.table.Load()
	c := t.classView(t.n)
	p.placing.mu.Lock()
	c.Misplaced, c.Keys = len(p.placing.last.holders), p.placing.last.keys
	if r := p.placing.rebal; r != nil {
		cp := *r
		c.Rebalance = &cp
	}
	p.placing.mu.Unlock()
	c.Divergent = int(p.divergent.Load())
	p.checks.mu.Lock()
	if p.checks.last != nil {
		cp := *p.checks.last
		c.Check = &cp
	}
	p.checks.mu.Unlock()
	c.Locked = p.reg.Locked()
	return &c
}

// publishClass tells every viewer the whole Class.
func (p *Proxy) publishClass() {
	if p.hub.Clients() == 0 {
		return
	}
	p.hub.Publish(web.Event{Type: web.EventClass, Class: p.class()})
}

// checkRuns is the state of the page's checks.
type checkRuns struct {
	mu      sync.Mutex
	running bool
	last    *web.Check
}

// checkRequest is POST /admin/check's body.
type checkRequest struct {
	Duration string `json:"duration"` // default 10s
	Clients  int    `json:"clients"`  // default check's
	Keys     int    `json:"keys"`     // default check's
}

// maxCheckDuration bounds a check the page starts.
const maxCheckDuration = 2 * time.Minute

// adminCheck is POST /admin/check: the proxy runs a linearizability check
// on itself (concurrent clients through its own address), with its
// progress and verdict on every viewer's page.
func (p *Proxy) adminCheck(w http.ResponseWriter, body []byte) {
	req := checkRequest{Duration: "10s"}
	if len(body) > 0 && !decodeAdmin(w, body, &req) {
		return
	}
	d, err := time.ParseDuration(req.Duration)
	if err != nil || d <= 0 || d > maxCheckDuration {
		kvapi.WriteError(w, kvapi.Errorf(http.StatusBadRequest, "duration must be a duration up to "+maxCheckDuration.String()+", such as 10s."))
		return
	}
	if req.Clients < 0 || req.Clients > 64 || req.Keys < 0 || req.Keys > 1000 {
		kvapi.WriteError(w, kvapi.Errorf(http.StatusBadRequest, "clients must be 1-64 and keys 1-1000."))
		return
	}
	p.checks.mu.Lock()
	if p.checks.running || p.ctx == nil {
		p.checks.mu.Unlock()
		kvapi.WriteError(w, kvapi.Errorf(http.StatusConflict, "A check is running already."))
		return
	}
	p.checks.running = true
	p.checks.last = &web.Check{Running: true}
	p.checks.mu.Unlock()
	p.publishClass()
	go p.runCheck(p.ctx, check.CheckConfig{Proxy: p.LocalURL(), Duration: d, Clients: req.Clients, Keys: req.Keys})
	kvapi.WriteMessage(w, "Check started for "+d.String()+": the page shows its progress and verdict.")
}

// runCheck runs one check and publishes its progress and verdict.
func (p *Proxy) runCheck(ctx context.Context, cfg check.CheckConfig) {
	var lastPublish time.Time
	cfg.Progress = func(pr check.CheckProgress) {
		p.checks.mu.Lock()
		p.checks.last = &web.Check{Running: true, Ops: int(pr.Ops)}
		p.checks.mu.Unlock()
		if time.Since(lastPublish) > 500*time.Millisecond {
			lastPublish = time.Now()
			p.publishClass()
		}
	}
	r, err := check.Check(ctx, cfg)
	done := &web.Check{Ops: r.Counts.Ops, Verdict: string(r.Verdict), Explanation: r.Explanation}
	if err != nil {
		done.Verdict, done.Explanation = string(check.NoVerdict), err.Error()
	}
	p.checks.mu.Lock()
	p.checks.running, p.checks.last = false, done
	p.checks.mu.Unlock()
	p.log.Info("check done", "verdict", done.Verdict, "explanation", done.Explanation)
	p.publishClass()
}
