package proxy

import (
	"context"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kvclass/kvclass/internal/testwait"
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
	testwait.For(b, "slow nodes up", func() bool { return len(upOf(p.table.Load().nodes)) == 3 })
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

// BenchmarkChurnLatency measures the proxy's request latency under steady
// load, first quiet, then while 50 nodes join and leave over and over. The
// routing table is swapped atomically on every change, so requests should
// barely notice: the goal is a churn p99 within 2x of the quiet p99.
func BenchmarkChurnLatency(b *testing.B) {
	for b.Loop() {
		nodes, _ := startNodes(b, 3)
		p := startProxy(b, Config{File: configFor(Sharding, nodes), Heartbeat: 200 * time.Millisecond})
		for i := range 1000 {
			put(b, p.LocalURL(), "key-"+strconv.Itoa(i), `"v"`)
		}
		const window = 2 * time.Second
		quiet := measure(b, p.LocalURL(), window, nil)
		var changes int64
		churn := measure(b, p.LocalURL(), window, func(ctx context.Context) {
			changes = churnNodes(ctx, b, p.LocalURL(), 50)
		})
		b.ReportMetric(ms(quiet.p50), "quiet-p50-ms")
		b.ReportMetric(ms(quiet.p99), "quiet-p99-ms")
		b.ReportMetric(ms(churn.p50), "churn-p50-ms")
		b.ReportMetric(ms(churn.p99), "churn-p99-ms")
		b.ReportMetric(float64(changes), "joins+leaves")
		b.ReportMetric(float64(quiet.n+churn.n)/(2*window.Seconds()), "req/s")
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

type latencies struct {
	p50, p99 time.Duration
	n        int
}

// measure runs 8 clients doing GETs for window, with background running
// alongside, and returns the latency percentiles.
func measure(b *testing.B, base string, window time.Duration, background func(ctx context.Context)) latencies {
	ctx, cancel := context.WithTimeout(context.Background(), window)
	defer cancel()
	var bg sync.WaitGroup
	if background != nil {
		bg.Add(1)
		go func() { defer bg.Done(); background(ctx) }()
	}
	var mu sync.Mutex
	var all []time.Duration
	var wg sync.WaitGroup
	for c := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 2}}
			var mine []time.Duration
			for i := c; ctx.Err() == nil; i += 8 {
				start := time.Now()
				resp, err := hc.Get(base + "/get?key=key-" + strconv.Itoa(i%1000))
				if err != nil {
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				mine = append(mine, time.Since(start))
			}
			mu.Lock()
			all = append(all, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	bg.Wait()
	slices.Sort(all)
	if len(all) == 0 {
		b.Fatal("no requests completed")
	}
	return latencies{p50: all[len(all)/2], p99: all[len(all)*99/100], n: len(all)}
}

// churnNodes has n nodes join and leave the proxy until ctx ends, and
// returns how many joins and leaves there were.
func churnNodes(ctx context.Context, b *testing.B, proxyURL string, n int) int64 {
	var changes atomic.Int64
	var wg sync.WaitGroup
	for w := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				nd, err := node.New(node.Config{Name: "churn" + strconv.Itoa(w), Join: proxyURL, Token: "class-code"})
				if err != nil {
					b.Error(err)
					return
				}
				nctx, stop := context.WithCancel(context.Background())
				if err := nd.Start(nctx); err != nil {
					stop()
					continue // a name still held by its last session: try again
				}
				select {
				case <-ctx.Done():
				case <-time.After(time.Duration(100+rand.N(200)) * time.Millisecond):
				}
				stop()
				nd.Wait()
				changes.Add(2)
			}
		}()
	}
	wg.Wait()
	return changes.Load()
}
