package placement

import (
	"crypto/sha256"
	"encoding/binary"
)

// modIndex returns int(SHA-256(key)) mod n, the digest read as one
// big-endian 256-bit number: the seed's
// int(hashlib.sha256(key.encode()).hexdigest(), 16) % n. n must be in
// 1..2^32 (proxy.Owner's algorithm, moved here).
func modIndex(key string, n int) int {
	sum := sha256.Sum256([]byte(key))
	return modSum(&sum, n)
}

// modSum is modIndex over a computed digest.
func modSum(sum *[32]byte, n int) int {
	m := uint64(n)
	var r uint64
	// Horner's rule over 32-bit digits: r < m <= 2^32, so r<<32 | digit
	// never overflows.
	for i := 0; i < len(sum); i += 4 {
		r = (r<<32 | uint64(binary.BigEndian.Uint32(sum[i:]))) % m
	}
	return int(r)
}

// moduloOwners appends the key's r owners under modulo over n nodes:
// positions i, i+1, ... (mod n).
func moduloOwners(key string, n, r int, dst []int) []int {
	i := modIndex(key, n)
	for range r {
		dst = append(dst, i)
		if i++; i == n {
			i = 0
		}
	}
	return dst
}

// SeedOwner is the seed's rule on its own: the index of key's owner among n
// nodes under modulo, int(SHA-256(key)) mod n. n must be positive. It is
// what a Table of n nodes under modulo answers, for callers (and tests) that
// only have a node count.
func SeedOwner(key string, n int) int { return modIndex(key, n) }
