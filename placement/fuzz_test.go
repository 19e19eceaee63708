package placement

import (
	"slices"
	"strings"
	"testing"
)

// FuzzOwners: for any key and node list, Owners returns min(R, N) distinct
// valid indices, primary first and equal to Owner, and Explain agrees.
// Nodes are a comma-separated list (at most 64), duplicates allowed.
//
//	go test -run '^$' -fuzz FuzzOwners -fuzztime 30s ./placement/
func FuzzOwners(f *testing.F) {
	f.Add("key-7", "kv1,kv2,kv3", uint8(0), uint16(0), uint8(1))
	f.Add("", "kv1", uint8(1), uint16(1), uint8(3))
	f.Add("ключ", "a,b,a,,c", uint8(2), uint16(2), uint8(4))
	f.Add(strings.Repeat("z", 700), "kv1,kv2,kv10,kv9", uint8(2), uint16(64), uint8(2))
	f.Add("x", "", uint8(1), uint16(3), uint8(2))
	f.Fuzz(func(t *testing.T, key, list string, st uint8, vnodes uint16, replicas uint8) {
		var nodes []string
		if list != "" {
			nodes = strings.Split(list, ",")
		}
		if len(nodes) > 64 {
			nodes = nodes[:64]
		}
		cfg := Config{
			Strategy: Strategies()[int(st)%3],
			VNodes:   int(vnodes)%64 + 1,
			Replicas: int(replicas)%8 + 1,
		}
		tab, err := New(cfg, nodes)
		if err != nil {
			t.Fatal(err)
		}
		got := tab.Owners(key, make([]int, 0, 2))
		if want := min(cfg.Replicas, len(nodes)); len(got) != want {
			t.Fatalf("%+v over %q: %d owners, want %d", cfg, nodes, len(got), want)
		}
		seen := map[int]bool{}
		for _, i := range got {
			if i < 0 || i >= len(nodes) || seen[i] {
				t.Fatalf("%+v over %q: owners %v", cfg, nodes, got)
			}
			seen[i] = true
		}
		if len(nodes) == 0 {
			if tab.Owner(key) != -1 {
				t.Fatal("an owner among no nodes")
			}
			return
		}
		if tab.Owner(key) != got[0] {
			t.Fatalf("Owner %d, Owners %v", tab.Owner(key), got)
		}
		e := tab.Explain(key)
		var names []string
		for _, i := range got {
			names = append(names, nodes[i])
		}
		if !slices.Equal(e.Owners, names) || e.String() == "" {
			t.Fatalf("Explain owners %v, Owners %v", e.Owners, names)
		}
	})
}
