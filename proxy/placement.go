package proxy

import "crypto/sha256"

// Owner returns the index of the node that owns key among n nodes under
// sharding: the SHA-256 of the key read as one big-endian number, mod n. It
// is the seed's formula, int(hashlib.sha256(key.encode()).hexdigest(), 16) % n,
// so kvclass places every key exactly where the seed's proxy did for the same
// node list. n must be positive.
func Owner(key string, n int) int {
	sum := sha256.Sum256([]byte(key))
	m := uint64(n)
	var r uint64
	for _, b := range sum {
		r = (r<<8 | uint64(b)) % m // r < m < 2^32, so r<<8|b never overflows
	}
	return int(r)
}
