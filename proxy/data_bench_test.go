package proxy

import (
	"net"
	"strconv"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/kvclass/kvclass/internal/testwait"
)

// BenchmarkDataGet measures the proxy's request path, a GET over 1,000
// keys on 3 nodes in sharding, called directly (no client connection):
// CPU and allocations per request of the proxy's own work, plus its call
// to a real node over loopback. Profile it with -cpuprofile and focus on
// proxy.(*Proxy).data; docs/BENCHMARKS.md has what the time goes to.
//
//	go test -run '^$' -bench DataGet -benchmem -cpuprofile /tmp/data.pprof ./proxy/
func BenchmarkDataGet(b *testing.B) {
	nodes, _ := startNodes(b, 3)
	p := startProxy(b, Config{File: configFor(Sharding, nodes)})
	testwait.For(b, "nodes up", func() bool { return len(upOf(p.table.Load().nodes)) == 3 })
	const keys = 1000
	for i := range keys {
		if r := put(b, p.LocalURL(), "key-"+strconv.Itoa(i), `"value-`+strconv.Itoa(i)+`"`); r.status != 200 {
			b.Fatalf("preload: %d %s", r.status, r.body)
		}
	}
	reqs := make([]fasthttp.Request, keys)
	for i := range reqs {
		reqs[i].SetRequestURI("/get?key=key-" + strconv.Itoa(i))
		reqs[i].Header.SetHost("proxy")
	}
	addr := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 50000}
	var ctx fasthttp.RequestCtx
	i := 0
	for b.Loop() {
		ctx.Init(&reqs[i%keys], addr, nil)
		p.data(&ctx)
		if ctx.Response.StatusCode() != 200 {
			b.Fatalf("%d %s", ctx.Response.StatusCode(), ctx.Response.Body())
		}
		i++
	}
}
