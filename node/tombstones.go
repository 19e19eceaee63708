package node

import "time"

// A tombstone keeps a deleted key's version for the store's tombstone time
// (Config.Tombstones), so that a put older than the delete, arriving late
// through read repair, a hint or anti-entropy, cannot bring the key back.
// Tombstones go when a sweep finds them expired: a tombstone lives at least
// its time, and at most its time plus the sweep interval. Until then reads,
// writes, /digest and /keys all see it, so they agree with each other.

// sweepInterval is how often a node sweeps expired tombstones: a tenth of
// their time, from one second to thirty.
func sweepInterval(ttl time.Duration) time.Duration {
	return min(max(ttl/10, time.Second), 30*time.Second)
}

// sweep removes the tombstones that have expired by the store's clock and
// returns how many it removed.
func (s *Store) sweep() int {
	cutoff := s.now().Add(-s.ttl).UnixMilli()
	removed := 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		for k, t := range sh.t {
			if t.at > cutoff {
				continue
			}
			if _, err := s.log(op{kind: opDelete, key: k}); err != nil {
				break // the data file failed; its tombstones stay, as in the file
			}
			delete(sh.t, k)
			s.digest.remove(t.bucket(), k, t.version(), true)
			s.used.Add(-tombCost(k))
			s.tombs.Add(-1)
			removed++
		}
		sh.mu.Unlock()
	}
	return removed
}

// sweepEvery sweeps expired tombstones every interval until stop is closed.
func (s *Store) sweepEvery(stop <-chan struct{}, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			s.sweep()
		}
	}
}
