package main

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/kvclass/kvclass/kvapi"
	"github.com/kvclass/kvclass/placement"
	"github.com/kvclass/kvclass/proxy"
	"github.com/kvclass/kvclass/tunnel"
)

// runWhere is "kvclass where KEY...": each key's owner(s) and the
// arithmetic behind them, from a node list, a config file, or a running
// proxy (which knows its node order and placement).
func runWhere(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("where", stderr)
	configPath := fs.String("c", "", "the proxy's config `FILE`: its nodes and placement")
	fs.StringVar(configPath, "config", "", "same as -c")
	proxyURL := fs.String("proxy", "", "ask the running proxy at `URL`")
	nodes := fs.String("nodes", "", "the node order as `a,b,c`")
	var pf placementFlags
	pf.register(fs)
	keys, err := parseMixed(fs, args)
	if err != nil {
		return err
	}
	if len(keys) == 0 {
		return usageError("usage: kvclass where KEY... [-c FILE | --proxy URL | --nodes a,b,c] [--placement P] [--vnodes N] [--replicas N]")
	}
	sources := 0
	for _, s := range []string{*configPath, *proxyURL, *nodes} {
		if s != "" {
			sources++
		}
	}
	if sources != 1 {
		return usageError("say where the nodes come from: one of -c FILE, --proxy URL or --nodes a,b,c")
	}
	flagCfg, err := pf.config()
	if err != nil {
		return err
	}
	if *proxyURL != "" {
		if flagCfg != nil {
			return usageError("--placement, --vnodes and --replicas do not apply to --proxy: it answers with its own")
		}
		return whereOnProxy(ctx, stdout, *proxyURL, keys)
	}
	var cfg placement.Config
	var names []string
	if *configPath != "" {
		f, err := proxy.LoadFile(*configPath)
		if err != nil {
			return usageError("%v", err)
		}
		cfg = f.Placement
		for _, n := range f.Nodes {
			names = append(names, n.Name)
		}
	} else {
		for _, n := range strings.Split(*nodes, ",") {
			if n = strings.TrimSpace(n); n != "" {
				names = append(names, n)
			}
		}
	}
	if flagCfg != nil {
		cfg.Strategy = cmp.Or(flagCfg.Strategy, cfg.Strategy)
		cfg.VNodes = cmp.Or(flagCfg.VNodes, cfg.VNodes)
		cfg.Replicas = cmp.Or(flagCfg.Replicas, cfg.Replicas)
	}
	t, err := placement.New(cfg, names)
	if err != nil {
		return usageError("%v", err)
	}
	fmt.Fprintf(stdout, "%d nodes: %s\nrule: %s\n\n", t.Len(), strings.Join(names, ", "), t.Rule())
	for _, k := range keys {
		printExplanation(stdout, t.Explain(k))
	}
	return nil
}

// printExplanation writes one key's owners and arithmetic.
func printExplanation(w io.Writer, e placement.Explanation) {
	fmt.Fprintln(w, e.String())
	switch {
	case e.Modulo != nil:
		fmt.Fprintf(w, "  SHA-256 = %s\n  as a number = %s\n  mod %d = %d\n", e.Modulo.SHA256, e.Modulo.Decimal, e.N, e.Modulo.Remainder)
	case e.Ring != nil:
		fmt.Fprintf(w, "  h(key) = %s (%d)\n", e.Ring.KeyPointHex, e.Ring.KeyPoint)
		for _, p := range e.Ring.Points {
			fmt.Fprintf(w, "  point %s = h(%s#%d) → %s\n", p.Hex, p.Node, p.VNode, p.Node)
		}
	case len(e.Rendezvous) > 0:
		for i, s := range e.Rendezvous {
			mark := ""
			if i < len(e.Owners) {
				mark = "  ← owner"
			}
			fmt.Fprintf(w, "  %-16s %s%s\n", s.Node, s.Hex, mark)
		}
	}
}

// whereOnProxy asks a running proxy's /placement/explain for each key.
func whereOnProxy(ctx context.Context, w io.Writer, base string, keys []string) error {
	u, err := url.Parse(strings.TrimRight(base, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return usageError("--proxy %q must look like http://HOST:PORT or https://HOST", base)
	}
	client := &http.Client{Timeout: 10 * time.Second}
	for _, k := range keys {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String()+"/placement/explain?key="+url.QueryEscape(k), nil)
		if err != nil {
			return usageError("%v", err)
		}
		req.Header.Set("User-Agent", userAgent)
		req.Header.Set(tunnel.SkipWarningHeader, "1")
		resp, err := client.Do(req)
		if err != nil {
			return fmt.Errorf("cannot reach the proxy: %w", err)
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			var e kvapi.RegistryError
			json.Unmarshal(body, &e)
			return fmt.Errorf("the proxy answered %d: %s", resp.StatusCode, kvapi.Truncate(cmp.Or(e.Error, string(body)), 200))
		}
		var e placement.Explanation
		if err := json.Unmarshal(body, &e); err != nil {
			return fmt.Errorf("the proxy's answer is not an explanation (is %s a kvclass proxy?)", base)
		}
		printExplanation(w, e)
	}
	return nil
}
