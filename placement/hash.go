package placement

import (
	"crypto/sha256"
	"encoding/binary"
	"strconv"
)

// h returns the first 8 bytes of SHA-256(s) as a big-endian uint64: the
// position of s on the ring and the unit of a rendezvous score.
func h(s string) uint64 {
	sum := sha256.Sum256([]byte(s))
	return binary.BigEndian.Uint64(sum[:8])
}

// hBytes is h over bytes.
func hBytes(b []byte) uint64 {
	sum := sha256.Sum256(b)
	return binary.BigEndian.Uint64(sum[:8])
}

// vnodePoint is the ring point of node name's i-th virtual node:
// h(name + "#" + decimal i).
func vnodePoint(name string, i int) uint64 {
	var buf [64]byte
	b := append(buf[:0], name...)
	b = append(b, '#')
	return hBytes(strconv.AppendInt(b, int64(i), 10))
}

// scoreBufLen is the stack buffer a rendezvous score is hashed from; a node
// prefix and key longer than this take one heap buffer per lookup.
const scoreBufLen = 512

// scorer hashes name + "\x00" + key for one key over many nodes, reusing
// one buffer. The zero value is ready; keep it on the caller's stack.
type scorer struct {
	buf [scoreBufLen]byte
	big []byte
}

// score returns h(prefix + key), where prefix is a node's name + "\x00".
func (s *scorer) score(prefix []byte, key string) uint64 {
	n := len(prefix) + len(key)
	var b []byte
	if n <= len(s.buf) {
		b = s.buf[:0]
	} else {
		if cap(s.big) < n {
			s.big = make([]byte, 0, n+64)
		}
		b = s.big[:0]
	}
	b = append(b, prefix...)
	b = append(b, key...)
	return hBytes(b)
}
