package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/kvclass/kvclass/proxy"
	"github.com/kvclass/kvclass/serve"
	"github.com/kvclass/kvclass/web"
)

// runProxy is "kvclass proxy": the instructor's proxy. It prints its URL,
// the class code and the line students paste, never the admin token.
func runProxy(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("proxy", stderr)
	var cfg proxy.Config
	var ng ngrokFlags
	var configPath, statePath string
	fs.StringVar(&configPath, "config", "", "the seed's YAML config `FILE` (mode, write_quorum, nodes)")
	fs.StringVar(&configPath, "c", "", "short for --config")
	fs.IntVar(&cfg.Port, "port", 5003, "`PORT` to listen on")
	fs.IntVar(&cfg.Port, "p", 5003, "short for --port")
	fs.StringVar(&cfg.Host, "host", "127.0.0.1", "`ADDR` to listen on (0.0.0.0 serves a LAN or a container)")
	modeFlag := fs.String("mode", "", "sharding or replication (default: the config's, else sharding)")
	var pf placementFlags
	pf.register(fs)
	readQuorum := fs.Int("read-quorum", 0, "R: a get asks the key's owners and waits for `N` answers (default: the config's, else 1)")
	readRepair := fs.String("read-repair", "", "off, async or sync: write the newest version back to owners that answered older (default async)")
	hinted := fs.Bool("hinted-handoff", false, "keep the writes a down owner missed and replay them when it is back")
	antiEntropy := fs.Duration("anti-entropy", 0, "compare owners and copy the newest version every `INTERVAL` (0: the config's, else off)")
	rebalanceAuto := fs.Bool("rebalance-auto", false, "move misplaced keys to their owners after every membership change")
	fs.StringVar(&cfg.Downloads, "downloads", "", "offer the kvclass release archives in `DIR` on the /join page")
	fs.IntVar(&cfg.WriteQuorum, "write-quorum", 0, "replication: a put succeeds when `N` nodes stored it (default: the config's, else 1)")
	fs.DurationVar(&cfg.Timeout, "timeout", 2*time.Second, "bound on every call to a node")
	fs.StringVar(&cfg.Token, "token", "", "the class `CODE` students join with (default: generated once and kept in the state file)")
	fs.StringVar(&cfg.AdminToken, "admin-token", "", "the instructor's `TOKEN` for /admin/ (default: generated once and kept in the state file)")
	fs.StringVar(&statePath, "state", "", "`FILE` keeping the class code and admin token across restarts (default in your config dir)")
	fs.BoolVar(&cfg.AllowPrivate, "allow-private", false, "let nodes join from loopback and private addresses (a LAN class)")
	fs.IntVar(&cfg.MaxPerAddr, "max-per-address", 64, "admit at most `N` nodes joining from one address (a class behind one NAT shares one)")
	fs.BoolVar(&cfg.HideJoin, "hide-join", false, "keep the join line and class code off the public page (read them out instead)")
	fs.DurationVar(&cfg.Expiry, "expiry", 5*time.Minute, "remove a node that has been down this long")
	fs.DurationVar(&cfg.Heartbeat, "heartbeat", 5*time.Second, "how often nodes heartbeat; a node is down after about 3 missed")
	var origins listFlag
	fs.Var(&origins, "origin", "also let pages from `URL` open /ws (repeatable; * for any)")
	ng.register(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if cfg.Port < 0 || cfg.Port > 65535 {
		return usageError("--port %d is not a port", cfg.Port)
	}
	if *modeFlag != "" {
		mode, err := parseMode(*modeFlag)
		if err != nil {
			return err
		}
		cfg.Mode = mode
	}
	var err error
	if cfg.Placement, err = pf.config(); err != nil {
		return err
	}
	if cfg.Downloads != "" {
		if _, err := web.CheckDownloads(cfg.Downloads); err != nil {
			return usageError("--downloads: %v", err)
		}
	}
	replFlags := *readQuorum != 0 || *readRepair != "" || *hinted || *antiEntropy != 0
	if *readQuorum < 0 {
		return usageError("--read-quorum must be at least 1")
	}
	if cfg.MaxPerAddr < 1 {
		return usageError("--max-per-address must be at least 1")
	}
	if cfg.WriteQuorum < 0 {
		return usageError("--write-quorum must be at least 1")
	}
	if cfg.Timeout <= 0 {
		return usageError("--timeout must be positive")
	}
	if configPath != "" {
		f, err := proxy.LoadFile(configPath)
		if err != nil {
			return usageError("%v", err)
		}
		cfg.File = f
	}
	if replFlags {
		var r proxy.ReplicationConfig
		if cfg.File != nil {
			r = cfg.File.Replication
		}
		r.ReadQuorum = cmp.Or(*readQuorum, r.ReadQuorum)
		r.ReadRepair = cmp.Or(*readRepair, r.ReadRepair)
		r.HintedHandoff = r.HintedHandoff || *hinted
		r.AntiEntropy = cmp.Or(*antiEntropy, r.AntiEntropy)
		cfg.Replication = &r
	}
	cfg.RebalanceAuto = *rebalanceAuto
	ngrok, err := ng.options(stderr)
	if err != nil {
		return err
	}
	if statePath == "" {
		if statePath, err = proxy.DefaultStatePath(); err != nil {
			return usageError("no --state given and %v", err)
		}
	}
	state, err := proxy.LoadState(statePath, cfg.Token, cfg.AdminToken)
	if err != nil {
		return usageError("%v", err)
	}
	cfg.State, cfg.Token, cfg.AdminToken = state, state.State().ClassCode, state.State().AdminToken
	cfg.Ngrok = ngrok
	cfg.Origins = origins
	cfg.UserAgent = userAgent
	cfg.Logger = newLogger(stderr)
	p, err := proxy.New(cfg)
	if err != nil {
		return usageError("%v", err)
	}
	if err := p.Start(ctx); err != nil {
		var le *serve.ListenError
		if errors.As(err, &le) {
			return usageError("%v: move the proxy with -p/--port", err)
		}
		return usageError("%v", err)
	}
	fmt.Fprintf(stdout, "kvclass proxy serving at %s\n", p.URL())
	if p.URL() != p.LocalURL() {
		fmt.Fprintf(stdout, "  on this machine:        %s\n", p.LocalURL())
	}
	fmt.Fprintf(stdout, "  page for the projector: %s/state\n", p.URL())
	fmt.Fprintf(stdout, "  class code:             %s\n", cfg.Token)
	fmt.Fprintf(stdout, "  join page (QR code):    %s/join\n", p.URL())
	if cfg.HideJoin {
		fmt.Fprintf(stdout, "  the join lines are kept off the page (--hide-join); students run one of:\n\n")
	} else {
		fmt.Fprintf(stdout, "  students run one of:\n\n")
	}
	for _, l := range p.JoinLines() {
		fmt.Fprintf(stdout, "    %s\n      %s\n", l.Line, joinLineFor(l.Kind))
	}
	fmt.Fprintln(stdout)
	fmt.Fprintf(stdout, "  admin token and class code are kept in %s\n", statePath)
	<-ctx.Done()
	p.Wait()
	return nil
}

// joinLineFor says whom a join line is for.
func joinLineFor(kind string) string {
	switch kind {
	case web.JoinRelay:
		return "(no ngrok account or public address needed: the proxy relays)"
	case web.JoinNgrok:
		return "(with their own ngrok account: export NGROK_AUTHTOKEN first)"
	case web.JoinLAN:
		return "(on this classroom's network)"
	}
	return "(on this machine)"
}
