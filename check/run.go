package check

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"
)

// Check records a history with cfg's clients and checks it: the whole of
// "kvclass check" without its printing. It writes cfg.HTML when set.
//
// The error is non-nil when the check could not run: a bad configuration,
// a rate refused for an ngrok URL, no request succeeding, ctx cancelled
// (the Result then holds the history recorded so far, unchecked), or the
// visualization not written. The verdict itself is in the Result.
func Check(ctx context.Context, cfg CheckConfig) (Result, error) {
	cfg, t, err := cfg.withDefaults()
	if err == nil {
		err = guardRate(t, cfg.Rate, cfg.Force, "check")
	}
	if err != nil {
		return Result{Verdict: NoVerdict, Explanation: err.Error(), Target: cfg.Proxy}, err
	}
	began := time.Now()
	ops, err := record(ctx, cfg, t)
	recorded := time.Since(began)
	if err != nil {
		r := Result{
			Verdict: NoVerdict,
			Explanation: fmt.Sprintf("interrupted after %.1f s with %d operations recorded; nothing was checked",
				recorded.Seconds(), len(ops)),
			Target: t.base.String(), Duration: recorded, Clients: cfg.Clients, History: ops,
		}
		for i := range ops {
			r.Counts.add(&ops[i])
		}
		return r, err
	}
	if cfg.Progress != nil {
		cfg.Progress(CheckProgress{Elapsed: recorded, Ops: int64(len(ops)), Checking: true})
	}
	r := checkHistory(ctx, ops, cfg.CheckTimeout)
	r.Target, r.Duration, r.Clients = t.base.String(), recorded, cfg.Clients
	if err := ctx.Err(); err != nil {
		return r, err
	}
	if c := r.Counts; c.PutsOK+c.GetsFound+c.GetsNotFound == 0 {
		r.Verdict = NoVerdict
		errs := "no request was sent"
		if len(r.Errors) > 0 {
			errs = "errors " + FormatErrors(r.Errors)
		}
		if len(ops) > 0 && ops[0].Error != "" {
			errs += "; the first: " + clip(ops[0].Error, 160)
		}
		r.Explanation = fmt.Sprintf("could not run: none of the %d requests to %s succeeded (%s); is the proxy running at that URL, with nodes?",
			len(ops), r.Target, errs)
		return r, errors.New(r.Explanation)
	}
	if cfg.HTML != "" {
		if err := WriteHTML(cfg.HTML, ops, cfg.CheckTimeout); err != nil {
			return r, err
		}
	}
	return r, nil
}

// RunCheck is "kvclass check": it prints what the run will send, a progress
// line each second (rewritten in place with \r), then the verdict, the
// explanation and a table of keys, all to out. Its outcome maps to the
// process exit code with ExitCode.
func RunCheck(ctx context.Context, cfg CheckConfig, out io.Writer) (Result, error) {
	full, t, err := cfg.withDefaults()
	if err != nil {
		return Result{Verdict: NoVerdict, Explanation: err.Error(), Target: cfg.Proxy}, err
	}
	fmt.Fprintf(out, "Checking %s: %d clients, keys %s0…%d, %s.\n",
		t.base, full.Clients, full.KeyPrefix, full.Keys-1, full.Duration)
	fmt.Fprintln(out, costLine(t, full.Rate, full.Duration))
	line := progressLine{w: out}
	user := full.Progress
	full.Progress = func(p CheckProgress) {
		if p.Checking {
			line.end()
			fmt.Fprintf(out, "Checking the history of %d operations (at most %s)…\n", p.Ops, full.CheckTimeout)
		} else {
			line.show(p.String())
		}
		if user != nil {
			user(p)
		}
	}
	r, err := Check(ctx, full)
	line.end()
	if r.Counts.Ops > 0 {
		fmt.Fprintf(out, "Recorded %d operations in %.1f s: %d puts (%d ok, %d unknown, %d failed), %d gets (%d found, %d not found, %d failed).\n",
			r.Counts.Ops, r.Duration.Seconds(), r.Counts.Puts, r.Counts.PutsOK, r.Counts.PutsUnknown, r.Counts.PutsFailed,
			r.Counts.Gets, r.Counts.GetsFound, r.Counts.GetsNotFound, r.Counts.GetsFailed)
		if len(r.Errors) > 0 {
			fmt.Fprintf(out, "Errors by status: %s.\n", FormatErrors(r.Errors))
		}
	}
	if err != nil {
		return r, err
	}
	fmt.Fprintf(out, "Checked in %s.\n\n%s: %s\n", r.CheckTime.Round(time.Millisecond), r.Verdict, r.Explanation)
	if len(r.Anomalies) > 0 {
		fmt.Fprintln(out, "Operations involved:")
		for _, o := range r.Anomalies[0].Ops {
			fmt.Fprintln(out, "  "+o.describe())
		}
	}
	fmt.Fprintln(out)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "key\tops\tputs\tgets\tunknown\tnodes\tverdict")
	for _, k := range r.Keys {
		nodes := nodeList(k.Nodes)
		if nodes == "" {
			nodes = "-"
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%s\t%s\n", k.Key, k.Ops, k.Puts, k.Gets, k.Unknown, nodes, k.Verdict)
	}
	tw.Flush()
	if full.HTML != "" {
		fmt.Fprintf(out, "\nWrote the history's visualization to %s: open it in a browser.\n", full.HTML)
	}
	return r, nil
}

// RunLoad is "kvclass load": it prints what the run will send, a progress
// line each second (rewritten in place with \r), then the summary, all to
// out. The error is non-nil when the load could not start (a bad
// configuration, a rate refused for an ngrok URL) or ctx was cancelled.
func RunLoad(ctx context.Context, cfg LoadConfig, out io.Writer) (LoadSummary, error) {
	full, t, err := cfg.withDefaults()
	if err != nil {
		return LoadSummary{Target: cfg.Proxy}, err
	}
	fmt.Fprintf(out, "Loading %s: %s requests/s for %s over %d keys, %.0f%% puts, at most %d in flight.\n",
		t.base, fmtFloat(full.Rate), full.Duration, full.Keys, full.PutRatio*100, full.Concurrency)
	fmt.Fprintln(out, costLine(t, full.Rate, full.Duration))
	line := progressLine{w: out}
	user := full.Progress
	full.Progress = func(p LoadProgress) {
		line.show(p.String())
		if user != nil {
			user(p)
		}
	}
	s, err := Load(ctx, full)
	line.end()
	if s.Sent > 0 || err == nil {
		fmt.Fprint(out, s.String())
	}
	return s, err
}

// progressLine rewrites one line in place: each show returns to the start
// of the line with \r and pads over what the previous one left. Written to
// a file or a pipe rather than a terminal, it prints one line per show
// instead, so a log stays readable.
type progressLine struct {
	w    io.Writer
	last int
	used bool
}

func (l *progressLine) show(s string) {
	if f, ok := l.w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice == 0 {
			fmt.Fprintln(l.w, s)
			return
		}
	}
	pad := ""
	if n := len([]rune(s)); n < l.last {
		pad = strings.Repeat(" ", l.last-n)
	}
	fmt.Fprint(l.w, "\r"+s+pad)
	l.last = len([]rune(s))
	l.used = true
}

// end finishes the line, if one was shown.
func (l *progressLine) end() {
	if l.used {
		fmt.Fprintln(l.w)
		l.used = false
	}
}
