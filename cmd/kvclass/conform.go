package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/kvclass/kvclass/conform"
	"github.com/kvclass/kvclass/kvapi"
)

// runConform is "kvclass conform URL [--json]": the node contract as a test
// suite against any HTTP server, a student's own node first of all. It
// prints one line per case and a summary (or, with --json, a report for
// graders). Exit 0 when the core passes, 1 when it does not, 2 when the URL
// is bad or nothing answers at it.
func runConform(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("conform", stderr)
	asJSON := fs.Bool("json", false, "print a JSON report for graders instead of lines")
	timeout := fs.Duration("timeout", conform.DefaultTimeout, "give each request this `long` to answer")
	keep := fs.Bool("keep", false, "leave the keys the run wrote on the node (by default they are deleted when the node supports /delete)")
	var groups listFlag
	fs.Var(&groups, "group", "run only this extension `GROUP` besides the core (repeatable): "+strings.Join(conform.Extensions(), ", "))
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: kvclass conform URL [--json] [--timeout 2s] [--keep] [--group NAME]...")
		fmt.Fprintln(stderr, "Checks the node at URL against the kvclass node contract (docs/OWN-NODE.md).")
		fs.PrintDefaults()
	}
	rawURL, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if *timeout <= 0 {
		return usageError("--timeout must be positive")
	}
	opts := conform.Options{
		Header:  http.Header{"User-Agent": {userAgent}, "Ngrok-Skip-Browser-Warning": {"1"}},
		Timeout: *timeout,
		Keep:    *keep,
		Groups:  groups,
	}
	if !*asJSON {
		fmt.Fprintf(stdout, "kvclass conform %s\n", rawURL)
		opts.OnResult = func(r conform.Result) { fmt.Fprintln(stdout, r) }
	}
	rep, err := conform.Run(ctx, rawURL, opts)
	switch {
	case errors.Is(err, kvapi.ErrBadURL):
		return usageError("%v", err)
	case errors.Is(err, conform.ErrUnreachable):
		if *asJSON {
			writeReport(stdout, rep)
		}
		return &exitError{code: 2, err: errors.New(rep.Error)}
	case err != nil && rep == nil:
		return usageError("%v", err)
	case err != nil:
		return &exitError{code: 1, err: fmt.Errorf("interrupted after %d cases: %w", len(rep.Cases), err)}
	}
	if *asJSON {
		writeReport(stdout, rep)
	} else {
		printVerdict(stdout, rep, *keep)
	}
	if !rep.CorePassed {
		n := 0
		for _, c := range rep.Failed() {
			if c.Group == conform.GroupCore {
				n++
			}
		}
		return &exitError{code: 1, err: fmt.Errorf("the node fails %d of %d core cases; a proxy refuses it until they pass", n, len(conform.CoreCases()))}
	}
	return nil
}

// printVerdict prints the summary and what it means for joining a class.
func printVerdict(w io.Writer, rep *conform.Report, keep bool) {
	fmt.Fprintln(w)
	fmt.Fprintln(w, rep.Summary())
	if rep.CorePassed {
		fmt.Fprintln(w, "The core passes: this node can join a class. Extensions are optional.")
	} else {
		fmt.Fprintln(w, "The core fails: fix the ✗ core lines above (each says what was sent, what the contract expects, and what came back).")
	}
	switch {
	case rep.KeysLeft > 0 && keep:
		fmt.Fprintf(w, "%d keys named %s... are left on the node (--keep).\n", rep.KeysLeft, conform.KeyPrefix)
	case rep.KeysLeft > 0:
		fmt.Fprintf(w, "%d keys named %s... are left on the node: it has no working DELETE /delete. Restart it to clear them.\n", rep.KeysLeft, conform.KeyPrefix)
	default:
		fmt.Fprintf(w, "The keys the run wrote (%s...) were deleted.\n", conform.KeyPrefix)
	}
}

// writeReport prints rep as indented JSON.
func writeReport(w io.Writer, rep *conform.Report) {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	enc.Encode(rep)
}

// parseInterleaved parses args that hold one positional argument among the
// flags ("conform URL --json" as well as "conform --json URL") and returns
// it; a mistake is exit code 2.
func parseInterleaved(fs *flag.FlagSet, args []string) (string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return "", err
			}
			return "", &exitError{code: 2, err: err}
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	switch {
	case len(pos) == 0:
		return "", usageError("usage: kvclass conform URL [--json]: give the node's URL, e.g. http://localhost:5000")
	case len(pos) > 1:
		return "", usageError("unexpected argument %q: kvclass conform checks one URL", pos[1])
	}
	return pos[0], nil
}
