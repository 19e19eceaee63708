package proxy

import (
	"encoding/json"
	"strconv"
	"testing"

	"github.com/kvclass/kvclass/web"
)

// nodeBatch is a node's /ws message of n put events, as a node sends them
// every 25 ms under load.
func nodeBatch(tb testing.TB, first, n int) []byte {
	tb.Helper()
	b := web.Batch{Type: web.TypeEvents}
	for i := first; i < first+n; i++ {
		k := "key-" + strconv.Itoa(i%200)
		b.Events = append(b.Events, web.Event{Type: web.EventPut, Time: 1764140000000 + int64(i), Node: "node-5000",
			Key: k, Value: `"value-` + strconv.Itoa(i) + `"`, Size: 12, Count: 200, Version: "1764140000000.0/kv1"})
	}
	msg, err := json.Marshal(b)
	if err != nil {
		tb.Fatal(err)
	}
	return msg
}

// A follower's mirror of a node keeps the node's newest keys, newest
// first, at most web.KeysPerNode of them, whatever order puts and deletes
// come in.
func TestFollowerMirrorKeepsTheNewestKeys(t *testing.T) {
	p, err := New(Config{Token: "c", AdminToken: "a"})
	if err != nil {
		t.Fatal(err)
	}
	f := &follower{p: p, name: "kv1"}
	var want []string // newest first
	put := func(k string) {
		f.apply(mustJSON(t, web.Batch{Type: web.TypeEvents, Events: []web.Event{{Type: web.EventPut, Key: k, Value: `"` + k + `"`, Size: len(k) + 2, Count: 1}}}))
		for i, w := range want {
			if w == k {
				want = append(want[:i], want[i+1:]...)
				break
			}
		}
		want = append([]string{k}, want...)
		if len(want) > web.KeysPerNode {
			want = want[:web.KeysPerNode]
		}
	}
	del := func(k string) {
		f.apply(mustJSON(t, web.Batch{Type: web.TypeEvents, Events: []web.Event{{Type: web.EventDelete, Key: k}}}))
		for i, w := range want {
			if w == k {
				want = append(want[:i], want[i+1:]...)
				break
			}
		}
	}
	check := func(when string) {
		t.Helper()
		_, keys := f.view()
		if len(keys) != len(want) {
			t.Fatalf("%s: mirror holds %d keys, want %d", when, len(keys), len(want))
		}
		for i, k := range keys {
			if k.Key != want[i] || k.Value != `"`+want[i]+`"` {
				t.Fatalf("%s: mirror[%d] = %+v, want %s", when, i, k, want[i])
			}
		}
	}
	for i := range 30 {
		put("k" + strconv.Itoa(i))
	}
	check("30 puts")
	put("k3") // an older key written again moves to the front
	put("k29")
	check("rewrites")
	del("k10")
	del("k0")
	del("absent")
	check("deletes")
	for i := range 100 { // more keys than the mirror keeps
		put("m" + strconv.Itoa(i%70))
	}
	check("overflow")
	del("m69")
	put("k3")
	check("after overflow")
	// Each event stands alone: a field one event lacks is not taken from
	// the event decoded before it.
	f.apply(mustJSON(t, web.Batch{Type: web.TypeEvents, Events: []web.Event{{Type: web.EventPut, Key: "a", Value: "1", Size: 1, Count: 7}}}))
	f.apply([]byte(`{"type":"events","events":[{"type":"put","key":"b"}]}`))
	if count, keys := f.view(); count != 0 || keys[0] != (web.KeyView{Key: "b"}) {
		t.Errorf("after a bare put of b: count %d, newest %+v; want 0 and b with no value", count, keys[0])
	}
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// BenchmarkFollowerApply measures what a proxy spends on one node event it
// follows: decoding the node's batch, the mirror, the page's hub.
//
//	go test -run '^$' -bench FollowerApply -benchmem ./proxy/
func BenchmarkFollowerApply(b *testing.B) {
	p, err := New(Config{Token: "c", AdminToken: "a"})
	if err != nil {
		b.Fatal(err)
	}
	f := &follower{p: p, name: "kv1"}
	const perBatch = 10
	msgs := make([][]byte, 20)
	for i := range msgs {
		msgs[i] = nodeBatch(b, i*perBatch, perBatch)
	}
	i := 0
	for b.Loop() {
		f.apply(msgs[i%len(msgs)])
		i++
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*perBatch), "ns/event")
}
