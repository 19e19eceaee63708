package placement

import (
	"fmt"
	"math"
	"strings"
	"testing"
)

// TestMovementTable measures what a join moves and how evenly keys spread,
// per strategy, over key-0..key-99999 (20,000 keys under -race or -short),
// for 3→4, 10→11 and 30→31 nodes (kv1..kvN, kvN+1 joins), and asserts the
// lesson's bounds. The table it logs (-v) is in docs/BENCHMARKS.md:
//
//	go test -run TestMovementTable -v ./placement/
func TestMovementTable(t *testing.T) {
	nkeys := 100_000
	if raceEnabled || testing.Short() {
		nkeys = 20_000
	}
	keys := seqKeys(nkeys)
	// The what-if numbers are deterministic (fixed names and keys), so the
	// bounds cannot flake; the slack covers the smaller key set.
	tol := 0.01
	if nkeys < 100_000 {
		tol = 0.02
	}
	type row struct {
		name string
		cfg  Config
	}
	rows := []row{
		{"modulo", Config{Strategy: Modulo}},
		{"ring, 1 vnode", Config{Strategy: Ring, VNodes: 1}},
		{"ring, 64 vnodes", Config{Strategy: Ring, VNodes: 64}},
		{"rendezvous", Config{Strategy: Rendezvous}},
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d keys (key-0..key-%d), nodes kv1..kvN, kvN+1 joins\n\n", nkeys, nkeys-1)
	b.WriteString("| nodes | strategy | keys moved | ideal 1/(N+1) | moved / ideal | max/mean load after |\n")
	b.WriteString("| --- | --- | ---: | ---: | ---: | ---: |\n")
	for _, n := range []int{3, 10, 30} {
		nodes := names("kv", n)
		after, err := Change{Join: fmt.Sprintf("kv%d", n+1)}.Apply(nodes)
		if err != nil {
			t.Fatal(err)
		}
		ideal := 1 / float64(n+1)
		load := map[string]float64{}
		for _, r := range rows {
			m := Measure(keys, mustNew(t, r.cfg, nodes), mustNew(t, r.cfg, after))
			load[r.name] = m.Load.MaxOverMean
			fmt.Fprintf(&b, "| %d→%d | %s | %.1f%% | %.1f%% | %.2f | %.2f |\n",
				n, n+1, r.name, 100*m.Fraction, 100*m.Ideal, m.Fraction/m.Ideal, m.Load.MaxOverMean)
			if m.Keys != nkeys || math.Abs(m.Ideal-ideal) > 1e-12 {
				t.Errorf("%d→%d %s: %d keys, ideal %v; want %d, %v", n, n+1, r.name, m.Keys, m.Ideal, nkeys, ideal)
			}
			switch r.name {
			case "modulo":
				// A key stays only when int(SHA-256) mod N = mod N+1:
				// about 1/(N+1) of them.
				if want := float64(n) / float64(n+1); math.Abs(m.Fraction-want) > tol {
					t.Errorf("%d→%d modulo moved %.3f, want about N/(N+1) = %.3f", n, n+1, m.Fraction, want)
				}
				if m.Load.MaxOverMean > 1+5*tol {
					t.Errorf("%d→%d modulo: max/mean %.3f, want near 1", n, n+1, m.Load.MaxOverMean)
				}
			case "ring, 64 vnodes", "rendezvous":
				if m.Fraction > 1.5*ideal || m.Fraction < ideal/1.5 {
					t.Errorf("%d→%d %s moved %.3f, want within 1.5x of the ideal %.3f", n, n+1, r.name, m.Fraction, ideal)
				}
				limit := 1.5
				if r.name == "rendezvous" {
					limit = 1 + 5*tol
				}
				if m.Load.MaxOverMean > limit {
					t.Errorf("%d→%d %s: max/mean %.3f, want at most %.2f", n, n+1, r.name, m.Load.MaxOverMean, limit)
				}
			}
		}
		// One point per node leaves arcs of very different lengths.
		if n == 30 && (load["ring, 1 vnode"] < 2 || load["ring, 1 vnode"] < 1.5*load["ring, 64 vnodes"]) {
			t.Errorf("30→31 ring with 1 vnode: max/mean %.2f (64 vnodes: %.2f); want it visibly unbalanced (≥ 2)",
				load["ring, 1 vnode"], load["ring, 64 vnodes"])
		}
	}
	t.Log("\n" + b.String())
}
