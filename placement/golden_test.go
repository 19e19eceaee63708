package placement

import (
	"encoding/json"
	"os"
	"slices"
	"testing"
)

// golden is testdata/golden.json, written by testdata/reference.py (an
// independent Python implementation of the formulas in doc.go):
//
//	python3 placement/testdata/reference.py > placement/testdata/golden.json
type golden struct {
	Keys  []string `json:"keys"`
	Lists []struct {
		Nodes []string `json:"nodes"`
		Cases []struct {
			Placement Strategy `json:"placement"`
			VNodes    int      `json:"vnodes"`
			Replicas  int      `json:"replicas"`
			Owners    [][]int  `json:"owners"`
		} `json:"cases"`
	} `json:"lists"`
}

// TestGolden: 1,000 keys (key-0..key-975 and 24 odd ones: empty, non-ASCII,
// a NUL byte, 300 to 1024 bytes long, keys that sit exactly on a ring point)
// over two node lists, under modulo, ring (1, 2 and 64 vnodes) and
// rendezvous, with 1, 2 and 3 replicas (the reference writes 3; the first
// r of them are the r-replica owners under every strategy) and with more
// replicas than nodes (capped).
func TestGolden(t *testing.T) {
	b, err := os.ReadFile("testdata/golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var g golden
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	if len(g.Keys) != 1000 || len(g.Lists) == 0 {
		t.Fatalf("golden.json holds %d keys and %d node lists; regenerate it with reference.py", len(g.Keys), len(g.Lists))
	}
	cases := 0
	for _, l := range g.Lists {
		for _, c := range l.Cases {
			if len(c.Owners) != len(g.Keys) {
				t.Fatalf("%s: %d owner rows for %d keys", c.Placement, len(c.Owners), len(g.Keys))
			}
			for _, r := range []int{1, 2, 3, len(l.Nodes) + 2} {
				tab, err := New(Config{Strategy: c.Placement, VNodes: c.VNodes, Replicas: r}, l.Nodes)
				if err != nil {
					t.Fatal(err)
				}
				want := min(r, c.Replicas, len(l.Nodes))
				if r > len(l.Nodes) && len(l.Nodes) > c.Replicas {
					continue // the golden rows hold only 3 owners
				}
				dst := make([]int, 0, r)
				bad := 0
				for k, key := range g.Keys {
					got := tab.Owners(key, dst)
					if !slices.Equal(got, c.Owners[k][:want]) {
						if bad++; bad <= 5 {
							t.Errorf("%s vnodes=%d replicas=%d over %v: owners of %q = %v, reference.py says %v",
								c.Placement, c.VNodes, r, l.Nodes, key, got, c.Owners[k][:want])
						}
					}
				}
				cases++
			}
		}
	}
	if cases < 30 {
		t.Errorf("only %d strategy/replica cases checked", cases)
	}
}
