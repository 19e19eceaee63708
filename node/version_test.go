package node

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kvclass/kvclass/kvapi"
)

// testClock is a wall clock a test moves by hand.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newTestClock() *testClock { return &testClock{t: time.UnixMilli(1_700_000_000_000)} }

func (c *testClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *testClock) advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// call sends a request with an optional X-Kvclass-Version.
func call(t testing.TB, method, u, body, version string) reply {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if version != "" {
		req.Header.Set(kvapi.VersionHeader, version)
	}
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return reply{resp.StatusCode, resp.Header, b.String()}
}

// version returns the answer's X-Kvclass-Version, parsed; the zero
// Version when it has none.
func (r reply) version(t testing.TB) kvapi.Version {
	t.Helper()
	h := r.header.Get(kvapi.VersionHeader)
	if h == "" {
		return kvapi.Version{}
	}
	v, err := kvapi.ParseVersion(h)
	if err != nil {
		t.Fatalf("answer's version header %q: %v", h, err)
	}
	return v
}

// ver returns the wire form of a version at ms milliseconds past the test
// clock's start, with counter c.
func ver(ms int64, c uint16, origin string) string {
	return kvapi.Version{HLC: kvapi.MakeHLC(1_700_000_000_000+ms, c), Origin: origin}.String()
}

func TestSeedPutIsStampedAndAlwaysWins(t *testing.T) {
	clock := newTestClock()
	n := startNode(t, Config{Name: "kv1", Now: clock.now})
	base := n.LocalURL()
	r := call(t, "POST", base+"/put?key=k", `{"value": 1}`, "")
	v1 := r.version(t)
	if r.status != 200 || !jsonEq(t, r.body, `{"message": "Key-value pair stored successfully."}`) {
		t.Fatalf("put: %d %s", r.status, r.body)
	}
	if v1.Origin != "kv1" || v1.Millis() != clock.now().UnixMilli() {
		t.Fatalf("a seed put was stamped %v; want the node's name and its clock", v1)
	}
	// A replicated put from a laptop 30 minutes fast: stored, as it is newer.
	future := ver(30*60_000, 0, "kv2")
	if r = call(t, "POST", base+"/put?key=k", `{"value": 2}`, future); r.status != 200 || r.header.Get(kvapi.VersionHeader) != future {
		t.Fatalf("versioned put: %d %s %v", r.status, r.body, r.header)
	}
	// A seed client still wins, with a version newer than the stored one,
	// although the node's wall clock is behind it.
	r = call(t, "POST", base+"/put?key=k", `{"value": 3}`, "")
	v3 := r.version(t)
	if r.status != 200 || v3.Compare(kvapi.Version{HLC: kvapi.MakeHLC(1_700_000_000_000+30*60_000, 0), Origin: "kv2"}) <= 0 || v3.Origin != "kv1" {
		t.Fatalf("seed put after a future version: %d, version %v", r.status, v3)
	}
	r = call(t, "GET", base+"/get?key=k", "", "")
	if r.status != 200 || !jsonEq(t, r.body, `{"value": 3}`) || r.version(t) != v3 {
		t.Fatalf("get: %d %s %v", r.status, r.body, r.header)
	}
	// Another key, another put in the same millisecond: strictly newer.
	r = call(t, "POST", base+"/put?key=other", `{"value": 1}`, "")
	if r.version(t).Compare(v3) <= 0 {
		t.Fatalf("clock went back: %v after %v", r.version(t), v3)
	}
}

func TestStalePutChangesNothing(t *testing.T) {
	n := startNode(t, Config{Name: "kv1", Now: newTestClock().now})
	base := n.LocalURL()
	v2 := ver(2, 0, "kv2")
	if r := call(t, "POST", base+"/put?key=k", `{"value": "new"}`, v2); r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	for _, older := range []string{ver(1, 0, "kv2"), ver(2, 0, "kv1"), ver(1, 65535, "zz")} {
		r := call(t, "POST", base+"/put?key=k", `{"value": "old"}`, older)
		if r.status != 409 || r.body != `{"error":"A newer version is stored.","version":"`+v2+`"}`+"\n" || r.header.Get(kvapi.VersionHeader) != v2 {
			t.Fatalf("put %s over %s: %d %s %v", older, v2, r.status, r.body, r.header)
		}
		if ct := r.header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("409 Content-Type %q", ct)
		}
	}
	if r := call(t, "GET", base+"/get?key=k", "", ""); !jsonEq(t, r.body, `{"value": "new"}`) || r.header.Get(kvapi.VersionHeader) != v2 {
		t.Fatalf("a stale put changed the key: %s %v", r.body, r.header)
	}
}

// TestEqualVersion: one version names one value. The same version with
// the same value is a repeat (a retried replication, a second repair) and
// succeeds without a change; with another value it is a conflict.
func TestEqualVersion(t *testing.T) {
	n := startNode(t, Config{Name: "kv1", Now: newTestClock().now})
	base := n.LocalURL()
	v := ver(5, 0, "proxy")
	if r := call(t, "POST", base+"/put?key=k", `{"value": {"a": 1}}`, v); r.status != 200 {
		t.Fatal(r.body)
	}
	r := call(t, "POST", base+"/put?key=k", `{"value": { "a" : 1 }}`, v) // the same value, spaced otherwise
	if r.status != 200 || r.header.Get(kvapi.VersionHeader) != v {
		t.Fatalf("repeat: %d %s", r.status, r.body)
	}
	r = call(t, "POST", base+"/put?key=k", `{"value": {"a": 2}}`, v)
	if r.status != 409 || r.body != `{"error":"`+kvapi.MsgSameVersion+`","version":"`+v+`"}`+"\n" {
		t.Fatalf("same version, other value: %d %s", r.status, r.body)
	}
	if got, _ := n.Store().Get("k"); got != `{"a":1}` {
		t.Fatalf("value %s", got)
	}
}

func TestBadVersionHeaders(t *testing.T) {
	clock := newTestClock()
	n := startNode(t, Config{Name: "kv1", Now: clock.now})
	base := n.LocalURL()
	if r := call(t, "POST", base+"/put?key=k", `{"value": "kept"}`, ""); r.status != 200 {
		t.Fatal(r.body)
	}
	kept := n.Store()
	before, _ := kept.Lookup("k")
	cases := []struct{ version, msg string }{
		{"12", "HLC/ORIGIN"},
		{"x/kv1", "decimal number"},
		{"0/kv1", "above 0"},
		{"1/kv 1", "node name"},
		{"18446744073709551616/kv1", "64 bits"},
		{"18446744073709551615/kv1", "century ahead"},
		{ver(2*60*60_000, 0, "kv2"), "2h0m0s ahead of this clock"},
	}
	for _, tc := range cases {
		for _, req := range []struct{ method, path, body string }{
			{"POST", "/put?key=k", `{"value": "bad"}`},
			{"DELETE", "/delete?key=k", ""},
		} {
			r := call(t, req.method, base+req.path, req.body, tc.version)
			var body struct{ Error string }
			if r.status != 400 || json.Unmarshal([]byte(r.body), &body) != nil || !strings.Contains(body.Error, tc.msg) || !strings.Contains(body.Error, kvapi.VersionHeader) {
				t.Errorf("%s %s with version %q: %d %s; want a 400 naming the header and saying %q", req.method, req.path, tc.version, r.status, r.body, tc.msg)
			}
		}
	}
	if after, _ := kept.Lookup("k"); after != before || kept.Tombstones() != 0 {
		t.Fatalf("a refused request changed the key: %+v → %+v", before, after)
	}
	if last := kept.Clock().Last(); last > kvapi.MakeHLC(clock.now().UnixMilli()+1, 0) {
		t.Fatalf("a refused version moved the clock to %d", last)
	}
}

func TestTombstones(t *testing.T) {
	clock := newTestClock()
	n := startNode(t, Config{Name: "kv1", Now: clock.now, Tombstones: time.Minute})
	base := n.LocalURL()
	v1 := ver(1, 0, "proxy")
	if r := call(t, "POST", base+"/put?key=k", `{"value": 1}`, v1); r.status != 200 {
		t.Fatal(r.body)
	}
	// A seed client's delete: 200 as before, with the deletion's version.
	r := call(t, "DELETE", base+"/delete?key=k", "", "")
	vd := r.version(t)
	if r.status != 200 || !jsonEq(t, r.body, `{"message": "Key deleted."}`) || vd.Origin != "kv1" || vd.Compare(kvapi.Version{HLC: kvapi.MakeHLC(1_700_000_000_001, 0), Origin: "proxy"}) <= 0 {
		t.Fatalf("delete: %d %s %v", r.status, r.body, vd)
	}
	// A get is the seed's 404, carrying the version it was deleted at.
	r = call(t, "GET", base+"/get?key=k", "", "")
	if r.status != 404 || r.body != `{"error":"Key not found.","key":"k"}`+"\n" || r.version(t) != vd {
		t.Fatalf("get of a deleted key: %d %s %v", r.status, r.body, r.header)
	}
	// A key never seen: 404 without a version.
	if r = call(t, "GET", base+"/get?key=never", "", ""); r.status != 404 || r.header.Get(kvapi.VersionHeader) != "" {
		t.Fatalf("get of a key never seen: %d %v", r.status, r.header)
	}
	// Repair bringing the old value back is refused.
	r = call(t, "POST", base+"/put?key=k", `{"value": 1}`, v1)
	if r.status != 409 || r.body != `{"error":"A newer version is stored.","version":"`+vd.String()+`","deleted":true}`+"\n" {
		t.Fatalf("put older than the tombstone: %d %s", r.status, r.body)
	}
	// The tombstone's own version is not newer either.
	if r = call(t, "POST", base+"/put?key=k", `{"value": 1}`, vd.String()); r.status != 409 {
		t.Fatalf("put at the tombstone's version: %d %s", r.status, r.body)
	}
	// Deleting again: the seed's 404, with the tombstone's version.
	if r = call(t, "DELETE", base+"/delete?key=k", "", ""); r.status != 404 || r.version(t) != vd {
		t.Fatalf("second delete: %d %s %v", r.status, r.body, r.header)
	}
	if n.Store().Len() != 0 || n.Store().Tombstones() != 1 {
		t.Fatalf("%d keys, %d tombstones", n.Store().Len(), n.Store().Tombstones())
	}

	// The tombstone lives its minute, then goes at the next sweep.
	clock.advance(59 * time.Second)
	if n.store.sweep() != 0 {
		t.Fatal("a tombstone went before its time")
	}
	clock.advance(time.Second)
	if n.store.sweep() != 1 || n.Store().Tombstones() != 0 {
		t.Fatal("an expired tombstone stayed")
	}
	if r = call(t, "GET", base+"/get?key=k", "", ""); r.status != 404 || r.header.Get(kvapi.VersionHeader) != "" {
		t.Fatalf("get after expiry: %d %v", r.status, r.header)
	}
	// Now nothing remembers the delete: the old value may come back.
	if r = call(t, "POST", base+"/put?key=k", `{"value": 1}`, v1); r.status != 200 {
		t.Fatalf("put after expiry: %d %s", r.status, r.body)
	}
}

func TestNewerPutReplacesATombstone(t *testing.T) {
	n := startNode(t, Config{Name: "kv1", Now: newTestClock().now})
	base := n.LocalURL()
	call(t, "POST", base+"/put?key=k", `{"value": 1}`, "")
	vd := call(t, "DELETE", base+"/delete?key=k", "", "").version(t)
	newer := kvapi.Version{HLC: vd.HLC + 1, Origin: "kv2"}.String()
	if r := call(t, "POST", base+"/put?key=k", `{"value": 2}`, newer); r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	r := call(t, "GET", base+"/get?key=k", "", "")
	if r.status != 200 || !jsonEq(t, r.body, `{"value": 2}`) || r.header.Get(kvapi.VersionHeader) != newer {
		t.Fatalf("%d %s %v", r.status, r.body, r.header)
	}
	if n.Store().Tombstones() != 0 || n.Store().Len() != 1 {
		t.Fatalf("%d keys, %d tombstones", n.Store().Len(), n.Store().Tombstones())
	}
}

func TestVersionedDelete(t *testing.T) {
	n := startNode(t, Config{Name: "kv1", Now: newTestClock().now})
	base := n.LocalURL()
	v5 := ver(5, 0, "proxy")
	put := func(key string) {
		t.Helper()
		if r := call(t, "POST", base+"/put?key="+key, `{"value": 1}`, v5); r.status != 200 {
			t.Fatal(r.body)
		}
	}
	put("a")
	// Older than the value: 409, nothing changes.
	r := call(t, "DELETE", base+"/delete?key=a", "", ver(4, 0, "proxy"))
	if r.status != 409 || r.body != `{"error":"A newer version is stored.","version":"`+v5+`"}`+"\n" || r.header.Get(kvapi.VersionHeader) != v5 {
		t.Fatalf("older delete: %d %s", r.status, r.body)
	}
	// Newer: deleted, with a tombstone at the delete's version.
	v6 := ver(6, 0, "proxy")
	if r = call(t, "DELETE", base+"/delete?key=a", "", v6); r.status != 200 || r.header.Get(kvapi.VersionHeader) != v6 {
		t.Fatalf("newer delete: %d %s %v", r.status, r.body, r.header)
	}
	if r = call(t, "GET", base+"/get?key=a", "", ""); r.status != 404 || r.header.Get(kvapi.VersionHeader) != v6 {
		t.Fatalf("get: %d %v", r.status, r.header)
	}
	// A newer delete of a deleted key raises its tombstone; an older one
	// leaves it. Both are the seed's 404.
	v7 := ver(7, 0, "proxy")
	if r = call(t, "DELETE", base+"/delete?key=a", "", v7); r.status != 404 || r.header.Get(kvapi.VersionHeader) != v7 {
		t.Fatalf("raising delete: %d %v", r.status, r.header)
	}
	if r = call(t, "DELETE", base+"/delete?key=a", "", v6); r.status != 404 || r.header.Get(kvapi.VersionHeader) != v7 {
		t.Fatalf("older delete of a deleted key: %d %v", r.status, r.header)
	}
	// The stored version itself: a hand-off (rebalance removing a key it
	// copied to its new owner). The key goes without a tombstone, so the
	// copy may come back here later.
	put("b")
	if r = call(t, "DELETE", base+"/delete?key=b", "", v5); r.status != 200 || r.header.Get(kvapi.VersionHeader) != v5 {
		t.Fatalf("hand-off: %d %s %v", r.status, r.body, r.header)
	}
	if r = call(t, "GET", base+"/get?key=b", "", ""); r.status != 404 || r.header.Get(kvapi.VersionHeader) != "" {
		t.Fatalf("after a hand-off: %d %v", r.status, r.header)
	}
	if r = call(t, "POST", base+"/put?key=b", `{"value": 1}`, v5); r.status != 200 {
		t.Fatalf("the key moving back: %d %s", r.status, r.body)
	}
	// A delete of a key never seen records the deletion: a put older than
	// it, arriving late, is refused.
	if r = call(t, "DELETE", base+"/delete?key=c", "", v6); r.status != 404 || r.header.Get(kvapi.VersionHeader) != v6 {
		t.Fatalf("delete of an unknown key: %d %v", r.status, r.header)
	}
	if r = call(t, "POST", base+"/put?key=c", `{"value": 1}`, v5); r.status != 409 || !strings.Contains(r.body, `"deleted":true`) {
		t.Fatalf("late put: %d %s", r.status, r.body)
	}
	if n.Store().Len() != 1 || n.Store().Tombstones() != 2 {
		t.Fatalf("%d keys, %d tombstones", n.Store().Len(), n.Store().Tombstones())
	}
	// Reset forgets tombstones too.
	if r = call(t, "POST", base+"/reset", "", ""); r.status != 200 || n.Store().Len() != 0 || n.Store().Tombstones() != 0 {
		t.Fatalf("reset: %d, %d keys, %d tombstones", r.status, n.Store().Len(), n.Store().Tombstones())
	}
	if r = call(t, "POST", base+"/put?key=c", `{"value": 1}`, v5); r.status != 200 {
		t.Fatalf("put after reset: %d %s", r.status, r.body)
	}
}

// TestTombstonesCountAgainstTheBudget: a tombstone takes its key's bytes
// until it expires, so a flood of deletes cannot grow a node past
// --max-bytes; a delete is never refused for it.
func TestTombstonesCountAgainstTheBudget(t *testing.T) {
	clock := newTestClock()
	n := startNode(t, Config{Now: clock.now, Tombstones: time.Minute, MaxBytes: 2*EntryOverhead + 10})
	base := n.LocalURL()
	if r := call(t, "POST", base+"/put?key=a", `{"value": 1}`, ""); r.status != 200 {
		t.Fatal(r.body)
	}
	if r := call(t, "DELETE", base+"/delete?key=a", "", ""); r.status != 200 {
		t.Fatal(r.body)
	}
	if r := call(t, "POST", base+"/put?key=b", `{"value": 1}`, ""); r.status != 200 {
		t.Fatal(r.body)
	}
	if r := call(t, "POST", base+"/put?key=c", `{"value": 1}`, ""); r.status != 507 {
		t.Fatalf("a put past the budget with a tombstone held: %d", r.status)
	}
	// A versioned delete of an unknown key finds no room for its tombstone:
	// still the seed's 404, and nothing recorded.
	if r := call(t, "DELETE", base+"/delete?key=x", "", ver(9, 0, "proxy")); r.status != 404 || r.header.Get(kvapi.VersionHeader) != "" {
		t.Fatalf("delete when full: %d %v", r.status, r.header)
	}
	clock.advance(time.Minute)
	n.store.sweep()
	if r := call(t, "POST", base+"/put?key=c", `{"value": 1}`, ""); r.status != 200 {
		t.Fatalf("a put once the tombstone expired: %d %s", r.status, r.body)
	}
}
