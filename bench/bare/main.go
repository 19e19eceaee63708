// Command bare is the baseline of kvclass's node benchmark: a bare net/http
// server that answers every request with the same small JSON body, as fast
// as net/http can on this machine.
//
// -server fasthttp serves the same answer with fasthttp's server instead,
// to show what a different server would cost (not the baseline), and
// -debug ADDR adds net/http/pprof and /debug/memstats on a second listener
// for bench/profile.sh (idle during a run, so the numbers do not move).
package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/pprof"
	"runtime"

	"github.com/valyala/fasthttp"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:7000", "address to listen on")
	server := flag.String("server", "nethttp", "nethttp (the baseline) or fasthttp")
	debug := flag.String("debug", "", "serve pprof and /debug/memstats on this address")
	flag.Parse()
	if *debug != "" {
		go serveDebug(*debug)
	}
	body := []byte(`{"value":"value-1"}` + "\n")
	switch *server {
	case "nethttp":
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body) // a PUT's body is read, as the node must
			w.Header()["Content-Type"] = []string{"application/json"}
			w.Write(body)
		})
		log.Fatal(http.ListenAndServe(*addr, h))
	case "fasthttp":
		s := &fasthttp.Server{
			Handler: func(ctx *fasthttp.RequestCtx) {
				ctx.SetContentType("application/json")
				ctx.SetBody(body)
			},
			NoDefaultServerHeader: true,
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
