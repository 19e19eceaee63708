package proxy

import (
	"encoding/json"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/kvclass/kvclass/internal/testwait"
	"github.com/kvclass/kvclass/kvapi"
	"github.com/kvclass/kvclass/web"
)

// The attacks of a classmate with the class code, or of a node that
// misbehaves: each test plays one, against a real proxy, and checks that
// what it costs the proxy is bounded.

// heapInUse is the heap in use after a collection.
func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// TestEndlessNodeAnswerIsBounded: a node answering /get with an endless
// chunked body cannot make the proxy buffer it: each GET fails as "too
// large" once the proxy has read its --max-body.
func TestEndlessNodeAnswerIsBounded(t *testing.T) {
	endless := fakeNode(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/get" {
			w.Write([]byte(`{"name":"x","data":{}}`))
			return
		}
		chunk := []byte(strings.Repeat("x", 32<<10))
		for r.Context().Err() == nil {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	})
	// A timeout a loaded machine cannot reach before the proxy has read its
	// --max-body of each answer.
	p := proxyOver(t, Sharding, 10*time.Second, endless)
	before := heapInUse()
	var wg sync.WaitGroup
	var mu sync.Mutex
	statuses := map[int]int{}
	for range 60 {
		wg.Go(func() {
			r := do(t, "GET", p.LocalURL()+"/get?key=k", "")
			mu.Lock()
			statuses[r.status]++
			mu.Unlock()
			if r.status != 502 || !strings.Contains(r.body, "too large") {
				t.Errorf("an endless answer: %d %.200s", r.status, r.body)
			}
		})
	}
	wg.Wait()
	grew := int64(heapInUse()) - int64(before)
	t.Logf("60 GETs of an endless answer: %v; heap in use grew by %d KiB", statuses, grew>>10)
	if grew > 64<<20 {
		t.Fatalf("the proxy kept %d MiB after 60 endless answers", grew>>20)
	}
}

// TestStateGatherIsBounded: twenty names pointing at one server answering
// a big /state cannot make /state?format=json an answer of twenty times
// that: the gather stops at its bound (lowered here from 32 MiB to 1 MiB,
// with 256 KiB per node, to spare the test's machine) and says so per node.
func TestStateGatherIsBounded(t *testing.T) {
	const perNode = 256 << 10
	big := `{"name":"x","data":{"k":"` + strings.Repeat("x", perNode) + `"}}`
	u := fakeNode(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/state" {
			w.Write([]byte(big))
			return
		}
		w.WriteHeader(404)
	})
	urls := make([]string, 20)
	for i := range urls {
		urls[i] = u
	}
	p := proxyOver(t, Sharding, 5*time.Second, urls...)
	p.maxGather = 1 << 20
	r := do(t, "GET", p.LocalURL()+"/state?format=json", "")
	if r.status != 200 || len(r.body) > int(p.maxGather)+perNode+4096 {
		t.Fatalf("state of 20 nodes of 256 KiB: %d, %d KiB", r.status, len(r.body)>>10)
	}
	var st struct {
		Nodes []struct{ Name, Status string }
	}
	if json.Unmarshal([]byte(r.body), &st) != nil || len(st.Nodes) != 20 {
		t.Fatalf("the bounded answer is not the state of 20 nodes: %.300s", r.body)
	}
	if !strings.Contains(r.body, "did not fit in one answer") {
		t.Fatal("the nodes left out of the answer are not named")
	}
	t.Logf("/state?format=json over 20 × 256 KiB, bounded at 1 MiB: %d KiB", len(r.body)>>10)
}

// TestNodeStreamFloodIsRateLimited: a node flooding its /ws with full
// snapshots reaches the page as at most about one sync a second.
func TestNodeStreamFloodIsRateLimited(t *testing.T) {
	t.Parallel()
	up := websocket.Upgrader{}
	var keys []web.KeyView
	for i := range web.KeysPerNode {
		keys = append(keys, web.KeyView{Key: "key-" + strconv.Itoa(i), Value: strings.Repeat("v", 60), Size: 60})
	}
	snap, _ := json.Marshal(web.Snapshot{Type: web.TypeSnapshot, Nodes: []web.NodeView{{Name: "x", Count: 50, Keys: keys}}})
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
		for r.Context().Err() == nil {
			if c.WriteMessage(websocket.TextMessage, snap) != nil {
				return
			}
		}
	})
	p := proxyOver(t, Sharding, time.Second, u)
	ws, _, err := websocket.DefaultDialer.Dial(strings.Replace(p.LocalURL(), "http", "ws", 1)+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	const window = 3 * time.Second
	ws.SetReadDeadline(time.Now().Add(window))
	var bytes, syncs int
	for {
		_, msg, err := ws.ReadMessage()
		if err != nil {
			break
		}
		bytes += len(msg)
		syncs += strings.Count(string(msg), `"change":"sync"`)
	}
	t.Logf("a node flooding its stream for %v: %d syncs, %d KiB to one viewer", window, syncs, bytes>>10)
	if syncs > 8 || bytes > 200<<10 {
		t.Fatalf("a flooding node reached a viewer %d times (%d KiB) in %v", syncs, bytes>>10, window)
	}
}

// TestSlowReplicasStillTakeWrites: when every replica is lagging with
// writes in flight (a loaded machine under a burst of writes, not a stuck
// node), a write is still sent to its quorum and succeeds, rather than
// being refused by every replica at once.
func TestSlowReplicasStillTakeWrites(t *testing.T) {
	t.Parallel()
	ok := func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"message":"Key-value pair stored successfully."}`))
	}
	p := proxyOver(t, Replication, 2*time.Second, fakeNode(t, ok), fakeNode(t, ok), fakeNode(t, ok))
	p.quorum = 2
	p.setMode(Replication)
	// The state a burst leaves: each replica missed a recent write's grace
	// and has as many writes in flight as a lagging node may have.
	for _, b := range p.table.Load().nodes {
		b.client.late.Store(true)
		b.client.pending.Store(maxLaggingWrites)
	}
	r := put(t, p.LocalURL(), "k", `1`)
	if r.status != 200 || len(strings.Split(r.header.Get(kvapi.NodeHeader), ",")) < 2 {
		t.Fatalf("a put while every replica lags: %d %s via %q; want 200 from at least W = 2", r.status, r.body, r.header.Get(kvapi.NodeHeader))
	}
}

// TestStuckReplicaDoesNotStallWrites: under replication with one replica
// that never answers, a put returns at its quorum, not after the node
// timeout, and put throughput stays above half of the healthy class's.
func TestStuckReplicaDoesNotStallWrites(t *testing.T) {
	// Not parallel, and the two classes take turns: a throughput ratio
	// means something only when both sides see the same machine.
	ok := func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"message":"Key-value pair stored successfully."}`))
	}
	stuck := func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }
	good := proxyOver(t, Replication, 2*time.Second, fakeNode(t, ok), fakeNode(t, ok), fakeNode(t, ok))
	bad := proxyOver(t, Replication, 2*time.Second, fakeNode(t, ok), fakeNode(t, stuck), fakeNode(t, ok))
	// The first put waits one grace for the stuck replica and marks it
	// lagging; from then on writes do not wait for it. That steady state
	// is what is measured.
	for _, p := range []*Proxy{good, bad} {
		put(t, p.LocalURL(), "warm-up", `1`)
	}
	var took [2]time.Duration
	const rounds, puts = 4, 50
	for round := range rounds {
		for i, p := range []*Proxy{good, bad} {
			start := time.Now()
			for k := range puts {
				if r := put(t, p.LocalURL(), "k"+strconv.Itoa(round*puts+k), `1`); r.status != 200 {
					t.Fatalf("put: %d %s", r.status, r.body)
				}
			}
			took[i] += time.Since(start)
		}
	}
	healthy := rounds * puts / took[0].Seconds()
	withStuck := rounds * puts / took[1].Seconds()
	t.Logf("sequential replicated puts: %.0f/s healthy, %.0f/s with a stuck replica (%.2fx)", healthy, withStuck, withStuck/healthy)
	if withStuck < healthy/2 {
		t.Fatalf("a stuck replica cut put throughput from %.0f/s to %.0f/s", healthy, withStuck)
	}
}

// TestCrossSiteWritesAreRefused: a web page of another site that a student
// opens cannot write to, or wipe, the proxy (nor, see the node's tests, a
// node): the browser's Origin tells it apart from curl.
func TestCrossSiteWritesAreRefused(t *testing.T) {
	nodes, _ := startNodes(t, 1)
	p := startProxy(t, Config{File: configFor(Sharding, nodes)})
	for _, tc := range []struct{ method, path, body string }{
		{"POST", "/put?key=k", `{"value":1}`},
		{"DELETE", "/delete?key=k", ""},
		{"POST", "/admin/reset", ""},
		{"POST", "/registry/join", `{}`},
	} {
		req, _ := http.NewRequest(tc.method, p.LocalURL()+tc.path, strings.NewReader(tc.body))
		req.Header.Set("Origin", "http://evil.example")
		req.Header.Set("Content-Type", "text/plain")
		req.Header.Set("Authorization", "Bearer admin-secret")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s %s from another site: %d, want 403", tc.method, tc.path, resp.StatusCode)
		}
	}
	if _, ok := nodes[0].Store().Get("k"); ok {
		t.Fatal("a cross-site put was stored")
	}
	// The proxy's own page (same origin) and curl (no Origin) still write.
	req, _ := http.NewRequest("POST", p.LocalURL()+"/put?key=k", strings.NewReader(`{"value":1}`))
	req.Header.Set("Origin", p.LocalURL())
	if resp, err := client.Do(req); err != nil || resp.StatusCode != 200 {
		t.Fatalf("a same-origin put: %v %v", resp, err)
	}
}

// TestPingFloodIsCut: a session that floods the proxy with heartbeats is
// closed, and the proxy keeps answering meanwhile.
func TestPingFloodIsCut(t *testing.T) {
	p := startProxy(t, Config{Heartbeat: 500 * time.Millisecond})
	n, _ := joinNode(t, p.LocalURL(), "kv1")
	ws, _, err := websocket.DefaultDialer.Dial(strings.Replace(p.LocalURL(), "http", "ws", 1)+"/registry/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	ws.WriteJSON(map[string]string{"name": "flood", "url": n.LocalURL(), "token": "class-code"})
	var reply map[string]any
	if err := ws.ReadJSON(&reply); err != nil || reply["secret"] == nil {
		t.Fatalf("join: %v %v", reply, err)
	}
	closed := make(chan error, 1)
	go func() {
		for {
			if _, _, err := ws.ReadMessage(); err != nil {
				closed <- err
				return
			}
		}
	}()
	start := time.Now()
	sent := 0
	for time.Since(start) < 5*time.Second && ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(time.Second)) == nil {
		sent++
	}
	// The proxy cuts the session (with a close frame saying why, which a
	// client still writing may not read before the reset).
	select {
	case err := <-closed:
		t.Logf("the session ended: %v", err)
	case <-time.After(testwait.Patience):
		t.Fatalf("%d pings in %v and the session is still open", sent, time.Since(start))
	}
	t.Logf("the flooding session was cut after %d pings in %v", sent, time.Since(start).Round(time.Millisecond))
	if r := put(t, p.LocalURL(), "k", `1`); r.status != 200 {
		t.Fatalf("the proxy after the flood: %d", r.status)
	}
}

// TestViewersPerAddress: one address cannot take every viewer's place; the
// projector, from another address, still gets in.
func TestViewersPerAddress(t *testing.T) {
	t.Parallel()
	hub := web.NewHub(web.HubOptions{MaxPerAddr: 3, ClientAddr: func(r *http.Request) string { return r.Header.Get("X-Test-Addr") }})
	defer hub.Close()
	srv := fakeNode(t, hub.ServeHTTP)
	dial := func(addr string) (*websocket.Conn, int) {
		h := http.Header{"X-Test-Addr": {addr}}
		c, resp, err := websocket.DefaultDialer.Dial(strings.Replace(srv, "http", "ws", 1)+"/ws", h)
		if err != nil {
			return nil, resp.StatusCode
		}
		t.Cleanup(func() { c.Close() })
		return c, 101
	}
	for i := range 3 {
		if _, status := dial("10.0.0.1"); status != 101 {
			t.Fatalf("viewer %d from one address: %d", i+1, status)
		}
	}
	if _, status := dial("10.0.0.1"); status != http.StatusTooManyRequests {
		t.Fatalf("a 4th viewer from one address: %d, want 429", status)
	}
	if _, status := dial("10.0.0.2"); status != 101 {
		t.Fatalf("the projector from another address: %d", status)
	}
}
