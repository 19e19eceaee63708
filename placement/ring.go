package placement

import (
	"cmp"
	"slices"
)

// ring is the consistent-hashing circle: every node's points, sorted. Equal
// points sort by name (byte order), then by node index, then by vnode, so the
// first point at or after a key's is the one the rule names.
type ring struct {
	points []uint64   // sorted ascending
	slots  []ringSlot // slots[i] is whose points[i] is
}

// ringSlot is the node and virtual-node number of one ring point.
type ringSlot struct {
	node  int32 // index into the table's nodes
	vnode int32 // i in h(name + "#" + i)
}

// buildRing places vnodes points per node at point(name, i).
func buildRing(nodes []string, vnodes int, point func(name string, i int) uint64) ring {
	type entry struct {
		p    uint64
		slot ringSlot
	}
	es := make([]entry, 0, len(nodes)*vnodes)
	for n, name := range nodes {
		for i := range vnodes {
			es = append(es, entry{point(name, i), ringSlot{int32(n), int32(i)}})
		}
	}
	slices.SortFunc(es, func(a, b entry) int {
		if c := cmp.Compare(a.p, b.p); c != 0 {
			return c
		}
		if c := cmp.Compare(nodes[a.slot.node], nodes[b.slot.node]); c != 0 {
			return c
		}
		if c := cmp.Compare(a.slot.node, b.slot.node); c != 0 {
			return c
		}
		return cmp.Compare(a.slot.vnode, b.slot.vnode)
	})
	r := ring{points: make([]uint64, len(es)), slots: make([]ringSlot, len(es))}
	for i, e := range es {
		r.points[i], r.slots[i] = e.p, e.slot
	}
	return r
}

// search returns the index of the first point at or after p, wrapping to 0
// past the top. The ring must not be empty.
func (r *ring) search(p uint64) int {
	i, _ := slices.BinarySearch(r.points, p)
	if i == len(r.points) {
		i = 0
	}
	return i
}

// owner returns the node index of the first point at or after p.
func (r *ring) owner(p uint64) int {
	return int(r.slots[r.search(p)].node)
}

// owners appends the first want distinct nodes met clockwise from p, and
// calls at (when not nil) with the ring index of each owner's first point.
// want must be at most the node count n.
func (r *ring) owners(p uint64, n, want int, dst []int, at func(int)) []int {
	i := r.search(p)
	if want == 1 {
		if at != nil {
			at(i)
		}
		return append(dst, int(r.slots[i].node))
	}
	// seen marks nodes taken; on the stack for up to 512 nodes.
	var small [8]uint64
	seen := small[:]
	if words := (n + 63) / 64; words > len(small) {
		seen = make([]uint64, words)
	}
	for got, steps := 0, 0; got < want && steps < len(r.points); steps++ {
		node := r.slots[i].node
		if w, b := node/64, uint64(1)<<(node%64); seen[w]&b == 0 {
			seen[w] |= b
			dst = append(dst, int(node))
			got++
			if at != nil {
				at(i)
			}
		}
		if i++; i == len(r.points) {
			i = 0
		}
	}
	return dst
}
