package node

import (
	"encoding/binary"
	"encoding/hex"
	"sort"
	"sync/atomic"

	"github.com/kvclass/kvclass/kvapi"
)

// The store keeps its anti-entropy digest (kvapi.Digest) up to date on
// every write, at kvapi.MaxBuckets buckets: each write removes the old
// entry's hash from its bucket and adds the new one's. Lanes are summed
// with atomic adds, so writers of different shards never wait for each
// other here. Any smaller power-of-two count folds from it: a key's bucket
// among n is its bucket among MaxBuckets mod n, since n divides MaxBuckets.
// So /digest costs O(MaxBuckets), whatever the number of keys.

// fineBucket returns key's bucket among kvapi.MaxBuckets.
func fineBucket(key string) uint16 {
	return uint16(kvapi.KeyHash(key) % kvapi.MaxBuckets)
}

// digest is the per-bucket lane sums of the store's entry hashes.
type digest struct {
	lanes [kvapi.MaxBuckets][4]atomic.Uint64
}

func (d *digest) add(bucket uint16, key string, v kvapi.Version, deleted bool) {
	h := kvapi.EntryHash(key, v, deleted)
	b := &d.lanes[bucket]
	for i := range b {
		b[i].Add(binary.BigEndian.Uint64(h[8*i:]))
	}
}

func (d *digest) remove(bucket uint16, key string, v kvapi.Version, deleted bool) {
	h := kvapi.EntryHash(key, v, deleted)
	b := &d.lanes[bucket]
	for i := range b {
		b[i].Add(-binary.BigEndian.Uint64(h[8*i:]))
	}
}

func (d *digest) reset() {
	for i := range d.lanes {
		for j := range d.lanes[i] {
			d.lanes[i][j].Store(0)
		}
	}
}

// fold returns the hashes of n buckets (a power of two up to MaxBuckets)
// in hex, as /digest answers them.
func (d *digest) fold(n int) []string {
	sums := make([][4]uint64, n)
	for i := range d.lanes {
		s := &sums[i%n]
		for j := range s {
			s[j] += d.lanes[i][j].Load()
		}
	}
	out := make([]string, n)
	var raw [32]byte
	for i, s := range sums {
		for j, lane := range s {
			binary.BigEndian.PutUint64(raw[8*j:], lane)
		}
		out[i] = hex.EncodeToString(raw[:])
	}
	return out
}

// Digest returns the store's digest over n buckets (a power of two up to
// kvapi.MaxBuckets; see kvapi.CheckBuckets).
func (s *Store) Digest(n int) kvapi.Digest {
	return kvapi.Digest{Buckets: n, Hashes: s.digest.fold(n)}
}

// BucketKeys lists the entries of bucket b among n (a power of two up to
// kvapi.MaxBuckets), live keys and tombstones, sorted by key: at most
// limit of them after the key after ("" for the first page), and whether
// more follow. It visits every key of the store, comparing each one's
// bucket, which it keeps, without hashing.
func (s *Store) BucketKeys(b, n int, after string, limit int) kvapi.KeyList {
	in := func(bucket uint16) bool { return int(bucket)%n == b }
	var keys []kvapi.KeyVersion
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.RLock()
		for k, e := range sh.m {
			if in(e.bucket()) && k > after {
				keys = append(keys, kvapi.KeyVersion{Key: k, Version: e.version()})
			}
		}
		for k, t := range sh.t {
			if in(t.bucket()) && k > after {
				keys = append(keys, kvapi.KeyVersion{Key: k, Version: t.version(), Deleted: true})
			}
		}
		sh.mu.RUnlock()
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].Key < keys[j].Key })
	list := kvapi.KeyList{Buckets: n, Bucket: b, Keys: keys}
	if len(keys) > limit {
		list.Keys, list.More = keys[:limit:limit], true
	}
	if list.Keys == nil {
		list.Keys = []kvapi.KeyVersion{}
	}
	return list
}
