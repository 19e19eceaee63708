package placement

import (
	"fmt"
	"slices"
	"sync"
	"testing"
)

// configs is every strategy with a few vnode and replica counts.
func configs() []Config {
	var out []Config
	for _, st := range Strategies() {
		for _, r := range []int{1, 2, 3, 5} {
			if st == Ring {
				out = append(out, Config{st, 1, r}, Config{st, 64, r})
			} else {
				out = append(out, Config{Strategy: st, Replicas: r})
			}
		}
	}
	return out
}

// TestOwnersProperties: R = min(replicas, N) distinct valid owners, the
// primary equals Owner, fewer replicas are a prefix of more, and a key is
// misplaced exactly off its owners.
func TestOwnersProperties(t *testing.T) {
	keys := append(seqKeys(1000), "", "ключ", string(make([]byte, 2000)))
	for _, cfg := range configs() {
		for _, n := range []int{1, 2, 3, 7, 20} {
			nodes := names("kv", n)
			tab := mustNew(t, cfg, nodes)
			more := mustNew(t, Config{cfg.Strategy, cfg.VNodes, cfg.Replicas + 1}, nodes)
			want := min(cfg.Replicas, n)
			if tab.Replicas() != want || tab.Len() != n {
				t.Fatalf("%+v over %d: Replicas %d, Len %d", cfg, n, tab.Replicas(), tab.Len())
			}
			dst := make([]int, 0, 8)
			for k, key := range keys {
				got := tab.Owners(key, dst)
				if len(got) != want {
					t.Fatalf("%+v over %d: %q has %d owners, want %d", cfg, n, key, len(got), want)
				}
				seen := map[int]bool{}
				for _, i := range got {
					if i < 0 || i >= n || seen[i] {
						t.Fatalf("%+v over %d: %q owners %v", cfg, n, key, got)
					}
					seen[i] = true
				}
				if got[0] != tab.Owner(key) {
					t.Fatalf("%+v: %q Owners[0] %d, Owner %d", cfg, key, got[0], tab.Owner(key))
				}
				if m := more.Owners(key, nil); !slices.Equal(m[:want], got) {
					t.Fatalf("%+v: %q owners %v with %d replicas, %v with one more", cfg, key, got, want, m)
				}
				for i, name := range nodes {
					if k%10 != 0 {
						break // Misplaced on every tenth key keeps -race fast
					}
					if tab.Misplaced(key, name) == seen[i] {
						t.Fatalf("%+v: Misplaced(%q, %s) = %v, owners %v", cfg, key, name, !seen[i], got)
					}
				}
				if !tab.Misplaced(key, "gone") {
					t.Fatalf("a key held by a non-member is not misplaced")
				}
			}
		}
	}
}

// TestNoNodes: no nodes means no owner, and nothing panics.
func TestNoNodes(t *testing.T) {
	for _, cfg := range configs() {
		tab := mustNew(t, cfg, nil)
		if tab.Owner("k") != -1 || len(tab.Owners("k", make([]int, 3))) != 0 || !tab.Misplaced("k", "kv1") || tab.Replicas() != 0 {
			t.Errorf("%+v: an empty table places keys", cfg)
		}
		if e := tab.Explain("k"); len(e.Owners) != 0 {
			t.Errorf("%+v: %+v", cfg, e)
		}
	}
}

// TestRingAndRendezvousIgnoreOrder: ring and rendezvous depend on the names
// only, modulo on the order too (it is positional, as in the seed).
func TestRingAndRendezvousIgnoreOrder(t *testing.T) {
	a := []string{"kv1", "kv2", "kv3", "kv10", "alice"}
	b := []string{"alice", "kv10", "kv3", "kv1", "kv2"}
	for _, cfg := range configs() {
		ta, tb := mustNew(t, cfg, a), mustNew(t, cfg, b)
		moved := 0
		for _, key := range seqKeys(500) {
			oa, ob := ta.Owners(key, nil), tb.Owners(key, nil)
			for j := range oa {
				if a[oa[j]] != b[ob[j]] {
					moved++
					break
				}
			}
		}
		if cfg.Strategy != Modulo && moved != 0 {
			t.Errorf("%+v: reordering the nodes moved %d keys", cfg, moved)
		}
		if cfg.Strategy == Modulo && moved == 0 {
			t.Errorf("%+v: reordering moved nothing under modulo", cfg)
		}
	}
}

// TestJoinAndLeaveMoveOnlyTheirShare: under ring and rendezvous a key whose
// owners change on a join gains the joiner, and on a leave had the leaver;
// no other key moves. (Modulo moves most keys: that is the lesson.)
func TestJoinAndLeaveMoveOnlyTheirShare(t *testing.T) {
	keys := seqKeys(2000)
	for _, cfg := range configs() {
		if cfg.Strategy == Modulo {
			continue
		}
		for _, c := range []struct {
			nodes  []string
			change Change
		}{
			{names("kv", 4), Change{Join: "kv5"}},
			{names("kv", 4), Change{Join: "kv25"}}, // lands among, not after
			{[]string{"kv2", "kv9"}, Change{Join: "kv3"}},
			{names("kv", 5), Change{Leave: "kv3"}},
			{names("kv", 5), Change{Leave: "kv1"}},
		} {
			after, err := c.change.Apply(c.nodes)
			if err != nil {
				t.Fatal(err)
			}
			tb, ta := mustNew(t, cfg, c.nodes), mustNew(t, cfg, after)
			moved := MovedKeys(keys, tb, ta)
			if len(moved) != Moved(keys, tb, ta) {
				t.Fatalf("MovedKeys and Moved disagree")
			}
			isMoved := map[string]bool{}
			for _, k := range moved {
				isMoved[k] = true
			}
			for _, k := range keys {
				before, now := ownerNames(tb, k), ownerNames(ta, k)
				changed := !sameSet(before, now)
				if changed != isMoved[k] {
					t.Fatalf("%+v %+v: %q before %v after %v, listed as moved: %v", cfg, c.change, k, before, now, isMoved[k])
				}
				if !changed {
					continue
				}
				if c.change.Join != "" && !slices.Contains(now, c.change.Join) || c.change.Leave != "" && !slices.Contains(before, c.change.Leave) {
					t.Fatalf("%+v %+v: %q moved from %v to %v", cfg, c.change, k, before, now)
				}
			}
		}
	}
}

// TestMovedCountsSetsNotRoles: with replicas, a key whose owners only swap
// roles has not moved; with one replica the same change moves it.
func TestMovedCountsSetsNotRoles(t *testing.T) {
	keys := seqKeys(1000)
	ab, ba := []string{"kv1", "kv2"}, []string{"kv2", "kv1"}
	if got := Moved(keys, mustNew(t, Config{Replicas: 2}, ab), mustNew(t, Config{Replicas: 2}, ba)); got != 0 {
		t.Errorf("2 replicas over two nodes, order swapped: %d moved, want 0", got)
	}
	if got := Moved(keys, mustNew(t, Config{}, ab), mustNew(t, Config{}, ba)); got != len(keys) {
		t.Errorf("1 replica over two nodes, order swapped: %d moved, want all %d", got, len(keys))
	}
}

// TestTableIsImmutable: New copies its input, Nodes returns a copy, and
// concurrent readers are safe (run under -race).
func TestTableIsImmutable(t *testing.T) {
	nodes := []string{"kv1", "kv2", "kv3"}
	tab := mustNew(t, Config{Strategy: Ring}, nodes)
	before := tab.Owner("key-7")
	nodes[0], nodes[1] = "x", "y"
	tab.Nodes()[2] = "z"
	if got := tab.Nodes(); !slices.Equal(got, []string{"kv1", "kv2", "kv3"}) || tab.Owner("key-7") != before || tab.Node(2) != "kv3" {
		t.Fatalf("the table changed: %v", got)
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			dst := make([]int, 0, 3)
			for i := range 2000 {
				tab.Owners(fmt.Sprint("key-", g, "-", i), dst)
			}
		})
	}
	wg.Wait()
}

// TestNoAllocations: the request path does not allocate (rendezvous for
// keys that fit its stack buffer).
func TestNoAllocations(t *testing.T) {
	nodes := names("kv", 40)
	for _, cfg := range []Config{{}, {Replicas: 3}, {Strategy: Ring}, {Strategy: Ring, Replicas: 3}, {Strategy: Rendezvous}, {Strategy: Rendezvous, Replicas: 3}} {
		tab := mustNew(t, cfg, nodes)
		dst := make([]int, 0, 3)
		if a := testing.AllocsPerRun(200, func() { tab.Owner("key-12345") }); a != 0 {
			t.Errorf("%+v: Owner allocates %.1f times", cfg, a)
		}
		if a := testing.AllocsPerRun(200, func() { tab.Owners("key-12345", dst) }); a != 0 {
			t.Errorf("%+v: Owners allocates %.1f times", cfg, a)
		}
		if a := testing.AllocsPerRun(200, func() { tab.Misplaced("key-12345", "kv7") }); a != 0 {
			t.Errorf("%+v: Misplaced allocates %.1f times", cfg, a)
		}
	}
}

func ownerNames(t *Table, key string) []string {
	var out []string
	for _, i := range t.Owners(key, nil) {
		out = append(out, t.Node(i))
	}
	return out
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}
