package proxy

import (
	"context"
	"net"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/kvclass/kvclass/internal/testwait"
	"github.com/kvclass/kvclass/kvapi"
	"github.com/kvclass/kvclass/node"
)

// relayNode starts a node that joins proxyURL through the proxy's relay,
// as `kvclass node --relay --join URL --token CODE` does.
func relayNode(t testing.TB, proxyURL, name string) (*node.Node, func()) {
	t.Helper()
	return runNode(t, node.Config{Name: name, Join: proxyURL, Token: "class-code", Relay: true, StateDir: stateDir(t)})
}

// waitRelayed waits until the proxy lists every name up, at relay:NAME.
func waitRelayed(t testing.TB, p *Proxy, names ...string) {
	t.Helper()
	testwait.For(t, "relayed nodes up", func() bool {
		tbl := p.table.Load()
		for _, n := range names {
			b := tbl.byName[n]
			if b == nil || !b.up || !b.relay || b.url != kvapi.RelayURL(n) {
				return false
			}
		}
		return true
	})
}

func TestRelayedNodesServeTheClass(t *testing.T) {
	t.Parallel()
	p := startProxy(t, Config{Heartbeat: 500 * time.Millisecond})
	var nodes []*node.Node
	var stops []func()
	for i := 1; i <= 3; i++ {
		n, stop := relayNode(t, p.LocalURL(), "kv"+strconv.Itoa(i))
		nodes, stops = append(nodes, n), append(stops, stop)
	}
	waitRelayed(t, p, "kv1", "kv2", "kv3")
	if nodes[0].URL() != "relay:kv1" {
		t.Fatalf("a relayed node advertises %q", nodes[0].URL())
	}
	// The seed's walkthrough, through the relays.
	for i := 0; i <= 20; i++ {
		k := "key-" + strconv.Itoa(i)
		owner := nodes[seedPlacement[i]]
		if r := put(t, p.LocalURL(), k, `"v`+strconv.Itoa(i)+`"`); r.status != 200 || r.header.Get(kvapi.NodeHeader) != owner.Name() {
			t.Fatalf("%s: %d %s via %q, want %s", k, r.status, r.body, r.header.Get(kvapi.NodeHeader), owner.Name())
		}
		if r := do(t, "GET", owner.LocalURL()+"/get?key="+k, ""); r.status != 200 {
			t.Fatalf("%s is not on %s: %d", k, owner.Name(), r.status)
		}
		if r := do(t, "GET", p.LocalURL()+"/get?key="+k, ""); r.status != 200 || r.body != `{"value":"v`+strconv.Itoa(i)+`"}`+"\n" {
			t.Fatalf("get %s: %d %s", k, r.status, r.body)
		}
	}
	// The page follows a node through its relay: a put straight on the node
	// shows on the proxy's page.
	put(t, nodes[0].LocalURL(), "direct", `1`)
	testwait.For(t, "the proxy to see the direct put", func() bool {
		p.mu.Lock()
		f := p.followers["kv1"]
		p.mu.Unlock()
		_, keys := f.view()
		return len(keys) > 0 && keys[0].Key == "direct"
	})
	// Ctrl-C: down at once, "stopped", in its place; started again, it is
	// back through a new relay and serves its shard.
	stops[1]()
	if b := p.table.Load().byName["kv2"]; b.up || b.reason != "stopped" {
		t.Fatalf("kv2 after Ctrl-C: %+v", b)
	}
	relayNode(t, p.LocalURL(), "kv2")
	waitRelayed(t, p, "kv2")
	if r := put(t, p.LocalURL(), "key-1", `"again"`); r.status != 200 || r.header.Get(kvapi.NodeHeader) != "kv2" {
		t.Fatalf("kv2's shard after its restart: %d %s", r.status, r.body)
	}
}

func TestRelaysComeBackAfterAProxyRestart(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cfg := Config{Port: port, Heartbeat: 500 * time.Millisecond, Token: "class-code", AdminToken: "admin-secret", AllowPrivate: true}
	first, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx1, stop1 := context.WithCancel(context.Background())
	if err := first.Start(ctx1); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 3; i++ {
		relayNode(t, first.LocalURL(), "kv"+strconv.Itoa(i))
	}
	waitRelayed(t, first, "kv1", "kv2", "kv3")
	for i := 0; i <= 20; i++ {
		if r := put(t, first.LocalURL(), "key-"+strconv.Itoa(i), strconv.Itoa(i)); r.status != 200 {
			t.Fatalf("put key-%d: %d %s", i, r.status, r.body)
		}
	}
	stop1()
	first.Wait()

	second := startProxy(t, cfg)
	waitRelayed(t, second, "kv1", "kv2", "kv3")
	for i := 0; i <= 20; i++ {
		if r := do(t, "GET", second.LocalURL()+"/get?key=key-"+strconv.Itoa(i), ""); r.status != 200 || r.body != `{"value":`+strconv.Itoa(i)+"}\n" {
			t.Fatalf("key-%d after the restart: %d %s", i, r.status, r.body)
		}
	}
}

// TestFortyRelayedNodes: a class of 40 joins through the relay; every node
// serves its shard, and the proxy's goroutines stay in proportion.
func TestFortyRelayedNodes(t *testing.T) {
	t.Parallel()
	p := startProxy(t, Config{Heartbeat: 500 * time.Millisecond})
	before := runtime.NumGoroutine()
	var names []string
	for i := 1; i <= 40; i++ {
		name := "s" + strconv.Itoa(i)
		names = append(names, name)
		relayNode(t, p.LocalURL(), name)
	}
	waitRelayed(t, p, names...)
	served := map[string]bool{}
	for i := 0; len(served) < 40 && i < 2000; i++ {
		r := put(t, p.LocalURL(), "k"+strconv.Itoa(i), `1`)
		if r.status != 200 {
			t.Fatalf("put: %d %s", r.status, r.body)
		}
		served[r.header.Get(kvapi.NodeHeader)] = true
	}
	if len(served) != 40 {
		t.Fatalf("%d of 40 relayed nodes served a key", len(served))
	}
	t.Logf("goroutines: %d before the class, %d with 40 relayed nodes (nodes included)", before, runtime.NumGoroutine())
}
