package proxy

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/kvclass/kvclass/check"
	"github.com/kvclass/kvclass/internal/testwait"
	"github.com/kvclass/kvclass/kvapi"
	"github.com/kvclass/kvclass/node"
	"github.com/kvclass/kvclass/web"
)

// The lessons beyond the seed, each against real nodes and a real proxy:
// rebalancing after a join, quorums, repairs, faults.

// joinNodes starts n joined nodes named prefix1…prefixN.
func joinNodes(t testing.TB, p *Proxy, prefix string, n int) []*node.Node {
	t.Helper()
	var out []*node.Node
	for i := 1; i <= n; i++ {
		nd, _ := joinNode(t, p.LocalURL(), prefix+strconv.Itoa(i))
		out = append(out, nd)
	}
	testwait.For(t, "nodes up", func() bool {
		return len(upOf(p.table.Load().nodes)) == len(p.table.Load().nodes) && len(p.table.Load().nodes) >= n
	})
	return out
}

// TestRebalanceWhileTheClassWrites: 10 nodes and 10,000 keys; a writer and
// a reader run while an 11th node joins under modulo and a rebalance moves
// the misplaced keys. Afterwards every acknowledged write reads its latest
// value, no key is on two nodes, and no read during the move returned 404
// or an older value for a key written before it.
func TestRebalanceWhileTheClassWrites(t *testing.T) {
	keys := 10000
	if testing.Short() {
		keys = 2000
	}
	p := startProxy(t, Config{Heartbeat: 500 * time.Millisecond, MaxPerAddr: 100})
	nodes := joinNodes(t, p, "kv", 10)
	latest := make([]atomic.Int64, keys) // key i's latest acknowledged value, +1
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < keys; i += 8 {
				if r := put(t, p.LocalURL(), "k"+strconv.Itoa(i), strconv.Itoa(i)); r.status != 200 {
					t.Errorf("preload k%d: %d %s", i, r.status, r.body)
					return
				}
				latest[i].Store(int64(i) + 1)
			}
		})
	}
	wg.Wait()

	stop := make(chan struct{})
	var moving atomic.Bool
	var violations sync.Map
	wg.Go(func() { // the writer: new values for some keys
		for n := 0; ; n++ {
			select {
			case <-stop:
				return
			default:
			}
			i := n * 7 % keys
			v := keys + n
			if r := put(t, p.LocalURL(), "k"+strconv.Itoa(i), strconv.Itoa(v)); r.status == 200 {
				latest[i].Store(int64(v) + 1)
			}
		}
	})
	wg.Go(func() { // the reader, judging reads while the rebalance runs
		for n := 0; ; n++ {
			select {
			case <-stop:
				return
			default:
			}
			i := n * 13 % keys
			during := moving.Load()
			before := latest[i].Load() - 1
			r := do(t, "GET", p.LocalURL()+"/get?key=k"+strconv.Itoa(i), "")
			if !during || !moving.Load() {
				continue
			}
			var got struct{ Value int }
			json.Unmarshal([]byte(r.body), &got)
			switch {
			case r.status == 404:
				violations.Store("k"+strconv.Itoa(i), "404 during the move")
			case r.status == 200 && int64(got.Value) < before:
				violations.Store("k"+strconv.Itoa(i), "read "+strconv.Itoa(got.Value)+" after "+strconv.FormatInt(before, 10))
			}
		}
	})

	kv11, _ := joinNode(t, p.LocalURL(), "kv11")
	testwait.For(t, "kv11 up", func() bool { b := p.table.Load().byName["kv11"]; return b != nil && b.up })
	if r := admin(t, p, "/admin/rebalance", ""); r.status != 200 {
		t.Fatalf("rebalance: %d %s", r.status, r.body)
	}
	moving.Store(true) // from here on the rebalance runs
	testwait.Within(t, time.Minute, "the rebalance to finish", func() bool {
		c := p.class()
		return c.Rebalance != nil && !c.Rebalance.Running
	})
	moving.Store(false)
	close(stop)
	wg.Wait()
	if r := p.class().Rebalance; r.Total < keys/2 || r.Moved != r.Total {
		t.Fatalf("rebalance moved %d of %d keys (modulo 10→11 should move about 91%% of %d)", r.Moved, r.Total, keys)
	}
	t.Logf("rebalance: %d keys, %d KiB moved", p.class().Rebalance.Moved, p.class().Rebalance.Bytes>>10)
	n := 0
	violations.Range(func(k, v any) bool {
		if n < 5 {
			t.Errorf("%s: %s", k, v)
		}
		n++
		return true
	})
	if n > 0 {
		t.Fatalf("%d reads during the move were 404 or stale", n)
	}
	testwait.For(t, "no misplaced key left", func() bool { return p.class().Misplaced == 0 })
	all := append(nodes, kv11)
	where := map[string]string{}
	for _, nd := range all {
		for _, pair := range nd.Store().All() {
			if other, dup := where[pair.Key]; dup {
				t.Fatalf("%s is on %s and %s", pair.Key, other, nd.Name())
			}
			where[pair.Key] = nd.Name()
		}
	}
	for i := range keys {
		want := latest[i].Load() - 1
		r := do(t, "GET", p.LocalURL()+"/get?key=k"+strconv.Itoa(i), "")
		var got struct{ Value int64 }
		json.Unmarshal([]byte(r.body), &got)
		if r.status != 200 || got.Value != want {
			t.Fatalf("k%d after the rebalance: %d %s, want %d", i, r.status, r.body, want)
		}
	}
}

// TestMisplacedKeysAreNamed: after a join under modulo, a GET that misses
// on the key's new owner names the node that holds it.
func TestMisplacedKeysAreNamed(t *testing.T) {
	t.Parallel()
	p := startProxy(t, Config{Heartbeat: 500 * time.Millisecond})
	joinNodes(t, p, "kv", 3)
	for i := range 50 {
		if r := put(t, p.LocalURL(), "key-"+strconv.Itoa(i), `1`); r.status != 200 {
			t.Fatalf("put key-%d: %d %s", i, r.status, r.body)
		}
	}
	joinNode(t, p.LocalURL(), "kv4")
	testwait.For(t, "the scan after the join", func() bool { return p.class().Misplaced > 0 })
	c := p.class()
	if c.Keys != 50 || c.Misplaced < 25 {
		t.Fatalf("after 3→4 under modulo: %d of %d keys misplaced, want about 75%%", c.Misplaced, c.Keys)
	}
	named := 0
	for i := range 50 {
		r := do(t, "GET", p.LocalURL()+"/get?key=key-"+strconv.Itoa(i), "")
		if r.status == 404 {
			if h := r.header.Get(kvapi.MisplacedHeader); h == "" || !strings.HasPrefix(h, "kv") {
				t.Fatalf("key-%d: 404 without %s", i, kvapi.MisplacedHeader)
			}
			named++
		}
	}
	if named != c.Misplaced {
		t.Fatalf("%d misses named their holder, %d keys are misplaced", named, c.Misplaced)
	}
}

// checkRun records a history through p for d and checks it.
func checkRun(t *testing.T, p *Proxy, d time.Duration, during func()) check.Result {
	t.Helper()
	done := make(chan struct{})
	var ops []check.Op
	var err error
	go func() {
		defer close(done)
		ops, err = check.Record(context.Background(), check.CheckConfig{Proxy: p.LocalURL(), Duration: d, Clients: 4, Keys: 10, Rate: 100, Timeout: 3 * time.Second})
	}()
	if during != nil {
		during()
	}
	<-done
	if err != nil {
		t.Fatal(err)
	}
	return check.CheckHistory(ops, 20*time.Second)
}

// TestQuorumsAndAPausedReplica: with R = W = 1 a replica paused past the
// timeout and back gives stale reads (the lesson works); with R = W = 2 of
// 3 and sync read repair the same history is linearizable.
func TestQuorumsAndAPausedReplica(t *testing.T) {
	if testing.Short() {
		t.Skip("records two histories of several seconds")
	}
	// Not parallel: the stale read it must find needs the recorder's rate,
	// which a machine busy with other tests does not give it.
	nodes, _ := startNodes(t, 3)
	p := startProxy(t, Config{File: configFor(Replication, nodes), Timeout: 300 * time.Millisecond})
	pause := func() {
		time.Sleep(500 * time.Millisecond) // a history before the pause
		admin(t, p, "/admin/fault", `{"node": "kv1", "pause": true}`)
		time.Sleep(1500 * time.Millisecond)
		admin(t, p, "/admin/fault", `{"node": "kv1", "pause": false}`)
	}
	weak := checkRun(t, p, 4*time.Second, pause)
	if weak.Verdict != check.NotLinearizable || !strings.Contains(weak.Explanation, "stale read") || !strings.Contains(weak.Explanation, "kv1") {
		t.Fatalf("R = W = 1 with kv1 paused: %s: %s", weak.Verdict, weak.Explanation)
	}
	t.Logf("R = W = 1: %s", weak.Explanation)
	if r := admin(t, p, "/admin/replication", `{"read_quorum": 2, "write_quorum": 2, "read_repair": "sync"}`); r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	strong := checkRun(t, p, 4*time.Second, pause)
	if strong.Verdict != check.Linearizable {
		t.Fatalf("R = W = 2 of 3 with sync read repair: %s: %s", strong.Verdict, strong.Explanation)
	}
}

// TestAntiEntropyRefillsAnEmptyReplica: a replica restarted empty is
// refilled within two intervals.
func TestAntiEntropyRefillsAnEmptyReplica(t *testing.T) {
	t.Parallel()
	p := startProxy(t, Config{Heartbeat: 500 * time.Millisecond, Mode: Replication,
		Replication: &ReplicationConfig{AntiEntropy: time.Second}})
	nodes := joinNodes(t, p, "kv", 3)
	for i := range 300 {
		if r := put(t, p.LocalURL(), "k"+strconv.Itoa(i), strconv.Itoa(i)); r.status != 200 {
			t.Fatal(r.body)
		}
	}
	// kv3's data is lost (an in-memory node restarted).
	nodes[2].Store().Reset()
	start := time.Now()
	testwait.Within(t, 3*time.Second, "kv3 refilled by anti-entropy", func() bool { return nodes[2].Store().Len() == 300 })
	t.Logf("kv3 refilled in %v (interval 1s)", time.Since(start).Round(time.Millisecond))
	testwait.For(t, "no divergent key left", func() bool { return p.class().Divergent == 0 })
}

// hintedClass is a replicated class with hinted handoff on: kv1 and kv2,
// and kv3 up, with the Ctrl-C that stops it.
func hintedClass(t *testing.T) (*Proxy, func()) {
	t.Helper()
	p := startProxy(t, Config{Heartbeat: 500 * time.Millisecond, Mode: Replication,
		Replication: &ReplicationConfig{HintedHandoff: true}})
	joinNodes(t, p, "kv", 2)
	_, stop3 := joinNode(t, p.LocalURL(), "kv3")
	testwait.For(t, "kv3 up", func() bool { b := p.table.Load().byName["kv3"]; return b != nil && b.up })
	return p, stop3
}

// TestHintsReachAReturningReplica: with hinted handoff on, writes made
// while a replica is down are on it within a second of its return.
func TestHintsReachAReturningReplica(t *testing.T) {
	t.Parallel()
	p, stop3 := hintedClass(t)
	// A viewer of the page is told kv3's hint count as it grows and
	// when the replay empties it.
	ws, _, err := websocket.DefaultDialer.Dial(strings.Replace(p.LocalURL(), "http", "ws", 1)+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	told := make(chan int, 100)
	go func() {
		for {
			var batch web.Batch // a snapshot reads as a batch of none
			if ws.ReadJSON(&batch) != nil {
				return
			}
			for _, ev := range batch.Events {
				if ev.Type == web.EventNode && ev.Node == "kv3" && ev.View != nil {
					select {
					case told <- ev.View.Hints:
					default:
					}
				}
			}
		}
	}()
	waitTold := func(want int) {
		t.Helper()
		deadline := time.After(5 * time.Second)
		for {
			select {
			case n := <-told:
				if n == want {
					return
				}
			case <-deadline:
				t.Fatalf("the page was never told kv3 has %d hints", want)
			}
		}
	}
	stop3()
	for i := range 20 {
		if r := put(t, p.LocalURL(), "h"+strconv.Itoa(i), strconv.Itoa(i)); r.status != 200 {
			t.Fatal(r.body)
		}
	}
	if n := p.hints.count("kv3"); n != 20 {
		t.Fatalf("%d hints kept for kv3, want 20", n)
	}
	waitTold(20)
	kv3, _ := joinNode(t, p.LocalURL(), "kv3")
	start := time.Now()
	defer func() {
		t.Logf("hints left %d, kv3 holds %d, kv3 %+v", p.hints.count("kv3"), kv3.Store().Len(), p.table.Load().byName["kv3"])
	}()
	testwait.Within(t, 3*time.Second, "kv3 to get its hints", func() bool { return kv3.Store().Len() == 20 })
	if d := time.Since(start); d > time.Second {
		t.Errorf("hints reached kv3 %v after it was back", d)
	}
	waitTold(0)
}

// TestFaultsActAndClear: a delay slows calls, a drop fails some, a pause
// fails every call after the timeout; clearing restores service at once,
// ending a pause in progress.
func TestFaultsActAndClear(t *testing.T) {
	t.Parallel()
	const timeout = 800 * time.Millisecond
	nodes, _ := startNodes(t, 1)
	p := startProxy(t, Config{File: configFor(Sharding, nodes), Timeout: timeout})
	put(t, p.LocalURL(), "k", `1`)
	if r := admin(t, p, "/admin/fault", `{"node": "kv1", "delay_ms": 200}`); r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	if r := do(t, "GET", p.LocalURL()+"/get?key=k", ""); r.status != 200 || r.took < 200*time.Millisecond {
		t.Fatalf("with a 200 ms delay: %d in %v", r.status, r.took)
	}
	admin(t, p, "/admin/fault", `{"node": "kv1", "delay_ms": 0, "drop": 1}`)
	if r := do(t, "GET", p.LocalURL()+"/get?key=k", ""); r.status != 502 || !strings.Contains(r.body, "dropped") {
		t.Fatalf("with every call dropped: %d %s", r.status, r.body)
	}
	admin(t, p, "/admin/fault", `{"node": "kv1", "drop": 0, "pause": true}`)
	if r := do(t, "GET", p.LocalURL()+"/get?key=k", ""); r.status != 502 || r.took < timeout {
		t.Fatalf("paused: %d in %v %s", r.status, r.took, r.body)
	}
	// A call waiting in the pause ends when the fault is cleared.
	done := make(chan reply, 1)
	go func() { done <- do(t, "GET", p.LocalURL()+"/get?key=k", "") }()
	testwait.For(t, "the call to wait in the pause", func() bool { return p.faults.waiting.Load() == 1 })
	req, _ := http.NewRequest("DELETE", p.LocalURL()+"/admin/fault?node=kv1", nil)
	req.Header.Set("Authorization", "Bearer admin-secret")
	if resp, err := client.Do(req); err != nil || resp.StatusCode != 200 {
		t.Fatalf("clear: %v %v", resp, err)
	}
	// It is lost, as over a cut network, but at once.
	if r := <-done; r.status != 502 || r.took >= timeout {
		t.Fatalf("the call waiting in the pause: %d after %v", r.status, r.took)
	}
	if r := do(t, "GET", p.LocalURL()+"/get?key=k", ""); r.status != 200 || r.took >= timeout {
		t.Fatalf("after clearing: %d in %v", r.status, r.took)
	}
}

// TestHintReplayKeepsTheNewestWrite: the returning replica ends with the
// newest write of every key, deletes included, though hints are replayed
// many at a time.
func TestHintReplayKeepsTheNewestWrite(t *testing.T) {
	t.Parallel()
	p, stop3 := hintedClass(t)
	stop3()
	for i := range 10 {
		for round := 1; round <= 5; round++ {
			if r := put(t, p.LocalURL(), "k"+strconv.Itoa(i), strconv.Itoa(round)); r.status != 200 {
				t.Fatal(r.body)
			}
		}
		if i%2 == 0 {
			if r := do(t, "DELETE", p.LocalURL()+"/delete?key=k"+strconv.Itoa(i), ""); r.status != 200 {
				t.Fatal(r.body)
			}
		}
	}
	// One hint per key: the newest write replaces the older ones.
	if n := p.hints.count("kv3"); n != 10 {
		t.Fatalf("%d hints kept for kv3, want one per key, 10", n)
	}
	kv3, _ := joinNode(t, p.LocalURL(), "kv3")
	testwait.For(t, "every hint replayed", func() bool { return p.hints.count("kv3") == 0 && kv3.Store().Len() == 5 })
	for i := range 10 {
		v, ok := kv3.Store().Get("k" + strconv.Itoa(i))
		if i%2 == 0 && ok {
			t.Errorf("k%d, deleted last, is back on kv3 as %s", i, v)
		}
		if i%2 == 1 && v != "5" {
			t.Errorf("k%d on kv3 is %q (present %v), want the newest write, 5", i, v, ok)
		}
	}
}

// TestHintStoreKeepsTheNewerWrite: a replay that failed puts its hint
// back; a hint of a write made meanwhile to the same key stays.
func TestHintStoreKeepsTheNewerWrite(t *testing.T) {
	var h hintStore
	h.add("kv3", hint{key: "k", version: "200/kv1"})
	h.add("kv3", hint{key: "k", version: "100/kv1"}) // the failed replay of an older write
	h.add("kv3", hint{key: "j", version: "100/kv1"})
	h.add("kv3", hint{key: "j", version: "300/kv1"}) // a newer write replaces its hint
	list := h.take("kv3")
	got := map[string]string{}
	for _, x := range list {
		got[x.key] = x.version
	}
	if len(list) != 2 || got["k"] != "200/kv1" || got["j"] != "300/kv1" {
		t.Fatalf("hints %v; want k at 200/kv1 and j at 300/kv1", got)
	}
}
