// Command prof runs a kvclass node or proxy in-process with net/http/pprof
// and allocation counters on a second port, so bench/profile.sh can profile
// the real server under wrk: the same code the CLI runs, the same server
// (serve.Server: fasthttp for the data API), only a debug listener added.
//
//	prof node  -port P -debug D
//	prof proxy -port P -debug D -token CODE [-max-per-addr 256]   (nodes join it with --join)
//
// The debug listener serves /debug/pprof/ and /debug/memstats: one line,
// "mallocs total_alloc_bytes num_gc gc_pause_ns gc_cpu_fraction", read
// before and after a run to get allocations per request exactly (the heap
// profile only samples them).
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"runtime"
	"syscall"

	"github.com/kvclass/kvclass/node"
	"github.com/kvclass/kvclass/proxy"
)

func main() {
	if len(os.Args) < 2 || (os.Args[1] != "node" && os.Args[1] != "proxy") {
		fmt.Fprintln(os.Stderr, "usage: prof node|proxy -port P -debug D [-token CODE]")
		os.Exit(2)
	}
	what := os.Args[1]
	fs := flag.NewFlagSet(what, flag.ExitOnError)
	port := fs.Int("port", 0, "the server's port")
	debug := fs.String("debug", "127.0.0.1:6060", "the pprof listener's address")
	token := fs.String("token", "bench-class-code", "proxy: the class code")
	perAddr := fs.Int("max-per-addr", 256, "proxy: nodes admitted from one address (a fleet joins from loopback)")
	fs.Parse(os.Args[2:])

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	var wait func()
	switch what {
	case "node":
		n, err := node.New(node.Config{Name: "prof", Port: *port})
		if err != nil {
			log.Fatal(err)
		}
		if err := n.Start(ctx); err != nil {
			log.Fatal(err)
		}
		wait = func() { n.Wait() }
	case "proxy":
		p, err := proxy.New(proxy.Config{Token: *token, AdminToken: "bench-admin-token-0123456789", AllowPrivate: true, MaxPerAddr: *perAddr, Port: *port})
		if err != nil {
			log.Fatal(err)
		}
		if err := p.Start(ctx); err != nil {
			log.Fatal(err)
		}
		wait = p.Wait
	}

	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/memstats", func(w http.ResponseWriter, r *http.Request) {
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		fmt.Fprintf(w, "%d %d %d %d %.4f\n", m.Mallocs, m.TotalAlloc, m.NumGC, m.PauseTotalNs, m.GCCPUFraction)
	})
	go func() { log.Fatal(http.ListenAndServe(*debug, mux)) }()
	fmt.Println("ready")
	<-ctx.Done()
	wait()
}
