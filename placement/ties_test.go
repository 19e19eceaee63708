package placement

import (
	"slices"
	"testing"
)

// Equal ring points and equal rendezvous scores cannot be found by brute
// force (64-bit hashes), so the tie rules are tested through seams: a ring
// built from crafted points (build's point function) and the rendezvous
// ranking over crafted scores (pickTop, which runs the same rankInsert as
// Owners).

// TestRingTies: on equal points the smaller name (byte order) comes first,
// whatever the node order, for the owner and for the replica walk.
func TestRingTies(t *testing.T) {
	// Every node has one point; "b" and "a" share point 100, "c" is at 200.
	points := map[string]uint64{"a": 100, "b": 100, "c": 200}
	point := func(name string, i int) uint64 { return points[name] }
	for _, nodes := range [][]string{{"a", "b", "c"}, {"c", "b", "a"}, {"b", "c", "a"}} {
		tab := build(Config{Strategy: Ring, VNodes: 1, Replicas: 3}, nodes, point)
		names := func(p uint64) []string {
			var out []string
			for _, i := range tab.ring.owners(p, len(nodes), 3, nil, nil) {
				out = append(out, nodes[i])
			}
			return out
		}
		cases := []struct {
			p    uint64
			want []string
		}{
			{0, []string{"a", "b", "c"}},          // before both: the tie, smaller name first
			{100, []string{"a", "b", "c"}},        // exactly on the tied point: "at or after"
			{101, []string{"c", "a", "b"}},        // past the tie
			{200, []string{"c", "a", "b"}},        // exactly on c
			{201, []string{"a", "b", "c"}},        // past the top: wraps to the tie
			{^uint64(0), []string{"a", "b", "c"}}, // the top itself
		}
		for _, c := range cases {
			if got := names(c.p); !slices.Equal(got, c.want) {
				t.Errorf("nodes %v, key point %d: owners %v, want %v", nodes, c.p, got, c.want)
			}
			if got := nodes[tab.ring.owner(c.p)]; got != c.want[0] {
				t.Errorf("nodes %v, key point %d: owner %s, want %s", nodes, c.p, got, c.want[0])
			}
		}
	}
}

// TestRingTiesByteOrder: the ring tie uses byte order, not CompareNames
// (kv10 < kv9 by bytes, though kv9 comes first in the node order).
func TestRingTiesByteOrder(t *testing.T) {
	point := func(string, int) uint64 { return 7 }
	tab := build(Config{Strategy: Ring, VNodes: 2, Replicas: 2}, []string{"kv9", "kv10"}, point)
	got := tab.ring.owners(0, 2, 2, nil, nil)
	if !slices.Equal(got, []int{1, 0}) {
		t.Errorf("owners %v, want [1 0] (kv10 before kv9 in byte order)", got)
	}
}

// TestRendezvousTies: equal scores rank the smaller name first, for the
// owner and every replica, in any node order.
func TestRendezvousTies(t *testing.T) {
	cases := []struct {
		nodes  []string
		scores []uint64
		want   []string // full ranking
	}{
		{[]string{"b", "a", "c"}, []uint64{5, 5, 5}, []string{"a", "b", "c"}},
		{[]string{"c", "b", "a"}, []uint64{9, 5, 5}, []string{"c", "a", "b"}},
		{[]string{"a", "b", "c"}, []uint64{1, 9, 9}, []string{"b", "c", "a"}},
		{[]string{"kv9", "kv10"}, []uint64{3, 3}, []string{"kv10", "kv9"}}, // byte order
		{[]string{"x", "y", "z", "w"}, []uint64{0, ^uint64(0), 0, ^uint64(0)}, []string{"w", "y", "x", "z"}},
	}
	for _, c := range cases {
		for r := 1; r <= len(c.nodes)+1; r++ {
			var got []string
			for _, i := range pickTop(c.nodes, c.scores, r, nil, nil) {
				got = append(got, c.nodes[i])
			}
			want := c.want[:min(r, len(c.want))]
			if !slices.Equal(got, want) {
				t.Errorf("nodes %v scores %v, %d replicas: %v, want %v", c.nodes, c.scores, r, got, want)
			}
		}
	}
}

// TestRendezvousOwnerMatchesRanking: the one-owner fast path and the ranking
// agree on real hashes.
func TestRendezvousOwnerMatchesRanking(t *testing.T) {
	nodes := []string{"kv1", "kv2", "kv3", "kv4", "kv5"}
	tab, _ := New(Config{Strategy: Rendezvous}, nodes)
	var sc scorer
	for i := range 500 {
		key := "key-" + itoa(i)
		scores := make([]uint64, len(nodes))
		for j, p := range tab.prefixes {
			scores[j] = sc.score(p, key)
		}
		if got, want := tab.Owner(key), pickTop(nodes, scores, 1, nil, nil)[0]; got != want {
			t.Fatalf("%s: Owner %d, ranking %d", key, got, want)
		}
	}
}
