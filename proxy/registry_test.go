package proxy

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kvclass/kvclass/internal/testwait"
	"github.com/kvclass/kvclass/kvapi"
	"github.com/kvclass/kvclass/node"
	"github.com/kvclass/kvclass/placement"
	"github.com/kvclass/kvclass/registry/join"
)

// joinNode starts a real node that joins p's registry, as a student's does.
// Nodes of one test keep their secrets in one state directory, as a
// student's machine does, so a node started again under the same name
// rejoins in its place.
func joinNode(t testing.TB, proxyURL, name string) (*node.Node, func()) {
	t.Helper()
	return runNode(t, node.Config{Name: name, Join: proxyURL, Token: "class-code", StateDir: stateDir(t)})
}

// stateDirs holds each test's node state directory.
var stateDirs sync.Map // testing.TB → string

// stateDir returns the test's node state directory.
func stateDir(t testing.TB) string {
	dir, _ := stateDirs.LoadOrStore(t, t.TempDir())
	return dir.(string)
}

// nodeConfig is a standalone node named name.
func nodeConfig(name string) node.Config { return node.Config{Name: name} }

// runNode starts a node with cfg; it stops when the test ends or when stop
// is called, as Ctrl-C would stop it.
func runNode(t testing.TB, cfg node.Config) (n *node.Node, stop func()) {
	t.Helper()
	n, err := node.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := n.Start(ctx); err != nil {
		cancel()
		t.Fatal(err)
	}
	stop = sync.OnceFunc(func() { cancel(); n.Wait() })
	t.Cleanup(stop)
	return n, stop
}

func tableNames(p *Proxy) string {
	var names []string
	for _, b := range p.table.Load().nodes {
		names = append(names, b.name)
	}
	return strings.Join(names, ",")
}

func TestJoinedNodesArePlacedByName(t *testing.T) {
	p := startProxy(t, Config{Heartbeat: 500 * time.Millisecond})
	// Joins race in class; the order must not depend on who came first.
	var nodes [3]*node.Node
	for _, i := range []int{2, 0, 1} {
		nodes[i], _ = joinNode(t, p.LocalURL(), "kv"+strconv.Itoa(i+1))
	}
	if got := tableNames(p); got != "kv1,kv2,kv3" {
		t.Fatalf("order %s, want kv1,kv2,kv3", got)
	}
	for i := 0; i <= 20; i++ {
		k := "key-" + strconv.Itoa(i)
		r := put(t, p.LocalURL(), k, `"v"`)
		if r.status != 200 || r.header.Get(kvapi.NodeHeader) != nodes[seedPlacement[i]].Name() {
			t.Fatalf("%s: %d %s via %q", k, r.status, r.body, r.header.Get(kvapi.NodeHeader))
		}
		if _, ok := nodes[seedPlacement[i]].Store().Get(k); !ok {
			t.Fatalf("%s is not on %s", k, nodes[seedPlacement[i]].Name())
		}
	}
	// kv10 sorts after kv9 and kv2, as a person reads it.
	joinNode(t, p.LocalURL(), "kv10")
	if got := tableNames(p); got != "kv1,kv2,kv3,kv10" {
		t.Fatalf("order %s", got)
	}
}

func TestStoppedNodeIsDownAtOnceAndKeepsItsPlace(t *testing.T) {
	p := startProxy(t, Config{Heartbeat: 500 * time.Millisecond, Expiry: time.Minute})
	var stops [3]func()
	for i := range 3 {
		_, stops[i] = joinNode(t, p.LocalURL(), "kv"+strconv.Itoa(i+1))
	}
	start := time.Now()
	stops[1]() // Ctrl-C on kv2: it tells the proxy it is stopping
	b := p.table.Load().byName["kv2"]
	if b == nil || b.up || b.reason != "stopped" {
		t.Fatalf("kv2 after stop: %+v (took %v)", b, time.Since(start))
	}
	if got := tableNames(p); got != "kv1,kv2,kv3" {
		t.Fatalf("order after stop: %s", got)
	}
	var kv2Key string
	for i := 0; kv2Key == ""; i++ {
		if k := "k" + strconv.Itoa(i); placement.SeedOwner(k, 3) == 1 {
			kv2Key = k
		}
	}
	r := do(t, "GET", p.LocalURL()+"/get?key="+kv2Key, "")
	if r.status != 503 || !strings.Contains(r.body, "kv2") || !strings.Contains(r.body, "stopped") {
		t.Fatalf("kv2's shard: %d %s", r.status, r.body)
	}
	// The student starts the node again: it takes its place back, up.
	n2, _ := joinNode(t, p.LocalURL(), "kv2")
	testwait.For(t, "kv2 up", func() bool { b := p.table.Load().byName["kv2"]; return b.up && b.url == n2.URL() })
	if r := put(t, p.LocalURL(), kv2Key, `1`); r.status != 200 || r.header.Get(kvapi.NodeHeader) != "kv2" {
		t.Fatalf("after rejoin: %d %s", r.status, r.body)
	}
}

// A node whose state directory cannot be written (a container's read-only
// root, a full disk) still joins and serves: it only loses the fast
// rejoin after a crash.
func TestNodeWithUnwritableStateDirStillJoins(t *testing.T) {
	t.Parallel()
	p := startProxy(t, Config{Heartbeat: 500 * time.Millisecond})
	file := filepath.Join(t.TempDir(), "not-a-directory")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	n, _ := runNode(t, node.Config{Name: "kv1", Join: p.LocalURL(), Token: "class-code", StateDir: filepath.Join(file, "nodes")})
	testwait.For(t, "kv1 up", func() bool { b := p.table.Load().byName["kv1"]; return b != nil && b.up && b.url == n.URL() })
	if r := put(t, p.LocalURL(), "k", `1`); r.status != 200 || r.header.Get(kvapi.NodeHeader) != "kv1" {
		t.Fatalf("put through the proxy: %d %s", r.status, r.body)
	}
}

func TestKickRemovesANode(t *testing.T) {
	p := startProxy(t, Config{Heartbeat: 500 * time.Millisecond})
	joinNode(t, p.LocalURL(), "kv1")
	troll, _ := joinNode(t, p.LocalURL(), "troll")
	req, _ := http.NewRequest("POST", p.LocalURL()+"/admin/kick", strings.NewReader(`{"name": "troll"}`))
	req.Header.Set("Authorization", "Bearer admin-secret")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("kick: %d", resp.StatusCode)
	}
	// The kicked node learns it was removed and stops, saying why.
	select {
	case <-troll.Done():
	case <-time.After(testwait.Patience):
		t.Fatal("the kicked node is still running")
	}
	if err := troll.Wait(); !errors.Is(err, join.ErrKicked) {
		t.Fatalf("kicked node's Wait = %v, want ErrKicked", err)
	}
	if got := tableNames(p); got != "kv1" {
		t.Fatalf("after kick: %s", got)
	}
}

func TestNodesRejoinARestartedProxy(t *testing.T) {
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
	var nodes [3]*node.Node
	for i := range 3 {
		nodes[i], _ = joinNode(t, first.LocalURL(), "kv"+strconv.Itoa(i+1))
	}
	for i := 0; i <= 20; i++ {
		put(t, first.LocalURL(), "key-"+strconv.Itoa(i), strconv.Itoa(i))
	}
	stop1()
	first.Wait()

	// The instructor restarts the proxy with the same class code.
	second := startProxy(t, cfg)
	testwait.For(t, "every node rejoined by itself", func() bool {
		return tableNames(second) == "kv1,kv2,kv3" && len(upOf(second.table.Load().nodes)) == 3
	})
	for i := 0; i <= 20; i++ {
		r := do(t, "GET", second.LocalURL()+"/get?key=key-"+strconv.Itoa(i), "")
		if r.status != 200 || r.body != `{"value":`+strconv.Itoa(i)+"}\n" {
			t.Fatalf("key-%d after the restart: %d %s", i, r.status, r.body)
		}
	}
}

// TestChurnWhileRequestsFlow has 200 nodes join and leave at random while
// clients hammer the proxy: every answer is one the API allows, none waits
// past the node timeout, and every table the proxy swaps in is whole and
// ordered. Run with -race.
func TestChurnWhileRequestsFlow(t *testing.T) {
	t.Parallel()
	const timeout = time.Second
	p := startProxy(t, Config{Heartbeat: 500 * time.Millisecond, Timeout: timeout, MaxPerAddr: 1000})
	joinNode(t, p.LocalURL(), "anchor")
	// The clients run until the churn is over; the deadline is only a
	// bound for a machine too busy to finish it.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	var requests, bad atomic.Int64
	for c := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			hc := &http.Client{Timeout: 5 * time.Second}
			for i := 0; ctx.Err() == nil; i++ {
				k := "c" + strconv.Itoa(c) + "-" + strconv.Itoa(i%50)
				start := time.Now()
				resp, err := hc.Post(p.LocalURL()+"/put?key="+k, "application/json", bytes.NewBufferString(`{"value": 1}`))
				if err != nil {
					t.Error(err)
					return
				}
				resp.Body.Close()
				requests.Add(1)
				switch {
				case resp.StatusCode != 200 && resp.StatusCode != 502 && resp.StatusCode != 503:
					t.Errorf("put %s: %d", k, resp.StatusCode)
					bad.Add(1)
				case time.Since(start) > timeout+500*time.Millisecond:
					t.Errorf("put %s took %v", k, time.Since(start))
				}
			}
		}()
	}
	var churned sync.WaitGroup
	var joined atomic.Int64
	for w := range 20 {
		churned.Add(1)
		go func() {
			defer churned.Done()
			for i := 0; ctx.Err() == nil && i < 10; i++ {
				name := "s" + strconv.Itoa(w) + "x" + strconv.Itoa(i)
				n, err := node.New(node.Config{Name: name, Join: p.LocalURL(), Token: "class-code"})
				if err != nil {
					t.Error(err)
					return
				}
				nctx, stop := context.WithCancel(context.Background())
				if err := n.Start(nctx); err != nil {
					t.Error(err)
					stop()
					return
				}
				joined.Add(1)
				time.Sleep(time.Duration(rand.N(100)) * time.Millisecond)
				stop()
				n.Wait()
			}
		}()
	}
	go func() { churned.Wait(); cancel() }() // the clients stop when the churn is over
	wg.Add(1)
	go func() { // every table is whole: names unique and in order
		defer wg.Done()
		for ctx.Err() == nil {
			tb := p.table.Load()
			for i, b := range tb.nodes {
				if tb.byName[b.name] != b {
					t.Error("table index does not match its list")
				}
				if i > 0 && !nameLess(tb.nodes[i-1].name, b.name) {
					t.Errorf("table out of order: %s before %s", tb.nodes[i-1].name, b.name)
				}
			}
			time.Sleep(time.Millisecond)
		}
	}()
	wg.Wait()
	if requests.Load() < 20 || joined.Load() != 200 {
		t.Fatalf("%d requests went through while %d nodes joined", requests.Load(), joined.Load())
	}
	t.Logf("%d requests while 200 nodes came and went; %d bad", requests.Load(), bad.Load())
}

// nameLess is the registry's order of joined names: digit runs compare as
// numbers.
func nameLess(a, b string) bool {
	for a != "" && b != "" {
		da, db := digits(a), digits(b)
		if da > 0 && db > 0 {
			na, _ := strconv.Atoi(a[:da])
			nb, _ := strconv.Atoi(b[:db])
			if na != nb {
				return na < nb
			}
			a, b = a[da:], b[db:]
			continue
		}
		if a[0] != b[0] {
			return a[0] < b[0]
		}
		a, b = a[1:], b[1:]
	}
	return len(a) < len(b)
}

func digits(s string) int {
	n := 0
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	return n
}
