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
	"time"
	"unique"

	"github.com/kvclass/kvclass/kvapi"
)

// ErrFull is returned by Store.Put when storing the value would take the
// store over its byte budget.
var ErrFull = errors.New("node is full")

// EntryOverhead is what one key costs beyond its key and value bytes when the
// store accounts for its byte budget: the map slot, the entry (value,
// version, write order, bucket) and the string headers, including the map's
// spare room and allocation rounding. It was measured at 1M keys of the
// seed's shape (BenchmarkStoreMemory, see docs/BENCHMARKS.md). A tombstone
// is accounted as a key with an empty value.
const EntryOverhead = 144

// DefaultTombstones is how long a node keeps a deleted key's version.
const DefaultTombstones = 10 * time.Minute

const shardCount = 64

// Store is an in-memory map from keys to JSON values and their versions,
// safe for heavy concurrent use. It is split into shards with a lock each,
// so readers and writers of different keys rarely meet. Values are kept as
// compact JSON text. A deleted key leaves a tombstone, its deletion's
// version, for the store's tombstone time.
//
// With a data file attached (Node's Config.DataDir), every write is also
// logged to the file, and a write returns, and a read returns what it
// wrote, only once the file holds it (see disk).
type Store struct {
	seed     maphash.Seed
	shards   [shardCount]shard
	seq      atomic.Uint64 // write order, for "newest keys" views (in memory; the data file's log numbers writes otherwise)
	count    atomic.Int64  // live keys
	bytes    atomic.Int64  // accounted bytes of live keys
	used     atomic.Int64  // accounted bytes of live keys and tombstones: what the budget bounds
	tombs    atomic.Int64  // tombstones
	maxBytes int64

	clock  *kvapi.Clock
	now    func() time.Time
	ttl    time.Duration
	origin unique.Handle[string] // stamps the store's own versions: the node's name
	digest digest
	disk   *disk // nil for a store in memory only; set before the store serves
}

type shard struct {
	mu sync.RWMutex
	m  map[string]entry // live keys
	t  map[string]tomb  // tombstones
	_  [24]byte         // pad each shard to a cache line
}

// slot packs an entry's write order (its high 52 bits) and the key's
// digest bucket among kvapi.MaxBuckets (its low 12 bits) into one word, to
// keep entries small: a million keys' slots are a map of them.
type slot uint64

const bucketBits = 12 // kvapi.MaxBuckets is 1 << bucketBits

func makeSlot(seq uint64, bucket uint16) slot { return slot(seq<<bucketBits | uint64(bucket)) }

// seq returns the write order.
func (p slot) seq() uint64 { return uint64(p) >> bucketBits }

// bucket returns the key's digest bucket among kvapi.MaxBuckets.
func (p slot) bucket() uint16 { return uint16(p & (1<<bucketBits - 1)) }

// entry is a live key's value and version.
type entry struct {
	value string // compact JSON
	slot
	hlc    uint64
	origin unique.Handle[string]
}

func (e entry) version() kvapi.Version {
	return kvapi.Version{HLC: e.hlc, Origin: e.origin.Value()}
}

// tomb is a deleted key's version, kept until at + the store's ttl.
type tomb struct {
	slot
	hlc    uint64
	origin unique.Handle[string]
	at     int64 // when this node stored it, Unix milliseconds of its wall clock
}

func (t tomb) version() kvapi.Version {
	return kvapi.Version{HLC: t.hlc, Origin: t.origin.Value()}
}

// storeOptions configures a store; zero fields take their defaults.
type storeOptions struct {
	MaxBytes   int64            // <= 0: no limit
	Tombstones time.Duration    // default DefaultTombstones
	Now        func() time.Time // default time.Now
	Origin     string           // default "node"
}

// NewStore returns an empty in-memory store that holds at most maxBytes of
// keys, values, tombstones and per-entry overhead; maxBytes <= 0 means no
// limit. It stamps its own versions as "node" and keeps tombstones for
// DefaultTombstones.
func NewStore(maxBytes int64) *Store { return newStore(storeOptions{MaxBytes: maxBytes}) }

func newStore(o storeOptions) *Store {
	if o.Tombstones <= 0 {
		o.Tombstones = DefaultTombstones
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Origin == "" {
		o.Origin = "node"
	}
	s := &Store{
		seed:     maphash.MakeSeed(),
		maxBytes: o.MaxBytes,
		clock:    kvapi.NewClock(o.Now),
		now:      o.Now,
		ttl:      o.Tombstones,
		origin:   unique.Make(o.Origin),
	}
	for i := range s.shards {
		s.shards[i].m = make(map[string]entry)
		s.shards[i].t = make(map[string]tomb)
	}
	return s
}

// setOrigin names the store's own versions; call it before the store serves.
func (s *Store) setOrigin(name string) { s.origin = unique.Make(name) }

// Clock returns the hybrid logical clock that stamps the store's versions.
func (s *Store) Clock() *kvapi.Clock { return s.clock }

func (s *Store) shard(key string) *shard {
	return &s.shards[maphash.String(s.seed, key)%shardCount]
}

func cost(key, value string) int64 {
	return int64(len(key) + len(value) + EntryOverhead)
}

func tombCost(key string) int64 { return cost(key, "") }

// stamp returns a new version of the store's own, newer than prev.
func (s *Store) stamp(prev uint64) (uint64, unique.Handle[string]) {
	hlc := s.clock.Now()
	if hlc <= prev { // only if prev was never observed; kept as a safety net
		s.clock.Advance(prev)
		hlc = s.clock.Now()
	}
	return hlc, s.origin
}

// reserve accounts growth bytes against the budget; it refuses growth past it.
func (s *Store) reserve(growth int64) bool {
	total := s.used.Add(growth)
	if s.maxBytes > 0 && growth > 0 && total > s.maxBytes {
		s.used.Add(-growth)
		return false
	}
	return true
}

// Put stores value (compact JSON text) under key, stamped with a new
// version of the store's own (the seed's clients' put, which always wins),
// and returns the number of keys after the write. It returns ErrFull,
// changing nothing, when the write would exceed the byte budget.
func (s *Store) Put(key, value string) (int, error) {
	_, n, err := s.PutVersion(key, value, kvapi.Version{})
	return n, err
}

// PutVersion stores value (compact JSON text) under key at version v, and
// returns the version stored and the number of keys after the write. The
// zero v stamps a new version of the store's own, newer than any the key
// had: such a put always wins. A put with a version:
//   - newer than the stored value's or tombstone's is stored;
//   - equal to the stored value's, with the same value, is a repeat: it
//     changes nothing and succeeds;
//   - equal with another value is a *kvapi.VersionConflict (Same);
//   - older than the stored value's, or not newer than a tombstone's, is a
//     *kvapi.VersionConflict naming the stored version; nothing changes.
//
// A version more than kvapi.MaxSkew ahead of the store's clock is refused
// with an error wrapping kvapi.ErrFutureVersion; a write past the byte
// budget with ErrFull; a data file that cannot be written with ErrDisk.
func (s *Store) PutVersion(key, value string, v kvapi.Version) (kvapi.Version, int, error) {
	if !v.IsZero() {
		if err := s.clock.Observe(v.HLC); err != nil {
			return kvapi.Version{}, s.Len(), err
		}
	}
	sh := s.shard(key)
	sh.mu.Lock()
	old, live := sh.m[key]
	t, dead := sh.t[key]
	var origin unique.Handle[string]
	if v.IsZero() {
		v.HLC, origin = s.stamp(max(old.hlc, t.hlc))
		v.Origin = origin.Value()
	} else {
		var refusal *kvapi.VersionConflict
		var seq uint64
		switch {
		case live:
			switch c := v.Compare(old.version()); {
			case c < 0:
				refusal, seq = kvapi.Stale(old.version(), false), old.seq()
			case c == 0 && old.value != value:
				refusal, seq = kvapi.SameVersion(old.version()), old.seq()
			case c == 0: // a repeat, say a retried replication
				sh.mu.Unlock()
				return v, s.Len(), s.durable(old.seq())
			}
		case dead && v.Compare(t.version()) <= 0:
			refusal, seq = kvapi.Stale(t.version(), true), t.seq()
		}
		if refusal != nil {
			sh.mu.Unlock()
			if err := s.durable(seq); err != nil {
				return kvapi.Version{}, s.Len(), err
			}
			return kvapi.Version{}, s.Len(), refusal
		}
		origin = unique.Make(v.Origin)
	}
	delta := cost(key, value)
	var bucket uint16
	switch {
	case live:
		delta -= cost(key, old.value)
		bucket = old.bucket()
	case dead:
		bucket = t.bucket()
	default:
		bucket = fineBucket(key)
	}
	growth := delta
	if dead {
		growth -= tombCost(key)
	}
	if !s.reserve(growth) {
		sh.mu.Unlock()
		return kvapi.Version{}, s.Len(), ErrFull
	}
	seq, err := s.log(op{kind: opPut, key: key, value: value, hlc: v.HLC, origin: v.Origin})
	if err != nil {
		s.used.Add(-growth)
		sh.mu.Unlock()
		return kvapi.Version{}, s.Len(), err
	}
	sh.m[key] = entry{value: value, slot: makeSlot(seq, bucket), hlc: v.HLC, origin: origin}
	switch {
	case live:
		s.digest.remove(bucket, key, old.version(), false)
	case dead:
		delete(sh.t, key)
		s.tombs.Add(-1)
		s.digest.remove(bucket, key, t.version(), true)
	}
	s.digest.add(bucket, key, v, false)
	s.bytes.Add(delta)
	n := s.count.Load()
	if !live {
		n = s.count.Add(1)
	}
	sh.mu.Unlock()
	return v, int(n), s.durable(seq)
}

// Item is what a store holds under a key.
type Item struct {
	Value   string        // compact JSON; "" for a tombstone or an unknown key
	Version kvapi.Version // zero for a key the store has not seen (or whose tombstone expired)
	Deleted bool          // a tombstone: the key was deleted at Version
}

// Lookup returns what the store holds under key: its value and version, its
// tombstone, or the zero Item. With a data file, it waits until the file
// holds what it returns, so a read never shows a write that a crash could
// still lose; it fails only when the file cannot be written (ErrDisk).
func (s *Store) Lookup(key string) (Item, error) {
	sh := s.shard(key)
	sh.mu.RLock()
	e, live := sh.m[key]
	var t tomb
	var dead bool
	if !live {
		t, dead = sh.t[key]
	}
	sh.mu.RUnlock()
	switch {
	case live:
		return Item{Value: e.value, Version: e.version()}, s.durable(e.seq())
	case dead:
		return Item{Version: t.version(), Deleted: true}, s.durable(t.seq())
	}
	return Item{}, nil
}

// Get returns the value stored under key.
func (s *Store) Get(key string) (string, bool) {
	it, err := s.Lookup(key)
	if err != nil || it.Deleted || it.Version.IsZero() {
		return "", false
	}
	return it.Value, true
}

// Deletion is the outcome of a delete.
type Deletion struct {
	// Found reports that a live value was removed (the seed's 200); false
	// means the key was not there (its 404).
	Found bool
	// Version is the key's version now: the tombstone's, or, after a
	// hand-off (a delete carrying the stored version itself), the version
	// removed; zero when the store knows nothing of the key.
	Version kvapi.Version
	Count   int // keys after the delete
}

// Delete removes key with a new version of the store's own (the seed's
// clients' delete), leaving a tombstone. It reports whether the key was
// there and returns the number of keys after the delete.
func (s *Store) Delete(key string) (bool, int) {
	d, _ := s.DeleteVersion(key, kvapi.Version{})
	return d.Found, d.Count
}

// DeleteVersion deletes key at version v. The zero v stamps a new version
// of the store's own: it removes a live key, leaving a tombstone. A delete
// with a version:
//   - newer than the live value's removes it and leaves a tombstone at v;
//   - equal to the live value's is a hand-off (rebalance moved the key to
//     its new owner and removes it from the old holder "if still at v"): it
//     removes the value and leaves no tombstone, since the key lives on;
//   - older than the live value's is a *kvapi.VersionConflict;
//   - on a key that is not live (unknown, or a tombstone) finds nothing, as
//     the seed's 404, but records the deletion: a tombstone at v, or the
//     tombstone raised to v when v is newer, so that an older put arriving
//     late (repair, a hint) cannot bring the key back.
//
// Errors are as for PutVersion.
func (s *Store) DeleteVersion(key string, v kvapi.Version) (Deletion, error) {
	if !v.IsZero() {
		if err := s.clock.Observe(v.HLC); err != nil {
			return Deletion{Count: s.Len()}, err
		}
	}
	sh := s.shard(key)
	sh.mu.Lock()
	old, live := sh.m[key]
	t, dead := sh.t[key]
	if !live && v.IsZero() { // the seed's delete of a missing key: nothing to record
		sh.mu.Unlock()
		d := Deletion{Count: s.Len()}
		if dead {
			d.Version = t.version()
			return d, s.durable(t.seq())
		}
		return d, nil
	}
	var origin unique.Handle[string]
	if v.IsZero() {
		v.HLC, origin = s.stamp(old.hlc)
		v.Origin = origin.Value()
	} else {
		origin = unique.Make(v.Origin)
	}
	now := s.now().UnixMilli()
	switch {
	case live:
		c := v.Compare(old.version())
		if c < 0 {
			sh.mu.Unlock()
			if err := s.durable(old.seq()); err != nil {
				return Deletion{Count: s.Len()}, err
			}
			return Deletion{Count: s.Len()}, kvapi.Stale(old.version(), false)
		}
		o := op{kind: opDelete, key: key}
		if c > 0 {
			o = op{kind: opTomb, key: key, hlc: v.HLC, origin: v.Origin, at: now}
		}
		seq, err := s.log(o)
		if err != nil {
			sh.mu.Unlock()
			return Deletion{Count: s.Len()}, err
		}
		delete(sh.m, key)
		s.digest.remove(old.bucket(), key, old.version(), false)
		s.bytes.Add(-cost(key, old.value))
		s.used.Add(-cost(key, old.value))
		if c > 0 {
			s.used.Add(tombCost(key))
			s.tombs.Add(1)
			sh.t[key] = tomb{slot: makeSlot(seq, old.bucket()), hlc: v.HLC, origin: origin, at: now}
			s.digest.add(old.bucket(), key, v, true)
		}
		n := s.count.Add(-1)
		sh.mu.Unlock()
		return Deletion{Found: true, Version: v, Count: int(n)}, s.durable(seq)
	case dead && v.Compare(t.version()) <= 0: // already deleted, at this version or a newer one
		sh.mu.Unlock()
		return Deletion{Version: t.version(), Count: s.Len()}, s.durable(t.seq())
	}
	bucket := fineBucket(key)
	if dead {
		bucket = t.bucket()
	} else if !s.reserve(tombCost(key)) {
		sh.mu.Unlock() // no room to remember the deletion; the key is not here anyway
		return Deletion{Count: s.Len()}, nil
	}
	seq, err := s.log(op{kind: opTomb, key: key, hlc: v.HLC, origin: v.Origin, at: now})
	if err != nil {
		if !dead {
			s.used.Add(-tombCost(key))
		}
		sh.mu.Unlock()
		return Deletion{Count: s.Len()}, err
	}
	if dead {
		s.digest.remove(bucket, key, t.version(), true)
	} else {
		s.tombs.Add(1)
	}
	sh.t[key] = tomb{slot: makeSlot(seq, bucket), hlc: v.HLC, origin: origin, at: now}
	s.digest.add(bucket, key, v, true)
	sh.mu.Unlock()
	return Deletion{Version: v, Count: s.Len()}, s.durable(seq)
}

// Reset removes every key and every tombstone.
func (s *Store) Reset() error {
	for i := range s.shards {
		s.shards[i].mu.Lock()
	}
	seq, err := s.log(op{kind: opReset})
	if err == nil {
		for i := range s.shards {
			sh := &s.shards[i]
			sh.m = make(map[string]entry)
			sh.t = make(map[string]tomb)
		}
		s.count.Store(0)
		s.bytes.Store(0)
		s.used.Store(0)
		s.tombs.Store(0)
		s.digest.reset()
	}
	for i := range s.shards {
		s.shards[i].mu.Unlock()
	}
	if err != nil {
		return err
	}
	return s.durable(seq)
}

// Len returns the number of keys.
func (s *Store) Len() int { return int(s.count.Load()) }

// Bytes returns the bytes the store accounts for its live keys.
func (s *Store) Bytes() int64 { return s.bytes.Load() }

// Tombstones returns the number of tombstones the store keeps.
func (s *Store) Tombstones() int { return int(s.tombs.Load()) }

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
				heap.Push(&h, seqPair{Pair{k, e.value}, e.seq()})
			case e.seq() > h[0].seq:
				h[0] = seqPair{Pair{k, e.value}, e.seq()}
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
