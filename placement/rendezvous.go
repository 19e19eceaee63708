package placement

import "slices"

// ahead reports whether node a with score sa ranks ahead of node b with
// score sb: the higher score, then the smaller name (byte order), then the
// smaller index (only duplicate names get that far).
func ahead(names []string, sa uint64, a int, sb uint64, b int) bool {
	if sa != sb {
		return sa > sb
	}
	if names[a] != names[b] {
		return names[a] < names[b]
	}
	return a < b
}

// rankInsert offers node i with score s to the ranking idx[:n], scores[:n]
// (best first; len(idx) == len(scores) is the most it keeps) and returns its
// new length.
func rankInsert(names []string, idx []int, scores []uint64, n, i int, s uint64) int {
	if n == len(idx) {
		if n == 0 || !ahead(names, s, i, scores[n-1], idx[n-1]) {
			return n
		}
	} else {
		n++
	}
	j := n - 1
	for j > 0 && ahead(names, s, i, scores[j-1], idx[j-1]) {
		idx[j], scores[j] = idx[j-1], scores[j-1]
		j--
	}
	idx[j], scores[j] = i, s
	return n
}

// pickTop appends the want best of names under scores (highest score first,
// ties by smaller name): the rendezvous rule over given scores, ranking in
// scratch when it has room. It is the seam the tie tests drive with crafted
// scores, and the what-if's rendezvous path; Owners runs the same
// rankInsert over real hashes.
func pickTop(names []string, scores []uint64, want int, dst []int, scratch []uint64) []int {
	want = min(want, len(names))
	if want <= 0 {
		return dst
	}
	base := len(dst)
	dst = slices.Grow(dst, want)[:base+want]
	if cap(scratch) < want {
		scratch = make([]uint64, want)
	}
	n := 0
	for i, s := range scores {
		n = rankInsert(names, dst[base:], scratch[:want], n, i, s)
	}
	return dst[:base+n]
}

// rendezvousOwner returns the index of the node with the largest
// h(name + "\x00" + key). prefixes[i] is names[i] + "\x00".
func rendezvousOwner(names []string, prefixes [][]byte, key string) int {
	var sc scorer
	best, bestScore := -1, uint64(0)
	for i, p := range prefixes {
		if s := sc.score(p, key); best < 0 || ahead(names, s, i, bestScore, best) {
			best, bestScore = i, s
		}
	}
	return best
}

// rendezvousOwners appends the key's want owners under rendezvous, best
// first. want must be in 1..len(names).
func rendezvousOwners(names []string, prefixes [][]byte, key string, want int, dst []int) []int {
	if want == 1 {
		return append(dst, rendezvousOwner(names, prefixes, key))
	}
	var sc scorer
	var small [64]uint64
	scores := small[:]
	if want > len(small) {
		scores = make([]uint64, want)
	}
	base := len(dst)
	dst = slices.Grow(dst, want)[:base+want]
	n := 0
	for i, p := range prefixes {
		n = rankInsert(names, dst[base:], scores[:want], n, i, sc.score(p, key))
	}
	return dst[:base+n]
}
