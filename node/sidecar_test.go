package node

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/kvclass/kvclass/internal/testwait"
	"github.com/kvclass/kvclass/kvapi"
	"github.com/kvclass/kvclass/registry"
	"github.com/kvclass/kvclass/web"
)

// seen is one request as the test upstream received it.
type seen struct {
	method, path, rawQuery, key, body, contentType, version, auth string
}

// testUpstream is a student's own server for the sidecar's tests: the core
// of the data API over a map, with odd answers for some keys, a Server
// header, and a listener the test can kill and bring back on the same
// address.
type testUpstream struct {
	t     *testing.T
	addr  string
	url   string
	state bool // serves GET /state?format=json

	mu   sync.Mutex
	srv  *http.Server
	ln   net.Listener
	data map[string]json.RawMessage
	log  []seen
}

func newTestUpstream(t *testing.T, state bool) *testUpstream {
	t.Helper()
	u := &testUpstream{t: t, state: state, data: map[string]json.RawMessage{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u.addr = ln.Addr().String()
	u.url = "http://" + u.addr
	u.serve(ln)
	t.Cleanup(u.kill)
	return u
}

func (u *testUpstream) serve(ln net.Listener) {
	srv := &http.Server{Handler: http.HandlerFunc(u.handle)}
	u.mu.Lock()
	u.srv, u.ln = srv, ln
	u.mu.Unlock()
	go srv.Serve(ln)
}

// kill stops the server at once: connections to it are refused.
func (u *testUpstream) kill() {
	u.mu.Lock()
	srv, ln := u.srv, u.ln
	u.srv, u.ln = nil, nil
	u.mu.Unlock()
	if srv != nil {
		ln.Close() // Serve may not have started yet: close the port itself
		srv.Close()
	}
}

// revive serves again on the same address.
func (u *testUpstream) revive() {
	u.t.Helper()
	ln, err := net.Listen("tcp", u.addr)
	if err != nil {
		u.t.Fatalf("cannot listen on %s again: %v", u.addr, err)
	}
	u.serve(ln)
}

// requests returns what the upstream received, and forgets it.
func (u *testUpstream) requests() []seen {
	u.mu.Lock()
	defer u.mu.Unlock()
	out := u.log
	u.log = nil
	return out
}

func (u *testUpstream) handle(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	key := r.URL.Query().Get("key")
	u.mu.Lock()
	defer u.mu.Unlock()
	if r.URL.Path != "/health" && key != upstreamProbeKey {
		u.log = append(u.log, seen{r.Method, r.URL.Path, r.URL.RawQuery, key, string(body), r.Header.Get("Content-Type"), r.Header.Get(kvapi.VersionHeader), r.Header.Get("Authorization")})
	}
	w.Header().Set("Server", "TestServer/1.0 Go/1.26")
	answer := func(status int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(v)
	}
	switch {
	case r.URL.Path == "/health":
		fmt.Fprint(w, "Hi from the test upstream")
	case r.URL.Path == "/state" && u.state:
		answer(http.StatusOK, map[string]any{"name": "test-upstream", "data": u.data})
	case key == "teapot":
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusTeapot)
		fmt.Fprint(w, "short and stout")
	case key == "moved":
		http.Redirect(w, r, "/elsewhere", http.StatusFound)
	case r.URL.Path == "/put" && r.Method == http.MethodPost:
		var b struct{ Value json.RawMessage }
		if key == "" || json.Unmarshal(body, &b) != nil || len(b.Value) == 0 || string(b.Value) == "null" {
			answer(http.StatusBadRequest, map[string]string{"error": "Please provide key and value."})
			return
		}
		u.data[key] = b.Value
		w.Header().Set(kvapi.VersionHeader, "7/test")
		answer(http.StatusOK, map[string]string{"message": "Key-value pair stored successfully."})
	case (r.URL.Path == "/get" || r.URL.Path == "/delete") && key == "":
		answer(http.StatusBadRequest, map[string]string{"error": "Please provide key."})
	case r.URL.Path == "/get" || r.URL.Path == "/delete":
		v, ok := u.data[key]
		switch {
		case !ok:
			answer(http.StatusNotFound, map[string]string{"error": "Key not found.", "key": key})
		case r.URL.Path == "/delete":
			delete(u.data, key)
			answer(http.StatusOK, map[string]string{"message": "Key deleted."})
		default:
			answer(http.StatusOK, map[string]json.RawMessage{"value": v})
		}
	case r.URL.Path == "/reset" && r.Method == http.MethodPost:
		clear(u.data)
		answer(http.StatusOK, map[string]string{"message": "All keys deleted."})
	default:
		answer(http.StatusNotFound, map[string]string{"error": "No such endpoint."})
	}
}

// events follows a node's /ws and collects its events.
type events struct {
	mu   sync.Mutex
	snap web.Snapshot
	got  []web.Event
}

func followEvents(t *testing.T, nodeURL string) *events {
	t.Helper()
	conn, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(nodeURL, "http")+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	e := &events{}
	gotSnapshot := make(chan struct{})
	first := gotSnapshot
	go func() {
		for {
			_, msg, err := conn.ReadMessage()
			if err != nil {
				return
			}
			var m struct {
				Type   string      `json:"type"`
				Events []web.Event `json:"events"`
			}
			json.Unmarshal(msg, &m)
			e.mu.Lock()
			if m.Type == web.TypeSnapshot {
				json.Unmarshal(msg, &e.snap)
				if first != nil {
					close(first)
					first = nil
				}
			}
			e.got = append(e.got, m.Events...)
			e.mu.Unlock()
		}
	}()
	select {
	case <-gotSnapshot:
	case <-time.After(testwait.Patience):
		t.Fatal("no snapshot on /ws")
	}
	return e
}

// find returns the first event of type typ for key.
func (e *events) find(typ, key string) (web.Event, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, ev := range e.got {
		if ev.Type == typ && ev.Key == key {
			return ev, true
		}
	}
	return web.Event{}, false
}

// TestSidecarForwardsExactly: every data call reaches the upstream as it
// was sent (method, path, query byte for byte, body, content type,
// version), and its answer comes back unchanged (status, body, content
// type, version), awkward keys and odd answers included; the sidecar tells
// its page about the puts and deletes, and serves the upstream's state.
func TestSidecarForwardsExactly(t *testing.T) {
	up := newTestUpstream(t, true)
	n := startNode(t, Config{Name: "side", Upstream: up.url, MaxBody: 1 << 10})
	base := n.LocalURL()
	if u, own := n.Upstream(); u != up.url || own != "TestServer/1.0" {
		t.Errorf("Upstream() = %q, %q; want %q, TestServer/1.0", u, own, up.url)
	}
	ev := followEvents(t, base)
	if v := ev.snap.Nodes; len(v) != 1 || v[0].Own != "TestServer/1.0" || v[0].Status != "up" {
		t.Errorf("snapshot nodes = %+v", v)
	}
	up.requests()

	for i, key := range []string{"a&b=c", "x#y", "p+q", "100%", "a/b", "two words", "ключ-é-🔑", "%41", "plain"} {
		value := fmt.Sprintf(`{"n": %d, "s": "v%d"}`, i, i)
		q := "key=" + url.QueryEscape(key)
		req, _ := http.NewRequest(http.MethodPost, base+"/put?"+q, strings.NewReader(`{"value": `+value+`}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(kvapi.VersionHeader, "5/proxy")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !jsonEq(t, string(body), `{"message": "Key-value pair stored successfully."}`) || resp.Header.Get(kvapi.VersionHeader) != "7/test" || resp.Header.Get("Content-Type") != "application/json" {
			t.Errorf("put %q: %d %q %v", key, resp.StatusCode, body, resp.Header)
		}
		got := up.requests()
		want := seen{http.MethodPost, "/put", q, key, `{"value": ` + value + `}`, "application/json", "5/proxy", ""}
		if len(got) != 1 || got[0] != want {
			t.Errorf("put %q reached the upstream as %+v; want %+v", key, got, want)
		}
		r := do(t, http.MethodGet, base+"/get?"+q, "")
		if r.status != 200 || !jsonEq(t, r.body, `{"value": `+value+`}`) {
			t.Errorf("get %q: %d %s", key, r.status, r.body)
		}
		if got := up.requests(); len(got) != 1 || got[0].rawQuery != q || got[0].key != key {
			t.Errorf("get %q reached the upstream as %+v", key, got)
		}
		testwait.For(t, "the put event of "+key, func() bool { _, ok := ev.find(web.EventPut, key); return ok })
	}
	put, _ := ev.find(web.EventPut, "plain")
	if put.Node != "side" || put.Value != `{"n":8,"s":"v8"}` || put.Count != 9 || put.Status != 200 || put.Version != "7/test" {
		t.Errorf("put event = %+v", put)
	}

	// Answers come back as the upstream gave them, whatever they are.
	if r := do(t, http.MethodGet, base+"/get?key=nothing", ""); r.status != 404 || !jsonEq(t, r.body, `{"error": "Key not found.", "key": "nothing"}`) {
		t.Errorf("missing key: %d %s", r.status, r.body)
	}
	if r := do(t, http.MethodGet, base+"/get?key=teapot", ""); r.status != http.StatusTeapot || r.body != "short and stout" || r.header.Get("Content-Type") != "text/plain; charset=utf-8" {
		t.Errorf("teapot: %d %q %v", r.status, r.body, r.header)
	}
	if r := do(t, http.MethodGet, base+"/get?key=moved", ""); r.status != http.StatusFound {
		t.Errorf("a redirect was not relayed as it is: %d %s", r.status, r.body)
	}
	if r := do(t, http.MethodGet, base+"/get", ""); r.status != 400 {
		t.Errorf("get without a key: %d %s", r.status, r.body)
	}
	up.requests()
	if r := do(t, http.MethodPost, base+"/put?key=big", `{"value": "`+strings.Repeat("x", 2<<10)+`"}`); r.status != http.StatusRequestEntityTooLarge {
		t.Errorf("a body over MaxBody: %d %s", r.status, r.body)
	}
	if got := up.requests(); len(got) != 0 {
		t.Errorf("a body over MaxBody reached the upstream: %+v", got)
	}

	// Deletes are forwarded and told to the page.
	if r := do(t, http.MethodDelete, base+"/delete?key="+url.QueryEscape("a&b=c"), ""); r.status != 200 || !jsonEq(t, r.body, `{"message": "Key deleted."}`) {
		t.Errorf("delete: %d %s", r.status, r.body)
	}
	testwait.For(t, "the delete event", func() bool { _, ok := ev.find(web.EventDelete, "a&b=c"); return ok })
	if del, _ := ev.find(web.EventDelete, "a&b=c"); del.Count != 8 {
		t.Errorf("delete event = %+v; want count 8", del)
	}

	// The state is the upstream's.
	r := do(t, http.MethodGet, base+"/state?format=json", "")
	var st struct {
		Name string                     `json:"name"`
		Data map[string]json.RawMessage `json:"data"`
	}
	if r.status != 200 || json.Unmarshal([]byte(r.body), &st) != nil || st.Name != "test-upstream" || len(st.Data) != 8 {
		t.Errorf("state: %d %s", r.status, r.body)
	}
	// A never-joined node takes a reset from anyone, as kvclass's does.
	if r := do(t, http.MethodPost, base+"/reset", ""); r.status != 200 {
		t.Errorf("reset: %d %s", r.status, r.body)
	}
	testwait.For(t, "the reset event", func() bool { _, ok := ev.find(web.EventReset, ""); return ok })
	if r := do(t, http.MethodGet, base+"/health", ""); r.status != 200 || r.body != "Hi from side" {
		t.Errorf("health: %d %s", r.status, r.body)
	}
}

// TestSidecarWithoutState: an upstream without /state?format=json is
// forwarded to all the same; the sidecar's state is a 404 that says so,
// and the count comes from the writes it forwarded.
func TestSidecarWithoutState(t *testing.T) {
	up := newTestUpstream(t, false)
	n := startNode(t, Config{Name: "side", Upstream: up.url})
	ev := followEvents(t, n.LocalURL())
	for _, k := range []string{"k1", "k2", "k1"} {
		if r := do(t, http.MethodPost, n.LocalURL()+"/put?key="+k, `{"value": 1}`); r.status != 200 {
			t.Fatalf("put: %d %s", r.status, r.body)
		}
	}
	testwait.For(t, "two put events", func() bool { _, ok := ev.find(web.EventPut, "k2"); return ok })
	if put, _ := ev.find(web.EventPut, "k2"); put.Count != 2 {
		t.Errorf("count %d; want 2", put.Count)
	}
	r := do(t, http.MethodGet, n.LocalURL()+"/state?format=json", "")
	if r.status != 404 || !strings.Contains(r.body, "has no GET /state?format=json") {
		t.Errorf("state of an upstream without one: %d %s", r.status, r.body)
	}
}

// TestSidecarNeedsItsUpstream: a sidecar whose server does not answer does
// not start, and says what to do.
func TestSidecarNeedsItsUpstream(t *testing.T) {
	up := newTestUpstream(t, false)
	up.kill()
	n, err := New(Config{Upstream: up.url})
	if err != nil {
		t.Fatal(err)
	}
	err = n.Start(t.Context())
	if err == nil || !strings.Contains(err.Error(), "connection refused") || !strings.Contains(err.Error(), "start your server first") {
		t.Fatalf("Start = %v", err)
	}
	if _, err := New(Config{Upstream: "http://127.0.0.1:5000/path"}); err == nil {
		t.Error("an upstream URL with a path was taken")
	}
	if _, err := New(Config{Upstream: "http://127.0.0.1:5000", DataDir: t.TempDir()}); err == nil {
		t.Error("--upstream with --data was taken")
	}
}

// TestSidecarReportsUpstreamHealth: a sidecar joins a real registry (which
// checks the contract through it, against the upstream), shows as a
// student's own implementation, is marked down with the reason when its
// upstream dies, and up again when it returns, all while it stays joined.
func TestSidecarReportsUpstreamHealth(t *testing.T) {
	t.Parallel()
	reg, regURL := startRegistry(t)
	up := newTestUpstream(t, true)
	n := startNode(t, Config{Name: "alice", Upstream: up.url, Join: regURL, Token: "class-code"})
	member := func() registry.Member {
		for _, m := range reg.Members() {
			if m.Name == "alice" {
				return m
			}
		}
		return registry.Member{}
	}
	if m := member(); !m.Up || m.Own != "TestServer/1.0" {
		t.Fatalf("after the join: %+v", m)
	}
	up.mu.Lock()
	left := len(up.data)
	up.mu.Unlock()
	if left != 0 {
		t.Errorf("the join's contract check left %d keys on the upstream", left)
	}
	ev := followEvents(t, n.LocalURL())

	// A joined sidecar takes a reset only from its proxy, as kvclass's
	// node does, and does not pass the proxy's secret on.
	up.requests()
	if r := do(t, http.MethodPost, n.LocalURL()+"/reset", ""); r.status != http.StatusForbidden {
		t.Errorf("a reset without the proxy's authority: %d %s", r.status, r.body)
	}
	if got := up.requests(); len(got) != 0 {
		t.Errorf("a refused reset reached the upstream: %+v", got)
	}
	req, _ := http.NewRequest(http.MethodPost, n.LocalURL()+"/reset", nil)
	req.Header.Set("Authorization", "Bearer "+n.authority())
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 {
		t.Errorf("the proxy's reset: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	if got := up.requests(); len(got) != 1 || got[0].path != "/reset" || got[0].auth != "" {
		t.Errorf("the proxy's reset reached the upstream as %+v", got)
	}

	up.kill()
	start := time.Now()
	testwait.For(t, "alice down with the upstream's reason", func() bool {
		m := member()
		return !m.Up && m.Reason == "upstream: connection refused"
	})
	t.Logf("marked down %v after the upstream died", time.Since(start).Round(time.Millisecond))
	if r := do(t, http.MethodGet, n.LocalURL()+"/health", ""); r.status != 503 || !strings.Contains(r.body, "connection refused") {
		t.Errorf("the sidecar's health while its upstream is dead: %d %s", r.status, r.body)
	}
	if r := do(t, http.MethodGet, n.LocalURL()+"/get?key=k", ""); r.status != http.StatusBadGateway || !strings.Contains(r.body, up.url) {
		t.Errorf("a get while the upstream is dead: %d %s", r.status, r.body)
	}
	testwait.For(t, "a down event on the node's page", func() bool {
		ev.mu.Lock()
		defer ev.mu.Unlock()
		for _, e := range ev.got {
			if e.Type == web.EventNode && e.Change == web.ChangeDown && e.View != nil && e.View.Reason == "upstream: connection refused" {
				return true
			}
		}
		return false
	})

	up.revive()
	testwait.For(t, "alice up again", func() bool { return member().Up })
	if r := do(t, http.MethodPost, n.LocalURL()+"/put?key=back", `{"value": "again"}`); r.status != 200 {
		t.Errorf("a put after the upstream returned: %d %s", r.status, r.body)
	}
}

// startRegistry serves a registry (class code "class-code") on a loopback
// port.
func startRegistry(t *testing.T) (*registry.Registry, string) {
	t.Helper()
	reg, err := registry.New(registry.Options{Token: "class-code", AllowPrivate: true, Heartbeat: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/registry/", reg.Handler())
	srv := httptest.NewServer(mux)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { reg.Run(ctx); close(done) }()
	t.Cleanup(func() {
		cancel()
		<-done
		srv.Close()
		reg.Close()
	})
	return reg, srv.URL
}
