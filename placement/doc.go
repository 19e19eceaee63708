// Package placement decides where keys live: which of the proxy's nodes own a
// key under one of three strategies, with or without replicas, and what a
// membership change would move. It is a leaf of pure functions over node
// names; up/down never enters it (a down node keeps its points and its place).
//
// Every formula is exact, so a slide, a python3 one-liner and `kvclass where`
// agree. Let SHA-256(s) be the digest of the UTF-8 bytes of s, and
//
//	h(s) = the first 8 bytes of SHA-256(s), as a big-endian unsigned 64-bit number
//
// nodes the membership in node order (config nodes in file order, then joined
// nodes by CompareNames) and N = len(nodes).
//
//   - Modulo (the seed's rule, the default): owner = nodes[int(SHA-256(key)) mod N],
//     the digest read as one big-endian 256-bit number.
//     Python: int(hashlib.sha256(k.encode()).hexdigest(), 16) % n
//   - Ring (consistent hashing): node x has VNodes points at h(x + "#" + str(i))
//     for i = 0..VNodes-1 (i in decimal); the key sits at h(key); its owner is
//     the node of the first point at or after h(key), wrapping past the top.
//     Equal points: the smaller name (byte order) comes first.
//   - Rendezvous (highest random weight): owner = the node with the largest
//     h(x + "\x00" + key); equal scores: the smaller name (byte order) wins.
//
// With R replicas (capped at N) a key has R distinct owners, the first being
// its primary: modulo takes positions i, i+1, ... (mod N) from i = int(SHA-256(key))
// mod N; ring the first R distinct nodes met clockwise from h(key); rendezvous
// the R highest scores, highest first (equal scores: smaller name first).
//
// testdata/reference.py is an independent Python implementation of all three;
// the golden file it wrote pins this package to it.
//
// A Table is built once per membership or configuration change and is then
// read-only and safe for concurrent use. Owner and Owners sit on the proxy's
// request path and do not allocate when dst has room (ring with replicas:
// up to 512 nodes; rendezvous: keys up to about 480 bytes, up to 64
// replicas). Ring is a binary search over a sorted point slice; rendezvous
// hashes the key once per node (about 20 µs at 200 nodes).
package placement
