package proxy

import (
	"crypto/sha256"
	"encoding/binary"
)

// Owner returns the index of the node that owns key among n nodes under
// sharding: the SHA-256 of the key read as one big-endian number, mod n. It
// is the seed's formula, int(hashlib.sha256(key.encode()).hexdigest(), 16) % n,
// so kvclass places every key exactly where the seed's proxy did for the same
// node list. n must be positive and below 2^32.
func Owner(key string, n int) int {
	sum := sha256.Sum256([]byte(key))
	m := uint64(n)
	var r uint64
	// Horner's rule over 32-bit digits: r < m <= 2^32, so r<<32 | digit
	// never overflows.
	for i := 0; i < len(sum); i += 4 {
		r = (r<<32 | uint64(binary.BigEndian.Uint32(sum[i:]))) % m
	}
	return int(r)
}
