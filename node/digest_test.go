package node

import (
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/kvclass/kvclass/kvapi"
)

func getDigest(t testing.TB, base, query string) kvapi.Digest {
	t.Helper()
	r := call(t, "GET", base+"/digest"+query, "", "")
	var d kvapi.Digest
	if r.status != 200 || json.Unmarshal([]byte(r.body), &d) != nil {
		t.Fatalf("/digest%s: %d %s", query, r.status, r.body)
	}
	return d
}

func getKeys(t testing.TB, base, query string) kvapi.KeyList {
	t.Helper()
	r := call(t, "GET", base+"/keys?"+query, "", "")
	var l kvapi.KeyList
	if r.status != 200 || json.Unmarshal([]byte(r.body), &l) != nil {
		t.Fatalf("/keys?%s: %d %s", query, r.status, r.body)
	}
	return l
}

// differing returns the buckets whose hashes differ.
func differing(a, b kvapi.Digest) []int {
	var out []int
	for i := range a.Hashes {
		if a.Hashes[i] != b.Hashes[i] {
			out = append(out, i)
		}
	}
	return out
}

// TestDigestsAgree: two nodes that reached the same keys at the same
// versions by different histories have the same digest; one key apart,
// exactly one bucket differs, and /keys lists that bucket.
func TestDigestsAgree(t *testing.T) {
	clock := newTestClock()
	a := startNode(t, Config{Name: "kv1", Now: clock.now})
	b := startNode(t, Config{Name: "kv2", Now: clock.now})
	const keys = 300
	key := func(i int) string { return "key-" + strconv.Itoa(i) }
	put := func(base string, i int, ms int64, value string) {
		t.Helper()
		if r := call(t, "POST", base+"/put?key="+key(i), `{"value": "`+value+`"}`, ver(ms, 0, "proxy")); r.status != 200 {
			t.Fatalf("put: %d %s", r.status, r.body)
		}
	}
	del := func(base string, i int, ms int64) {
		t.Helper()
		if r := call(t, "DELETE", base+"/delete?key="+key(i), "", ver(ms, 0, "proxy")); r.status != 200 && r.status != 404 {
			t.Fatalf("delete: %d %s", r.status, r.body)
		}
	}
	for i := range keys { // a: in order, each key written twice
		put(a.LocalURL(), i, int64(i), "first")
		put(a.LocalURL(), i, int64(1000+i), "v"+strconv.Itoa(i))
	}
	for i := keys - 1; i >= 0; i-- { // b: in reverse, only the final writes
		if i%10 == 0 {
			del(b.LocalURL(), i, 999) // a tombstone the put replaces
		}
		put(b.LocalURL(), i, int64(1000+i), "v"+strconv.Itoa(i))
	}
	for i := 0; i < keys; i += 10 { // deleted on both
		del(a.LocalURL(), i, int64(5000+i))
		del(b.LocalURL(), i, int64(5000+i))
	}
	for _, q := range []string{"", "?buckets=1", "?buckets=16", "?buckets=4096"} {
		da, db := getDigest(t, a.LocalURL(), q), getDigest(t, b.LocalURL(), q)
		if len(da.Hashes) != da.Buckets || len(differing(da, db)) != 0 {
			t.Fatalf("/digest%s: %d buckets differ", q, len(differing(da, db)))
		}
	}
	if d := getDigest(t, a.LocalURL(), ""); d.Buckets != kvapi.DefaultBuckets || len(d.Hashes) != 256 || len(d.Hashes[0]) != 64 {
		t.Fatalf("default digest: %d buckets, %d hashes", d.Buckets, len(d.Hashes))
	}

	// One key newer on a: exactly its bucket differs.
	put(a.LocalURL(), 7, 9000, "newer")
	da, db := getDigest(t, a.LocalURL(), ""), getDigest(t, b.LocalURL(), "")
	d := differing(da, db)
	want := kvapi.BucketOf(key(7), 256)
	if len(d) != 1 || d[0] != want {
		t.Fatalf("buckets %v differ, want [%d]", d, want)
	}
	la := getKeys(t, a.LocalURL(), "bucket="+strconv.Itoa(want))
	lb := getKeys(t, b.LocalURL(), "bucket="+strconv.Itoa(want))
	if len(la.Keys) != len(lb.Keys) || la.More || la.Bucket != want || la.Buckets != 256 {
		t.Fatalf("/keys: %+v vs %+v", la, lb)
	}
	for i, kv := range la.Keys {
		if kvapi.BucketOf(kv.Key, 256) != want {
			t.Errorf("/keys listed %q of bucket %d", kv.Key, kvapi.BucketOf(kv.Key, 256))
		}
		if i > 0 && la.Keys[i-1].Key >= kv.Key {
			t.Error("/keys is not sorted by key")
		}
		other := lb.Keys[i]
		switch {
		case kv.Key == key(7):
			if kv.Version.String() != ver(9000, 0, "proxy") || other.Version.String() != ver(1007, 0, "proxy") {
				t.Errorf("the differing key: %+v vs %+v", kv, other)
			}
		case kv != other:
			t.Errorf("%+v vs %+v", kv, other)
		}
	}
	// Every key of that bucket is listed, tombstones marked.
	n := 0
	for i := range keys {
		if kvapi.BucketOf(key(i), 256) == want {
			n++
		}
	}
	if len(la.Keys) != n {
		t.Fatalf("/keys listed %d keys, the bucket has %d", len(la.Keys), n)
	}
	for _, kv := range la.Keys {
		i, _ := strconv.Atoi(strings.TrimPrefix(kv.Key, "key-"))
		if kv.Deleted != (i%10 == 0) {
			t.Errorf("%q deleted = %v", kv.Key, kv.Deleted)
		}
	}
}

// expectedDigest computes a store's digest from scratch, as a reader of
// the contract would in python3, from what /keys lists.
func expectedDigest(entries []kvapi.KeyVersion, n int) []string {
	sums := make([][4]uint64, n)
	for _, e := range entries {
		h := kvapi.EntryHash(e.Key, e.Version, e.Deleted)
		s := &sums[kvapi.BucketOf(e.Key, n)]
		for j := range s {
			s[j] += binary.BigEndian.Uint64(h[8*j:])
		}
	}
	out := make([]string, n)
	for i, s := range sums {
		var raw [32]byte
		for j, lane := range s {
			binary.BigEndian.PutUint64(raw[8*j:], lane)
		}
		out[i] = hex.EncodeToString(raw[:])
	}
	return out
}

func TestDigestIsTheContractsFormula(t *testing.T) {
	n := startNode(t, Config{Name: "kv1", Now: newTestClock().now})
	base := n.LocalURL()
	empty := getDigest(t, base, "?buckets=4")
	for _, h := range empty.Hashes {
		if h != strings.Repeat("0", 64) {
			t.Fatalf("an empty node's bucket hash is %s", h)
		}
	}
	for i := range 50 {
		k := url.QueryEscape("ключ " + strconv.Itoa(i))
		call(t, "POST", base+"/put?key="+k, `{"value": 1}`, "")
		if i%3 == 0 {
			call(t, "DELETE", base+"/delete?key="+k, "", "")
		}
	}
	all := getKeys(t, base, "bucket=0&buckets=1")
	if len(all.Keys) != 50 {
		t.Fatalf("listed %d keys", len(all.Keys))
	}
	for _, b := range []int{1, 8, 256} {
		got := getDigest(t, base, "?buckets="+strconv.Itoa(b)).Hashes
		want := expectedDigest(all.Keys, b)
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("buckets=%d: bucket %d is %s, the formula gives %s", b, i, got[i], want[i])
			}
		}
	}
}

func TestKeysPages(t *testing.T) {
	n := startNode(t, Config{Name: "kv1"})
	base := n.LocalURL()
	for _, k := range []string{"e", "a", "d", "b", "c"} {
		call(t, "POST", base+"/put?key="+k, `{"value": 1}`, "")
	}
	var got []string
	after := ""
	for pages := 0; ; pages++ {
		l := getKeys(t, base, "bucket=0&buckets=1&limit=2&after="+after)
		for _, kv := range l.Keys {
			got = append(got, kv.Key)
		}
		if !l.More {
			if pages != 2 {
				t.Fatalf("%d pages", pages+1)
			}
			break
		}
		after = l.Keys[len(l.Keys)-1].Key
	}
	if strings.Join(got, "") != "abcde" {
		t.Fatalf("pages listed %v", got)
	}
	if l := getKeys(t, base, "bucket=0&buckets=1&after=e"); l.Keys == nil || len(l.Keys) != 0 || l.More {
		t.Fatalf("past the end: %+v", l)
	}
}

func TestDigestBadRequests(t *testing.T) {
	n := startNode(t, Config{})
	base := n.LocalURL()
	for _, tc := range []struct{ method, path, msg string }{
		{"GET", "/digest?buckets=3", "power of two"},
		{"GET", "/digest?buckets=0", "power of two"},
		{"GET", "/digest?buckets=8192", "power of two"},
		{"GET", "/digest?buckets=x", "power of two"},
		{"GET", "/keys", "Please provide bucket"},
		{"GET", "/keys?bucket=256", "from 0 to 255"},
		{"GET", "/keys?bucket=-1", "from 0 to 255"},
		{"GET", "/keys?bucket=2&buckets=2", "from 0 to 1"},
		{"GET", "/keys?bucket=0&buckets=5", "power of two"},
		{"GET", "/keys?bucket=0&limit=0", "limit"},
		{"GET", "/keys?bucket=0&limit=10001", "limit"},
		{"POST", "/digest", "use GET"},
		{"DELETE", "/keys?bucket=0", "use GET"},
	} {
		r := call(t, tc.method, base+tc.path, "", "")
		var body struct{ Error string }
		if r.status/100 != 4 || json.Unmarshal([]byte(r.body), &body) != nil || !strings.Contains(body.Error, tc.msg) {
			t.Errorf("%s %s: %d %s; want a 4xx saying %q", tc.method, tc.path, r.status, r.body, tc.msg)
		}
	}
}
