// Package node is the kvclass storage node: a concurrent in-memory store,
// the seed-compatible HTTP API over it, and the node's lifecycle (listen,
// publish, join a proxy, stop).
package node

import (
	"container/heap"
	"errors"
	"hash/maphash"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
)

// ErrFull is returned by Store.Put when storing the value would take the
// store over its byte budget.
var ErrFull = errors.New("node is full")

// EntryOverhead is what one key costs beyond its key and value bytes when the
// store accounts for its byte budget: the map slot, the entry and the string
// headers, including the map's spare room and allocation rounding. It was
// measured at 1M keys of the seed's shape (BenchmarkStoreMemory, see
// docs/BENCHMARKS.md).
const EntryOverhead = 112

const shardCount = 64

// Store is an in-memory map from keys to JSON values, safe for heavy
// concurrent use. It is split into shards with a lock each, so readers and
// writers of different keys rarely meet. Values are kept as compact JSON text.
type Store struct {
	seed     maphash.Seed
	shards   [shardCount]shard
	seq      atomic.Uint64 // write order, for "newest keys" views
	count    atomic.Int64
	bytes    atomic.Int64
	maxBytes int64
}

type shard struct {
	mu sync.RWMutex
	m  map[string]entry
	_  [32]byte // pad each shard to a cache line
}

type entry struct {
	value string
	seq   uint64
}

// NewStore returns an empty store that holds at most maxBytes of keys, values
// and per-entry overhead; maxBytes <= 0 means no limit.
func NewStore(maxBytes int64) *Store {
	s := &Store{seed: maphash.MakeSeed(), maxBytes: maxBytes}
	for i := range s.shards {
		s.shards[i].m = make(map[string]entry)
	}
	return s
}

func (s *Store) shard(key string) *shard {
	return &s.shards[maphash.String(s.seed, key)%shardCount]
}

func cost(key, value string) int64 {
	return int64(len(key) + len(value) + EntryOverhead)
}

// Put stores value (compact JSON text) under key and returns the number of
// keys after the write. It returns ErrFull, changing nothing, when the write
// would exceed the byte budget.
func (s *Store) Put(key, value string) (int, error) {
	sh := s.shard(key)
	sh.mu.Lock()
	old, existed := sh.m[key]
	delta := cost(key, value)
	if existed {
		delta -= cost(key, old.value)
	}
	if total := s.bytes.Add(delta); s.maxBytes > 0 && delta > 0 && total > s.maxBytes {
		s.bytes.Add(-delta)
		sh.mu.Unlock()
		return int(s.count.Load()), ErrFull
	}
	sh.m[key] = entry{value: value, seq: s.seq.Add(1)}
	n := s.count.Load()
	if !existed {
		n = s.count.Add(1)
	}
	sh.mu.Unlock()
	return int(n), nil
}

// Get returns the value stored under key.
func (s *Store) Get(key string) (string, bool) {
	sh := s.shard(key)
	sh.mu.RLock()
	e, ok := sh.m[key]
	sh.mu.RUnlock()
	return e.value, ok
}

// Delete removes key. It reports whether the key was there and returns the
// number of keys after the delete.
func (s *Store) Delete(key string) (bool, int) {
	sh := s.shard(key)
	sh.mu.Lock()
	e, ok := sh.m[key]
	n := s.count.Load()
	if ok {
		delete(sh.m, key)
		s.bytes.Add(-cost(key, e.value))
		n = s.count.Add(-1)
	}
	sh.mu.Unlock()
	return ok, int(n)
}

// Reset removes every key.
func (s *Store) Reset() {
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		var freed int64
		for k, e := range sh.m {
			freed += cost(k, e.value)
		}
		s.count.Add(-int64(len(sh.m)))
		s.bytes.Add(-freed)
		sh.m = make(map[string]entry)
		sh.mu.Unlock()
	}
}

// Len returns the number of keys.
func (s *Store) Len() int { return int(s.count.Load()) }

// Bytes returns the bytes the store accounts against its budget.
func (s *Store) Bytes() int64 { return s.bytes.Load() }

// Pair is one key and its value (compact JSON text).
type Pair struct {
	Key   string
	Value string
}

// All returns every pair, sorted by key.
func (s *Store) All() []Pair {
	out := make([]Pair, 0, s.Len())
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.RLock()
		for k, e := range sh.m {
			out = append(out, Pair{k, e.value})
		}
		sh.mu.RUnlock()
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// Newest returns at most limit pairs whose key contains filter (every pair
// when filter is empty), most recently written first, and how many keys
// matched in all.
func (s *Store) Newest(limit int, filter string) ([]Pair, int) {
	if limit <= 0 {
		return nil, 0
	}
	h := make(newestHeap, 0, limit)
	matched := 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.RLock()
		for k, e := range sh.m {
			if filter != "" && !strings.Contains(k, filter) {
				continue
			}
			matched++
			switch {
			case len(h) < limit:
				heap.Push(&h, seqPair{Pair{k, e.value}, e.seq})
			case e.seq > h[0].seq:
				h[0] = seqPair{Pair{k, e.value}, e.seq}
				heap.Fix(&h, 0)
			}
		}
		sh.mu.RUnlock()
	}
	sort.Slice(h, func(i, j int) bool { return h[i].seq > h[j].seq })
	out := make([]Pair, len(h))
	for i, p := range h {
		out[i] = p.Pair
	}
	return out, matched
}

type seqPair struct {
	Pair
	seq uint64
}

// newestHeap is a min-heap on write order: its root is the oldest of the
// newest pairs seen so far.
type newestHeap []seqPair

func (h newestHeap) Len() int           { return len(h) }
func (h newestHeap) Less(i, j int) bool { return h[i].seq < h[j].seq }
func (h newestHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *newestHeap) Push(x any)        { *h = append(*h, x.(seqPair)) }
func (h *newestHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
