package proxy

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
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
	"github.com/kvclass/kvclass/registry"
)

// seedPlacement is where the seed's proxy put the 21 keys of its walkthrough
// loop (for i in {0..20}) over kv1, kv2, kv3: index into that list.
var seedPlacement = [21]int{2, 1, 0, 0, 1, 2, 2, 0, 2, 0, 1, 0, 2, 1, 1, 1, 0, 2, 2, 2, 0}

// startNodes starts n real nodes, kv1…kvN, on ephemeral loopback ports.
// Each stops when the test ends or when its stop function is called.

func startNodes(t testing.TB, n int) ([]*node.Node, []func()) {
	t.Helper()
	var nodes []*node.Node
	var stops []func()
	for i := 1; i <= n; i++ {
		nd, stop := runNode(t, node.Config{Name: "kv" + strconv.Itoa(i)})
		nodes = append(nodes, nd)
		stops = append(stops, stop)
	}
	return nodes, stops
}

// configFor is a config file listing nodes in order, as the seed's did.
func configFor(mode Mode, nodes []*node.Node) *File {
	f := &File{Mode: mode, WriteQuorum: 1}
	for _, n := range nodes {
		f.Nodes = append(f.Nodes, registry.Static{Name: n.Name(), URL: n.LocalURL()})
	}
	return f
}

// startProxy starts a real proxy on an ephemeral loopback port and waits
// until every config node is up.
func startProxy(t testing.TB, cfg Config) *Proxy {
	t.Helper()
	if cfg.Token == "" {
		cfg.Token = "class-code"
	}
	if cfg.AdminToken == "" {
		cfg.AdminToken = "admin-secret"
	}
	if cfg.HealthInterval == 0 {
		cfg.HealthInterval = 50 * time.Millisecond
	}
	cfg.AllowPrivate = true
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := p.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); p.Wait() })
	if cfg.File != nil {
		testwait.For(t, "config nodes up", func() bool { return len(upOf(p.table.Load().nodes)) == len(cfg.File.Nodes) })
	}
	return p
}

type reply struct {
	status int
	header http.Header
	body   string
	took   time.Duration
}

var client = &http.Client{Timeout: 10 * time.Second}

func do(t testing.TB, method, u, body string) reply {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return reply{resp.StatusCode, resp.Header, string(b), time.Since(start)}
}

func put(t testing.TB, base, key, value string) reply {
	return do(t, "POST", base+"/put?key="+url.QueryEscape(key), `{"value": `+value+`}`)
}

func TestSeedWalkthroughSharding(t *testing.T) {
	nodes, _ := startNodes(t, 3)
	p := startProxy(t, Config{File: configFor(Sharding, nodes)})
	base := p.LocalURL()
	// for i in {0..20}; do curl .../put?key=key-$i -d '{"value": "value-'$i'"}'; done
	for i := 0; i <= 20; i++ {
		k := "key-" + strconv.Itoa(i)
		r := put(t, base, k, `"value-`+strconv.Itoa(i)+`"`)
		owner := nodes[seedPlacement[i]]
		if r.status != 200 || r.header.Get(kvapi.NodeHeader) != owner.Name() {
			t.Fatalf("%s: %d %s via %q, want %s", k, r.status, r.body, r.header.Get(kvapi.NodeHeader), owner.Name())
		}
		for _, n := range nodes {
			_, ok := n.Store().Get(k)
			if ok != (n == owner) {
				t.Errorf("%s on %s: %v (the seed puts it on %s)", k, n.Name(), ok, owner.Name())
			}
		}
	}
	r := do(t, "GET", base+"/get?key=key-7", "")
	if r.status != 200 || r.body != `{"value":"value-7"}`+"\n" || r.header.Get(kvapi.NodeHeader) != nodes[seedPlacement[7]].Name() {
		t.Fatalf("get key-7: %d %q %v", r.status, r.body, r.header)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("relayed Content-Type %q", ct)
	}
	r = do(t, "GET", base+"/get?key=missing", "")
	if r.status != 404 || !strings.Contains(r.body, `"key":"missing"`) {
		t.Fatalf("get missing: %d %s", r.status, r.body)
	}
	// The proxy's JSON state lists every node in order with its keys.
	var st struct {
		Mode  string
		Nodes []struct {
			Name, URL, Status string
			Data              map[string]any
		}
	}
	r = do(t, "GET", base+"/state?format=json", "")
	if err := json.Unmarshal([]byte(r.body), &st); err != nil || st.Mode != string(Sharding) || len(st.Nodes) != 3 {
		t.Fatalf("state: %s", r.body)
	}
	total := 0
	for i, n := range st.Nodes {
		if n.Name != nodes[i].Name() || n.Status != "up" {
			t.Errorf("state node %d: %+v", i, n)
		}
		total += len(n.Data)
	}
	if total != 21 {
		t.Errorf("state holds %d keys, want 21", total)
	}
	// Delete goes to the owner.
	if r = do(t, "DELETE", base+"/delete?key=key-7", ""); r.status != 200 {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	if _, ok := nodes[seedPlacement[7]].Store().Get("key-7"); ok {
		t.Error("delete did not reach the owner")
	}
}

func TestAwkwardKeysSurviveTheHop(t *testing.T) {
	nodes, _ := startNodes(t, 3)
	p := startProxy(t, Config{File: configFor(Sharding, nodes)})
	keys := []string{"a&b", "a#b", "a+b", "100%", "a/b/../c", "a b", "ключ", "日本語", "key=x&key=y", "%2F", "?"}
	for _, k := range keys {
		if r := put(t, p.LocalURL(), k, strconv.Quote(k)); r.status != 200 {
			t.Fatalf("put %q: %d %s", k, r.status, r.body)
		}
		owner := nodes[placement.SeedOwner(k, 3)]
		if v, ok := owner.Store().Get(k); !ok || v != strconv.Quote(k) {
			t.Errorf("key %q: owner %s holds %q, %v", k, owner.Name(), v, ok)
		}
		r := do(t, "GET", p.LocalURL()+"/get?key="+url.QueryEscape(k), "")
		var got struct{ Value string }
		json.Unmarshal([]byte(r.body), &got)
		if r.status != 200 || got.Value != k {
			t.Errorf("get %q: %d %s", k, r.status, r.body)
		}
	}
}

func TestReplication(t *testing.T) {
	nodes, stops := startNodes(t, 3)
	p := startProxy(t, Config{File: configFor(Replication, nodes)})
	base := p.LocalURL()
	// The answer names the nodes that stored the put within the write's
	// grace, in order: all three on a machine that is not overloaded.
	// Every node stores it in any case.
	late := 0
	for i := 0; i <= 20; i++ {
		r := put(t, base, "key-"+strconv.Itoa(i), `"value-`+strconv.Itoa(i)+`"`)
		served := r.header.Get(kvapi.NodeHeader)
		if r.status != 200 || !slices.Contains([]string{"kv1,kv2,kv3", "kv1,kv2", "kv1,kv3", "kv2,kv3", "kv1", "kv2", "kv3"}, served) {
			t.Fatalf("put: %d %s %q", r.status, r.body, served)
		}
		if served != "kv1,kv2,kv3" {
			late++
		}
	}
	if late > 0 {
		t.Logf("%d of 21 puts had a replica answer after the grace", late)
	}
	testwait.For(t, "all 21 keys on every node", func() bool {
		for _, n := range nodes {
			if n.Store().Len() != 21 {
				return false
			}
		}
		return true
	})
	r := do(t, "GET", base+"/get?key=key-3", "")
	if r.status != 200 || r.header.Get(kvapi.NodeHeader) != "kv1" {
		t.Fatalf("get: %d %s from %q; want the first node", r.status, r.body, r.header.Get(kvapi.NodeHeader))
	}
	// The seed answered 500 here; a key no node has is 404.
	r = do(t, "GET", base+"/get?key=nobody-has-it", "")
	if r.status != 404 || !strings.Contains(r.body, "Key not found.") {
		t.Fatalf("missing key: %d %s", r.status, r.body)
	}
	// A key only kv3 has (written straight to it) is still found, in order.
	put(t, nodes[2].LocalURL(), "only-on-kv3", `1`)
	if r = do(t, "GET", base+"/get?key=only-on-kv3", ""); r.status != 200 || r.header.Get(kvapi.NodeHeader) != "kv3" {
		t.Fatalf("get only-on-kv3: %d %s %q", r.status, r.body, r.header.Get(kvapi.NodeHeader))
	}
	// Node loss: every key still reads.
	stops[0]()
	for i := 0; i <= 20; i++ {
		r := do(t, "GET", base+"/get?key=key-"+strconv.Itoa(i), "")
		if r.status != 200 {
			t.Fatalf("after kv1 stopped, key-%d: %d %s", i, r.status, r.body)
		}
	}
	testwait.For(t, "kv1 marked down", func() bool { return !p.table.Load().byName["kv1"].up })
	if r = put(t, base, "after", `1`); r.status != 200 || !slices.Contains([]string{"kv2,kv3", "kv2", "kv3"}, r.header.Get(kvapi.NodeHeader)) {
		t.Fatalf("put with kv1 down: %d %s %q", r.status, r.body, r.header.Get(kvapi.NodeHeader))
	}
	if r = do(t, "DELETE", base+"/delete?key=after", ""); r.status != 200 {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	if r = do(t, "DELETE", base+"/delete?key=after", ""); r.status != 404 {
		t.Fatalf("second delete: %d %s", r.status, r.body)
	}
}

func TestWriteQuorum(t *testing.T) {
	nodes, stops := startNodes(t, 3)
	f := configFor(Replication, nodes)
	p := startProxy(t, Config{File: f, WriteQuorum: 3})
	if r := put(t, p.LocalURL(), "k", `1`); r.status != 200 {
		t.Fatalf("quorum 3 of 3: %d %s", r.status, r.body)
	}
	stops[1]()
	testwait.For(t, "kv2 marked down", func() bool { return !p.table.Load().byName["kv2"].up })
	r := put(t, p.LocalURL(), "k2", `2`)
	if r.status != 503 || !strings.Contains(r.body, "quorum") || !strings.Contains(r.body, "kv2") {
		t.Fatalf("quorum 3 with a node down: %d %s", r.status, r.body)
	}
}

// hangingNodeCounting is a server that accepts connections and never
// answers, as a stuck or overloaded machine does; it counts the data calls
// (/get, /put, /delete) waiting on it.
func hangingNodeCounting(t testing.TB) (string, *atomic.Int64) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	var calls atomic.Int64
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			go func() {
				line, _ := bufio.NewReader(c).ReadString('\n')
				for _, p := range []string{" /get?", " /put?", " /delete?"} {
					if strings.Contains(line, p) {
						calls.Add(1)
					}
				}
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	return "http://" + ln.Addr().String(), &calls
}

func TestDeadAndSlowNodesFailFast(t *testing.T) {
	nodes, stops := startNodes(t, 3)
	f := configFor(Sharding, nodes)
	const timeout = 300 * time.Millisecond
	p := startProxy(t, Config{File: f, Timeout: timeout, HealthInterval: time.Hour})
	// A stopped node: connection refused, a 502 naming it at once (or a
	// 503 if a health check already marked it down).
	stops[seedPlacement[0]]()
	dead := nodes[seedPlacement[0]].Name()
	r := do(t, "GET", p.LocalURL()+"/get?key=key-0", "")
	if (r.status != 502 && r.status != 503) || !strings.Contains(r.body, dead) || r.took > timeout {
		t.Fatalf("dead node: %d %s in %v", r.status, r.body, r.took)
	}
	// The other keys still work.
	if r = put(t, p.LocalURL(), "key-1", `1`); r.status != 200 {
		t.Fatalf("live node: %d %s", r.status, r.body)
	}
}

func TestHangingNodeNeverStallsOthers(t *testing.T) {
	t.Parallel()
	nodes, _ := startNodes(t, 2)
	// A timeout long enough that a loaded machine's slowness cannot pass
	// for it: the live node's put must come back while every request to the
	// stuck node still waits.
	const timeout = 2 * time.Second
	const slack = time.Second // a loaded CI machine's delay on top
	// The stuck node is marked up, as its passing health checks would, so
	// the proxy really calls it.
	stuck, waiting := hangingNodeCounting(t)
	p := proxyOver(t, Sharding, timeout, nodes[0].LocalURL(), nodes[1].LocalURL(), stuck)
	var stuckKey, liveKey string
	for i := 0; stuckKey == "" || liveKey == ""; i++ {
		k := "k" + strconv.Itoa(i)
		if placement.SeedOwner(k, 3) == 2 {
			stuckKey = k
		} else if liveKey == "" {
			liveKey = k
		}
	}
	var wg sync.WaitGroup
	var answered atomic.Int64
	slow := make([]reply, 8)
	for i := range slow {
		wg.Go(func() {
			slow[i] = do(t, "GET", p.LocalURL()+"/get?key="+stuckKey, "")
			answered.Add(1)
		})
	}
	testwait.For(t, "the slow requests to wait on the stuck node", func() bool { return waiting.Load() == int64(len(slow)) })
	fast := put(t, p.LocalURL(), liveKey, `1`)
	if fast.status != 200 || answered.Load() != 0 {
		t.Errorf("a live node's request waited behind the stuck node: %d in %v, after %d of the stuck node's requests failed", fast.status, fast.took, answered.Load())
	}
	st := do(t, "GET", p.LocalURL()+"/state?format=json", "")
	if st.took > timeout+slack || !strings.Contains(st.body, `"name":"n3","url"`) || !strings.Contains(st.body, `"status":"down"`) {
		t.Errorf("state with a stuck node: %v: %s", st.took, st.body)
	}
	wg.Wait()
	for _, r := range slow {
		if r.status != 502 || !strings.Contains(r.body, "n3") || r.took > timeout+slack {
			t.Errorf("stuck node: %d %s in %v", r.status, r.body, r.took)
		}
	}
}

func TestShardOfADownNodeAnswers503(t *testing.T) {
	nodes, stops := startNodes(t, 3)
	p := startProxy(t, Config{File: configFor(Sharding, nodes)})
	stops[seedPlacement[0]]()
	name := nodes[seedPlacement[0]].Name()
	testwait.For(t, name+" marked down", func() bool { return !p.table.Load().byName[name].up })
	r := do(t, "GET", p.LocalURL()+"/get?key=key-0", "")
	if r.status != 503 || !strings.Contains(r.body, name) || r.took > 100*time.Millisecond {
		t.Fatalf("down shard: %d %s in %v", r.status, r.body, r.took)
	}
	// Its place is kept: other keys still go where the seed puts them.
	for i := 1; i <= 20; i++ {
		if seedPlacement[i] == seedPlacement[0] {
			continue
		}
		r := put(t, p.LocalURL(), "key-"+strconv.Itoa(i), `1`)
		if r.status != 200 || r.header.Get(kvapi.NodeHeader) != nodes[seedPlacement[i]].Name() {
			t.Fatalf("key-%d: %d via %q", i, r.status, r.header.Get(kvapi.NodeHeader))
		}
	}
}

func TestNoNodes(t *testing.T) {
	p := startProxy(t, Config{})
	r := put(t, p.LocalURL(), "k", `1`)
	if r.status != 503 || !strings.Contains(r.body, "No nodes") {
		t.Fatalf("%d %s", r.status, r.body)
	}
}

func TestProxyBadInputReachesNoNode(t *testing.T) {
	nodes, _ := startNodes(t, 3)
	p := startProxy(t, Config{File: configFor(Replication, nodes), MaxBody: 256, MaxKey: 64})
	cases := []struct {
		method, path, body string
		status             int
	}{
		{"POST", "/put", `{"value": 1}`, 400},
		{"POST", "/put?key=k", `{}`, 400},
		{"POST", "/put?key=k", `{"value": null}`, 400},
		{"POST", "/put?key=k", `{"value": `, 400},
		{"POST", "/put?key=k", `[1]`, 400},
		{"POST", "/put?key=k", `{"value": "` + strings.Repeat("x", 300) + `"}`, 413},
		{"POST", "/put?key=" + strings.Repeat("k", 65), `{"value": 1}`, 400},
		{"GET", "/put?key=k", ``, 405},
		{"GET", "/get", ``, 400},
		{"PATCH", "/get?key=k", ``, 405},
		{"GET", "/delete?key=k", ``, 405},
		{"GET", "/nope", ``, 404},
	}
	for _, tc := range cases {
		r := do(t, tc.method, p.LocalURL()+tc.path, tc.body)
		var e struct{ Error string }
		if r.status != tc.status || json.Unmarshal([]byte(r.body), &e) != nil || e.Error == "" {
			t.Errorf("%s %s: %d %s, want %d with a JSON error", tc.method, tc.path, r.status, r.body, tc.status)
		}
		if tc.status == 405 && r.header.Get("Allow") == "" {
			t.Errorf("%s %s: 405 without Allow", tc.method, tc.path)
		}
	}
	for _, n := range nodes {
		if n.Store().Len() != 0 {
			t.Errorf("%s stored %d keys from bad requests", n.Name(), n.Store().Len())
		}
	}
}

// ngrokEdgeAnswer is what ngrok's edge sends when a node's endpoint is
// offline: an HTML 404 with the Ngrok-Error-Code header.
func ngrokEdgeAnswer(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Ngrok-Error-Code", "ERR_NGROK_3200")
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(404)
		w.Write([]byte("<html>The endpoint is offline.</html>"))
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String()
}

func TestNgrokEdgeErrorIsANodeFailure(t *testing.T) {
	p := proxyOver(t, Sharding, time.Second, ngrokEdgeAnswer(t))
	r := do(t, "GET", p.LocalURL()+"/get?key=k", "")
	if r.status != 502 || !strings.Contains(r.body, "ERR_NGROK_3200") || strings.Contains(r.body, "Key not found") {
		t.Fatalf("edge error relayed as %d %s", r.status, r.body)
	}
	st := do(t, "GET", p.LocalURL()+"/state?format=json", "")
	if !strings.Contains(st.body, `"status":"down","reason":"ngrok: endpoint offline (ERR_NGROK_3200)"`) {
		t.Fatalf("state: %s", st.body)
	}
}

func TestAdmin(t *testing.T) {
	nodes, stops := startNodes(t, 3)
	p := startProxy(t, Config{File: configFor(Sharding, nodes)})
	admin := func(path, body, token string) reply {
		req, _ := http.NewRequest("POST", p.LocalURL()+path, bytes.NewBufferString(body))
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return reply{status: resp.StatusCode, body: string(b)}
	}
	for _, tok := range []string{"", "wrong", "admin-secre", "admin-secrett", "class-code"} {
		if r := admin("/admin/mode", `{"mode": "replication"}`, tok); r.status != 401 {
			t.Errorf("token %q: %d %s", tok, r.status, r.body)
		}
	}
	if p.table.Load().mode != Sharding {
		t.Fatal("an unauthorized call changed the mode")
	}
	if r := admin("/admin/mode", `{"mode": "replication"}`, "admin-secret"); r.status != 200 {
		t.Fatalf("mode: %d %s", r.status, r.body)
	}
	// Every replica gets the put (one that answers after the write's grace
	// is left out of the header, as a late replica, but still stores it).
	if r := put(t, p.LocalURL(), "k", `1`); r.status != 200 || r.header.Get(kvapi.NodeHeader) == "" {
		t.Fatalf("after switching to replication, put: %d via %q", r.status, r.header.Get(kvapi.NodeHeader))
	}
	testwait.For(t, "the put on every replica", func() bool {
		for _, n := range nodes {
			if _, ok := n.Store().Get("k"); !ok {
				return false
			}
		}
		return true
	})
	if r := admin("/admin/mode", `{"mode": "chaos"}`, "admin-secret"); r.status != 400 {
		t.Errorf("bad mode: %d %s", r.status, r.body)
	}
	if r := admin("/admin/mode", `{"mode": `, "admin-secret"); r.status != 400 {
		t.Errorf("malformed: %d %s", r.status, r.body)
	}
	// Reset with a node down (a normal day in class): the others are cleared.
	stops[2]()
	testwait.For(t, "kv3 down", func() bool { return !p.table.Load().byName["kv3"].up })
	if r := admin("/admin/reset", ``, "admin-secret"); r.status != 200 || !strings.Contains(r.body, `"kv3":"skipped: down`) {
		t.Fatalf("reset: %d %s", r.status, r.body)
	}
	for _, n := range nodes[:2] {
		if n.Store().Len() != 0 {
			t.Errorf("%s kept %d keys after reset", n.Name(), n.Store().Len())
		}
	}
	if r := admin("/admin/nope", `{}`, "admin-secret"); r.status != 404 {
		t.Errorf("unknown admin action: %d %s", r.status, r.body)
	}
	if r := admin("/admin/kick", `{"name": "nobody"}`, "admin-secret"); r.status != 404 {
		t.Errorf("kick unknown: %d %s", r.status, r.body)
	}
}

// recordingNode serves a real node's handler behind a wrapper that records
// the headers of every request and can refuse the node's /ws.
type recordingNode struct {
	node    *node.Node
	url     string
	mu      sync.Mutex
	headers []http.Header
}

func startRecordingNode(t testing.TB, name string, refuseWS bool) *recordingNode {
	t.Helper()
	n, err := node.New(node.Config{Name: name})
	if err != nil {
		t.Fatal(err)
	}
	rn := &recordingNode{node: n}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rn.mu.Lock()
		rn.headers = append(rn.headers, r.Header.Clone())
		rn.mu.Unlock()
		if refuseWS && r.URL.Path == "/ws" {
			http.Error(w, "no websockets through this network", http.StatusForbidden)
			return
		}
		n.Handler().ServeHTTP(w, r)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	rn.url = "http://" + ln.Addr().String()
	return rn
}

func TestNodeCallsCarryKvclassHeaders(t *testing.T) {
	rn := startRecordingNode(t, "kv1", false)
	f := &File{Mode: Sharding, WriteQuorum: 1, Nodes: []registry.Static{{Name: "kv1", URL: rn.url}}}
	p := startProxy(t, Config{File: f, UserAgent: "kvclass/test"})
	put(t, p.LocalURL(), "k", `1`)
	do(t, "GET", p.LocalURL()+"/get?key=k", "")
	do(t, "GET", p.LocalURL()+"/state?format=json", "")
	rn.mu.Lock()
	defer rn.mu.Unlock()
	if len(rn.headers) < 3 {
		t.Fatalf("only %d requests reached the node", len(rn.headers))
	}
	for _, h := range rn.headers {
		if h.Get("Upgrade") == "" && h.Get("User-Agent") != "kvclass/test" {
			t.Errorf("a call to the node had User-Agent %q", h.Get("User-Agent"))
		}
		if h.Get("ngrok-skip-browser-warning") == "" {
			t.Errorf("a call to the node lacked ngrok-skip-browser-warning: %v", h)
		}
	}
}

func TestFollowerFallsBackToPolling(t *testing.T) {
	t.Parallel()
	rn := startRecordingNode(t, "kv1", true)
	f := &File{Mode: Sharding, WriteQuorum: 1, Nodes: []registry.Static{{Name: "kv1", URL: rn.url}}}
	p := startProxy(t, Config{File: f})
	// A put straight on the node, which the proxy cannot follow over /ws.
	put(t, rn.url, "direct", `"seen by polling"`)
	testwait.For(t, "the proxy's mirror to poll the key", func() bool {
		p.mu.Lock()
		fl := p.followers["kv1"]
		p.mu.Unlock()
		count, keys := fl.view()
		return count == 1 && len(keys) == 1 && keys[0].Key == "direct" && keys[0].Value == "seen by polling"
	})
}

func TestJoinLineForALAN(t *testing.T) {
	p, err := New(Config{Host: "0.0.0.0", Token: "room-9", AdminToken: "a"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer func() { cancel(); p.Wait() }()
	if err := p.Start(ctx); err != nil {
		t.Fatal(err)
	}
	// Students' nodes must listen beyond their loopback, and the URL is this
	// machine's LAN address (or a placeholder to fill in), never 127.0.0.1.
	line := p.JoinLine()
	if !strings.HasPrefix(line, "kvclass node --host 0.0.0.0 --join http://") || !strings.HasSuffix(line, " --token room-9") || strings.Contains(line, "127.0.0.1") {
		t.Fatalf("join line %q", line)
	}
	if !strings.Contains(line, p.URL()) && !strings.Contains(line, "INSTRUCTOR-IP") {
		t.Fatalf("join line %q does not use the proxy's URL %s", line, p.URL())
	}
}

// A node restarted on the same address (a container, a student's Ctrl-C and
// up-arrow) left the proxy's pooled connections closed: the first calls after
// its return must not fail on them.
func TestRestartedNodeAnswersTheFirstCalls(t *testing.T) {
	t.Parallel()
	nodes, stops := startNodes(t, 1)
	port, err := strconv.Atoi(nodes[0].LocalURL()[strings.LastIndex(nodes[0].LocalURL(), ":")+1:])
	if err != nil {
		t.Fatal(err)
	}
	p := startProxy(t, Config{File: configFor(Sharding, nodes)})
	// Concurrent puts leave several idle connections in the pool.
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 5 {
				if r := put(t, p.LocalURL(), "k"+strconv.Itoa(g*5+i), `1`); r.status != 200 {
					t.Errorf("put before the restart: %d %s", r.status, r.body)
				}
			}
		})
	}
	wg.Wait()
	stops[0]()
	testwait.For(t, "kv1 marked down", func() bool { return !p.table.Load().byName["kv1"].up })
	runNode(t, node.Config{Name: "kv1", Port: port})
	testwait.For(t, "kv1 up again", func() bool { return p.table.Load().byName["kv1"].up })
	for i := range 10 {
		if r := put(t, p.LocalURL(), "after"+strconv.Itoa(i), `1`); r.status != 200 {
			t.Fatalf("put %d after the restart: %d %s", i, r.status, r.body)
		}
	}
}
