package proxy

import (
	"bytes"
	"errors"
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

// This file is the request path of the data API, in three steps: kvapi
// parses the request, the table names the key's owners (placement), and
// the proxy calls them: one owner (the seed's sharding) in single, several
// in read and write, which apply the read and write quorums, versions and
// repairs of replication.go and hints.go.

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

// relayCtx writes a node's answer unchanged: status, body, content type
// and version, plus the NodeHeader. A joined node is a student's machine,
// so the answer also gets headers that stop a browser from running
// anything in it on the proxy's origin (relayedHeaders): a node answering
// text/html with a script gets no script.
func relayCtx(ctx *fasthttp.RequestCtx, resp *fasthttp.Response, nodes string) {
	if v := resp.Header.PeekBytes(versionKey); len(v) > 0 {
		ctx.Response.Header.SetCanonical(versionKey, v)
	}
	writeRelayed(ctx, resp.StatusCode(), resp.Header.ContentType(), resp.Body(), nodes)
}

// writeRelayed writes an answer of the nodes, as relayCtx does.
func writeRelayed(ctx *fasthttp.RequestCtx, status int, ctype, body []byte, nodes string) {
	h := &ctx.Response.Header
	if len(ctype) > 0 {
		h.SetContentTypeBytes(ctype)
	}
	for _, kv := range relayedHeadersCtx {
		h.SetCanonical(kv[0], kv[1])
	}
	h.SetCanonical(nodeKey, []byte(nodes))
	ctx.SetStatusCode(status)
	ctx.SetBody(body)
}

// Header names as fasthttp keeps them (canonical), and relayedHeaders, for
// the answers relayed on the request path.
var (
	versionKey        = []byte(kvapi.VersionHeader)
	nodeKey           = []byte(kvapi.NodeHeader)
	relayedHeadersCtx = func() (kv [len(relayedHeaders)][2][]byte) {
		for i, h := range relayedHeaders {
			kv[i] = [2][]byte{[]byte(h[0]), []byte(h[1])}
		}
		return kv
	}()
)

// relay is relayCtx for a standard handler (a node's filtered /state).
func relay(w http.ResponseWriter, resp *fasthttp.Response, nodes string) {
	h := w.Header()
	if v := resp.Header.Peek(kvapi.VersionHeader); len(v) > 0 {
		h.Set(kvapi.VersionHeader, string(v))
	}
	if ctype := resp.Header.ContentType(); len(ctype) > 0 {
		h.Set("Content-Type", string(ctype))
	}
	for _, kv := range relayedHeaders {
		h.Set(kv[0], kv[1])
	}
	h.Set(kvapi.NodeHeader, nodes)
	w.WriteHeader(resp.StatusCode())
	w.Write(resp.Body())
}

// relayedHeaders are set on every answer relayed from nodes.
var relayedHeaders = [...][2]string{
	{"X-Content-Type-Options", "nosniff"},
	{"Content-Security-Policy", "default-src 'none'; sandbox"},
}

// request is one client request on its way to the nodes.
type request struct {
	op      kvapi.Op
	key     string
	body    []byte        // a put's body, as the client sent it (the server's memory: valid while the request is served)
	version kvapi.Version // the client's X-Kvclass-Version; zero when none
}

// data serves the data API, /get, /put and /delete, on fasthttp's server
// (serve.Handler.Data), in three steps: kvapi parses the request, the
// table names the key's owners, and the proxy calls them. A write that a
// browser sends from a page of another site is refused first.
func (p *Proxy) data(ctx *fasthttp.RequestCtx) {
	if !ctx.IsGet() && !ctx.IsHead() && !p.origins.AllowWriteCtx(ctx) {
		kvapi.WriteErrorCtx(ctx, kvapi.ErrCrossSite)
		return
	}
	var op kvapi.Op
	switch path := ctx.URI().PathOriginal(); string(path) {
	case kvapi.OpGet.Path:
		op = kvapi.OpGet
	case kvapi.OpPut.Path:
		op = kvapi.OpPut
	case kvapi.OpDelete.Path:
		op = kvapi.OpDelete
	default:
		kvapi.WriteErrorCtx(ctx, kvapi.ErrNoRoute)
		return
	}
	req, apiErr := p.parse(ctx, op)
	if apiErr != nil {
		kvapi.WriteErrorCtx(ctx, apiErr)
		return
	}
	t := p.table.Load()
	if len(t.nodes) == 0 {
		p.fail(ctx, req, nil, errNoNodes)
		return
	}
	var buf [8]*backend
	owners := t.ownersOf(req.key, buf[:0])
	switch {
	case len(owners) == 1 && t.repl.ReadQuorum == 1:
		p.single(ctx, t, owners[0], req)
	case op == kvapi.OpGet:
		p.read(ctx, t, owners, req)
	default:
		if n := p.stillRejoining(); n > 0 {
			ctx.Response.Header.Set("Retry-After", "2")
			p.fail(ctx, req, nil, kvapi.Errorf(http.StatusServiceUnavailable, "The proxy restarted and "+strconv.Itoa(n)+" of its nodes have not rejoined yet; a write now would leave them behind. Try again in a moment."))
			return
		}
		p.write(ctx, t, owners, req, true)
	}
}

// parse reads a request to op with kvapi's rules, before any node is
// called: its key, its version and a put's body.
func (p *Proxy) parse(ctx *fasthttp.RequestCtx, op kvapi.Op) (request, *kvapi.Error) {
	key, apiErr := p.limits.KeyCtx(ctx, op)
	if apiErr != nil {
		return request{}, apiErr
	}
	req := request{op: op, key: key}
	if req.version, apiErr = kvapi.ParseVersionHeaderCtx(ctx); apiErr != nil {
		return request{}, apiErr
	}
	if op == kvapi.OpPut {
		if req.body, apiErr = p.limits.BodyCtx(ctx); apiErr == nil {
			apiErr = kvapi.CheckValue(req.body)
		}
	}
	return req, apiErr
}

// fail answers err and reports it to the page.
func (p *Proxy) fail(ctx *fasthttp.RequestCtx, req request, nodes []string, err *kvapi.Error) {
	kvapi.WriteErrorCtx(ctx, err)
	p.feed(web.Event{Op: req.op.Name, Key: req.key, Nodes: nodes, Result: "error", Status: err.Status, Error: err.Message})
}

// single serves a request whose key has one owner, as the seed's sharding
// did: the owner's answer is relayed as it is. A read that misses on the
// owner says where the key is when it sits elsewhere (a membership or
// placement change left it there), and is served from there while a
// rebalance is moving it.
func (p *Proxy) single(ctx *fasthttp.RequestCtx, t *table, b *backend, req request) {
	if !b.up {
		p.fail(ctx, req, []string{b.name}, nodeDown(b))
		return
	}
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseResponse(resp)
	nc := nodeCall{method: req.op.Methods[0], path: req.op.Path, key: req.key, body: req.body}
	// A write through the proxy carries the proxy's version (unless the
	// client sent one), so that every write the class makes through the
	// proxy is ordered by one clock, whichever node stores it: a key moved
	// by a rebalance never looks newer than a later write on its owner.
	stamped := req.op != kvapi.OpGet && req.version.IsZero()
	if req.op != kvapi.OpGet {
		v := req.version
		if stamped {
			v = p.stamp()
		}
		nc.version = v.String()
	}
	if err := p.callNode(b, nc, resp); err != nil {
		p.fail(ctx, req, []string{b.name}, nodeFailed(b, err))
		return
	}
	status := resp.StatusCode()
	if status == http.StatusConflict && stamped {
		// The node holds a newer version, written around the proxy: a seed
		// client's write still wins, with a version past it.
		p.clock.Observe(answerVersion(resp, b.name).HLC)
		nc.version = p.stamp().String()
		resp.Reset()
		if err := p.callNode(b, nc, resp); err != nil {
			p.fail(ctx, req, []string{b.name}, nodeFailed(b, err))
			return
		}
		status = resp.StatusCode()
	}
	ev := web.Event{Op: req.op.Name, Key: req.key, Result: result(req.op.Name, status), Status: status}
	v := answerVersion(resp, b.name)
	if !v.IsZero() {
		p.clock.Observe(v.HLC)
	}
	switch {
	case status == http.StatusOK && req.op != kvapi.OpGet:
		p.acked.record(req.key, v)
	case status == http.StatusOK:
		p.noteStale(&ev, b.name, v)
	case status == http.StatusNotFound && req.op == kvapi.OpGet:
		if holder := p.misplacedHolder(t, req.key, b.name); holder != nil {
			ev.Misplaced = holder.name
			if p.serveMoving(ctx, holder, req, &ev) {
				p.feed(ev)
				return
			}
			if p.placing.running.Load() {
				// The key may have moved between the two calls: ask its
				// owner again.
				resp.Reset()
				if err := p.callNode(b, nc, resp); err == nil && resp.StatusCode() == http.StatusOK {
					ev.Misplaced, ev.Result, ev.Status = "", "hit", http.StatusOK
					relayCtx(ctx, resp, b.name)
					p.feedOne(ev, b.name, kvapi.Version{})
					return
				}
			}
			ctx.Response.Header.Set(kvapi.MisplacedHeader, holder.name)
		}
	}
	relayCtx(ctx, resp, b.name)
	p.feedOne(ev, b.name, v)
}

// feedOne is feed for an answer of one node that carried version v: the
// event's node list and version text are made only for a page that
// watches, not on every request.
func (p *Proxy) feedOne(ev web.Event, node string, v kvapi.Version) {
	if p.hub.Clients() > 0 {
		ev.Nodes = []string{node}
		if !v.IsZero() {
			ev.Version = v.String()
		}
	}
	p.feed(ev)
}

// answerVersion is the version a node's answer carries; zero when none (a
// node without versions) or malformed. node, the name of the node that
// answered, spares the request path a copy of the origin when it is the
// node's own (or the proxy's).
func answerVersion(resp *fasthttp.Response, node ...string) kvapi.Version {
	raw := resp.Header.PeekBytes(versionKey)
	if len(raw) == 0 {
		return kvapi.Version{}
	}
	known := [2]string{proxyOrigin}
	if len(node) > 0 {
		known[1] = node[0]
	}
	v, err := kvapi.ParseVersionBytes(raw, known[:]...)
	if err != nil {
		return kvapi.Version{}
	}
	return v
}

// noteStale marks a read's feed event stale when it returned an older
// version than one the proxy acknowledged to a client.
func (p *Proxy) noteStale(ev *web.Event, node string, v kvapi.Version) {
	if v.IsZero() {
		return
	}
	if last, stale := p.acked.staleness(ev.Key, v); stale {
		ev.Result = "stale"
		ev.Stale = node + " stale: " + shortVersion(v) + " < " + shortVersion(last)
	}
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
// marks the gathered state stale after a write. ev is a request event; its
// type is set here.
func (p *Proxy) feed(ev web.Event) {
	if ev.Op != "GET" {
		p.version.Add(1)
	}
	p.seconds.count(ev.Status)
	if p.hub.Clients() == 0 {
		return
	}
	ev.Type = web.EventRequest
	p.hub.Publish(ev)
}

// read serves a GET of a key with several owners. With R = 1 (the seed's
// read) it asks the up owners one after another and relays the first 200;
// with R > 1 it asks them all at once, waits for R answers and returns the
// newest version, repairing the owners that answered older ones.
func (p *Proxy) read(ctx *fasthttp.RequestCtx, t *table, owners []*backend, req request) {
	up := upOf(owners)
	if pin := t.repl.PinRead; pin != "" {
		if i := slices.IndexFunc(up, func(b *backend) bool { return b.name == pin }); i > 0 {
			up = append([]*backend{up[i]}, slices.Delete(slices.Clone(up), i, i+1)...)
		}
	}
	if len(up) == 0 {
		p.fail(ctx, req, nil, &kvapi.Error{Status: http.StatusServiceUnavailable, Message: "Every owner of the key is down.", Nodes: downReasons(owners)})
		return
	}
	if t.repl.ReadQuorum > 1 {
		p.quorumRead(ctx, t, owners, up, req)
		return
	}
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseResponse(resp)
	failed := map[string]string{}
	var miss []string
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
		if err := p.callNode(b, nodeCall{method: fasthttp.MethodGet, path: "/get", key: req.key, timeout: budget}, resp); err != nil {
			failed[b.name] = err.Error()
			continue
		}
		if resp.StatusCode() == http.StatusOK {
			ev := web.Event{Op: "GET", Key: req.key, Nodes: []string{b.name}, Result: "hit", Status: http.StatusOK}
			v := answerVersion(resp, b.name)
			if !v.IsZero() {
				ev.Version = v.String()
			}
			p.noteStale(&ev, b.name, v)
			relayCtx(ctx, resp, b.name)
			p.feed(ev)
			return
		}
		if resp.StatusCode() != http.StatusNotFound {
			failed[b.name] = "answered " + http.StatusText(resp.StatusCode())
			continue
		}
		miss = append(miss, b.name)
	}
	if len(failed) > 0 {
		p.fail(ctx, req, nil, &kvapi.Error{Status: http.StatusBadGateway, Message: "The key was not found, and some nodes failed: " + kvapi.Names(failed, ", ") + ".", Nodes: failed})
		return
	}
	ctx.Response.Header.Set(kvapi.NodeHeader, strings.Join(miss, ","))
	kvapi.WriteJSONCtx(ctx, http.StatusNotFound, kvapi.NotFound(req.key).JSON())
	p.feed(web.Event{Op: "GET", Key: req.key, Nodes: miss, Result: "miss", Status: http.StatusNotFound})
}

// copyOf is one owner's copy of a key, as a read found it.
type copyOf struct {
	b       *backend
	status  int           // 200 or 404 when the node answered
	version kvapi.Version // zero: no version (absent, or a node without versions)
	body    []byte        // a 200's body, {"value": V}
	ctype   []byte
	err     error
}

// newer reports whether c is a newer copy than d: a higher version; at the
// same version, a value over an absence.
func (c *copyOf) newer(d *copyOf) bool {
	if x := c.version.Compare(d.version); x != 0 {
		return x > 0
	}
	return c.status == http.StatusOK && d.status != http.StatusOK
}

// quorumRead asks every up owner at once, waits for R of them, and answers
// the newest copy. Owners that answered older copies are repaired with the
// newest (read repair): in the background ("async"), or before the answer,
// until the newest copy is on W owners ("sync", the ABD write-back).
func (p *Proxy) quorumRead(ctx *fasthttp.RequestCtx, t *table, owners, up []*backend, req request) {
	need := min(t.repl.ReadQuorum, len(owners))
	results := make(chan copyOf, len(up))
	for _, b := range up {
		go func() {
			resp := fasthttp.AcquireResponse()
			defer fasthttp.ReleaseResponse(resp)
			c := copyOf{b: b}
			if c.err = p.callNode(b, nodeCall{method: fasthttp.MethodGet, path: "/get", key: req.key}, resp); c.err == nil {
				c.status = resp.StatusCode()
				c.version = answerVersion(resp, b.name)
				if c.status == http.StatusOK {
					c.body = bytes.Clone(resp.Body())
					c.ctype = bytes.Clone(resp.Header.ContentType())
				} else if c.status != http.StatusNotFound {
					c.err = errors.New("answered " + strconv.Itoa(c.status))
				}
			}
			results <- c
		}()
	}
	var answers []copyOf
	failed := map[string]string{}
	for range up {
		c := <-results
		if c.err != nil {
			failed[c.b.name] = c.err.Error()
		} else {
			answers = append(answers, c)
		}
		if len(answers) >= need {
			break
		}
	}
	if len(answers) < need {
		maps.Copy(failed, downReasons(owners))
		p.fail(ctx, req, nil, &kvapi.Error{Status: http.StatusServiceUnavailable,
			Message: "Read quorum not reached: " + strconv.Itoa(len(answers)) + " of " + strconv.Itoa(len(owners)) + " owners answered, R is " + strconv.Itoa(need) + ".", Nodes: failed})
		return
	}
	newest := &answers[0]
	for i := range answers {
		if answers[i].newer(newest) {
			newest = &answers[i]
		}
	}
	var stale []*backend
	names := make([]string, 0, len(answers))
	for i := range answers {
		names = append(names, answers[i].b.name)
		if newest.newer(&answers[i]) {
			stale = append(stale, answers[i].b)
		}
	}
	if len(stale) > 0 && t.repl.ReadRepair != RepairOff && !newest.version.IsZero() {
		if t.repl.ReadRepair == RepairSync {
			// ABD: the newest copy must be on W owners before it is read.
			have := len(answers) - len(stale)
			p.repair(req.key, newest, stale, max(t.quorum-have, 0))
		} else {
			go p.repair(req.key, newest, stale, 0)
		}
	}
	ev := web.Event{Op: "GET", Key: req.key, Nodes: names, Status: newest.status}
	if !newest.version.IsZero() {
		ev.Version = newest.version.String()
		ctx.Response.Header.Set(kvapi.VersionHeader, ev.Version)
	}
	if newest.status != http.StatusOK {
		ev.Result = "miss"
		ctx.Response.Header.Set(kvapi.NodeHeader, strings.Join(names, ","))
		kvapi.WriteJSONCtx(ctx, http.StatusNotFound, kvapi.NotFound(req.key).JSON())
		p.feed(ev)
		return
	}
	ev.Result = "hit"
	p.noteStale(&ev, newest.b.name, newest.version)
	writeRelayed(ctx, http.StatusOK, newest.ctype, newest.body, strings.Join(names, ","))
	p.feed(ev)
}

// repair writes the newest copy back to the owners that hold older ones
// (read repair). With need > 0 it waits until need of them stored it (or
// every one answered); with need 0 it waits for all, in the caller's
// goroutine of choice.
func (p *Proxy) repair(key string, newest *copyOf, stale []*backend, need int) {
	nc := nodeCall{key: key, version: newest.version.String()}
	if newest.status == http.StatusOK {
		nc.method, nc.path, nc.body = fasthttp.MethodPost, "/put", newest.body
	} else {
		nc.method, nc.path = fasthttp.MethodDelete, "/delete"
	}
	done := make(chan bool, len(stale))
	for _, b := range stale {
		go func() {
			resp := fasthttp.AcquireResponse()
			defer fasthttp.ReleaseResponse(resp)
			err := p.callNode(b, nc, resp)
			// 409: the owner already has a newer copy; 404: a delete
			// that recorded the tombstone. Both leave it repaired.
			ok := err == nil && (resp.StatusCode() == http.StatusOK || resp.StatusCode() == http.StatusConflict || resp.StatusCode() == http.StatusNotFound)
			if ok {
				p.feed(web.Event{Op: "REPAIR", Key: key, Nodes: []string{b.name}, Result: "ok", Status: resp.StatusCode(), Version: nc.version})
			}
			done <- ok
		}()
	}
	stored := 0
	for range stale {
		if <-done {
			stored++
		}
		if need > 0 && stored >= need {
			return
		}
	}
}

// outcome is one node's answer to a replicated write.
type outcome struct {
	i      int // the node's position among the up owners
	b      *backend
	status int
	body   []byte
	ctype  []byte
	stored kvapi.Version // a 409's stored version
	err    error
}

// A replicated write that reached its quorum waits for the other replicas
// for a grace: twice as long as the quorum took, at least minGrace and at
// most maxGrace. A replica that misses it is lagging: later writes send it
// their copy but do not wait for it, so a stuck replica costs one grace, not
// a node timeout per write. A class whose replicas all answer returns as
// soon as the last one does: the grace is paid only for a slow replica,
// and minGrace spares a loaded laptop's healthy replicas the "late" mark.
const (
	minGrace = 100 * time.Millisecond
	maxGrace = 200 * time.Millisecond
)

// write sends a put or delete to every up owner at once, with one version
// (the client's, or one the proxy stamps), so that every copy is the same
// copy. A put succeeds when W owners stored it; a delete when W owners
// recorded it and one had the key. A down owner's copy is kept as a hint
// when hinted handoff is on. An owner that holds a newer version written
// around the proxy (409) makes the proxy stamp a newer one and try again,
// once: a seed client's write always wins.
func (p *Proxy) write(ctx *fasthttp.RequestCtx, t *table, owners []*backend, req request, retry bool) {
	up := upOf(owners)
	need := t.quorum
	v := req.version
	stamped := v.IsZero()
	if stamped {
		v = p.stamp()
	}
	version := v.String()
	// The body is the server's memory, reused once this handler returns,
	// and late replicas and hints may still use it.
	body := bytes.Clone(req.body)
	req.body = body
	if t.repl.HintedHandoff {
		for _, b := range owners {
			if !b.up {
				p.hints.add(b.name, hint{op: req.op, key: req.key, body: body, version: version})
			}
		}
	}
	nc := nodeCall{method: req.op.Methods[0], path: req.op.Path, key: req.key, body: body, version: version}
	results := make(chan outcome, len(up))
	// Per replica: whether the write is sent, and whether the replica was
	// late on the last one; on the stack for up to 8 replicas.
	var sendBuf, lateBuf [8]bool
	var send, wasLate []bool
	if n := len(up); n <= len(sendBuf) {
		send, wasLate = sendBuf[:n], lateBuf[:n]
	} else {
		send, wasLate = make([]bool, n), make([]bool, n)
	}
	sending := 0
	for i, b := range up {
		if send[i] = b.client.startWrite(); send[i] {
			sending++
		}
	}
	// Every replica lagging is a loaded machine under a burst, not a stuck
	// node: the write still goes to as many as its quorum needs, and waits
	// for them, instead of failing at once.
	for i, b := range up {
		if sending >= need {
			break
		}
		if !send[i] {
			b.client.forceWrite()
			send[i] = true
			sending++
		}
	}
	for i, b := range up {
		if !send[i] {
			results <- outcome{i: i, b: b, err: errLagging}
			continue
		}
		go func() {
			defer b.client.doneWrite()
			resp := fasthttp.AcquireResponse()
			defer fasthttp.ReleaseResponse(resp)
			o := outcome{i: i, b: b}
			if o.err = p.callNode(b, nc, resp); o.err == nil {
				o.status = resp.StatusCode()
				o.body = bytes.Clone(resp.Body())
				o.ctype = bytes.Clone(resp.Header.ContentType())
				if o.status == http.StatusConflict {
					o.stored = answerVersion(resp, b.name)
				}
			}
			results <- o
		}()
	}

	// Replicas that were late on the last write are not waited for once
	// the quorum is in: a stuck replica costs each write nothing.
	prompt := 0
	for i, b := range up {
		if wasLate[i] = b.client.lagging(); !wasLate[i] {
			prompt++
		}
	}
	start := time.Now()
	var outs []outcome
	var grace <-chan time.Time
	acks, promptIn := 0, 0
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
			if o.err == nil && (o.status == http.StatusOK || req.op == kvapi.OpDelete && o.status == http.StatusNotFound) {
				acks++
			}
			if acks >= need && promptIn >= prompt {
				break collect
			}
			if acks >= need && grace == nil {
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
		go p.reportLate(req, version, late, results, t.repl.HintedHandoff)
	}
	slices.SortFunc(outs, func(a, b outcome) int { return a.i - b.i }) // node order

	var okNodes, missNodes []string
	var first *outcome
	var newer kvapi.Version
	failed := map[string]string{}
	for i := range outs {
		o := &outs[i]
		switch {
		case o.err != nil:
			failed[o.b.name] = o.err.Error()
			if t.repl.HintedHandoff && o.err != errLagging {
				p.hints.add(o.b.name, hint{op: req.op, key: req.key, body: body, version: version})
			}
		case o.status == http.StatusOK:
			okNodes = append(okNodes, o.b.name)
			if first == nil {
				first = o
			}
		case o.status == http.StatusNotFound && req.op == kvapi.OpDelete:
			missNodes = append(missNodes, o.b.name)
		case o.status == http.StatusConflict:
			failed[o.b.name] = "holds a newer version, " + o.stored.String()
			if o.stored.Compare(newer) > 0 {
				newer = o.stored
			}
		default:
			failed[o.b.name] = "answered " + strconv.Itoa(o.status) + ": " + clip(o.body, 200)
		}
	}
	if !newer.IsZero() && len(okNodes)+len(missNodes) < need {
		if stamped && retry {
			p.clock.Observe(newer.HLC)
			p.write(ctx, t, owners, req, false)
			return
		}
		if !stamped {
			kvapi.WriteConflictCtx(ctx, kvapi.Stale(newer, false))
			p.feed(web.Event{Op: req.op.Name, Key: req.key, Result: "error", Status: http.StatusConflict, Error: "a newer version is stored"})
			return
		}
	}
	ev := web.Event{Op: req.op.Name, Key: req.key, Version: version}
	switch {
	case req.op == kvapi.OpPut && len(okNodes) >= need && first != nil,
		req.op == kvapi.OpDelete && len(okNodes)+len(missNodes) >= need && first != nil:
		p.acked.record(req.key, v)
		ctx.Response.Header.Set(kvapi.VersionHeader, version)
		writeRelayed(ctx, first.status, first.ctype, first.body, strings.Join(okNodes, ","))
		ev.Nodes, ev.Result, ev.Status = okNodes, "ok", first.status
		p.feed(ev)
		return
	case req.op == kvapi.OpDelete && len(okNodes) == 0 && len(missNodes) >= need:
		ctx.Response.Header.Set(kvapi.NodeHeader, strings.Join(missNodes, ","))
		kvapi.WriteJSONCtx(ctx, http.StatusNotFound, kvapi.NotFound(req.key).JSON())
		ev.Nodes, ev.Result, ev.Status = missNodes, "miss", http.StatusNotFound
		p.feed(ev)
		return
	}
	maps.Copy(failed, downReasons(owners))
	f := &kvapi.Error{Status: http.StatusServiceUnavailable, Nodes: failed}
	stored := len(okNodes)
	if req.op == kvapi.OpDelete {
		stored += len(missNodes)
	}
	f.Message = "Write quorum not reached: stored on " + strconv.Itoa(stored) + " of " + strconv.Itoa(len(owners)) + " owners, W is " + strconv.Itoa(need) + "."
	if len(failed) > 0 {
		f.Message += " Failed: " + kvapi.Names(failed, ", ") + "."
	}
	p.fail(ctx, req, okNodes, f)
}

// reportLate waits for the n replicas a write did not wait for, and tells
// the page and the log how each one ended: stored late, or missed (kept as
// a hint when hinted handoff is on).
func (p *Proxy) reportLate(req request, version string, n int, results <-chan outcome, hinted bool) {
	for range n {
		o := <-results
		ev := web.Event{Op: req.op.Name, Key: req.key, Nodes: []string{o.b.name}, Result: "late", Version: version}
		switch {
		case o.err != nil:
			p.log.Info("a replica missed a write", "node", o.b.name, "op", req.op.Name, "key", kvapi.Truncate(req.key, 64), "err", o.err)
			ev.Error = "missed: " + o.err.Error()
			if hinted {
				p.hintLater(o.b.name, hint{op: req.op, key: req.key, body: req.body, version: version})
			}
		case o.status != http.StatusOK:
			ev.Status, ev.Error = o.status, "answered late: "+strconv.Itoa(o.status)
		default:
			ev.Status = o.status
		}
		p.feed(ev)
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
