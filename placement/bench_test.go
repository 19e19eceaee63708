package placement

import (
	"fmt"
	"testing"
)

// BenchmarkOwner: the proxy's per-request lookup, per strategy, at 3 and
// 200 nodes.
//
//	go test -run '^$' -bench 'Owner' -benchmem ./placement/
func BenchmarkOwner(b *testing.B) {
	keys := seqKeys(1024)
	for _, cfg := range []Config{{Strategy: Modulo}, {Strategy: Ring, VNodes: 64}, {Strategy: Rendezvous}} {
		for _, n := range []int{3, 200} {
			tab := mustNew(b, cfg, names("kv", n))
			b.Run(fmt.Sprintf("%s/nodes=%d", cfg.Strategy, n), func(b *testing.B) {
				b.ReportAllocs()
				for i := 0; b.Loop(); i++ {
					tab.Owner(keys[i%len(keys)])
				}
			})
		}
	}
}

// BenchmarkOwners: three owners per key (a replicated put or a quorum read).
func BenchmarkOwners(b *testing.B) {
	keys := seqKeys(1024)
	for _, cfg := range []Config{{Strategy: Modulo, Replicas: 3}, {Strategy: Ring, Replicas: 3}, {Strategy: Rendezvous, Replicas: 3}} {
		for _, n := range []int{3, 200} {
			tab := mustNew(b, cfg, names("kv", n))
			dst := make([]int, 0, 3)
			b.Run(fmt.Sprintf("%s/nodes=%d", cfg.Strategy, n), func(b *testing.B) {
				b.ReportAllocs()
				for i := 0; b.Loop(); i++ {
					dst = tab.Owners(keys[i%len(keys)], dst)
				}
			})
		}
	}
}

// BenchmarkNew: building a table on a membership change (200 nodes).
func BenchmarkNew(b *testing.B) {
	nodes := names("kv", 200)
	for _, cfg := range []Config{{Strategy: Modulo}, {Strategy: Ring, VNodes: 64}, {Strategy: Ring, VNodes: 1024}, {Strategy: Rendezvous}} {
		b.Run(fmt.Sprintf("%s/vnodes=%d", cfg.Strategy, cfg.VNodes), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				mustNew(b, cfg, nodes)
			}
		})
	}
}

// BenchmarkWhatIf: GET /placement/whatif over 100,000 keys (all three
// strategies, one join).
//
//	go test -run '^$' -bench WhatIf -benchtime 3x ./placement/
func BenchmarkWhatIf(b *testing.B) {
	keys := seqKeys(100_000)
	for _, n := range []int{30, 200} {
		nodes := names("kv", n)
		b.Run(fmt.Sprintf("nodes=%d", n), func(b *testing.B) {
			for b.Loop() {
				if _, err := WhatIf(keys, nodes, Config{}, Change{Join: "new"}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
