// Command bareproxy is the floor of a Go proxy on this machine: the
// kvclass proxy's data path (a key from the query, its owner by SHA-256
// mod N, one fasthttp HostClient per node, the answer relayed with the
// proxy's extra headers) and nothing else: no feed, no limits beyond the
// key, no registry. It serves with net/http (the kvclass proxy's server
// before issue 17) or with fasthttp's server (its data path since), so
// bench/run.sh's "floor" phase shows what each server costs per request
// before any kvclass logic runs.
//
//	bareproxy -server nethttp|fasthttp -addr 127.0.0.1:P -nodes 127.0.0.1:A,127.0.0.1:B,... [-debug ADDR]
package main

import (
	"crypto/sha256"
	"encoding/binary"
	"flag"
	"fmt"
	"log"
	"net/http"
	"net/http/pprof"
	"runtime"
	"strings"
	"time"

	"github.com/valyala/fasthttp"
)

var (
	nosniff   = []string{"nosniff"}
	sandboxed = []string{"default-src 'none'; sandbox"}
)

type backend struct {
	name string
	hc   *fasthttp.HostClient
}

func main() {
	server := flag.String("server", "nethttp", "nethttp or fasthttp")
	addr := flag.String("addr", "127.0.0.1:7100", "address to listen on")
	nodes := flag.String("nodes", "", "comma-separated node addresses, host:port")
	debug := flag.String("debug", "", "serve pprof and /debug/memstats on this address")
	flag.Parse()
	if *debug != "" {
		go serveDebug(*debug)
	}
	var backends []backend
	for i, a := range strings.Split(*nodes, ",") {
		backends = append(backends, backend{name: "kv" + string(rune('1'+i)), hc: &fasthttp.HostClient{
			Addr:                   a,
			MaxConns:               1024,
			MaxIdleConnDuration:    90 * time.Second,
			ReadTimeout:            2 * time.Second,
			WriteTimeout:           2 * time.Second,
			MaxConnWaitTimeout:     2 * time.Second,
			DisablePathNormalizing: true,
		}})
	}
	if len(backends) == 0 || backends[0].hc.Addr == "" {
		log.Fatal("bareproxy needs -nodes")
	}
	owner := func(key []byte) *backend {
		sum := sha256.Sum256(key)
		return &backends[binary.BigEndian.Uint64(sum[:8])%uint64(len(backends))]
	}
	// call asks the owner of key for path?key=key and fills resp.
	call := func(method, path string, key, body []byte, resp *fasthttp.Response) (*backend, error) {
		b := owner(key)
		req := fasthttp.AcquireRequest()
		defer fasthttp.ReleaseRequest(req)
		var scratch [256]byte
		uri := append(append(append(scratch[:0], path...), "?key="...), key...) // wrk's keys need no escaping
		req.Header.SetRequestURIBytes(uri)
		req.Header.SetMethod(method)
		req.Header.SetHost(b.hc.Addr)
		if body != nil {
			req.Header.SetContentType("application/json")
			req.SetBodyRaw(body)
		}
		return b, b.hc.DoTimeout(req, resp, 2*time.Second)
	}

	switch *server {
	case "nethttp":
		log.Fatal(http.ListenAndServe(*addr, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			key := r.URL.Query().Get("key")
			var body []byte
			if r.Method == http.MethodPost || r.Method == http.MethodPut {
				body = make([]byte, 0, 64)
				buf := make([]byte, 512)
				for {
					n, err := r.Body.Read(buf)
					body = append(body, buf[:n]...)
					if err != nil {
						break
					}
				}
			}
			resp := fasthttp.AcquireResponse()
			defer fasthttp.ReleaseResponse(resp)
			b, err := call(r.Method, r.URL.Path, []byte(key), body, resp)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadGateway)
				return
			}
			h := w.Header()
			h.Set("Content-Type", string(resp.Header.ContentType()))
			h["X-Content-Type-Options"] = nosniff
			h["Content-Security-Policy"] = sandboxed
			h.Set("X-Kvclass-Node", b.name)
			w.WriteHeader(resp.StatusCode())
			w.Write(resp.Body())
		})))
	case "fasthttp":
		s := &fasthttp.Server{
			Handler: func(ctx *fasthttp.RequestCtx) {
				key := ctx.QueryArgs().Peek("key")
				var body []byte
				if ctx.IsPost() || ctx.IsPut() {
					body = ctx.PostBody()
				}
				resp := fasthttp.AcquireResponse()
				defer fasthttp.ReleaseResponse(resp)
				b, err := call(string(ctx.Method()), string(ctx.Path()), key, body, resp)
				if err != nil {
					ctx.Error(err.Error(), http.StatusBadGateway)
					return
				}
				ctx.SetStatusCode(resp.StatusCode())
				ctx.SetContentTypeBytes(resp.Header.ContentType())
				ctx.Response.Header.Set("X-Content-Type-Options", "nosniff")
				ctx.Response.Header.Set("Content-Security-Policy", "default-src 'none'; sandbox")
				ctx.Response.Header.Set("X-Kvclass-Node", b.name)
				ctx.SetBody(resp.Body())
			},
			ReadTimeout:                   30 * time.Second,
			WriteTimeout:                  30 * time.Second,
			IdleTimeout:                   2 * time.Minute,
			DisableHeaderNamesNormalizing: true,
			NoDefaultServerHeader:         true,
		}
		log.Fatal(s.ListenAndServe(*addr))
	default:
		log.Fatalf("-server %q: nethttp or fasthttp", *server)
	}
}

// serveDebug serves pprof and the allocation counters bench/profile.sh
// reads: "mallocs total_alloc_bytes num_gc gc_pause_ns gc_cpu_fraction".
func serveDebug(addr string) {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/memstats", func(w http.ResponseWriter, r *http.Request) {
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		fmt.Fprintf(w, "%d %d %d %d %.4f\n", m.Mallocs, m.TotalAlloc, m.NumGC, m.PauseTotalNs, m.GCCPUFraction)
	})
	log.Fatal(http.ListenAndServe(addr, mux))
}
