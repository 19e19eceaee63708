package proxy

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/kvclass/kvclass/kvapi"
	"github.com/kvclass/kvclass/web"
)

// Faults act inside the proxy, on its calls to a node, so they work on
// students' laptops behind any NAT: a delay before each call, a fraction of
// calls dropped, or a pause in which every call hangs until its timeout. The
// instructor sets them (POST /admin/fault, kvclass fault, the page's panel)
// and clears them (DELETE /admin/fault), which ends a pause at once.

// fault is one node's fault. cleared is closed when the fault is replaced
// or cleared, so calls waiting in a delay or a pause end at once.
type fault struct {
	web.Fault
	cleared chan struct{}
}

// faults holds the faults by node name.
type faults struct {
	mu      sync.Mutex
	byNode  map[string]*fault
	n       atomic.Int32 // len(byNode), read without the lock on every call
	waiting atomic.Int32 // calls waiting in a delay or a pause
}

// get returns the node's fault, nil when none.
func (f *faults) get(name string) *fault {
	if f.n.Load() == 0 {
		return nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.byNode[name]
}

// set replaces the node's fault; a zero fault clears it. It reports whether
// anything changed.
func (f *faults) set(name string, v web.Fault) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	old := f.byNode[name]
	if old != nil && old.Fault == v {
		return false
	}
	if old != nil {
		close(old.cleared)
		delete(f.byNode, name)
	}
	if v != (web.Fault{}) {
		if f.byNode == nil {
			f.byNode = map[string]*fault{}
		}
		f.byNode[name] = &fault{Fault: v, cleared: make(chan struct{})}
	}
	f.n.Store(int32(len(f.byNode)))
	return old != nil || v != (web.Fault{})
}

// names returns the faulted nodes.
func (f *faults) names() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]string, 0, len(f.byNode))
	for n := range f.byNode {
		out = append(out, n)
	}
	return out
}

// errDropped is a call the instructor's fault dropped.
var errDropped = errors.New("dropped by the instructor's fault")

// callNode makes a data call to b under b's fault, if any: it waits the
// delay, drops the call at the drop rate, or, paused, waits out the timeout
// as a node that does not answer would (ending early if the fault is
// cleared meanwhile).
func (p *Proxy) callNode(b *backend, nc nodeCall, resp *fasthttp.Response) error {
	if f := p.faults.get(b.name); f != nil {
		timeout := nc.timeout
		if timeout <= 0 {
			timeout = p.cfg.Timeout
		}
		start := time.Now()
		p.faults.waiting.Add(1)
		defer p.faults.waiting.Add(-1)
		if f.Pause {
			// A call made during a pause is lost, as over a cut network,
			// even when the pause ends before its timeout.
			select {
			case <-time.After(timeout):
				return fmt.Errorf("no answer within %s (paused by the instructor)", timeout)
			case <-f.cleared:
				return errors.New("no answer: the node was paused by the instructor")
			}
		} else if f.DelayMS > 0 {
			d := time.Duration(f.DelayMS) * time.Millisecond
			if d >= timeout {
				select {
				case <-time.After(timeout):
					return fmt.Errorf("no answer within %s (delayed %s by the instructor)", timeout, d)
				case <-f.cleared:
				}
			} else {
				select {
				case <-time.After(d):
				case <-f.cleared:
				}
			}
		}
		if f.Drop > 0 && rand.Float64() < f.Drop {
			return errDropped
		}
		if left := timeout - time.Since(start); left < timeout {
			nc.timeout = max(left, time.Millisecond)
		}
	}
	return b.client.send(nc, resp)
}

// faultRequest is POST /admin/fault's body.
type faultRequest struct {
	Node    string   `json:"node"`
	DelayMS *int     `json:"delay_ms"`
	Drop    *float64 `json:"drop"`
	Pause   *bool    `json:"pause"`
}

// adminFault sets a node's fault: POST /admin/fault {"node", "delay_ms",
// "drop", "pause"}; fields left out keep their values.
func (p *Proxy) adminFault(w http.ResponseWriter, body []byte) {
	var req faultRequest
	if !decodeAdmin(w, body, &req) {
		return
	}
	if p.table.Load().byName[req.Node] == nil {
		kvapi.WriteError(w, kvapi.Errorf(http.StatusNotFound, "No node named "+strconv.Quote(req.Node)+"."))
		return
	}
	var v web.Fault
	if old := p.faults.get(req.Node); old != nil {
		v = old.Fault
	}
	if req.DelayMS != nil {
		v.DelayMS = *req.DelayMS
	}
	if req.Drop != nil {
		v.Drop = *req.Drop
	}
	if req.Pause != nil {
		v.Pause = *req.Pause
	}
	switch {
	case v.DelayMS < 0 || v.DelayMS > 60000:
		kvapi.WriteError(w, kvapi.Errorf(http.StatusBadRequest, "delay_ms must be between 0 and 60000."))
		return
	case v.Drop < 0 || v.Drop > 1:
		kvapi.WriteError(w, kvapi.Errorf(http.StatusBadRequest, "drop must be a fraction between 0 and 1."))
		return
	}
	p.setFault(req.Node, v)
	kvapi.WriteMessage(w, "Fault on "+req.Node+": "+faultText(v)+".")
}

// clearFaults is DELETE /admin/fault[?node=NAME]: clear one node's fault, or
// every node's.
func (p *Proxy) clearFaults(w http.ResponseWriter, r *http.Request) {
	names := p.faults.names()
	if n := r.URL.Query().Get("node"); n != "" {
		names = []string{n}
	}
	for _, n := range names {
		p.setFault(n, web.Fault{})
	}
	kvapi.WriteMessage(w, "Faults cleared: normal service.")
}

// setFault installs a node's fault and tells every viewer.
func (p *Proxy) setFault(name string, v web.Fault) {
	if !p.faults.set(name, v) {
		return
	}
	p.log.Info("fault", "node", name, "fault", faultText(v))
	ev := web.Event{Type: web.EventFault, Node: name}
	if v != (web.Fault{}) {
		ev.Fault = &v
	} else if p.hints.count(name) > 0 {
		go p.replayHints(name) // the writes it missed while faulted
	}
	p.hub.Publish(ev)
}

// faultText says a fault in words.
func faultText(v web.Fault) string {
	switch {
	case v == web.Fault{}:
		return "none"
	case v.Pause:
		return "paused"
	}
	s := ""
	if v.DelayMS > 0 {
		s = "delay " + strconv.Itoa(v.DelayMS) + " ms"
	}
	if v.Drop > 0 {
		if s != "" {
			s += ", "
		}
		s += "drop " + strconv.FormatFloat(v.Drop*100, 'f', -1, 64) + "%"
	}
	return s
}
