// Command kvclass teaches sharding and replication live in a classroom: a
// tiny key-value node, a proxy that shards or replicates over nodes, a live
// registry students' nodes join, and a page that shows it all.
//
//	kvclass node   [flags]   run a storage node
//	kvclass proxy  [flags]   run the instructor's proxy
//	kvclass demo   [flags]   3 nodes and a proxy on this machine
//	kvclass health URL       exit 0 when URL/health answers 200
//	kvclass version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	// CA roots built in, so a FROM scratch image can reach https URLs
	// such as ngrok's edge.
	_ "golang.org/x/crypto/x509roots/fallback"

	"github.com/kvclass/kvclass/proxy"
)

// version is kvclass's version, sent as the User-Agent kvclass/VERSION and
// to ngrok. Release builds set it (-ldflags "-X main.version=...").
var version = "0.2.0-dev"

// userAgent is what kvclass's HTTP calls say they are.
var userAgent = "kvclass/" + version

const usage = `kvclass teaches sharding and replication on a tiny key-value store.

Usage:
  kvclass demo   [--mode sharding|replication] [--nodes 3] [--base-port 5000]
  kvclass node   [-n NAME] [-p PORT] [--join PROXY_URL --token CODE] [--ngrok] ...
  kvclass node   --upstream URL --relay --join PROXY_URL --token CODE   join with your own server
  kvclass proxy  [-c FILE] [-p PORT] [--mode sharding|replication] [--ngrok] ...
  kvclass where  KEY... [-c FILE | --proxy URL | --nodes a,b,c] [--placement P]
  kvclass load   --proxy URL [--rate N] [--duration D] [--keys K] [--put-ratio P]
  kvclass check  --proxy URL [--duration D] [--clients C] [--keys K] [--html FILE]
  kvclass fault  [--proxy URL] NODE [--delay D] [--drop P] [--pause] | --clear [NODE]
  kvclass admin  [--proxy URL] ACTION [FIELD=VALUE...]   e.g. rebalance, placement placement=ring
  kvclass conform URL [--json]   check your own node against the contract
  kvclass health URL
  kvclass version

Run "kvclass COMMAND -h" for a command's flags.
`

// exitError is an error with the process exit code it stands for.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }

// Unwrap returns the error.
func (e *exitError) Unwrap() error { return e.err }

// usageError is a startup or config mistake: one line and exit code 2.
func usageError(format string, args ...any) error {
	return &exitError{code: 2, err: fmt.Errorf(format, args...)}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	if err == nil {
		return
	}
	code := 1
	var ee *exitError
	if errors.As(err, &ee) {
		code = ee.code
	}
	switch {
	case errors.Is(err, flag.ErrHelp):
		code = 0
	case errors.Is(err, errQuiet):
	default:
		fmt.Fprintln(os.Stderr, "kvclass: "+err.Error())
	}
	os.Exit(code)
}

// run runs one subcommand until ctx ends.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return &exitError{code: 2, err: errors.New("no command given")}
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "node":
		return runNode(ctx, rest, stdout, stderr)
	case "proxy":
		return runProxy(ctx, rest, stdout, stderr)
	case "demo":
		return runDemo(ctx, rest, stdout, stderr)
	case "health":
		return runHealth(ctx, rest, stdout, stderr)
	case "where":
		return runWhere(ctx, rest, stdout, stderr)
	case "load":
		return runLoad(ctx, rest, stdout, stderr)
	case "check":
		return runCheck(ctx, rest, stdout, stderr)
	case "conform":
		return runConform(ctx, rest, stdout, stderr)
	case "admin":
		return runAdmin(ctx, rest, stdout, stderr)
	case "fault":
		return runFault(ctx, rest, stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprintln(stdout, "kvclass "+version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return usageError("unknown command %q", cmd)
}

// newFlags returns a flag set that reports errors instead of exiting.
func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("kvclass "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parse parses args, which must leave exactly the positional arguments
// named, and turns a flag mistake into exit code 2.
func parse(fs *flag.FlagSet, args []string, positional ...string) error {
	if err := fs.Parse(args); err != nil {
		return parseError(err)
	}
	switch {
	case fs.NArg() > len(positional):
		return usageError("unexpected argument %q", fs.Arg(len(positional)))
	case fs.NArg() < len(positional):
		return usageError("usage: %s %s", fs.Name(), strings.Join(positional, " "))
	}
	return nil
}

// parseMixed parses args in which flags and positional arguments may mix
// (kvclass fault NODE --delay 300ms), and returns the positional ones.
func parseMixed(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, parseError(err)
		}
		args = fs.Args()
		if len(args) == 0 {
			return positional, nil
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
}

// parseError turns a flag mistake into exit code 2 (-h stays help).
func parseError(err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return err
	}
	return &exitError{code: 2, err: err}
}

// newLogger returns the process logger: text on stderr, debug when
// KVCLASS_LOG=debug.
func newLogger(stderr io.Writer) *slog.Logger {
	level := slog.LevelInfo
	if strings.EqualFold(os.Getenv("KVCLASS_LOG"), "debug") {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
}

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// parseMode reads --mode for the proxy and the demo.
func parseMode(s string) (proxy.Mode, error) {
	m, err := proxy.ParseMode(s)
	if err != nil {
		return "", usageError("unknown --mode %q: use sharding or replication", s)
	}
	return m, nil
}
