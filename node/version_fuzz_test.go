package node

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/kvclass/kvclass/kvapi"
)

// modelKey is what the version rules say a node holds for a key.
type modelKey struct {
	present bool // a value or a tombstone
	deleted bool
	version kvapi.Version
	value   string

	newest  kvapi.Version // the newest version any request named or got for the key
	handoff bool          // a hand-off dropped the key, and nothing remembers its versions
}

// FuzzVersions sends a random sequence of puts and deletes, with versions
// the fuzzer picks (close together, so they tie and interleave with the
// node's own stamps) or none, to a node's handler, and checks every answer
// and the end state against a model of the rules, and the end state
// against the property the rules exist for: each key is at the newest
// version any request carried for it (unless a hand-off dropped it). The
// digest and /keys must agree with the end state.
func FuzzVersions(f *testing.F) {
	f.Add([]byte{0, 3, 2, 1, 3, 4, 0, 2, 2, 4, 9, 0})
	f.Add([]byte{0, 5, 2, 4, 5, 2, 0, 1, 2, 0, 5, 3, 4, 7, 0})
	f.Add([]byte{8, 0, 0, 0, 1, 2, 4, 2, 2, 1, 2, 2})
	clock := newTestClock()
	n, err := New(Config{Name: "kv1", Now: clock.now, MaxBody: 1024})
	if err != nil {
		f.Fatal(err)
	}
	h := n.Handler()
	keys := []string{"k0", "k1", "a b&c"}
	values := []string{`1`, `"two"`, `[3]`}
	base := kvapi.MakeHLC(clock.now().UnixMilli(), 0) - 8 // fuzzed versions straddle the node's own stamps
	f.Fuzz(func(t *testing.T, ops []byte) {
		if err := n.Store().Reset(); err != nil {
			t.Fatal(err)
		}
		model := make([]modelKey, len(keys))
		for i := 0; i+2 < len(ops) && i < 3*64; i += 3 {
			k, del := int(ops[i]%3), ops[i]&4 != 0
			m := &model[k]
			var v kvapi.Version
			if ops[i+2]&8 == 0 {
				v = kvapi.Version{HLC: base + uint64(ops[i+1]%16), Origin: []string{"a", "b"}[ops[i+2]&1]}
			}
			value := values[int(ops[i+2]>>1&3)%len(values)]
			path := "/put?key=" + url.QueryEscape(keys[k])
			method, body := "POST", `{"value": `+value+`}`
			if del {
				path, method, body = "/delete?key="+url.QueryEscape(keys[k]), "DELETE", ""
			}
			req := httptest.NewRequest(method, "http://node"+path, strings.NewReader(body))
			if !v.IsZero() {
				req.Header.Set(kvapi.VersionHeader, v.String())
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			got, _ := kvapi.ParseVersion(w.Header().Get(kvapi.VersionHeader))
			if !json.Valid(w.Body.Bytes()) {
				t.Fatalf("op %d: %s %s %v: body %q", i/3, method, path, v, w.Body)
			}
			before := *m
			status, want := applyModel(t, m, del, v, value, got)
			if w.Code != status || got != want {
				t.Fatalf("op %d: %s %s at %v over %+v: %d %s with version %v; the rules say %d with %v", i/3, method, path, v, before, w.Code, w.Body, got, status, want)
			}
		}
		checkEndState(t, n.Store(), keys, model)
	})
}

// applyModel applies one request to the model and returns the status and
// version header the rules give its answer. stamp is the version the node
// answered with, for the requests it stamps itself (those without a
// version): the model only checks that it is newer than all the key saw.
func applyModel(t *testing.T, m *modelKey, del bool, v kvapi.Version, value string, stamp kvapi.Version) (int, kvapi.Version) {
	t.Helper()
	live := m.present && !m.deleted
	if v.IsZero() && (!del || live) {
		if stamp.Compare(m.newest) <= 0 || stamp.Origin != "kv1" {
			t.Fatalf("the node stamped %v, not newer than %v", stamp, m.newest)
		}
		v = stamp
	}
	if v.Compare(m.newest) > 0 {
		m.newest = v
	}
	c := v.Compare(m.version)
	set := func(present, deleted bool, value string) {
		m.present, m.deleted, m.version, m.value = present, deleted, v, value
	}
	switch {
	case !del && live && c == 0 && m.value == value: // a repeat
		return 200, m.version
	case !del && m.present && c <= 0:
		return 409, m.version
	case !del:
		set(true, false, value)
		return 200, v
	case live && c < 0:
		return 409, m.version
	case live && c == 0: // a hand-off: gone, without a tombstone
		set(false, false, "")
		m.version, m.handoff = kvapi.Version{}, true
		return 200, v
	case live:
		set(true, true, "")
		return 200, v
	case v.IsZero(): // the seed's delete of a missing key
		return 404, m.version
	case c > 0: // remember the deletion
		set(true, true, "")
	}
	return 404, m.version
}

func checkEndState(t *testing.T, s *Store, keys []string, model []modelKey) {
	t.Helper()
	var listed []kvapi.KeyVersion
	for k, m := range model {
		it, err := s.Lookup(keys[k])
		if err != nil {
			t.Fatal(err)
		}
		want := Item{}
		if m.present {
			want = Item{Value: m.value, Version: m.version, Deleted: m.deleted}
			listed = append(listed, kvapi.KeyVersion{Key: keys[k], Version: m.version, Deleted: m.deleted})
		}
		if it != want {
			t.Fatalf("%q is %+v, the model says %+v", keys[k], it, want)
		}
		// The point of versions: a key ends at the newest version sent.
		if m.present && !m.handoff && m.version != m.newest {
			t.Fatalf("%q ended at %v, but %v was sent", keys[k], m.version, m.newest)
		}
	}
	sort.Slice(listed, func(i, j int) bool { return listed[i].Key < listed[j].Key })
	if got := s.BucketKeys(0, 1, "", kvapi.MaxKeysPage).Keys; len(got) != len(listed) || len(got) > 0 && !equalKeys(got, listed) {
		t.Fatalf("/keys lists %+v, the model has %+v", got, listed)
	}
	for _, b := range []int{1, 16} {
		want := expectedDigest(listed, b)
		got := s.Digest(b).Hashes
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("digest over %d buckets: bucket %d is %s, want %s", b, i, got[i], want[i])
			}
		}
	}
	if s.Len()+s.Tombstones() != len(listed) {
		t.Fatalf("%d keys and %d tombstones counted, %d held", s.Len(), s.Tombstones(), len(listed))
	}
}

func equalKeys(a, b []kvapi.KeyVersion) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestVersionsUnderConcurrency: many writers racing on a few keys with
// versions of their own; every key ends at the newest version sent, and
// the counters and digest agree with the keys. Run with -race.
func TestVersionsUnderConcurrency(t *testing.T) {
	clock := newTestClock()
	n, err := New(Config{Name: "kv1", Now: clock.now})
	if err != nil {
		t.Fatal(err)
	}
	h := n.Handler()
	base := kvapi.MakeHLC(clock.now().UnixMilli(), 0)
	const writers, each, keys = 4, 300, 5
	done := make(chan struct{})
	for w := range writers {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := range each {
				k := "k" + string(rune('0'+(i*7+w)%keys))
				v := kvapi.Version{HLC: base + uint64(i), Origin: "w" + string(rune('0'+w))}
				method, path, body := "POST", "/put?key="+k, `{"value": "`+v.String()+`"}`
				if i%5 == 4 {
					method, path, body = "DELETE", "/delete?key="+k, ""
				}
				req := httptest.NewRequest(method, "http://node"+path, strings.NewReader(body))
				req.Header.Set(kvapi.VersionHeader, v.String())
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != 200 && rec.Code != 404 && rec.Code != 409 {
					t.Errorf("%s %s: %d %s", method, path, rec.Code, rec.Body)
				}
			}
		}()
	}
	timeout := time.After(20 * time.Second)
	for range writers {
		select {
		case <-done:
		case <-timeout:
			t.Fatal("writers hang")
		}
	}
	// The newest version sent to each key: the highest i, then the highest
	// writer. Whatever the interleaving, the key holds exactly it.
	for k := range keys {
		key := "k" + string(rune('0'+k))
		var newest kvapi.Version
		var deleted bool
		for w := range writers {
			for i := range each {
				if (i*7+w)%keys != k {
					continue
				}
				v := kvapi.Version{HLC: base + uint64(i), Origin: "w" + string(rune('0'+w))}
				if v.Compare(newest) > 0 {
					newest, deleted = v, i%5 == 4
				}
			}
		}
		it, _ := n.Store().Lookup(key)
		if it.Version != newest || it.Deleted != deleted || !deleted && it.Value != `"`+newest.String()+`"` {
			t.Errorf("%s is %+v, want %v (deleted %v)", key, it, newest, deleted)
		}
	}
	all := n.Store().BucketKeys(0, 1, "", kvapi.MaxKeysPage).Keys
	want := expectedDigest(all, 16)
	if got := n.Store().Digest(16).Hashes; strings.Join(got, ",") != strings.Join(want, ",") {
		t.Error("the digest drifted from the keys under concurrency")
	}
	if n.Store().Len()+n.Store().Tombstones() != len(all) {
		t.Errorf("%d keys and %d tombstones counted, %d listed", n.Store().Len(), n.Store().Tombstones(), len(all))
	}
	_ = http.StatusOK
}
