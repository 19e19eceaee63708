package proxy

import (
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/kvclass/kvclass/kvapi"
	"github.com/kvclass/kvclass/web"
)

// Hinted handoff: a write that could not reach an owner (down, or missed
// its call) is kept by the proxy as a hint, at most maxHints per node, and
// replayed when the node is up again. Each hint carries the write's
// version, so a replay never overwrites a newer copy (the node answers 409
// and keeps its own).

// replayParallel bounds the calls in flight while replaying one node's
// hints.
const replayParallel = 16

// maxHints bounds the hints kept per node; past it the oldest are dropped
// (anti-entropy still repairs those keys).
const maxHints = 10000

// hint is one write a node missed.
type hint struct {
	op      kvapi.Op
	key     string
	body    []byte // a put's body
	version string
}

// hintStore holds the hints per node.
type hintStore struct {
	mu        sync.Mutex
	byNode    map[string][]hint
	replaying map[string]bool // a replay to the node runs
	// changed is called with a node's new hint count; it must not block.
	changed func(node string, n int)
	// told marks the nodes whose count the page is about to be told.
	told map[string]bool
}

// hintsEvery is how often at most the page is told a node's hint count: a
// class writing while a replica is down adds a hint on every write.
const hintsEvery = 100 * time.Millisecond

// hintsChanged tells the page a node's count of hints (with the node's
// view), hintsEvery after the first change it has not told yet: the page
// always ends with the latest count.
func (p *Proxy) hintsChanged(name string, _ int) {
	p.hints.mu.Lock()
	if p.hints.told[name] {
		p.hints.mu.Unlock()
		return
	}
	if p.hints.told == nil {
		p.hints.told = map[string]bool{}
	}
	p.hints.told[name] = true
	p.hints.mu.Unlock()
	time.AfterFunc(hintsEvery, func() {
		p.hints.mu.Lock()
		delete(p.hints.told, name)
		p.hints.mu.Unlock()
		b := p.table.Load().byName[name]
		if b == nil || p.hub.Clients() == 0 {
			return
		}
		v := p.viewOf(b)
		p.hub.Publish(web.Event{Type: web.EventNode, Node: name, Change: web.ChangeSync, View: &v})
	})
}

// add keeps a hint for node; a later hint for the same key replaces an
// earlier one.
func (h *hintStore) add(node string, x hint) {
	h.mu.Lock()
	if h.byNode == nil {
		h.byNode = map[string][]hint{}
	}
	list := h.byNode[node]
	for i := range list {
		if list[i].key == x.key {
			if newerHint(list[i], x) { // a failed replay of an older write
				h.mu.Unlock()
				return
			}
			list = append(list[:i], list[i+1:]...)
			break
		}
	}
	list = append(list, x)
	if len(list) > maxHints {
		list = list[len(list)-maxHints:]
	}
	h.byNode[node] = list
	n := len(list)
	h.mu.Unlock()
	if h.changed != nil {
		h.changed(node, n)
	}
}

// newerHint reports whether a holds a newer write of its key than b: a
// replay that failed puts its hint back, and must not replace the hint of
// a write made meanwhile.
func newerHint(a, b hint) bool {
	va, errA := kvapi.ParseVersion(a.version)
	vb, errB := kvapi.ParseVersion(b.version)
	return errA == nil && errB == nil && va.Compare(vb) > 0
}

// count returns how many hints node has waiting.
func (h *hintStore) count(node string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.byNode[node])
}

// take removes and returns node's hints.
func (h *hintStore) take(node string) []hint {
	h.mu.Lock()
	defer h.mu.Unlock()
	list := h.byNode[node]
	delete(h.byNode, node)
	return list
}

// drop forgets a node's hints (it left the class).
func (h *hintStore) drop(node string) {
	h.mu.Lock()
	delete(h.byNode, node)
	h.mu.Unlock()
}

// hintLater keeps a write a node missed, and replays it soon when the node
// is up and not faulted (a late answer's miss, after the fault that caused
// it was cleared): a node that is down gets its hints when it is back.
func (p *Proxy) hintLater(name string, x hint) {
	p.hints.add(name, x)
	if b := p.table.Load().byName[name]; b != nil && b.up && p.faults.get(name) == nil {
		go p.replayHints(name)
	}
}

// replayHints sends node its hints, once it is up again; hints that still
// fail go back to wait for the next time. One replay runs per node.
func (p *Proxy) replayHints(name string) {
	p.hints.mu.Lock()
	if p.hints.replaying[name] {
		p.hints.mu.Unlock()
		return
	}
	if p.hints.replaying == nil {
		p.hints.replaying = map[string]bool{}
	}
	p.hints.replaying[name] = true
	p.hints.mu.Unlock()
	defer func() {
		p.hints.mu.Lock()
		delete(p.hints.replaying, name)
		p.hints.mu.Unlock()
	}()
	list := p.hints.take(name)
	if len(list) == 0 {
		return
	}
	b := p.table.Load().byName[name]
	if b == nil || !b.up || b.client == nil {
		for _, x := range list {
			p.hints.add(name, x)
		}
		return
	}
	// Calls run replayParallel at a time: over ngrok a call takes a round
	// trip of 50-300 ms, and a node that was away for a minute of class
	// writes comes back to hundreds of hints. Order does not matter: each
	// hint carries its version, so an older copy never wins.
	var replayed atomic.Int64
	var wg sync.WaitGroup
	sem := make(chan struct{}, replayParallel)
	for _, x := range list {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			resp := fasthttp.AcquireResponse()
			defer fasthttp.ReleaseResponse(resp)
			err := p.callNode(b, nodeCall{method: x.op.Methods[0], path: x.op.Path, key: x.key, body: x.body, version: x.version}, resp)
			if err != nil {
				p.hints.add(name, x)
				return
			}
			switch resp.StatusCode() {
			case http.StatusOK, http.StatusConflict, http.StatusNotFound:
				replayed.Add(1)
			default:
				p.hints.add(name, x)
			}
		})
	}
	wg.Wait()
	p.log.Info("hints replayed", "node", name, "replayed", replayed.Load(), "of", len(list))
	p.feed(web.Event{Op: "HINTS", Nodes: []string{name}, Result: "ok", Status: http.StatusOK, Key: strconv.FormatInt(replayed.Load(), 10) + " writes replayed"})
	p.hints.changed(name, p.hints.count(name))
}
