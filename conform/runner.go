package conform

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kvclass/kvclass/kvapi"
)

// ErrUnreachable is returned by Run when nothing answers at the URL at all
// (no such host, connection refused, or ngrok's edge answering that the
// endpoint is offline): "kvclass conform" exits with code 2.
var ErrUnreachable = errors.New("unreachable")

// runner is one run of cases against one node: its client, limits and
// clock, and the keys it wrote.
type runner struct {
	base      string // scheme://host[:port], no trailing slash
	client    *http.Client
	header    http.Header
	timeout   time.Duration
	maxAnswer int64
	deadline  time.Time // zero: no budget
	budget    time.Duration
	prefix    string // KeyPrefix and the run's random id, then "-"

	mu      sync.Mutex
	written []string // keys a put was sent for, in order
	seen    map[string]bool
}

// newRunner checks baseURL and prepares a run with opts.
func newRunner(baseURL string, opts Options) (*runner, error) {
	u, err := kvapi.ParseNodeURL(baseURL)
	if err != nil {
		return nil, err
	}
	var id [6]byte
	rand.Read(id[:])
	r := &runner{
		base:      u.String(),
		client:    opts.Client,
		header:    opts.Header.Clone(),
		timeout:   opts.timeout(),
		maxAnswer: opts.maxAnswer(),
		budget:    opts.Budget,
		prefix:    KeyPrefix + hex.EncodeToString(id[:]) + "-",
		seen:      map[string]bool{},
	}
	if r.client == nil {
		r.client = newClient()
	}
	if opts.Budget > 0 {
		r.deadline = time.Now().Add(opts.Budget)
	}
	return r, nil
}

// wrote records that a put of key was sent, for the clean-up.
func (r *runner) wrote(key string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.seen[key] {
		r.seen[key] = true
		r.written = append(r.written, key)
	}
}

func (r *runner) writtenKeys() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.written...)
}

// budgetSpent reports whether the run's budget leaves no time for a case.
func (r *runner) budgetSpent() bool {
	return !r.deadline.IsZero() && time.Until(r.deadline) <= 0
}

// runCase runs one case and returns its result, and the last answer it got.
func (r *runner) runCase(ctx context.Context, tc testCase) (Result, answer) {
	start := time.Now()
	c := &caseRun{runner: r, ctx: ctx, name: tc.name}
	err := tc.run(c)
	res := Result{Group: tc.group, Name: tc.name, About: tc.about, Millis: time.Since(start).Milliseconds()}
	if c.last.method != "" {
		res.Sent = c.last.describe()
	}
	var m *mismatch
	switch {
	case err == nil:
		res.Passed = true
	case errors.As(err, &m):
		res.Sent, res.Expected, res.Got = m.sent, m.expected, m.got
	default:
		res.Expected, res.Got = "the case to run", err.Error()
	}
	return res, c.lastAns
}

// skip is the result of a case that was not run.
func skip(tc testCase, why string) Result {
	return Result{Group: tc.group, Name: tc.name, About: tc.about, Skipped: true, Got: "not run: " + why}
}

// Run runs the core and the extension groups opts names (all by default)
// against the node at baseURL, one case at a time, and returns the report.
// The error is non-nil only when the run could not be made: a bad URL
// (wrapping kvapi.ErrBadURL) or an unknown group (no report), nothing
// answering at the URL (wrapping ErrUnreachable; the report says so, its
// other cases not run), or ctx ending (the report so far). A node that
// fails cases is a report with CorePassed false, not an error.
func Run(ctx context.Context, baseURL string, opts Options) (*Report, error) {
	cases, err := selectCases(opts.Groups)
	if err != nil {
		return nil, err
	}
	r, err := newRunner(baseURL, opts)
	if err != nil {
		return nil, err
	}
	if opts.Client == nil {
		defer r.client.CloseIdleConnections()
	}
	rep := &Report{Schema: ReportSchema, URL: r.base}
	report := func(res Result) {
		rep.Cases = append(rep.Cases, res)
		if opts.OnResult != nil {
			opts.OnResult(res)
		}
	}
	silent := 0 // cases in a row that got no answer
	for i, tc := range cases {
		if err := ctx.Err(); err != nil {
			rep.summarize()
			return rep, err
		}
		switch {
		case silent >= giveUpAfter:
			report(skip(tc, "the node gave no answer to "+strconv.Itoa(giveUpAfter)+" cases in a row"))
			continue
		case r.budgetSpent():
			report(skip(tc, "the run's time budget of "+r.budget.String()+" was spent"))
			continue
		}
		res, last := r.runCase(ctx, tc)
		if i == 0 {
			if why := unreachable(last); why != "" {
				rep.Error = r.base + " " + why
				report(res)
				for _, tc := range cases[1:] {
					rep.Cases = append(rep.Cases, skip(tc, "nothing answers at the URL"))
				}
				rep.summarize()
				return rep, fmt.Errorf("%w: %s", ErrUnreachable, rep.Error)
			}
		}
		report(res)
		if !res.Passed && errors.Is(last.err, errNoAnswer) {
			silent++
		} else {
			silent = 0
		}
	}
	rep.KeysLeft = len(r.writtenKeys())
	if !opts.Keep && !failed(rep, GroupDelete, "delete") {
		rep.KeysLeft = r.cleanup(ctx)
	}
	rep.summarize()
	return rep, nil
}

// unreachable says why nothing answered the first request at all, or "".
func unreachable(a answer) string {
	switch {
	case a.err != nil && a.status == 0 && isDialError(a.err):
		return "does not answer (" + strings.TrimPrefix(a.err.Error(), "no answer: ") + "). Is the node running, and is this its URL?"
	case a.ngrokError() != "":
		return "is an ngrok URL with nothing behind it: ngrok's edge answered " + a.ngrokError() + ". Is the node, and its tunnel, running?"
	}
	return ""
}

// failed reports whether the case group/name was run, or meant to be, and
// did not pass.
func failed(rep *Report, group, name string) bool {
	for _, c := range rep.Cases {
		if c.Group == group && c.Name == name {
			return !c.Passed
		}
	}
	return false
}

// cleanupWorkers is how many deletes the clean-up sends at once.
const cleanupWorkers = 8

// cleanup deletes the keys the run wrote and returns how many are left:
// those whose delete got neither 200 nor 404 nor 400 (a key the node
// refused, as too long, was never stored). The first delete goes alone, and
// when it fails (the node has no /delete) the others are not sent; it stops
// at the first delete that gets no answer.
func (r *runner) cleanup(ctx context.Context) int {
	keys := r.writtenKeys()
	if len(keys) == 0 {
		return 0
	}
	if gone, _ := r.deleted(ctx, keys[0]); !gone {
		return len(keys)
	}
	keys = keys[1:]
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	jobs := make(chan string)
	var mu sync.Mutex
	left := len(keys)
	var wg sync.WaitGroup
	for range cleanupWorkers {
		wg.Go(func() {
			for key := range jobs {
				gone, answered := r.deleted(ctx, key)
				if gone {
					mu.Lock()
					left--
					mu.Unlock()
				} else if !answered {
					cancel()
				}
			}
		})
	}
	for _, key := range keys {
		select {
		case jobs <- key:
		case <-ctx.Done():
		}
	}
	close(jobs)
	wg.Wait()
	return left
}

// deleted deletes key and reports whether it is gone (200, or 404 or 400:
// never stored), and whether the node answered at all.
func (r *runner) deleted(ctx context.Context, key string) (gone, answered bool) {
	a := r.do(ctx, request{method: http.MethodDelete, target: keyTarget("/delete", key)})
	gone = a.err == nil && (a.status == http.StatusOK || a.status == http.StatusNotFound || a.status == http.StatusBadRequest)
	return gone, a.err == nil
}
