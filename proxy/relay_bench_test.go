package proxy

import (
	"net/http"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/kvclass/kvclass/internal/testwait"
	"github.com/kvclass/kvclass/kvapi"
	"github.com/kvclass/kvclass/node"
)

// BenchmarkRelayVsDirect measures a GET through the proxy to one node that
// joined directly (the proxy dials its URL) and to one that joined through
// the relay (the proxy's calls ride a yamux stream over the node's one
// websocket): "seq" is one client at a time (latency), "par" 32 clients
// (throughput). Run both in one go so the ratio comes from one run:
//
//	go test -run '^$' -bench RelayVsDirect -benchtime 2s ./proxy/
func BenchmarkRelayVsDirect(b *testing.B) {
	for _, way := range []string{"direct", "relay"} {
		p := startProxy(b, Config{Heartbeat: time.Second})
		nd, _ := runNode(b, node.Config{Name: "kv1", Join: p.LocalURL(), Token: "class-code", Relay: way == "relay", StateDir: b.TempDir()})
		if way == "relay" {
			waitRelayed(b, p, "kv1")
		} else {
			waitUp(b, p, "kv1")
		}
		nd.Store().Put("k", `"a value of a realistic length, about forty"`)
		url := p.LocalURL() + "/get?key=k"
		get := func(c *fasthttp.Client, req *fasthttp.Request, resp *fasthttp.Response) {
			req.SetRequestURI(url)
			if err := c.DoTimeout(req, resp, 5*time.Second); err != nil || resp.StatusCode() != http.StatusOK {
				b.Fatalf("get: %v %d", err, resp.StatusCode())
			}
		}
		b.Run(way+"/seq", func(b *testing.B) {
			c := &fasthttp.Client{}
			req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
			for b.Loop() {
				get(c, req, resp)
			}
		})
		b.Run(way+"/par", func(b *testing.B) {
			c := &fasthttp.Client{MaxConnsPerHost: 64}
			b.SetParallelism(16) // 32 clients on 2 cores
			b.RunParallel(func(pb *testing.PB) {
				req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
				for pb.Next() {
					get(c, req, resp)
				}
			})
		})
	}
}

// waitUp waits until the proxy lists name up.
func waitUp(t testing.TB, p *Proxy, name string) {
	t.Helper()
	testwait.For(t, name+" up", func() bool { b := p.table.Load().byName[name]; return b != nil && b.up })
}

// BenchmarkFortyRelayedNodes reports what a class of 40 relayed nodes adds
// to the process, against the same 40 joined directly: goroutines and heap
// per node (proxy and node ends together: they share the process here).
//
//	go test -run '^$' -bench FortyRelayedNodes -benchtime 1x ./proxy/
func BenchmarkFortyRelayedNodes(b *testing.B) {
	const n = 40
	measure := func(relay bool) (goroutines int, heap uint64) {
		p := startProxy(b, Config{Heartbeat: time.Second})
		settle := func() (int, uint64) {
			var ms runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&ms)
			return runtime.NumGoroutine(), ms.HeapInuse
		}
		g0, h0 := settle()
		var names []string
		for i := 1; i <= n; i++ {
			name := "s" + strconv.Itoa(i)
			names = append(names, name)
			runNode(b, node.Config{Name: name, Join: p.LocalURL(), Token: "class-code", Relay: relay, StateDir: b.TempDir()})
		}
		if relay {
			waitRelayed(b, p, names...)
		} else {
			for _, name := range names {
				waitUp(b, p, name)
			}
		}
		// Every node serves a call, so that each relay has its streams open.
		served := map[string]bool{}
		for i := 0; len(served) < n && i < 4000; i++ {
			if r := put(b, p.LocalURL(), "k"+strconv.Itoa(i), `1`); r.status == http.StatusOK {
				served[r.header.Get(kvapi.NodeHeader)] = true
			}
		}
		if len(served) < n {
			b.Fatalf("%d of %d nodes served a put", len(served), n)
		}
		g1, h1 := settle()
		return g1 - g0, h1 - h0
	}
	for b.Loop() {
		dg, dh := measure(false)
		rg, rh := measure(true)
		b.ReportMetric(float64(dg)/n, "goroutines/direct-node")
		b.ReportMetric(float64(rg)/n, "goroutines/relayed-node")
		b.ReportMetric(float64(dh)/n/1024, "heap-KiB/direct-node")
		b.ReportMetric(float64(rh)/n/1024, "heap-KiB/relayed-node")
	}
}
