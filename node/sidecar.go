package node

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"sync"

	"github.com/kvclass/kvclass/kvapi"
	"github.com/kvclass/kvclass/serve"
	"github.com/kvclass/kvclass/web"
)

// A sidecar is a node whose data lives on a student's own server, in any
// language (kvclass node --upstream URL): it forwards every data call to
// that server and relays the answer unchanged, while kvclass does the rest
// as for its own node: publishing (--relay or --ngrok), the join, the
// heartbeats, the leave, the live page. Since the student's server has no
// /ws, the sidecar tells its page about the puts and deletes it forwards;
// and since the student's server cannot tell the proxy it is down, the
// sidecar watches it and reports its health over the registry session
// (join.Session.SetStatus).
type sidecar struct {
	n       *Node
	up      *upstream
	limits  kvapi.Limits
	origins serve.Origins
	log     *slog.Logger

	mirror mirror

	mu   sync.Mutex
	own  string // the upstream's product, for the page (kvapi.OwnProduct)
	down string // why the upstream does not serve; "" while it does
	stop context.CancelFunc
	done chan struct{} // closed when the watcher ends; nil before it starts
}

// newSidecar returns the sidecar of node n forwarding to the server at
// base.
func newSidecar(n *Node, base *url.URL) *sidecar {
	cfg := n.cfg
	return &sidecar{
		n:       n,
		up:      newUpstream(base, cfg.UpstreamTimeout, cfg.MaxBody, cfg.UserAgent),
		limits:  kvapi.Limits{MaxBody: cfg.MaxBody, MaxKey: cfg.MaxKey},
		origins: serve.NewOrigins(cfg.Origins),
		log:     n.log,
	}
}

// ServeHTTP routes a request: data calls go to the upstream, /health
// answers for the upstream, and the page, its /ws and its assets are the
// node's own. A state-changing request that a browser sends from a page of
// another site is refused first, as on kvclass's node.
func (s *sidecar) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead && !s.origins.AllowWrite(r) {
		kvapi.WriteError(w, kvapi.ErrCrossSite)
		return
	}
	switch r.URL.Path {
	case "/put", "/get", "/delete", kvapi.PathDigest, kvapi.PathKeys:
		s.forward(w, r)
	case "/reset":
		if secret := s.n.authority(); secret != "" && !bearerIs(r, secret) {
			kvapi.WriteError(w, kvapi.Errorf(http.StatusForbidden, "This node belongs to a class: only its proxy may reset it (the instructor's POST /admin/reset)."))
			return
		}
		s.forward(w, r)
	case "/health":
		s.health(w, r)
	case "/state":
		if r.URL.Query().Get("format") == "json" {
			s.state(w, r)
			return
		}
		s.n.handler.ServeHTTP(w, r) // the live page
	default:
		s.n.handler.ServeHTTP(w, r) // /ws, /assets/, "/" and the 404s
	}
}

// forward passes a data call to the upstream and relays its answer: the
// method, the path and the query as they came, the body (at most MaxBody
// bytes, 413 past that, as on kvclass's node), Content-Type and the version
// header. A 2xx put, delete or reset is then told to the page.
func (s *sidecar) forward(w http.ResponseWriter, r *http.Request) {
	var body []byte
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		var buf bytes.Buffer // not pooled: the transport may read it after Do returns
		b, apiErr := s.limits.ReadBody(r, &buf)
		if apiErr != nil {
			kvapi.WriteError(w, apiErr)
			return
		}
		body = b
	}
	rep, err := s.up.call(r.Context(), r.Method, r.URL.Path, r.URL.RawQuery, pick(r.Header, passRequest), body, s.up.maxAnswer, s.up.timeout)
	if err != nil {
		s.log.Debug("the upstream did not answer a data call", "path", r.URL.Path, "err", err)
		kvapi.WriteError(w, s.up.upstreamError(err))
		return
	}
	relayTo(w, rep)
	if rep.status/100 == 2 {
		s.observe(r, body, rep)
	}
}

// observe tells the page about a write the upstream took: the key, a
// preview of the value, the upstream's status and version, and the key
// count as the sidecar knows it (see mirror).
func (s *sidecar) observe(r *http.Request, body []byte, rep *upstreamReply) {
	name := s.n.Name()
	if r.URL.Path == "/reset" {
		s.mirror.reset()
		s.n.hub.Publish(web.Event{Type: web.EventReset, Node: name})
		return
	}
	op := kvapi.OpPut
	if r.URL.Path == "/delete" {
		op = kvapi.OpDelete
	} else if r.URL.Path != "/put" {
		return // a read
	}
	if r.Method != op.Methods[0] && r.Method != op.Methods[1] {
		return // the upstream took a method kvclass's node would not: not a write we know
	}
	key, apiErr := kvapi.Limits{MaxKey: maxKeyShown}.KeyParam(r.URL.RawQuery, op.Missing)
	if apiErr != nil {
		return
	}
	ev := web.Event{Node: name, Key: key, Status: rep.status, Version: rep.header.Get(kvapi.VersionHeader)}
	if op == kvapi.OpDelete {
		ev.Type = web.EventDelete
		ev.Count = s.mirror.remove(key)
	} else {
		ev.Type = web.EventPut
		if value, err := kvapi.ParseValue(body); err == nil {
			ev.Value, ev.Size = web.Preview(value)
		}
		ev.Count = s.mirror.put(web.KeyView{Key: key, Value: ev.Value, Size: ev.Size, Version: ev.Version})
	}
	if s.n.hub.Clients() > 0 {
		s.n.hub.Publish(ev)
	}
}

// maxKeyShown bounds the keys the sidecar decodes for its page; the
// upstream alone decides which keys it takes.
const maxKeyShown = 1 << 20

// health answers GET /health for the upstream, asked now: 200 "Hi from
// NAME" while it serves, else 503 naming why, so whoever checks this node
// (the proxy at the join, a config node's health checks) sees the
// student's server.
func (s *sidecar) health(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		kvapi.WriteError(w, kvapi.MethodNotAllowed(r.Method, "GET"))
		return
	}
	if _, err := s.up.probe(r.Context()); err != nil {
		kvapi.WriteError(w, kvapi.Errorf(http.StatusServiceUnavailable, "This node forwards to its owner's server at "+s.up.String()+", which does not serve: "+err.Error()+"."))
		return
	}
	kvapi.ServeHealth(w, r, s.n.Name())
}

// state serves GET /state?format=json from the upstream's, as it answers
// it; an upstream without one is a 404 that says so.
func (s *sidecar) state(w http.ResponseWriter, r *http.Request) {
	rep, err := s.up.call(r.Context(), http.MethodGet, "/state", r.URL.RawQuery, http.Header{"Accept": {"application/json"}}, nil, maxUpstreamState, upstreamStateTimeout)
	if err != nil {
		kvapi.WriteError(w, s.up.upstreamError(err))
		return
	}
	if rep.status/100 != 2 || !isJSON(rep.header) {
		kvapi.WriteError(w, kvapi.Errorf(http.StatusNotFound, fmt.Sprintf(
			"This node forwards to its owner's server at %s, which has no GET /state?format=json (it answered %d %s); the sidecar serves it when the server does: {\"name\": N, \"data\": {K: V, ...}}.",
			s.up, rep.status, rep.header.Get("Content-Type"))))
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	relayTo(w, rep)
}

// snapshot is the node as its page shows it: the upstream's health and
// product, and the keys as the sidecar knows them. It does no I/O: the hub
// calls it on its own goroutine.
func (s *sidecar) snapshot() web.Snapshot {
	v := s.n.view()
	v.Count, v.Keys = s.mirror.view()
	snap := web.Snapshot{Type: web.TypeSnapshot, Role: "node", Limit: web.KeysPerNode, Nodes: []web.NodeView{v}}
	if s.n.handler.tunnel != nil {
		snap.Tunnel = s.n.handler.tunnel()
	}
	return snap
}

// status returns the upstream's product and why it does not serve ("" while
// it does).
func (s *sidecar) status() (own, down string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.own, s.down
}

// start asks the upstream once before the node serves: a server that does
// not answer is a startup error that says what to do. It learns the
// server's product for the page, and reads its keys.
func (s *sidecar) start(ctx context.Context) error {
	server, err := s.up.probe(ctx)
	if err != nil {
		return fmt.Errorf("--upstream %s does not serve (%v): start your server first, and check the URL (kvclass conform %s tells what it answers)", s.up, err, s.up)
	}
	s.mu.Lock()
	s.own = kvapi.OwnProduct(server)
	s.mu.Unlock()
	s.refresh(ctx)
	s.log.Info("forwarding data calls to the upstream", "upstream", s.up.String(), "server", s.own)
	return nil
}

// refresh re-reads the upstream's keys into the mirror, from its
// /state?format=json when it has one.
func (s *sidecar) refresh(ctx context.Context) {
	rep, err := s.up.call(ctx, http.MethodGet, "/state", "format=json", http.Header{"Accept": {"application/json"}}, nil, maxUpstreamState, upstreamStateTimeout)
	if err == nil && (rep.status != http.StatusOK || !isJSON(rep.header)) {
		err = fmt.Errorf("GET /state?format=json answered %d", rep.status)
	}
	if err == nil {
		err = s.mirror.load(rep.body)
	}
	if err != nil {
		s.mirror.noState()
		s.log.Debug("the upstream's keys are counted from the writes the sidecar forwards", "why", err)
	}
}

// isJSON reports whether an answer says it is JSON.
func isJSON(h http.Header) bool {
	mt, _, err := mime.ParseMediaType(h.Get("Content-Type"))
	return err == nil && mt == "application/json"
}

// Upstream returns the base URL of the student's server a sidecar forwards
// to, and that server's product as the page shows it ("Werkzeug/3.0.1", or
// "own"); both empty for kvclass's own node.
func (n *Node) Upstream() (url, own string) {
	if n.side == nil {
		return "", ""
	}
	own, _ = n.side.status()
	return n.side.up.String(), own
}
