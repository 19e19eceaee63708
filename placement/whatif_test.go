package placement

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
)

// TestWhatIf: the configured strategy at the top level, all three in
// by_placement, the JSON shape of GET /placement/whatif, and the ideal for a
// join and a leave.
func TestWhatIf(t *testing.T) {
	keys := seqKeys(12000)
	nodes := names("kv", 3)
	f, err := WhatIf(keys, nodes, Config{Strategy: Ring}, Change{Join: "kv4"})
	if err != nil {
		t.Fatal(err)
	}
	if len(f.ByPlacement) != 3 || f.Movement != f.ByPlacement[Ring] || f.Join != "kv4" {
		t.Fatalf("forecast %+v", f)
	}
	for st, m := range f.ByPlacement {
		if m.Keys != 12000 || m.Ideal != 0.25 || m.Fraction != float64(m.Moved)/12000 || m.Load.Mean != 3000 {
			t.Errorf("%s: %+v", st, m)
		}
		tab, _ := New(Config{Strategy: st}, nodes)
		after, _ := New(Config{Strategy: st}, append(nodes[:3:3], "kv4"))
		if want := Moved(keys, tab, after); m.Moved != want {
			t.Errorf("%s: moved %d, Moved says %d", st, m.Moved, want)
		}
	}
	if m := f.ByPlacement[Modulo]; math.Abs(m.Fraction-0.75) > 0.02 {
		t.Errorf("modulo 3→4 moved %.3f, want about 0.75", m.Fraction)
	}
	b, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	var shape map[string]any
	if err := json.Unmarshal(b, &shape); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"join", "keys", "moved", "fraction", "ideal", "load", "by_placement"} {
		if _, ok := shape[k]; !ok {
			t.Errorf("JSON %s lacks %q", b, k)
		}
	}
	if _, ok := shape["load"].(map[string]any)["max_over_mean"]; !ok {
		t.Errorf("JSON %s lacks load.max_over_mean", b)
	}
	by := shape["by_placement"].(map[string]any)
	for _, k := range []string{"modulo", "ring", "rendezvous"} {
		if _, ok := by[k]; !ok {
			t.Errorf("by_placement lacks %s: %s", k, b)
		}
	}

	f, err = WhatIf(keys, names("kv", 4), Config{Replicas: 2}, Change{Leave: "kv2"})
	if err != nil {
		t.Fatal(err)
	}
	if f.Ideal != 0.5 || f.Leave != "kv2" || f.Load.Mean != 8000 {
		t.Errorf("leave with 2 replicas of 4: %+v, want ideal 2/4", f.Movement)
	}
	for _, st := range []Strategy{Ring, Rendezvous} {
		// Exactly the keys kv2 held move: about R/N of them.
		if m := f.ByPlacement[st]; m.Fraction > 0.75 || m.Fraction < 0.33 {
			t.Errorf("%s leave: %+v", st, m)
		}
	}
}

// TestWhatIfEdges: no keys, no nodes, every replica, and the errors.
func TestWhatIfEdges(t *testing.T) {
	f, err := WhatIf(nil, names("kv", 2), Config{}, Change{Join: "kv3"})
	if err != nil || f.Keys != 0 || f.Fraction != 0 || f.Load.MaxOverMean != 0 {
		t.Fatalf("no keys: %+v, %v", f, err)
	}
	if _, err := json.Marshal(f); err != nil { // no NaN or Inf
		t.Fatal(err)
	}
	f, err = WhatIf(seqKeys(100), nil, Config{Strategy: Rendezvous}, Change{Join: "kv1"})
	if err != nil || f.Moved != 100 || f.Ideal != 1 || f.Load.MaxOverMean != 1 {
		t.Fatalf("first node: %+v, %v", f.Movement, err)
	}
	f, err = WhatIf(seqKeys(100), []string{"kv1"}, Config{}, Change{Leave: "kv1"})
	if err != nil || f.Moved != 100 || f.Ideal != 1 || f.Load.MaxOverMean != 0 {
		t.Fatalf("last node: %+v, %v", f.Movement, err)
	}
	// Every node holds every key: a joiner takes them all.
	f, err = WhatIf(seqKeys(100), names("kv", 3), Config{Replicas: 5}, Change{Join: "kv4"})
	if err != nil || f.Ideal != 1 || f.Moved != 100 || f.Load.MaxOverMean != 1 {
		t.Fatalf("replicas everywhere: %+v, %v", f.Movement, err)
	}
	for _, c := range []struct {
		cfg    Config
		change Change
		err    string
	}{
		{Config{}, Change{Join: "kv1"}, "already a member"},
		{Config{}, Change{Leave: "kv7"}, "not a member"},
		{Config{}, Change{}, "name a node"},
		{Config{VNodes: 5000}, Change{Join: "kv9"}, "vnodes must be"},
	} {
		if _, err := WhatIf(seqKeys(10), names("kv", 3), c.cfg, c.change); err == nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("%+v %+v: %v, want %q", c.cfg, c.change, err, c.err)
		}
	}
}

// TestMovedKeysOrder: MovedKeys lists keys in input order, and the parallel
// split gives the same answer as a plain loop.
func TestMovedKeysOrder(t *testing.T) {
	keys := seqKeys(20000)
	before, after := mustNew(t, Config{}, names("kv", 3)), mustNew(t, Config{}, names("kv", 4))
	got := MovedKeys(keys, before, after)
	var want []string
	for _, k := range keys {
		if before.Node(before.Owner(k)) != after.Node(after.Owner(k)) {
			want = append(want, k)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("%d moved keys, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("moved key %d is %s, want %s", i, got[i], want[i])
		}
	}
}
