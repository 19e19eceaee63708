// Command edge runs a local stand-in of ngrok's edge (package edgetest), to
// rehearse a kvclass lesson with ngrok offline. It writes the edge's CA to a
// file, prints one line
//
//	connect=HOST:PORT ca=PATH
//
// and serves until interrupted. Point kvclass at it with
//
//	NGROK_AUTHTOKEN=x kvclass node --ngrok --ngrok-connect-url HOST:PORT --ngrok-ca PATH
//
// Like ngrok's free plan, each authtoken is one account with one URL (its
// dev domain), 3 agents and 3 online endpoints: give every rehearsed student
// a token of their own (any non-empty string unless -authtokens is set), as
// every real student needs an ngrok account of their own. Endpoints it
// publishes are http://127.0.0.1:PORT on this machine only.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/kvclass/kvclass/tunnel/edgetest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "edge:", err)
		os.Exit(2)
	}
}

// run parses args, starts the edge, prints its line and serves until ctx
// ends.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("edge", flag.ContinueOnError)
	fs.SetOutput(stderr)
	caPath := fs.String("ca", filepath.Join(os.TempDir(), "kvclass-edge-ca.pem"), "write the edge's CA certificate (PEM) to this `file`")
	addr := fs.String("addr", "127.0.0.1:0", "listen for agents on this `host:port`")
	tokens := fs.String("authtokens", "", "comma-separated `list` of accepted authtokens (default: any non-empty token)")
	maxAgents := fs.Int("max-agents", edgetest.FreeAgents, "refuse more simultaneous agents per authtoken than this, like the free plan (-1: no limit)")
	maxEndpoints := fs.Int("max-endpoints", edgetest.FreeEndpoints, "refuse more online endpoints per authtoken than this, like the free plan (-1: no limit)")
	tolerance := fs.Duration("heartbeat-tolerance", 0, "keep the endpoints of an agent that vanished without a clean close online this `long` (0: the agent's heartbeat interval plus tolerance, 25s by default)")
	verbose := fs.Bool("v", false, "log every session and endpoint change to stderr")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if *maxAgents == 0 || *maxEndpoints == 0 || *tolerance < 0 {
		return fmt.Errorf("-max-agents and -max-endpoints take a positive number or -1, -heartbeat-tolerance a duration that is not negative")
	}

	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelInfo
	}
	opts := edgetest.Options{
		Addr:               *addr,
		MaxAgents:          *maxAgents,
		MaxEndpoints:       *maxEndpoints,
		HeartbeatTolerance: *tolerance,
		Logger:             slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level})),
	}
	for _, t := range strings.Split(*tokens, ",") {
		if t = strings.TrimSpace(t); t != "" {
			opts.Authtokens = append(opts.Authtokens, t)
		}
	}

	edge, err := edgetest.Start(opts)
	if err != nil {
		return err
	}
	defer edge.Close()
	if err := os.WriteFile(*caPath, edge.CAPEM(), 0o644); err != nil {
		return fmt.Errorf("write CA: %w", err)
	}
	fmt.Fprintf(stdout, "connect=%s ca=%s\n", edge.ConnectAddr(), *caPath)
	<-ctx.Done()
	return edge.Close()
}
