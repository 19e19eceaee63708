package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/user"
	"strings"

	"github.com/kvclass/kvclass/kvapi"
	"github.com/kvclass/kvclass/node"
	"github.com/kvclass/kvclass/registry/join"
	"github.com/kvclass/kvclass/serve"
)

// runNode is "kvclass node": one storage node, optionally published through
// ngrok and joined to a proxy. It runs until ctx ends, then tells its proxy
// it is stopping.
func runNode(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("node", stderr)
	var cfg node.Config
	var ng ngrokFlags
	fs.StringVar(&cfg.Name, "name", "", "node `NAME` (default: your user name when joining, else node-PORT)")
	fs.StringVar(&cfg.Name, "n", "", "short for --name")
	fs.StringVar(&cfg.Name, "hostname", "", "the seed's name for --name")
	fs.IntVar(&cfg.Port, "port", 5000, "`PORT` to listen on")
	fs.IntVar(&cfg.Port, "p", 5000, "short for --port")
	fs.StringVar(&cfg.Host, "host", "127.0.0.1", "`ADDR` to listen on (0.0.0.0 serves a LAN or a container)")
	fs.StringVar(&cfg.Join, "join", "", "join the proxy at `URL`")
	fs.StringVar(&cfg.Token, "token", "", "the class `CODE` the proxy printed")
	fs.StringVar(&cfg.DataDir, "data", "", "keep the node's keys in a file in `DIR`, so a restart keeps them (default: in memory, as the seed)")
	fs.DurationVar(&cfg.Tombstones, "tombstones", 0, "keep a deleted key's version this `long`, so repair never brings it back (default 10m)")
	fs.BoolVar(&cfg.Relay, "relay", false, "be reached through the proxy's relay: no public address or ngrok account needed")
	fs.StringVar(&cfg.Upstream, "upstream", "", "be a sidecar for your own server at `URL` (http://127.0.0.1:5000): forward every data call to it, and report its health (see docs/OWN-NODE.md)")
	fs.StringVar(&cfg.Advertise, "advertise", "", "`URL` the proxy should call (default the ngrok URL or http://HOST:PORT)")
	fs.Int64Var(&cfg.MaxBody, "max-body", kvapi.DefaultMaxBody, "largest /put body in `BYTES`")
	fs.IntVar(&cfg.MaxKey, "max-key", kvapi.DefaultMaxKey, "longest key in `BYTES`")
	fs.Int64Var(&cfg.MaxBytes, "max-bytes", kvapi.DefaultMaxBytes, "`BYTES` the node stores at most")
	fs.StringVar(&cfg.StateDir, "state", "", "`DIR` keeping this node's join secret, so a restart rejoins in its place (default in your config dir)")
	var origins listFlag
	fs.Var(&origins, "origin", "also let pages from `URL` open /ws (repeatable; * for any)")
	ng.register(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if cfg.Port < 0 || cfg.Port > 65535 {
		return usageError("--port %d is not a port", cfg.Port)
	}
	ngrok, err := ng.options(stderr)
	if err != nil {
		return err
	}
	if cfg.Join != "" && cfg.Name == "" {
		cfg.Name = defaultName()
	}
	if cfg.Join != "" && cfg.StateDir == "" {
		if cfg.StateDir, err = join.DefaultStateDir(); err != nil {
			fmt.Fprintf(stderr, "kvclass: %v; the node joins without keeping its secret (give --state DIR to keep it)\n", err)
		}
	}
	cfg.Ngrok = ngrok
	cfg.Origins = origins
	cfg.UserAgent = userAgent
	cfg.Logger = newLogger(stderr)
	// Without -p, a taken port moves the node to the next free one, so
	// that the join line the proxy printed works as pasted on any machine:
	// the demo's (its nodes hold 5000-5002), a Mac whose AirPlay holds
	// 5000, or a whole class trying it on one laptop.
	portGiven := false
	fs.Visit(func(f *flag.Flag) { portGiven = portGiven || f.Name == "port" || f.Name == "p" })
	var n *node.Node
	for first := cfg.Port; ; cfg.Port++ {
		n, err = node.New(cfg)
		if err != nil {
			return usageError("%v", err)
		}
		err = n.Start(ctx)
		var le *serve.ListenError
		if err == nil {
			if cfg.Port != first {
				fmt.Fprintf(stdout, "port %d is taken: using %d (-p/--port chooses)\n", first, cfg.Port)
			}
			break
		}
		if errors.As(err, &le) {
			if !portGiven && cfg.Port < first+portTries-1 && cfg.Port < 65535 {
				continue
			}
			return usageError("%v: move the node with -p/--port", err)
		}
		return usageError("%v", err)
	}
	fmt.Fprintf(stdout, "kvclass node %s serving at %s\n", n.Name(), n.LocalURL())
	if up, own := n.Upstream(); up != "" {
		fmt.Fprintf(stdout, "  forwarding to your server at %s (%s)\n", up, own)
	}
	switch {
	case cfg.Relay:
		fmt.Fprintf(stdout, "  reached through the proxy's relay (no public address needed)\n")
	case n.URL() != n.LocalURL():
		fmt.Fprintf(stdout, "  public URL: %s\n", n.URL())
	}
	fmt.Fprintf(stdout, "  its page:   %s/state\n", n.LocalURL())
	select {
	case <-ctx.Done():
	case <-n.Done():
	}
	return n.Wait()
}

// portTries is how many ports from the default a node without -p tries.
const portTries = 100

// defaultName is a joining node's name when -n is not given: the user's
// login name, cleaned to the name rules, so that every student who pastes
// the same join line gets a name of their own. "" (then node-PORT) when
// there is none.
func defaultName() string {
	for _, v := range []string{os.Getenv("USER"), os.Getenv("USERNAME")} {
		if name := cleanName(v); name != "" {
			return name
		}
	}
	if u, err := user.Current(); err == nil {
		return cleanName(u.Username)
	}
	return ""
}

// cleanName turns a login name into a node name: lower case, letters and
// digits kept, anything else a '-', at most 16 characters; "" when nothing
// is left.
func cleanName(s string) string {
	if _, after, ok := strings.Cut(s, `\`); ok {
		s = after // DOMAIN\user on Windows
	}
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		case b.Len() > 0 && !strings.HasSuffix(b.String(), "-"):
			b.WriteByte('-')
		}
		if b.Len() >= 16 {
			break
		}
	}
	name := strings.Trim(b.String(), "-")
	if kvapi.CheckName(name) != nil {
		return ""
	}
	return name
}
