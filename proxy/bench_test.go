package proxy

import (
	"context"
	"net"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/kvclass/kvclass/node"
	"github.com/kvclass/kvclass/registry"
)

// slowNode serves a real node's handler, answering every request delay late.
func slowNode(tb testing.TB, name string, delay time.Duration) string {
	tb.Helper()
	n, err := node.New(node.Config{Name: name})
	if err != nil {
		tb.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(delay)
		n.Handler().ServeHTTP(w, r)
	})}
	go srv.Serve(ln)
	tb.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String()
}

// BenchmarkReplicatedPutSlowNodes measures a replication put over 3 nodes
// that each answer 50 ms late. The proxy writes to all of them at once, so
// a put takes about one node's 50 ms, not the 150 ms of the seed's
// one-after-another calls.
func BenchmarkReplicatedPutSlowNodes(b *testing.B) {
	const delay = 50 * time.Millisecond
	f := &File{Mode: Replication, WriteQuorum: 3}
	for i := 1; i <= 3; i++ {
		name := "kv" + strconv.Itoa(i)
		f.Nodes = append(f.Nodes, registry.Static{Name: name, URL: slowNode(b, name, delay)})
	}
	p, err := New(Config{File: f, Token: "c", AdminToken: "a", HealthInterval: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer func() { cancel(); p.Wait() }()
	if err := p.Start(ctx); err != nil {
		b.Fatal(err)
	}
	waitFor(b, "slow nodes up", func() bool { return len(p.table.Load().upNodes()) == 3 })
	var total time.Duration
	i := 0
	for b.Loop() {
		r := put(b, p.LocalURL(), "k"+strconv.Itoa(i), `1`)
		if r.status != 200 {
			b.Fatalf("%d %s", r.status, r.body)
		}
		total += r.took
		i++
	}
	b.ReportMetric(float64(total.Milliseconds())/float64(i), "ms/put")
	b.ReportMetric(float64(delay.Milliseconds()), "ms-node-delay")
}
