package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/kvclass/kvclass/node"
	"github.com/kvclass/kvclass/proxy"
	"github.com/kvclass/kvclass/serve"
)

// runDemo is "kvclass demo": the seed's classic setup in one process, N
// nodes named kv1…kvN on base-port…base-port+N-1 and the proxy on
// base-port+N. The nodes join the proxy through the registry, one after
// another in name order, the way students' nodes do.
func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("demo", stderr)
	modeFlag := fs.String("mode", string(proxy.Sharding), "sharding or replication")
	count := fs.Int("nodes", 3, "how many `N` nodes to run")
	base := fs.Int("base-port", 5000, "first node's `PORT`; the proxy takes PORT+N")
	host := fs.String("host", "127.0.0.1", "`ADDR` to listen on")
	timeout := fs.Duration("timeout", 2*time.Second, "bound on every call the proxy makes to a node")
	statePath := fs.String("state", "", "`FILE` keeping the class code and admin token (default as for the proxy)")
	if err := parse(fs, args); err != nil {
		return err
	}
	mode, err := parseMode(*modeFlag)
	if err != nil {
		return err
	}
	if *count < 1 || *count > 64 {
		return usageError("--nodes must be between 1 and 64")
	}
	if *base < 1 || *base+*count > 65535 {
		return usageError("--base-port %d leaves no room for %d nodes and the proxy", *base, *count)
	}
	for port := *base; port <= *base+*count; port++ {
		ln, err := net.Listen("tcp", net.JoinHostPort(*host, strconv.Itoa(port)))
		if err != nil {
			hint := ""
			if port == 5000 {
				hint = " (on macOS, AirPlay Receiver holds port 5000)"
			}
			return usageError("port %d is already in use%s: move the demo with --base-port, e.g. --base-port %d", port, hint, *base+1000)
		}
		ln.Close()
	}
	path := *statePath
	if path == "" {
		if path, err = proxy.DefaultStatePath(); err != nil {
			return usageError("no --state given and %v", err)
		}
	}
	// The demo keeps only its class code and admin token: its nodes are
	// made anew on every run, so it restores no node list.
	state, err := proxy.LoadState(path, "", "")
	if err != nil {
		return usageError("%v", err)
	}
	secrets := state.State()
	log := newLogger(stderr)

	proxyCtx, stopProxy := context.WithCancel(context.WithoutCancel(ctx))
	defer stopProxy()
	p, err := proxy.New(proxy.Config{
		Mode:         mode,
		Timeout:      *timeout,
		Host:         *host,
		Port:         *base + *count,
		Token:        secrets.ClassCode,
		AdminToken:   secrets.AdminToken,
		AllowPrivate: true,
		UserAgent:    userAgent,
		Logger:       log,
	})
	if err != nil {
		return usageError("%v", err)
	}
	if err := p.Start(proxyCtx); err != nil {
		return usageError("%v", err)
	}
	nodesCtx, stopNodes := context.WithCancel(ctx)
	defer stopNodes()
	var nodes []*node.Node
	stopAll := func() {
		stopNodes()
		for _, n := range nodes {
			n.Wait()
		}
		stopProxy()
		p.Wait()
	}
	for i := 1; i <= *count; i++ {
		n, err := node.New(node.Config{
			Name:      "kv" + strconv.Itoa(i),
			Host:      *host,
			Port:      *base + i - 1,
			Join:      p.LocalURL(),
			Token:     secrets.ClassCode,
			UserAgent: userAgent,
			Logger:    log,
		})
		if err == nil {
			err = n.Start(nodesCtx)
		}
		if err != nil {
			stopAll()
			var le *serve.ListenError
			if errors.As(err, &le) {
				return usageError("%v: move the demo with --base-port", err)
			}
			return usageError("node kv%d: %v", i, err)
		}
		nodes = append(nodes, n)
	}
	printDemo(stdout, p, nodes, mode)
	<-ctx.Done()
	fmt.Fprintln(stdout, "\nstopping: nodes leave the proxy, then the proxy stops")
	stopAll()
	return nil
}

func printDemo(w io.Writer, p *proxy.Proxy, nodes []*node.Node, mode proxy.Mode) {
	local := func(u string) string { return strings.Replace(u, "127.0.0.1", "localhost", 1) }
	proxyURL := local(p.LocalURL())
	fmt.Fprintf(w, "kvclass demo: %d nodes and a proxy, mode %s\n\n", len(nodes), mode)
	for _, n := range nodes {
		fmt.Fprintf(w, "  %-6s %s\n", n.Name(), local(n.LocalURL()))
	}
	fmt.Fprintf(w, "  %-6s %s\n\n", "proxy", proxyURL)
	fmt.Fprintf(w, "Open the live page:  %s/state\n\n", proxyURL)
	fmt.Fprintf(w, "The seed's writes (21 keys: key-0 to key-20), through the proxy:\n\n")
	fmt.Fprintf(w, "for i in {0..20}; do\n  curl '%s/put?key=key-'$i'' \\\n    -X POST \\\n    -H 'Content-type: application/json' \\\n    -d '{\"value\": \"value-'$i'\"}';\ndone\n\n", proxyURL)
	fmt.Fprintf(w, "curl '%s/get?key=key-7'\n", proxyURL)
	fmt.Fprintf(w, "curl '%s/state?format=json'\n\n", proxyURL)
	fmt.Fprintf(w, "Another node can join as a student's would:\n\n  %s\n\n", p.JoinLine())
	fmt.Fprintf(w, "Ctrl-C stops everything. (started %s)\n", time.Now().Format("15:04:05"))
}
