package registry_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/kvclass/kvclass/internal/memnet"
	"github.com/kvclass/kvclass/internal/testwait"
	"github.com/kvclass/kvclass/registry"
	"github.com/kvclass/kvclass/registry/join"
)

const testCode = "amber-otter-42"

// waitFor is how long tests wait for an event that should take milliseconds;
// generous so a loaded CI machine does not fail them.
const waitFor = 5 * time.Second

func newLogger(buf *testwait.Buffer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// world is where one test's servers listen and its clients dial. Tests of
// anything timed run inside a testing/synctest bubble on an in-memory
// network (inBubble): fake time, so leases, backoffs and fail windows are
// asserted to the nanosecond and a loaded machine cannot fail them. The few
// tests about real sockets or DNS, with no timing in them, run on loopback
// TCP (loopback).
type world struct {
	t      *testing.T
	mem    *memnet.Network // nil on loopback
	client *http.Client    // no keep-alives, so no idle goroutines outlive a request
}

// inBubble runs f in a synctest bubble with a world on an in-memory
// network. Time in it is fake: it advances only while every goroutine of the
// test waits, so time.Sleep(d) followed by synctest.Wait() observes exactly
// what holds d later. The bubble also checks for leaks: the test fails if any
// goroutine it started is still blocked once it and its cleanups are done.
func inBubble(t *testing.T, f func(t *testing.T, w *world)) {
	t.Helper()
	synctest.Test(t, func(t *testing.T) {
		w := &world{t: t, mem: memnet.New()}
		w.client = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true, DialContext: w.mem.Dial}}
		f(t, w)
	})
}

// loopback returns a world on loopback TCP, checking that no goroutine
// outlives the test.
func loopback(t *testing.T) *world {
	t.Helper()
	noLeaks(t)
	return &world{t: t, client: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}}
}

// dial is the world's dial function for Options.Dial: nil (TCP) on loopback.
func (w *world) dial() func(ctx context.Context, network, address string) (net.Conn, error) {
	if w.mem == nil {
		return nil
	}
	return w.mem.Dial
}

// listen opens a listener at addr ("127.0.0.1:0" for any port).
func (w *world) listen(addr string) net.Listener {
	w.t.Helper()
	var ln net.Listener
	var err error
	if w.mem != nil {
		ln, err = w.mem.Listen("tcp", addr)
	} else {
		ln, err = net.Listen("tcp", addr)
	}
	if err != nil {
		w.t.Fatal(err)
	}
	return ln
}

// serveOn serves srv on ln until stop, which the test's cleanup also calls.
func (w *world) serveOn(ln net.Listener, srv *http.Server) (stop func()) {
	served := make(chan struct{})
	go func() {
		defer close(served)
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			w.t.Errorf("Serve: %v", err)
		}
	}()
	stop = sync.OnceFunc(func() {
		_ = srv.Close()
		<-served
	})
	w.t.Cleanup(stop)
	return stop
}

// serve serves srv at a new address and returns its base URL.
func (w *world) serve(srv *http.Server) string {
	w.t.Helper()
	ln := w.listen("127.0.0.1:0")
	w.serveOn(ln, srv)
	return "http://" + ln.Addr().String()
}

// deadURL returns an http URL on a loopback address nothing listens on.
func (w *world) deadURL() string {
	w.t.Helper()
	ln := w.listen("127.0.0.1:0")
	u := "http://" + ln.Addr().String()
	ln.Close()
	return u
}

// class is a registry served in a world, with its callbacks recorded.
type class struct {
	t    *testing.T
	w    *world
	reg  *registry.Registry
	url  string
	logs *testwait.Buffer

	mu      sync.Mutex
	changes []registry.Change
	lists   [][]registry.Member
}

// testOptions are short timings for tests; tweak before newClass.
func testOptions() registry.Options {
	return registry.Options{
		Token:          testCode,
		AllowPrivate:   true,
		Heartbeat:      100 * time.Millisecond, // a node is down after 300ms without a beat
		HTTPHeartbeat:  100 * time.Millisecond,
		Expiry:         time.Minute,
		HealthInterval: 50 * time.Millisecond,
		ProbeTimeout:   time.Second,
	}
}

// lease is how long a node of testOptions stays up after its last heartbeat.
const lease = 300 * time.Millisecond

// newClass starts a registry with opts in the world: served at c.url, run
// until the test ends.
func (w *world) newClass(opts registry.Options) *class {
	t := w.t
	t.Helper()
	c := &class{t: t, w: w, logs: &testwait.Buffer{}}
	opts.Logger = newLogger(c.logs)
	opts.Dial = w.dial()
	userChange, userNotify := opts.OnChange, opts.Notify
	opts.OnChange = func(list []registry.Member) {
		c.mu.Lock()
		c.lists = append(c.lists, list)
		c.mu.Unlock()
		if userChange != nil {
			userChange(list)
		}
	}
	opts.Notify = func(ch registry.Change) {
		c.mu.Lock()
		c.changes = append(c.changes, ch)
		c.mu.Unlock()
		if userNotify != nil {
			userNotify(ch)
		}
	}
	reg, err := registry.New(opts)
	if err != nil {
		t.Fatalf("registry.New: %v", err)
	}
	c.reg = reg
	mux := http.NewServeMux()
	mux.Handle("/registry/", reg.Handler())
	ln := w.listen("127.0.0.1:0")
	c.url = "http://" + ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- reg.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		reg.Close()
	})
	w.serveOn(ln, &http.Server{Handler: mux}) // stopped before the registry closes
	return c
}

// hadDown reports whether name had a down change since the first change
// numbered from (an index into kinds).
func (c *class) hadDown(name string, from int) bool {
	return slices.Contains(c.kinds()[from:], "down:"+name)
}

// kinds returns the recorded change kinds as "kind:name" strings.
func (c *class) kinds() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]string, len(c.changes))
	for i, ch := range c.changes {
		out[i] = string(ch.Kind) + ":" + ch.Member.Name
	}
	return out
}

// member returns name's member and index.
func (c *class) member(name string) (registry.Member, int, bool) {
	for i, m := range c.reg.Members() {
		if m.Name == name {
			return m, i, true
		}
	}
	return registry.Member{}, -1, false
}

// mustMember fails unless name is a member.
func (c *class) mustMember(name string) (registry.Member, int) {
	c.t.Helper()
	m, i, ok := c.member(name)
	if !ok {
		c.t.Fatalf("%s is not a member; members: %v", name, names(c.reg.Members()))
	}
	return m, i
}

// waitMember waits until name's member satisfies cond.
func (c *class) waitMember(name, what string, cond func(registry.Member, bool) bool) registry.Member {
	c.t.Helper()
	var m registry.Member
	testwait.For(c.t, what, func() bool {
		var ok bool
		m, _, ok = c.member(name)
		return cond(m, ok)
	})
	return m
}

func (c *class) waitUp(name string) registry.Member {
	c.t.Helper()
	return c.waitMember(name, name+" up", func(m registry.Member, ok bool) bool { return ok && m.Up })
}

func (c *class) waitDown(name, reason string) registry.Member {
	c.t.Helper()
	return c.waitMember(name, name+" down: "+reason, func(m registry.Member, ok bool) bool {
		return ok && !m.Up && strings.HasPrefix(m.Reason, reason)
	})
}

// waitGone waits until name is no member and its removal was notified.
func (c *class) waitGone(name string) {
	c.t.Helper()
	c.waitMember(name, name+" removed", func(_ registry.Member, ok bool) bool {
		return !ok && slices.Contains(c.kinds(), "leave:"+name)
	})
}

// joinOpts are client options for a node named name at nodeURL.
func (c *class) joinOpts(name, nodeURL string) join.Options {
	return join.Options{
		Proxy:       c.url,
		Token:       testCode,
		Name:        name,
		URL:         nodeURL,
		MinBackoff:  10 * time.Millisecond,
		MaxBackoff:  50 * time.Millisecond,
		DialTimeout: 2 * time.Second,
		Logger:      newLogger(c.logs),
		Dial:        c.w.dial(),
	}
}

// join joins a websocket node and closes its session at cleanup.
func (c *class) join(name, nodeURL string) *join.Session {
	c.t.Helper()
	s, err := join.Join(c.t.Context(), c.joinOpts(name, nodeURL))
	if err != nil {
		c.t.Fatalf("join %s: %v", name, err)
	}
	c.t.Cleanup(s.Close)
	return s
}

// post sends body as JSON to the registry path and returns the status and
// the decoded answer.
func (c *class) post(path string, body any) (int, map[string]any) {
	c.t.Helper()
	data, ok := body.([]byte)
	if !ok {
		var err error
		if data, err = json.Marshal(body); err != nil {
			c.t.Fatal(err)
		}
	}
	return c.do(http.MethodPost, path, data, nil)
}

func (c *class) do(method, path string, body []byte, header http.Header) (int, map[string]any) {
	c.t.Helper()
	req, err := http.NewRequest(method, c.url+path, bytes.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := c.w.client.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		c.t.Errorf("%s %s: Content-Type %q, want application/json", method, path, ct)
	}
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		c.t.Fatalf("%s %s: answer is not a JSON object: %q", method, path, raw)
	}
	return resp.StatusCode, out
}

// joinHTTP joins over POST /registry/join.
func (c *class) joinHTTP(name, nodeURL, secret string) (int, map[string]any) {
	c.t.Helper()
	return c.post("/registry/join", map[string]string{"name": name, "url": nodeURL, "token": testCode, "secret": secret})
}

// mustJoinHTTP joins over HTTP and returns the secret.
func (c *class) mustJoinHTTP(name, nodeURL string) string {
	c.t.Helper()
	status, body := c.joinHTTP(name, nodeURL, "")
	if status != http.StatusOK {
		c.t.Fatalf("join %s: %d %v", name, status, body)
	}
	return body["secret"].(string)
}

// node is a stand-in for a kvclass node: /health and the data API's core
// over a map, enough to pass the join's contract check; switchable to
// failing (every request 503) and to lossy (puts answer 200 but store
// nothing: a half-finished implementation that fails the contract).
type node struct {
	url     string
	failing atomic.Bool
	lossy   atomic.Bool
	puts    atomic.Int32 // puts received

	mu   sync.Mutex
	data map[string]json.RawMessage
}

// newNode starts a stand-in node in the world.
func (w *world) newNode() *node {
	w.t.Helper()
	return w.newNodeAt("127.0.0.1:0")
}

// newNodeAt starts a stand-in node listening at addr.
func (w *world) newNodeAt(addr string) *node {
	w.t.Helper()
	n := &node{data: map[string]json.RawMessage{}}
	ln := w.listen(addr)
	w.serveOn(ln, &http.Server{Handler: http.HandlerFunc(n.serve)})
	n.url = "http://" + ln.Addr().String()
	return n
}

func (n *node) serve(w http.ResponseWriter, r *http.Request) {
	if n.failing.Load() {
		http.Error(w, "no", http.StatusServiceUnavailable)
		return
	}
	key := r.URL.Query().Get("key")
	answer := func(status int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(v)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	switch {
	case r.URL.Path == "/health":
		fmt.Fprint(w, "Hi from node")
	case key == "" && (r.URL.Path == "/put" || r.URL.Path == "/get" || r.URL.Path == "/delete"):
		answer(http.StatusBadRequest, map[string]string{"error": "Please provide key."})
	case r.URL.Path == "/put" && r.Method == http.MethodPost:
		var body struct{ Value json.RawMessage }
		if json.NewDecoder(r.Body).Decode(&body) != nil || len(body.Value) == 0 || string(body.Value) == "null" {
			answer(http.StatusBadRequest, map[string]string{"error": "Please provide key and value."})
			return
		}
		n.puts.Add(1)
		if !n.lossy.Load() {
			n.data[key] = body.Value
		}
		answer(http.StatusOK, map[string]string{"message": "Key-value pair stored successfully."})
	case r.URL.Path == "/get" || r.URL.Path == "/delete":
		v, ok := n.data[key]
		if !ok {
			answer(http.StatusNotFound, map[string]string{"error": "Key not found.", "key": key})
			return
		}
		if r.URL.Path == "/delete" {
			delete(n.data, key)
			answer(http.StatusOK, map[string]string{"message": "Key deleted."})
			return
		}
		answer(http.StatusOK, map[string]json.RawMessage{"value": v})
	default:
		answer(http.StatusNotFound, map[string]string{"error": "No such endpoint."})
	}
}

func names(list []registry.Member) []string {
	out := make([]string, len(list))
	for i, m := range list {
		out[i] = m.Name
	}
	return out
}

// noLeaks fails the test if goroutines it started outlive it. Call it first,
// so its cleanup runs last.
func noLeaks(t *testing.T) {
	t.Helper()
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(waitFor)
		for runtime.NumGoroutine() > before {
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				n := runtime.Stack(buf, true)
				t.Errorf("%d goroutines leaked (%d before):\n%s", runtime.NumGoroutine()-before, before, buf[:n])
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}
