package proxy

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/kvclass/kvclass/internal/testwait"
	"github.com/kvclass/kvclass/node"
	"github.com/kvclass/kvclass/placement"
	"github.com/kvclass/kvclass/tunnel"
	"github.com/kvclass/kvclass/tunnel/edgetest"
)

// startEdge starts the local stand-in of ngrok's edge.
func startEdge(t testing.TB) *edgetest.Edge {
	t.Helper()
	// The edge models ngrok's free plan: one URL per account, so every
	// student has a token of their own.
	e, err := edgetest.Start(edgetest.Options{Authtokens: []string{ngrokToken("kv1"), ngrokToken("kv2")}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// ngrokToken is the ngrok authtoken of the student running the node name.
func ngrokToken(name string) string { return "student-token-" + name }

// ngrokNode starts a node published through the edge that joins proxyURL,
// as `kvclass node --ngrok --join URL --token CODE` does.
func ngrokNode(t testing.TB, e *edgetest.Edge, proxyURL, name string) (*node.Node, func()) {
	t.Helper()
	return runNode(t, node.Config{
		Name:  name,
		Join:  proxyURL,
		Token: "class-code",
		Ngrok: &tunnel.Options{ConnectURL: e.ConnectAddr(), CAs: e.CAs(), Authtoken: ngrokToken(name), StartTimeout: 10 * time.Second},
	})
}

func TestNgrokNodesJoinWithTheirPublicURL(t *testing.T) {
	e := startEdge(t)
	p := startProxy(t, Config{Heartbeat: 500 * time.Millisecond})
	kv1, _ := ngrokNode(t, e, p.LocalURL(), "kv1")
	kv2, stop2 := ngrokNode(t, e, p.LocalURL(), "kv2")
	for _, n := range []*node.Node{kv1, kv2} {
		if n.URL() == n.LocalURL() || !strings.HasPrefix(n.URL(), "http") {
			t.Fatalf("%s advertises %s, not its public URL", n.Name(), n.URL())
		}
		if b := p.table.Load().byName[n.Name()]; b == nil || b.url != n.URL() || !b.up {
			t.Fatalf("%s on the proxy: %+v, want up at %s", n.Name(), b, n.URL())
		}
		// The student can still open the node locally.
		if r := do(t, "GET", n.LocalURL()+"/health", ""); r.status != 200 || r.body != "Hi from "+n.Name() {
			t.Fatalf("local %s: %d %s", n.Name(), r.status, r.body)
		}
	}
	// Keys go through the proxy, over the edge, to the node that owns them.
	for i := range 20 {
		k := "key-" + string(rune('a'+i))
		if r := put(t, p.LocalURL(), k, `"through the tunnel"`); r.status != 200 {
			t.Fatalf("put %s: %d %s", k, r.status, r.body)
		}
		owner := []*node.Node{kv1, kv2}[placement.SeedOwner(k, 2)]
		if _, ok := owner.Store().Get(k); !ok {
			t.Fatalf("%s did not reach %s", k, owner.Name())
		}
	}
	// A put straight to a node's public URL shows on the proxy's page: the
	// proxy follows the node's /ws through the tunnel.
	put(t, kv1.URL(), "direct", `1`)
	testwait.For(t, "the proxy to see the direct put", func() bool {
		p.mu.Lock()
		f := p.followers["kv1"]
		p.mu.Unlock()
		_, keys := f.view()
		return len(keys) > 0 && keys[0].Key == "direct"
	})
	// Ctrl-C on kv2: it leaves, and its endpoint goes offline.
	stop2()
	if b := p.table.Load().byName["kv2"]; b.up || b.reason != "stopped" {
		t.Fatalf("kv2 after stop: %+v", b)
	}
}

func TestNgrokSessionDropReconnects(t *testing.T) {
	e := startEdge(t)
	p := startProxy(t, Config{Heartbeat: 500 * time.Millisecond})
	kv1, _ := ngrokNode(t, e, p.LocalURL(), "kv1")
	if r := put(t, p.LocalURL(), "before", `1`); r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	dropped := e.DropSessions()
	if dropped.Online != 0 {
		t.Fatalf("endpoints still online right after the drop: %+v", dropped)
	}
	// While the endpoint is offline, the edge answers for it; the proxy
	// reports that as the node's failure, never as the node's own 404.
	if r := do(t, "GET", p.LocalURL()+"/get?key=before", ""); r.status != 200 && (r.status != 502 || !strings.Contains(r.body, "ERR_NGROK_3200")) {
		t.Fatalf("during the drop: %d %s", r.status, r.body)
	}
	// The SDK reconnects; if the URL changed the node joins again with it.
	testwait.For(t, "service back through the edge", func() bool {
		r := do(t, "GET", p.LocalURL()+"/get?key=before", "")
		b := p.table.Load().byName["kv1"]
		online := len(e.Endpoints()) > 0
		for _, ep := range e.Endpoints() {
			online = online && (ep.Online || ep.URL != kv1.URL())
		}
		return online && r.status == 200 && b.url == kv1.URL() && b.up
	})
	if r := put(t, p.LocalURL(), "after", `2`); r.status != 200 {
		t.Fatalf("after reconnect: %d %s", r.status, r.body)
	}
}

func TestNgrokBadTokenFailsFast(t *testing.T) {
	e := startEdge(t)
	n, err := node.New(node.Config{Name: "kv1", Ngrok: &tunnel.Options{
		ConnectURL: e.ConnectAddr(), CAs: e.CAs(), Authtoken: "not-a-token", StartTimeout: 20 * time.Second,
	}})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err = n.Start(context.Background())
	if err == nil || time.Since(start) > 5*time.Second {
		t.Fatalf("bad token: %v after %v", err, time.Since(start))
	}
	if msg := err.Error(); !strings.Contains(msg, "authtoken") || strings.Contains(msg, "\n") {
		t.Fatalf("not one friendly line: %q", msg)
	}
}
