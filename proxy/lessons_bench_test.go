package proxy

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/kvclass/kvclass/internal/testwait"
	"github.com/kvclass/kvclass/kvapi"
)

// BenchmarkRebalance measures a rebalance over loopback: 10 joined nodes
// hold 100,000 keys under modulo, an 11th joins, and the rebalance moves
// every misplaced key (about 91% of them) to its new owner, each with its
// version. It reports keys moved per second.
//
//	go test -run '^$' -bench Rebalance -benchtime 1x ./proxy/
func BenchmarkRebalance(b *testing.B) {
	const keys = 100_000
	for b.Loop() {
		b.StopTimer()
		p := startProxy(b, Config{Heartbeat: time.Second, MaxPerAddr: 100})
		nodes := joinNodes(b, p, "kv", 10)
		// Preload on each key's owner, as writes through the proxy would.
		clock := kvapi.NewClock(nil)
		t := p.table.Load()
		var buf [8]*backend
		for i := range keys {
			k := "k" + strconv.Itoa(i)
			owner := t.ownersOf(k, buf[:0])[0]
			for _, n := range nodes {
				if n.Name() == owner.name {
					n.Store().PutVersion(k, `"a value of a realistic length, about forty"`, kvapi.Version{HLC: clock.Now(), Origin: "proxy"})
				}
			}
		}
		joinNode(b, p.LocalURL(), "kv11")
		testwait.For(b, "kv11 up", func() bool { nb := p.table.Load().byName["kv11"]; return nb != nil && nb.up })
		b.StartTimer()
		start := time.Now()
		if r := admin(b, p, "/admin/rebalance", ""); r.status != 200 {
			b.Fatalf("rebalance: %d %s", r.status, r.body)
		}
		testwait.Within(b, 5*time.Minute, "the rebalance to finish", func() bool {
			c := p.class()
			return c.Rebalance != nil && !c.Rebalance.Running
		})
		took := time.Since(start)
		r := p.class().Rebalance
		if r.Moved != r.Total || r.Total < keys*85/100 {
			b.Fatalf("moved %d of %d", r.Moved, r.Total)
		}
		b.ReportMetric(float64(r.Moved)/took.Seconds(), "keys/s")
		b.ReportMetric(float64(r.Moved), "keys-moved")
	}
}

// BenchmarkAntiEntropy measures how long anti-entropy takes to refill a
// node restarted empty: 3 nodes under replication, 100,000 keys on two of
// them, the third empty; one round lists every node's keys and versions
// and copies each missing key. Convergence after a restart is at most the
// interval (30 s by default) plus this round.
//
//	go test -run '^$' -bench AntiEntropy -benchtime 1x ./proxy/
func BenchmarkAntiEntropy(b *testing.B) {
	const keys = 100_000
	for b.Loop() {
		b.StopTimer()
		p := startProxy(b, Config{Heartbeat: time.Second, Mode: Replication})
		nodes := joinNodes(b, p, "kv", 3)
		clock := kvapi.NewClock(nil)
		for i := range keys {
			v := kvapi.Version{HLC: clock.Now(), Origin: "proxy"}
			for _, n := range nodes[:2] {
				n.Store().PutVersion("k"+strconv.Itoa(i), `"a value of a realistic length, about forty"`, v)
			}
		}
		b.StartTimer()
		start := time.Now()
		rounds := 0
		for nodes[2].Store().Len() < keys {
			p.antiEntropyRound(context.Background())
			if rounds++; rounds > 3 {
				b.Fatalf("%d of %d keys after 3 rounds", nodes[2].Store().Len(), keys)
			}
		}
		took := time.Since(start)
		b.ReportMetric(took.Seconds(), "s-to-refill")
		b.ReportMetric(float64(rounds), "rounds")
		b.ReportMetric(float64(keys)/took.Seconds(), "keys/s")
	}
}
