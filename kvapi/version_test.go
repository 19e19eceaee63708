package kvapi

import (
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestParseVersion(t *testing.T) {
	good := map[string]Version{
		"1/kv1":                        {1, "kv1"},
		"112233445566778899/proxy":     {112233445566778899, "proxy"},
		"18446744073709551615/a":       {math.MaxUint64, "a"},
		"007/node-5000":                {7, "node-5000"}, // leading zeros are dropped
		"5/" + strings.Repeat("n", 32): {5, strings.Repeat("n", 32)},
	}
	for s, want := range good {
		v, err := ParseVersion(s)
		if err != nil || v != want {
			t.Errorf("ParseVersion(%q) = %v, %v; want %v", s, v, err, want)
		}
		if back, err := ParseVersion(v.String()); err != nil || back != v {
			t.Errorf("%q does not round-trip: %q", s, v.String())
		}
	}
	bad := []string{
		"", "/", "1", "kv1", "1/", "/kv1", "0/kv1", "-1/kv1", "+1/kv1", " 1/kv1", "1 /kv1",
		"1.5/kv1", "0x10/kv1", "1e3/kv1", "1_000/kv1", "18446744073709551616/kv1",
		"1/kv 1", "1/-kv", "1/kv/1", "1/" + strings.Repeat("n", 33), "1/ключ", "1/kv1\n",
		strings.Repeat("9", 100) + "/kv1",
	}
	for _, s := range bad {
		if v, err := ParseVersion(s); err == nil || !errors.Is(err, ErrBadVersion) {
			t.Errorf("ParseVersion(%q) = %v, %v; want an ErrBadVersion", s, v, err)
		}
	}
}

func TestVersionOrder(t *testing.T) {
	// Oldest first: by HLC, then by origin in byte order.
	order := []Version{
		{},
		{1, "b"},
		{2, "A"},
		{2, "a"},
		{2, "a-1"},
		{2, "b"},
		{MakeHLC(1_700_000_000_000, 0), "kv1"},
		{MakeHLC(1_700_000_000_000, 1), "kv1"},
		{MakeHLC(1_700_000_000_001, 0), "kv0"},
	}
	for i, a := range order {
		for j, b := range order {
			want := 0
			if i < j {
				want = -1
			} else if i > j {
				want = 1
			}
			if got := a.Compare(b); got != want {
				t.Errorf("%q.Compare(%q) = %d, want %d", a, b, got, want)
			}
		}
	}
	v := Version{MakeHLC(1_700_000_000_123, 7), "kv1"}
	if v.Millis() != 1_700_000_000_123 || v.Counter() != 7 || !v.Time().Equal(time.UnixMilli(1_700_000_000_123)) {
		t.Errorf("%v: millis %d counter %d", v, v.Millis(), v.Counter())
	}
	if (Version{}).String() != "" || !(Version{}).IsZero() || v.IsZero() {
		t.Error("the zero Version")
	}
}

func TestVersionJSON(t *testing.T) {
	kv := KeyVersion{Key: "k", Version: Version{42, "kv1"}, Deleted: true}
	b, err := json.Marshal(kv)
	if err != nil || string(b) != `{"key":"k","version":"42/kv1","deleted":true}` {
		t.Fatalf("%s, %v", b, err)
	}
	var back KeyVersion
	if err := json.Unmarshal(b, &back); err != nil || back != kv {
		t.Fatalf("%+v, %v", back, err)
	}
	if err := json.Unmarshal([]byte(`{"version":"42"}`), &back); err == nil {
		t.Fatal("a malformed version unmarshaled")
	}
}

func TestParseVersionHeader(t *testing.T) {
	cases := []struct {
		values []string
		want   Version
		err    string // a part of the 400's message; "" for none
	}{
		{nil, Version{}, ""},
		{[]string{""}, Version{}, ""},
		{[]string{"12/kv1"}, Version{12, "kv1"}, ""},
		{[]string{" 12/kv1 "}, Version{12, "kv1"}, ""},
		{[]string{"12"}, Version{}, "want HLC/ORIGIN"},
		{[]string{"abc/kv1"}, Version{}, "decimal number"},
		{[]string{"99999999999999999999999/kv1"}, Version{}, "64 bits"},
		{[]string{"12/kv 1"}, Version{}, "node name"},
		{[]string{"12/kv1", "13/kv1"}, Version{}, "one " + VersionHeader},
	}
	for _, tc := range cases {
		h := http.Header{}
		for _, v := range tc.values {
			h.Add(VersionHeader, v)
		}
		v, e := ParseVersionHeader(h)
		switch {
		case tc.err == "" && (e != nil || v != tc.want):
			t.Errorf("%q: %v, %v; want %v", tc.values, v, e, tc.want)
		case tc.err != "" && (e == nil || e.Status != 400 || !strings.Contains(e.Message, tc.err)):
			t.Errorf("%q: %v; want a 400 saying %q", tc.values, e, tc.err)
		case e != nil && !json.Valid(e.JSON()):
			t.Errorf("%q: body %q is not JSON", tc.values, e.JSON())
		}
	}
}

func TestWriteConflict(t *testing.T) {
	w := httptest.NewRecorder()
	WriteConflict(w, Stale(Version{44, "kv2"}, false))
	if w.Code != 409 || w.Header().Get(VersionHeader) != "44/kv2" || w.Body.String() != `{"error":"A newer version is stored.","version":"44/kv2"}`+"\n" {
		t.Fatalf("%d %v %s", w.Code, w.Header(), w.Body)
	}
	w = httptest.NewRecorder()
	WriteConflict(w, Stale(Version{45, "proxy"}, true))
	if w.Body.String() != `{"error":"A newer version is stored.","version":"45/proxy","deleted":true}`+"\n" {
		t.Fatalf("%s", w.Body)
	}
	w = httptest.NewRecorder()
	WriteConflict(w, SameVersion(Version{46, "kv1"}))
	if w.Code != 409 || w.Body.String() != `{"error":"`+MsgSameVersion+`","version":"46/kv1"}`+"\n" {
		t.Fatalf("%s", w.Body)
	}
}

// fakeWall is a settable wall clock.
type fakeWall struct {
	mu sync.Mutex
	t  time.Time
}

func (f *fakeWall) now() time.Time  { f.mu.Lock(); defer f.mu.Unlock(); return f.t }
func (f *fakeWall) set(t time.Time) { f.mu.Lock(); f.t = t; f.mu.Unlock() }

func TestClockFollowsTheWall(t *testing.T) {
	start := time.UnixMilli(1_700_000_000_000)
	w := &fakeWall{t: start}
	c := NewClock(w.now)
	if got := c.Now(); got != MakeHLC(start.UnixMilli(), 0) {
		t.Fatalf("first reading %d, want the wall's milliseconds", got)
	}
	if got := c.Now(); got != MakeHLC(start.UnixMilli(), 1) {
		t.Fatalf("same millisecond: %d, want the counter at 1", got)
	}
	w.set(start.Add(5 * time.Millisecond))
	if got := c.Now(); got != MakeHLC(start.UnixMilli()+5, 0) {
		t.Fatalf("a later wall: %d, want its milliseconds and counter 0", got)
	}
	// The wall goes back an hour (NTP, a laptop's clock set by hand): the
	// clock stays ahead and counts on.
	w.set(start.Add(-time.Hour))
	last := c.Last()
	for range 10 {
		got := c.Now()
		if got <= last {
			t.Fatalf("reading %d after %d: not monotonic", got, last)
		}
		last = got
	}
	if last != MakeHLC(start.UnixMilli()+5, 10) {
		t.Fatalf("after the wall went back: %d", last)
	}
}

func TestClockCounterOverflowCarries(t *testing.T) {
	ms := int64(1_700_000_000_000)
	w := &fakeWall{t: time.UnixMilli(ms)}
	c := NewClock(w.now)
	last := uint64(0)
	for range 1<<16 + 10 { // the wall stands still: the counter overflows
		got := c.Now()
		if got <= last {
			t.Fatalf("reading %d after %d", got, last)
		}
		last = got
	}
	v := Version{HLC: last}
	if v.Millis() != ms+1 || v.Counter() != 9 {
		t.Fatalf("after 65546 readings in one millisecond: %d ms %d counter %d; want the counter to carry into the next millisecond", last, v.Millis()-ms, v.Counter())
	}
	// When the wall passes the carried clock, the clock follows the wall.
	w.set(time.UnixMilli(ms + 2))
	if got := c.Now(); got != MakeHLC(ms+2, 0) {
		t.Fatalf("%d, want the wall back in charge", got)
	}
}

func TestClockObserve(t *testing.T) {
	ms := int64(1_700_000_000_000)
	c := NewClock((&fakeWall{t: time.UnixMilli(ms)}).now)
	remote := MakeHLC(ms+30_000, 3) // 30 s ahead: a fast laptop
	if err := c.Observe(remote); err != nil {
		t.Fatal(err)
	}
	if got := c.Now(); got != remote+1 {
		t.Fatalf("after observing %d: %d, want %d", remote, got, remote+1)
	}
	if err := c.Observe(MakeHLC(ms, 0)); err != nil || c.Now() != remote+2 {
		t.Fatal("observing an older reading moved the clock back")
	}
	far := MakeHLC(ms+2*time.Hour.Milliseconds(), 0)
	err := c.Observe(far)
	if !errors.Is(err, ErrFutureVersion) || !strings.Contains(err.Error(), "2h0m0s ahead") {
		t.Fatalf("a reading 2 h ahead: %v", err)
	}
	if err := c.Observe(math.MaxUint64); !errors.Is(err, ErrFutureVersion) || !strings.Contains(err.Error(), "century") {
		t.Fatalf("the largest reading: %v", err)
	}
	if c.Last() != remote+2 {
		t.Fatal("a refused reading moved the clock")
	}
	// Advance trusts its reading; the clock saturates rather than wrap.
	c.Advance(math.MaxUint64)
	for range 2 {
		if c.Now() != math.MaxUint64 {
			t.Fatal("the clock wrapped around")
		}
	}
}

func TestClockConcurrentReadingsAreUnique(t *testing.T) {
	c := NewClock(nil)
	const workers, each = 4, 2000
	seen := make(chan uint64, workers*each)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				seen <- c.Now()
			}
		}()
	}
	wg.Wait()
	close(seen)
	set := map[uint64]bool{}
	for v := range seen {
		if set[v] {
			t.Fatalf("reading %d returned twice", v)
		}
		set[v] = true
	}
}

// TestDigestFormulas pins the bucket and entry hashes to vectors computed
// independently with python3:
//
//	h = lambda s: hashlib.sha256(s.encode()).digest()
//	int.from_bytes(h("key-1")[:8], "big")            # 13702611247147049843, % 256 = 115
//	int.from_bytes(h("ключ")[:8], "big") % 4096      # 3488
//	h("key-1@112233445566778899/kv1").hex()          # bed84339...
//	h("key-2@7/proxy@deleted").hex()                 # 63adae7f...
//	lanes = lambda x: struct.unpack(">4Q", x)
//	struct.pack(">4Q", *(sum(c) % 2**64 for c in zip(lanes(e1), lanes(e2)))).hex()  # 2285f1b9...
func TestDigestFormulas(t *testing.T) {
	if got := KeyHash("key-1"); got != 13702611247147049843 {
		t.Errorf("KeyHash = %d", got)
	}
	if BucketOf("key-1", 256) != 115 || BucketOf("ключ", 4096) != 3488 {
		t.Errorf("BucketOf = %d, %d", BucketOf("key-1", 256), BucketOf("ключ", 4096))
	}
	e1 := EntryHash("key-1", Version{112233445566778899, "kv1"}, false)
	e2 := EntryHash("key-2", Version{7, "proxy"}, true)
	if hex.EncodeToString(e1[:]) != "bed84339e682569789b47e52fe16f589ee3ec1afda1faed6e224ac96ad1ff0a7" {
		t.Errorf("EntryHash live = %x", e1)
	}
	if hex.EncodeToString(e2[:]) != "63adae7f9df81be1bad63298170ef2470b5473f55598276dc5b34bb5872357c5" {
		t.Errorf("EntryHash deleted = %x", e2)
	}
	var sum [32]byte
	for i := 0; i < 32; i += 8 {
		binary.BigEndian.PutUint64(sum[i:], binary.BigEndian.Uint64(e1[i:])+binary.BigEndian.Uint64(e2[i:]))
	}
	if hex.EncodeToString(sum[:]) != "2285f1b9847a7278448ab0eb1525e7d0f99335a52fb7d643a7d7f84c3443486c" {
		t.Errorf("lane sum = %x", sum)
	}
	long := strings.Repeat("k", 1000) // longer than EntryHash's stack buffer
	if EntryHash(long, Version{1, "a"}, false) == EntryHash(long, Version{1, "b"}, false) {
		t.Error("a long key's hash ignores the version")
	}
}

func TestCheckBuckets(t *testing.T) {
	for _, n := range []int{1, 2, 256, 4096} {
		if err := CheckBuckets(n); err != nil {
			t.Errorf("%d: %v", n, err)
		}
	}
	for _, n := range []int{0, -1, 3, 100, 8192} {
		if err := CheckBuckets(n); err == nil {
			t.Errorf("%d accepted", n)
		}
	}
}

// FuzzParseVersion: parsing never panics, and what parses prints back to
// a text that parses to the same version.
func FuzzParseVersion(f *testing.F) {
	for _, s := range []string{"1/kv1", "007/proxy", "18446744073709551616/a", "1/", "/", "12/kv 1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseVersion(s)
		if err != nil {
			return
		}
		back, err := ParseVersion(v.String())
		if err != nil || back != v || back.Compare(v) != 0 {
			t.Fatalf("%q → %q → %v, %v", s, v.String(), back, err)
		}
	})
}
