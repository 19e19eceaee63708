package node

import (
	"bufio"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/valyala/fasthttp"

	"github.com/kvclass/kvclass/kvapi"
	"github.com/kvclass/kvclass/serve"
	"github.com/kvclass/kvclass/web"
)

// Handler serves a node's HTTP API over a Store: the seed's /put, /get and
// /state, plus /delete, /health, /reset, the anti-entropy /digest and
// /keys, the live page's /ws and its /assets/. /put, /get and /delete
// speak versions (kvapi.VersionHeader): see Store.PutVersion and
// Store.DeleteVersion for their rules.
type Handler struct {
	name      string
	store     *Store
	limits    kvapi.Limits
	origins   serve.Origins
	authority func() string // the proxy's authority (the join secret), "" before a join
	hub       *web.Hub
	view      func() web.NodeView // the node as the page shows it, without keys
	tunnel    func() *web.Tunnel  // nil when the node is not published
	dataHTTP  http.Handler        // Data for net/http: serve.AsHTTP(Data)
}

// ServeHTTP routes a request by its path. A state-changing request that a
// browser sends from a page of another site is refused first. The data
// API is Data's, served here through serve.AsHTTP (a node's own server
// runs Data on fasthttp's server).
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead && !h.origins.AllowWrite(r) {
		kvapi.WriteError(w, kvapi.ErrCrossSite)
		return
	}
	switch r.URL.Path {
	case kvapi.OpGet.Path, kvapi.OpPut.Path, kvapi.OpDelete.Path:
		h.dataHTTP.ServeHTTP(w, r)
	case "/health":
		kvapi.ServeHealth(w, r, h.name)
	case "/reset":
		h.reset(w, r)
	case "/state":
		h.state(w, r)
	case kvapi.PathDigest:
		h.digest(w, r)
	case kvapi.PathKeys:
		h.keys(w, r)
	case "/ws":
		h.hub.ServeHTTP(w, r)
	case "/":
		http.Redirect(w, r, "/state", http.StatusFound)
	default:
		if strings.HasPrefix(r.URL.Path, "/assets/") {
			web.Assets().ServeHTTP(w, r)
			return
		}
		kvapi.WriteError(w, kvapi.ErrNoRoute)
	}
}

// Data serves the data API, /get, /put and /delete, on fasthttp's server
// (serve.Handler.Data). A state-changing request that a browser sends from
// a page of another site is refused first, as in ServeHTTP.
func (h *Handler) Data(ctx *fasthttp.RequestCtx) {
	if !ctx.IsGet() && !ctx.IsHead() && !h.origins.AllowWriteCtx(ctx) {
		kvapi.WriteErrorCtx(ctx, kvapi.ErrCrossSite)
		return
	}
	switch path := ctx.URI().PathOriginal(); string(path) {
	case kvapi.OpGet.Path:
		h.get(ctx)
	case kvapi.OpPut.Path:
		h.put(ctx)
	case kvapi.OpDelete.Path:
		h.delete(ctx)
	default:
		kvapi.WriteErrorCtx(ctx, kvapi.ErrNoRoute)
	}
}

// BodyReset is the answer to POST /reset.
var BodyReset = []byte(`{"message":"All keys deleted."}` + "\n")

func (h *Handler) get(ctx *fasthttp.RequestCtx) {
	key, apiErr := h.limits.KeyCtx(ctx, kvapi.OpGet)
	if apiErr != nil {
		kvapi.WriteErrorCtx(ctx, apiErr)
		return
	}
	it, err := h.store.Lookup(key)
	if err != nil {
		h.writeStoreError(ctx, err)
		return
	}
	// A tombstone's 404 carries the deletion's version: "deleted at V",
	// not "never seen".
	kvapi.SetVersionHeaderCtx(ctx, it.Version)
	if it.Deleted || it.Version.IsZero() {
		kvapi.WriteErrorCtx(ctx, kvapi.NotFound(key))
		return
	}
	var buf [256]byte
	kvapi.WriteJSONCtx(ctx, http.StatusOK, append(append(append(buf[:0], `{"value":`...), it.Value...), "}\n"...))
}

func (h *Handler) put(ctx *fasthttp.RequestCtx) {
	key, apiErr := h.limits.KeyCtx(ctx, kvapi.OpPut)
	if apiErr != nil {
		kvapi.WriteErrorCtx(ctx, apiErr)
		return
	}
	version, apiErr := kvapi.ParseVersionHeaderCtx(ctx)
	if apiErr != nil {
		kvapi.WriteErrorCtx(ctx, apiErr)
		return
	}
	body, apiErr := h.limits.BodyCtx(ctx)
	if apiErr != nil {
		kvapi.WriteErrorCtx(ctx, apiErr)
		return
	}
	value, apiErr := kvapi.ParseValue(body)
	if apiErr != nil {
		kvapi.WriteErrorCtx(ctx, apiErr)
		return
	}
	stored, count, err := h.store.PutVersion(key, value, version)
	if err != nil {
		h.writeStoreError(ctx, err)
		return
	}
	kvapi.SetVersionHeaderCtx(ctx, stored)
	kvapi.WriteJSONCtx(ctx, http.StatusOK, kvapi.BodyStored)
	if h.hub.Clients() > 0 {
		text, size := web.Preview(value)
		h.hub.Publish(web.Event{Type: web.EventPut, Node: h.name, Key: key, Value: text, Size: size, Count: count})
	}
}

// delete removes a key: DELETE /delete?key=K, optionally with the
// version of the deletion (see Store.DeleteVersion). Its 200 and 404 carry
// the key's version now, when the node knows one.
func (h *Handler) delete(ctx *fasthttp.RequestCtx) {
	key, apiErr := h.limits.KeyCtx(ctx, kvapi.OpDelete)
	if apiErr != nil {
		kvapi.WriteErrorCtx(ctx, apiErr)
		return
	}
	version, apiErr := kvapi.ParseVersionHeaderCtx(ctx)
	if apiErr != nil {
		kvapi.WriteErrorCtx(ctx, apiErr)
		return
	}
	d, err := h.store.DeleteVersion(key, version)
	if err != nil {
		h.writeStoreError(ctx, err)
		return
	}
	kvapi.SetVersionHeaderCtx(ctx, d.Version)
	if !d.Found {
		kvapi.WriteErrorCtx(ctx, kvapi.NotFound(key))
		return
	}
	kvapi.WriteJSONCtx(ctx, http.StatusOK, kvapi.BodyDeleted)
	if h.hub.Clients() > 0 {
		h.hub.Publish(web.Event{Type: web.EventDelete, Node: h.name, Key: key, Count: d.Count})
	}
}

// writeStoreError answers a write or read the store refused.
func (h *Handler) writeStoreError(ctx *fasthttp.RequestCtx, err error) {
	var conflict *kvapi.VersionConflict
	if errors.As(err, &conflict) {
		kvapi.WriteConflictCtx(ctx, conflict)
		return
	}
	kvapi.WriteErrorCtx(ctx, h.storeError(err))
}

// storeError is the answer to a store's refusal other than a version
// conflict.
func (h *Handler) storeError(err error) *kvapi.Error {
	switch {
	case errors.Is(err, ErrFull):
		return kvapi.Errorf(http.StatusInsufficientStorage, "The node is full: it stores at most "+strconv.FormatInt(h.store.maxBytes, 10)+" bytes.")
	case errors.Is(err, kvapi.ErrFutureVersion):
		return kvapi.Errorf(http.StatusBadRequest, "The "+kvapi.VersionHeader+" header's version is"+strings.TrimPrefix(err.Error(), "the version is")+".")
	}
	// ErrDisk: the data file failed
	return kvapi.Errorf(http.StatusServiceUnavailable, "This node cannot write to its data file, so it refuses writes until it is restarted: "+err.Error()+".")
}

// reset clears the store: POST /reset. The proxy's /admin/reset calls it on
// every node. A node that joined a class takes it only from its proxy
// (Authorization: Bearer with its join secret), so whoever finds a
// student's public URL cannot wipe it; a node that never joined (the seed's
// setup, config nodes) takes it from anyone, as before.
func (h *Handler) reset(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		kvapi.WriteError(w, kvapi.MethodNotAllowed(r.Method, "POST"))
		return
	}
	if secret := h.authority(); secret != "" && !bearerIs(r, secret) {
		kvapi.WriteError(w, kvapi.Errorf(http.StatusForbidden, "This node belongs to a class: only its proxy may reset it (the instructor's POST /admin/reset)."))
		return
	}
	if err := h.store.Reset(); err != nil {
		kvapi.WriteError(w, h.storeError(err))
		return
	}
	kvapi.WriteJSON(w, http.StatusOK, BodyReset)
	h.hub.Publish(web.Event{Type: web.EventReset, Node: h.name})
}

// state serves the live page, or with ?format=json the node's data:
// {"name": N, "data": {K: V, ...}} as the seed did. With q (a substring of
// the key) or limit, it lists at most limit matching keys, newest first, and
// adds "count", the number of keys that matched.
func (h *Handler) state(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		kvapi.WriteError(w, kvapi.MethodNotAllowed(r.Method, "GET"))
		return
	}
	q := r.URL.Query()
	if q.Get("format") != "json" {
		web.ServePage(w, r)
		return
	}
	var pairs []Pair
	count := -1
	if filter, limit := q.Get("q"), q.Get("limit"); filter != "" || limit != "" {
		n, err := strconv.Atoi(limit)
		if limit == "" || err != nil || n <= 0 || n > web.KeysPerNode {
			n = web.KeysPerNode
		}
		pairs, count = h.store.Newest(n, filter)
	} else {
		pairs = h.store.All()
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	bw := bufio.NewWriterSize(w, 32<<10)
	writeState(bw, h.name, pairs, count)
	bw.Flush()
}

// writeState writes a node's state as JSON: {"name", "count"?, "data"}.
// Values are written as the stored JSON text; count < 0 omits it.
func writeState(w *bufio.Writer, name string, pairs []Pair, count int) {
	enc := func(s string) { b, _ := json.Marshal(s); w.Write(b) }
	w.WriteString(`{"name":`)
	enc(name)
	if count >= 0 {
		w.WriteString(`,"count":`)
		w.WriteString(strconv.Itoa(count))
	}
	w.WriteString(`,"data":{`)
	for i, p := range pairs {
		if i > 0 {
			w.WriteByte(',')
		}
		enc(p.Key)
		w.WriteByte(':')
		w.WriteString(p.Value)
	}
	w.WriteString("}}\n")
}

// Snapshot returns the node as the page shows it: one node with its newest
// keys.
func (h *Handler) Snapshot() web.Snapshot {
	v := h.view()
	v.Keys = keyViews(h.store)
	v.Count = h.store.Len()
	s := web.Snapshot{Type: web.TypeSnapshot, Role: "node", Limit: web.KeysPerNode, Nodes: []web.NodeView{v}}
	if h.tunnel != nil {
		s.Tunnel = h.tunnel()
	}
	return s
}

// keyViews returns the store's newest keys as the page shows them.
func keyViews(s *Store) []web.KeyView {
	pairs, _ := s.Newest(web.KeysPerNode, "")
	out := make([]web.KeyView, len(pairs))
	for i, p := range pairs {
		text, size := web.Preview(p.Value)
		out[i] = web.KeyView{Key: p.Key, Value: text, Size: size}
	}
	return out
}

// bearerIs reports whether r carries "Authorization: Bearer want", compared
// in constant time.
func bearerIs(r *http.Request, want string) bool {
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}
