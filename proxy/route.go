package proxy

import (
	"bytes"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/valyala/fasthttp"

	"github.com/kvclass/kvclass/kvapi"
	"github.com/kvclass/kvclass/web"
)

// nodeFailed is the 502 for a call to b that failed.
func nodeFailed(b *backend, err error) *kvapi.Error {
	return &kvapi.Error{
		Status:  http.StatusBadGateway,
		Message: "Node " + b.name + " failed: " + err.Error() + ".",
		Nodes:   map[string]string{b.name: err.Error()},
	}
}

// nodeDown is the 503 for a node marked down, which is not called.
func nodeDown(b *backend) *kvapi.Error {
	return &kvapi.Error{
		Status:  http.StatusServiceUnavailable,
		Message: "Node " + b.name + " is down (" + b.reason + ").",
		Nodes:   map[string]string{b.name: b.reason},
	}
}

var errNoNodes = kvapi.Errorf(http.StatusServiceUnavailable, "No nodes: the proxy has no node to call yet.")

// relay writes a node's answer unchanged: status, body and content type,
// plus the NodeHeader. A joined node is a student's machine, so the answer
// also gets headers that stop a browser from running anything in it on the
// proxy's origin: a node answering text/html with a script gets no script.
func relay(w http.ResponseWriter, resp *fasthttp.Response, nodes string) {
	writeRelayed(w, resp.StatusCode(), resp.Header.ContentType(), resp.Body(), nodes)
}

func writeRelayed(w http.ResponseWriter, status int, ctype, body []byte, nodes string) {
	h := w.Header()
	if len(ctype) > 0 {
		h.Set("Content-Type", string(ctype))
	}
	h["X-Content-Type-Options"] = nosniff
	h["Content-Security-Policy"] = sandboxed
	h.Set(kvapi.NodeHeader, nodes)
	w.WriteHeader(status)
	w.Write(body)
}

var (
	nosniff   = []string{"nosniff"}
	sandboxed = []string{"default-src 'none'; sandbox"}
)

// data serves /get, /put and /delete.
func (p *Proxy) data(w http.ResponseWriter, r *http.Request, op kvapi.Op) {
	key, apiErr := p.limits.Key(r, op)
	if apiErr != nil {
		kvapi.WriteError(w, apiErr)
		return
	}
	var body []byte
	if op == kvapi.OpPut {
		buf := p.bufs.Get()
		defer p.bufs.Put(buf)
		if body, apiErr = p.limits.ReadBody(r, buf); apiErr == nil {
			apiErr = kvapi.CheckValue(body)
		}
		if apiErr != nil {
			kvapi.WriteError(w, apiErr)
			return
		}
	}
	t := p.table.Load()
	if len(t.nodes) == 0 {
		kvapi.WriteError(w, errNoNodes)
		p.feed(op.Name, key, nil, "error", errNoNodes.Status, errNoNodes.Message)
		return
	}
	if t.mode == Replication {
		if n := p.stillRejoining(); n > 0 && op != kvapi.OpGet {
			w.Header().Set("Retry-After", "2")
			f := kvapi.Errorf(http.StatusServiceUnavailable, "The proxy restarted and "+strconv.Itoa(n)+" of its nodes have not rejoined yet; a write now would leave them behind. Try again in a moment.")
			kvapi.WriteError(w, f)
			p.feed(op.Name, key, nil, "error", f.Status, f.Message)
			return
		}
		if op == kvapi.OpGet {
			p.replicatedGet(w, t, t.nodes, key)
		} else {
			p.replicatedWrite(w, t, t.nodes, op, key, body)
		}
		return
	}
	if t.place.Replicas() > 1 {
		// Sharding with replicas: each key on its owners, primary first.
		var buf [8]*backend
		owners := t.owners(key, buf[:0])
		if op == kvapi.OpGet {
			p.replicatedGet(w, t, owners, key)
		} else {
			p.replicatedWrite(w, t, owners, op, key, body)
		}
		return
	}
	b := t.owner(key)
	if !b.up {
		f := nodeDown(b)
		kvapi.WriteError(w, f)
		p.feed(op.Name, key, []string{b.name}, "error", f.Status, f.Message)
		return
	}
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseResponse(resp)
	if err := b.client.call(op.Methods[0], op.Path, key, body, resp); err != nil {
		f := nodeFailed(b, err)
		kvapi.WriteError(w, f)
		p.feed(op.Name, key, []string{b.name}, "error", f.Status, f.Message)
		return
	}
	relay(w, resp, b.name)
	p.feed(op.Name, key, []string{b.name}, result(op.Name, resp.StatusCode()), resp.StatusCode(), "")
}

// result names the outcome of a node's answer for the request feed.
func result(op string, status int) string {
	switch {
	case status == http.StatusOK && op == "GET":
		return "hit"
	case status == http.StatusOK:
		return "ok"
	case status == http.StatusNotFound:
		return "miss"
	}
	return "error"
}

// feed reports a served request to the live page, if anyone watches, and
// marks the gathered state stale after a write.
func (p *Proxy) feed(op, key string, nodes []string, res string, status int, errMsg string) {
	if op != "GET" {
		p.version.Add(1)
	}
	if p.hub.Clients() == 0 {
		return
	}
	p.hub.Publish(web.Event{Type: web.EventRequest, Op: op, Key: key, Nodes: nodes, Result: res, Status: status, Error: errMsg})
}

// replicatedGet asks the up nodes in order and relays the first 200. A key
// that every node answered 404 for is 404; if a node failed and none had the
// key, the answer is 502 naming the failures.
func (p *Proxy) replicatedGet(w http.ResponseWriter, t *table, targets []*backend, key string) {
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseResponse(resp)
	failed := map[string]string{}
	var miss []string
	up := upOf(targets)
	deadline := time.Now().Add(p.cfg.Timeout)
	for i, b := range up {
		// One timeout for the whole request: a node gets half of what is
		// left, the last node all of it, so a stuck first node cannot stall
		// the read for a timeout per node.
		budget := time.Until(deadline)
		if i < len(up)-1 {
			budget /= 2
		}
		if budget <= 0 {
			failed[b.name] = "not asked: the request ran out of time"
			continue
		}
		resp.Reset()
		if err := b.client.callWithin(budget, fasthttp.MethodGet, "/get", key, nil, resp); err != nil {
			failed[b.name] = err.Error()
			continue
		}
		if resp.StatusCode() == http.StatusOK {
			relay(w, resp, b.name)
			p.feed("GET", key, []string{b.name}, "hit", http.StatusOK, "")
			return
		}
		if resp.StatusCode() != http.StatusNotFound {
			failed[b.name] = "answered " + http.StatusText(resp.StatusCode())
			continue
		}
		miss = append(miss, b.name)
	}
	var f *kvapi.Error
	switch {
	case len(failed) > 0:
		f = &kvapi.Error{Status: http.StatusBadGateway, Message: "The key was not found, and some nodes failed: " + kvapi.Names(failed, ", ") + ".", Nodes: failed}
	case len(miss) == 0:
		f = &kvapi.Error{Status: http.StatusServiceUnavailable, Message: "Every node is down.", Nodes: downReasons(targets)}
	default:
		w.Header().Set(kvapi.NodeHeader, strings.Join(miss, ","))
		kvapi.WriteJSON(w, http.StatusNotFound, kvapi.NotFound(key).JSON())
		p.feed("GET", key, miss, "miss", http.StatusNotFound, "")
		return
	}
	kvapi.WriteError(w, f)
	p.feed("GET", key, nil, "error", f.Status, f.Message)
}

// outcome is one node's answer to a replicated write.
type outcome struct {
	i      int // the node's position among the up nodes
	b      *backend
	status int
	body   []byte
	ctype  []byte
	err    error
}

// A replicated write that reached its quorum waits for the other replicas
// for a grace: twice as long as the quorum took, at least minGrace and at
// most maxGrace. A replica that misses it is lagging: later writes send it
// their copy but do not wait for it, so a stuck replica costs one grace, not
// a node timeout per write.
const (
	minGrace = 20 * time.Millisecond
	maxGrace = 200 * time.Millisecond
)

// replicatedWrite sends a put or delete to every up node at once. A put
// succeeds when at least quorum nodes stored it; a delete when any node had
// the key. It answers once the outcome is decided and every other replica
// has answered or a short grace has passed (see writeGrace); replicas that
// answer later are reported to the page and the log as late.
func (p *Proxy) replicatedWrite(w http.ResponseWriter, t *table, targets []*backend, op kvapi.Op, key string, body []byte) {
	up := upOf(targets)
	need := 1
	if op == kvapi.OpPut {
		need = t.quorum
	}
	// The body buffer goes back to its pool when this handler returns, and
	// late replicas may still be sending it.
	body = bytes.Clone(body)
	results := make(chan outcome, len(up))
	for i, b := range up {
		if !b.client.startWrite() {
			results <- outcome{i: i, b: b, err: errLagging}
			continue
		}
		go func() {
			defer b.client.doneWrite()
			resp := fasthttp.AcquireResponse()
			defer fasthttp.ReleaseResponse(resp)
			o := outcome{i: i, b: b}
			if o.err = b.client.call(op.Methods[0], op.Path, key, body, resp); o.err == nil {
				o.status = resp.StatusCode()
				o.body = bytes.Clone(resp.Body())
				o.ctype = bytes.Clone(resp.Header.ContentType())
			}
			results <- o
		}()
	}

	// Replicas that were late on the last write are not waited for once
	// the quorum is in: a stuck replica costs each write nothing.
	prompt := 0
	wasLate := make([]bool, len(up))
	for i, b := range up {
		if wasLate[i] = b.client.lagging(); !wasLate[i] {
			prompt++
		}
	}
	start := time.Now()
	var outs []outcome
	var grace <-chan time.Time
	ok, promptIn := 0, 0
collect:
	for len(outs) < len(up) {
		select {
		case o := <-results:
			outs = append(outs, o)
			if o.err != errLagging {
				o.b.client.answered(true)
			}
			if !wasLate[o.i] {
				promptIn++
			}
			if o.err == nil && o.status == http.StatusOK {
				ok++
			}
			if ok >= need && promptIn >= prompt {
				break collect
			}
			if ok >= need && grace == nil {
				wait := min(max(2*time.Since(start), minGrace), maxGrace)
				grace = time.After(wait)
			}
		case <-grace:
			break collect
		}
	}
	if late := len(up) - len(outs); late > 0 {
		answered := map[*backend]bool{}
		for _, o := range outs {
			answered[o.b] = true
		}
		for _, b := range up {
			if !answered[b] {
				b.client.answered(false)
			}
		}
		go p.reportLate(op, key, late, results)
	}
	slices.SortFunc(outs, func(a, b outcome) int { return a.i - b.i }) // node order

	var okNodes, missNodes []string
	var first *outcome
	failed := map[string]string{}
	for i := range outs {
		o := &outs[i]
		switch {
		case o.err != nil:
			failed[o.b.name] = o.err.Error()
		case o.status == http.StatusOK:
			okNodes = append(okNodes, o.b.name)
			if first == nil {
				first = o
			}
		case o.status == http.StatusNotFound && op == kvapi.OpDelete:
			missNodes = append(missNodes, o.b.name)
		default:
			failed[o.b.name] = "answered " + strconv.Itoa(o.status) + ": " + clip(o.body, 200)
		}
	}
	if len(okNodes) >= need && first != nil {
		writeRelayed(w, first.status, first.ctype, first.body, strings.Join(okNodes, ","))
		p.feed(op.Name, key, okNodes, "ok", first.status, "")
		return
	}
	if op == kvapi.OpDelete && len(okNodes) == 0 && len(missNodes) > 0 && len(failed) == 0 {
		w.Header().Set(kvapi.NodeHeader, strings.Join(missNodes, ","))
		kvapi.WriteJSON(w, http.StatusNotFound, kvapi.NotFound(key).JSON())
		p.feed(op.Name, key, missNodes, "miss", http.StatusNotFound, "")
		return
	}
	maps.Copy(failed, downReasons(targets))
	f := &kvapi.Error{Status: http.StatusServiceUnavailable, Nodes: failed}
	if op == kvapi.OpPut {
		f.Message = "Write quorum not reached: stored on " + strconv.Itoa(len(okNodes)) + " of " + strconv.Itoa(len(targets)) + " nodes, quorum is " + strconv.Itoa(need) + "."
	} else {
		f.Message = "The delete reached no node."
	}
	if len(failed) > 0 {
		f.Message += " Failed: " + kvapi.Names(failed, ", ") + "."
	}
	kvapi.WriteError(w, f)
	p.feed(op.Name, key, okNodes, "error", f.Status, f.Message)
}

// reportLate waits for the n replicas a write did not wait for, and tells
// the page and the log how each one ended: stored late, or failed.
func (p *Proxy) reportLate(op kvapi.Op, key string, n int, results <-chan outcome) {
	for range n {
		o := <-results
		switch {
		case o.err != nil:
			p.log.Info("a replica missed a write", "node", o.b.name, "op", op.Name, "key", kvapi.Truncate(key, 64), "err", o.err)
			p.feed(op.Name, key, []string{o.b.name}, "late", 0, "missed: "+o.err.Error())
		case o.status != http.StatusOK:
			p.feed(op.Name, key, []string{o.b.name}, "late", o.status, "answered late: "+strconv.Itoa(o.status))
		default:
			p.feed(op.Name, key, []string{o.b.name}, "late", o.status, "")
		}
	}
}

// clip returns at most n bytes of a node's text, cut on a character
// boundary, for error messages.
func clip(b []byte, n int) string {
	s := strings.TrimSpace(string(b[:min(len(b), n+utf8.UTFMax)]))
	if len(s) <= n {
		return strings.ToValidUTF8(s, "?")
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return strings.ToValidUTF8(s[:n], "?") + "..."
}
