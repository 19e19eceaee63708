package proxy

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/kvclass/kvclass/internal/testwait"
	"github.com/kvclass/kvclass/kvapi"
	"github.com/kvclass/kvclass/registry"
	"github.com/kvclass/kvclass/web"
)

// A joined node is a student's machine: these tests play a node that
// misbehaves, on purpose or not, and check that the proxy stays up, fast
// and safe.

// fakeNode serves h as a node would, on loopback.
func fakeNode(t testing.TB, h http.HandlerFunc) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String()
}

// proxyOver starts a proxy routing to urls as nodes n1, n2, ..., all
// marked up. They are given to the routing table directly, not through the
// registry, so no health check of the registry's marks them down.
func proxyOver(t testing.TB, mode Mode, timeout time.Duration, urls ...string) *Proxy {
	t.Helper()
	f := &File{Mode: mode, WriteQuorum: 1}
	var members []registry.Member
	for i, u := range urls {
		name := "n" + string(rune('1'+i))
		members = append(members, registry.Member{Name: name, URL: u, Static: true, Up: true})
	}
	p, err := New(Config{File: f, Token: "c", AdminToken: "a", Timeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(func() { cancel(); p.Wait() })
	if err := p.Start(ctx); err != nil {
		t.Fatal(err)
	}
	p.setMembers(members) // as passing health checks would
	return p
}

func TestHostileNodeAnswers(t *testing.T) {
	badStatus := fakeNode(t, func(w http.ResponseWriter, r *http.Request) {
		c, buf, _ := w.(http.Hijacker).Hijack()
		buf.WriteString("HTTP/1.1 042 Weird\r\nContent-Length: 0\r\n\r\n")
		buf.Flush()
		c.Close()
	})
	html := fakeNode(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte("<script>alert(document.cookie)</script>"))
	})
	p := proxyOver(t, Sharding, time.Second, badStatus)
	r := do(t, "GET", p.LocalURL()+"/get?key=k", "")
	if r.status != 502 || !strings.Contains(r.body, "status 42") {
		t.Fatalf("a node answering status 042: %d %s", r.status, r.body)
	}
	p2 := proxyOver(t, Sharding, time.Second, html)
	r = do(t, "GET", p2.LocalURL()+"/get?key=k", "")
	if r.header.Get("X-Content-Type-Options") != "nosniff" || !strings.Contains(r.header.Get("Content-Security-Policy"), "sandbox") {
		t.Fatalf("a relayed HTML answer can run in a browser: %v", r.header)
	}
}

func TestHostileNodeErrorBodyIsCut(t *testing.T) {
	huge := fakeNode(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(500)
		w.Write([]byte(strings.Repeat("x", 1<<20)))
	})
	ok := fakeNode(t, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`{"message":"ok"}`)) })
	p := proxyOver(t, Replication, time.Second, huge, ok)
	p.quorum = 2
	p.setMode(Replication)
	r := put(t, p.LocalURL(), "k", `1`)
	if r.status != 503 || len(r.body) > 2000 || !strings.Contains(r.body, "answered 500") {
		t.Fatalf("quorum failure: %d, %d bytes: %.300s", r.status, len(r.body), r.body)
	}
}

func TestReplicatedGetBehindHangingNodesTakesOneTimeout(t *testing.T) {
	t.Parallel()
	// The first node gets half the timeout, the second half of the rest,
	// the third what is left: long enough that a loaded machine's delays
	// leave the third node time to answer.
	const timeout = 2 * time.Second
	const slack = time.Second // a loaded CI machine's delay on top
	hang := func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }
	has := fakeNode(t, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`{"value":1}`)) })
	p := proxyOver(t, Replication, timeout, fakeNode(t, hang), fakeNode(t, hang), has)
	r := do(t, "GET", p.LocalURL()+"/get?key=k", "")
	if r.took > timeout+slack {
		t.Fatalf("a replicated get behind two stuck nodes took %v (timeout %v): %d %s", r.took, timeout, r.status, r.body)
	}
	if r.status != 200 || r.header.Get(kvapi.NodeHeader) != "n3" {
		t.Fatalf("%d %s from %q: the third node has the key", r.status, r.body, r.header.Get(kvapi.NodeHeader))
	}
}

func TestJoinedNodesAreDialedUnderThePolicy(t *testing.T) {
	var calls atomic.Int64
	u := fakeNode(t, func(w http.ResponseWriter, r *http.Request) { calls.Add(1); w.Write([]byte(`{"value":1}`)) })
	logs := &testwait.Buffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	p, err := New(Config{Token: "c", AdminToken: "a", Logger: log}) // no --allow-private
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer func() { cancel(); p.Wait() }()
	if err := p.Start(ctx); err != nil {
		t.Fatal(err)
	}
	// A member that joined with a public name that now resolves to loopback
	// (DNS rebinding): the dial-time check refuses it.
	p.setMembers([]registry.Member{{Name: "rebound", URL: u, Joined: true, Up: true}})
	r := do(t, "GET", p.LocalURL()+"/get?key=k", "")
	if r.status != 502 || !strings.Contains(r.body, "not allowed") {
		t.Fatalf("%d %s", r.status, r.body)
	}
	// The page's follower tries the node too, and is refused.
	testwait.For(t, "the follower's refused try", func() bool {
		for l := range strings.Lines(logs.String()) {
			if strings.Contains(l, `msg="following node" node=rebound err=`) && strings.Contains(l, "not allowed") {
				return true
			}
		}
		return false
	})
	if calls.Load() != 0 {
		t.Fatalf("the node was called %d times despite the policy", calls.Load())
	}
}

func TestHostileNodeStreamIsCut(t *testing.T) {
	up := websocket.Upgrader{}
	long := strings.Repeat("v", 10000)
	u := fakeNode(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/ws" {
			w.Write([]byte(`{"name":"x","count":0,"data":{}}`))
			return
		}
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		c.WriteJSON(web.Snapshot{Type: web.TypeSnapshot, Nodes: []web.NodeView{{Name: "x", Count: -5}}})
		c.WriteJSON(web.Batch{Type: web.TypeEvents, Events: []web.Event{
			{Type: web.EventPut, Node: "someone-else", Key: long, Value: long, Size: 10000, Count: 1, Error: "injected"},
			{Type: web.EventMode, Mode: "chaos"},
		}})
		<-r.Context().Done()
	})
	p := proxyOver(t, Sharding, time.Second, u)
	testwait.For(t, "the follower to mirror the put", func() bool {
		p.mu.Lock()
		f := p.followers["n1"]
		p.mu.Unlock()
		count, keys := f.view()
		return count == 1 && len(keys) == 1
	})
	p.mu.Lock()
	_, keys := p.followers["n1"].view()
	p.mu.Unlock()
	if len(keys[0].Key) > maxMirrorKey+10 || len(keys[0].Value) > web.PreviewRunes+10 {
		t.Fatalf("a node's huge key and value reached the page: %d and %d bytes", len(keys[0].Key), len(keys[0].Value))
	}
	if p.table.Load().mode != Sharding {
		t.Fatal("a node's stream changed the proxy's mode")
	}
}

func TestGatheredStateIsSharedUntilSomethingChanges(t *testing.T) {
	var stateCalls atomic.Int64
	n, _ := runNode(t, nodeConfig("kv1"))
	u := fakeNode(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/state" && r.URL.Query().Get("format") == "json" && r.URL.Query().Get("limit") == "" {
			stateCalls.Add(1)
		}
		n.Handler().ServeHTTP(w, r)
	})
	p := proxyOver(t, Sharding, time.Second, u)
	put(t, p.LocalURL(), "a", `1`)
	testwait.For(t, "the follower to see the put", func() bool {
		p.mu.Lock()
		f := p.followers["n1"]
		p.mu.Unlock()
		count, _ := f.view()
		return count == 1
	})
	for range 5 {
		if r := do(t, "GET", p.LocalURL()+"/state?format=json", ""); !strings.Contains(r.body, `"a":1`) {
			t.Fatalf("state: %s", r.body)
		}
	}
	if got := stateCalls.Load(); got != 1 {
		t.Fatalf("5 state requests with no change in between cost the node %d requests", got)
	}
	put(t, p.LocalURL(), "b", `2`)
	if r := do(t, "GET", p.LocalURL()+"/state?format=json", ""); !strings.Contains(r.body, `"b":2`) {
		t.Fatalf("state after a put is stale: %s", r.body)
	}
}
