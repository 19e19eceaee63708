package check

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Defaults of a load run, for the command line's flags.
const (
	// DefaultRate is 50 requests/s: 3,000 a minute, inside ngrok's free plan.
	DefaultRate = 50.0
	// DefaultLoadDuration is how long a load run starts requests.
	DefaultLoadDuration = 10 * time.Second
	// DefaultKeys is how many keys a load run spreads over.
	DefaultKeys = 100
	// DefaultPutRatio is the command line's fraction of puts: half.
	DefaultPutRatio = 0.5
	// DefaultConcurrency bounds the requests in flight.
	DefaultConcurrency = 64
)

// plannedRequests is how many requests rate requests/s for d start.
func plannedRequests(rate float64, d time.Duration) int64 {
	return int64(math.Ceil(rate*d.Seconds() - 1e-6))
}

// LoadConfig describes a load run: what to send, to whom, how fast.
type LoadConfig struct {
	// Proxy is the target's base URL: a proxy (or a node), http or https.
	Proxy string
	// Rate is the requests per second to start, paced evenly; 0 means
	// DefaultRate.
	Rate float64
	// Duration is how long to keep starting requests; 0 means
	// DefaultLoadDuration.
	Duration time.Duration
	// Keys is how many keys (key-0 … key-K-1) the requests spread over: puts
	// take them in turn, gets at random. 0 means DefaultKeys.
	Keys int
	// PutRatio is the fraction of requests that are puts, from 0 (gets only)
	// to 1 (puts only). The command line's default is DefaultPutRatio.
	PutRatio float64
	// Concurrency bounds the requests in flight; 0 means DefaultConcurrency.
	Concurrency int
	// Timeout bounds each request; 0 means DefaultRequestTimeout.
	Timeout time.Duration
	// Force allows, against an ngrok URL, a rate above the free plan's
	// 4,000 requests a minute.
	Force bool
	// Progress, when set, is called once per ProgressEvery with the run's
	// progress so far; it must return quickly.
	Progress func(LoadProgress)
	// ProgressEvery is the interval between Progress calls; 0 means 1 s.
	ProgressEvery time.Duration
	// Client, when set, sends the requests instead of a client tuned for
	// Concurrency (for tests).
	Client *http.Client
}

// withDefaults fills zero fields and checks the rest, with errors that name
// the flag to fix.
func (c LoadConfig) withDefaults() (LoadConfig, target, error) {
	t, err := parseTarget(c.Proxy)
	if err != nil {
		return c, t, err
	}
	if c.Rate == 0 {
		c.Rate = DefaultRate
	}
	if c.Duration == 0 {
		c.Duration = DefaultLoadDuration
	}
	if c.Keys == 0 {
		c.Keys = DefaultKeys
	}
	if c.Concurrency == 0 {
		c.Concurrency = DefaultConcurrency
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultRequestTimeout
	}
	if c.ProgressEvery == 0 {
		c.ProgressEvery = time.Second
	}
	switch {
	case c.Rate < 0 || c.Rate > 1e6:
		return c, t, fmt.Errorf("--rate %g is out of range: pass a rate between 1 and 1000000 requests/s", c.Rate)
	case c.Duration < 0:
		return c, t, fmt.Errorf("--duration %s is negative: pass a duration like 10s", c.Duration)
	case c.Keys < 0:
		return c, t, fmt.Errorf("--keys %d is negative: pass a number of keys like 100", c.Keys)
	case c.PutRatio < 0 || c.PutRatio > 1:
		return c, t, fmt.Errorf("--put-ratio %g is out of range: pass a fraction from 0 (gets only) to 1 (puts only)", c.PutRatio)
	case c.Concurrency < 0:
		return c, t, fmt.Errorf("--concurrency %d is negative: pass the requests allowed in flight, like 64", c.Concurrency)
	case c.Timeout < 0:
		return c, t, fmt.Errorf("request timeout %s is negative", c.Timeout)
	}
	return c, t, nil
}

// LoadProgress is a load run's progress, reported once a second.
type LoadProgress struct {
	// Elapsed is the time since the run started.
	Elapsed time.Duration `json:"elapsed_ns"`
	// Requests is the number of requests completed so far.
	Requests int64 `json:"requests"`
	// Rate is the completions per second over the last interval.
	Rate float64 `json:"rate"`
	// P50 and P99 are the latency percentiles over the last interval, so
	// the line reacts at once to a fault: a node slowed down shows in the
	// next second's p99.
	P50 time.Duration `json:"p50_ns"`
	P99 time.Duration `json:"p99_ns"`
	// Errors counts the failed requests so far by status label ("502",
	// "timeout", "conn", or an ngrok error code).
	Errors map[string]int64 `json:"errors,omitempty"`
}

// String is the progress as one line: "3s  1500 req  500.0/s  p50 1.20ms
// p99 4.51ms  errors 502×3 503×1 timeout×2".
func (p LoadProgress) String() string {
	errs := "no errors"
	if len(p.Errors) > 0 {
		errs = "errors " + FormatErrors(p.Errors)
	}
	return fmt.Sprintf("%4.0fs  %s req  %.1f/s  p50 %s  p99 %s  %s",
		p.Elapsed.Seconds(), fmtInt(p.Requests), p.Rate, fmtDur(p.P50), fmtDur(p.P99), errs)
}

// LoadSummary is what a load run did, for the final report.
type LoadSummary struct {
	// Target is the URL the run loaded.
	Target string `json:"target"`
	// Planned is the number of requests the rate and duration call for.
	Planned int64 `json:"planned"`
	// Sent is the number of requests started; Completed of them ended with
	// an answer or an error.
	Sent      int64 `json:"sent"`
	Completed int64 `json:"completed"`
	// Missed counts planned requests that never started because
	// Concurrency requests were still in flight until the run ended: the
	// target was slower than the rate.
	Missed int64 `json:"missed"`
	// OK counts 200 answers, NotFound 404s to gets (a key not written yet,
	// not an error).
	OK       int64 `json:"ok"`
	NotFound int64 `json:"not_found"`
	// Errors counts failed requests by status label.
	Errors map[string]int64 `json:"errors,omitempty"`
	// Elapsed is the run's wall time, from the first planned start to the
	// last completion; Rate is Completed / Elapsed.
	Elapsed time.Duration `json:"elapsed_ns"`
	Rate    float64       `json:"rate"`
	// Latency percentiles over every completed request, measured from each
	// request's planned start (see Load).
	P50  time.Duration `json:"p50_ns"`
	P90  time.Duration `json:"p90_ns"`
	P99  time.Duration `json:"p99_ns"`
	Max  time.Duration `json:"max_ns"`
	Mean time.Duration `json:"mean_ns"`
}

// String is the summary as a few lines of text.
func (s LoadSummary) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s requests in %.2fs to %s: %.1f requests/s\n", fmtInt(s.Completed), s.Elapsed.Seconds(), s.Target, s.Rate)
	fmt.Fprintf(&b, "  ok %s, not found %s, errors %s\n", fmtInt(s.OK), fmtInt(s.NotFound), fmtInt(s.errorCount()))
	fmt.Fprintf(&b, "  latency p50 %s  p90 %s  p99 %s  max %s  mean %s\n", fmtDur(s.P50), fmtDur(s.P90), fmtDur(s.P99), fmtDur(s.Max), fmtDur(s.Mean))
	if len(s.Errors) > 0 {
		fmt.Fprintf(&b, "  errors by status: %s\n", FormatErrors(s.Errors))
	}
	if s.Missed > 0 {
		fmt.Fprintf(&b, "  %s planned requests never started: the target answered slower than the rate allows with --concurrency in flight\n", fmtInt(s.Missed))
	}
	return b.String()
}

func (s LoadSummary) errorCount() int64 {
	var n int64
	for _, c := range s.Errors {
		n += c
	}
	return n
}

// FormatErrors writes error counts as "502×3 503×1 timeout×2": status codes
// in order, then the other labels in alphabetical order.
func FormatErrors[N int | int64](errs map[string]N) string {
	labels := make([]string, 0, len(errs))
	for l := range errs {
		labels = append(labels, l)
	}
	sort.Slice(labels, func(i, j int) bool {
		a, aErr := strconv.Atoi(labels[i])
		b, bErr := strconv.Atoi(labels[j])
		switch {
		case aErr == nil && bErr == nil:
			return a < b
		case aErr == nil || bErr == nil:
			return aErr == nil
		}
		return labels[i] < labels[j]
	})
	parts := make([]string, len(labels))
	for i, l := range labels {
		parts[i] = fmt.Sprintf("%s×%d", l, errs[l])
	}
	return strings.Join(parts, " ")
}

// fmtDur writes a latency with three significant digits: 812µs, 1.20ms, 2.31s.
func fmtDur(d time.Duration) string {
	switch {
	case d < time.Microsecond:
		return fmt.Sprintf("%dns", d)
	case d < time.Millisecond:
		return fmt.Sprintf("%.0fµs", float64(d)/1e3)
	case d < time.Second:
		return fmt.Sprintf("%.2fms", float64(d)/1e6)
	default:
		return fmt.Sprintf("%.2fs", d.Seconds())
	}
}

// loadStats gathers what the workers measured.
type loadStats struct {
	mu        sync.Mutex
	all       *histogram // every completion, for the summary
	window    *histogram // completions since the last progress report
	completed int64
	ok        int64
	notFound  int64
	errors    map[string]int64
	last      time.Time // the latest completion
}

func (s *loadStats) add(lat time.Duration, r reply, isGet bool, done time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.all.record(lat)
	s.window.record(lat)
	s.completed++
	if done.After(s.last) {
		s.last = done
	}
	switch {
	case r.status == http.StatusOK && r.edge == "":
		s.ok++
	case r.status == http.StatusNotFound && isGet && r.edge == "":
		s.notFound++
	default:
		s.errors[r.label()]++
	}
}

// progress takes the window's figures and starts a new window.
func (s *loadStats) progress(elapsed, every time.Duration) LoadProgress {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := LoadProgress{
		Elapsed:  elapsed,
		Requests: s.completed,
		Rate:     float64(s.window.count()) / every.Seconds(),
		P50:      s.window.quantile(0.50),
		P99:      s.window.quantile(0.99),
		Errors:   copyCounts(s.errors),
	}
	s.window.reset()
	return p
}

func copyCounts(m map[string]int64) map[string]int64 {
	if len(m) == 0 {
		return nil
	}
	c := make(map[string]int64, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// loadJob is one planned request.
type loadJob struct {
	// planned is when the request is due: its planned start, plus how
	// late the scheduler's own timer woke up (see schedule).
	planned time.Time
	// idle says a worker was waiting for the job when it was due: the
	// time it took to wake that worker is the generator's, so the request
	// is measured from when the worker took it.
	idle  bool
	put   bool
	key   string
	value string
}

// Load runs a load: it starts requests at cfg.Rate per second for
// cfg.Duration, waits for those in flight, and summarizes.
//
// The load is open-loop: request i is planned for start + i/Rate whatever
// happened to earlier requests, and its latency is measured from that
// planned time, not from when it was actually sent. When the target slows
// down and Concurrency requests are in flight, the next requests wait for a
// free slot and that wait counts in their latency, as it would for users
// arriving at that rate; a closed-loop generator would instead send less
// and report only the fast answers (coordinated omission). Requests still
// waiting for a slot when Duration ends are counted as Missed.
//
// Only the generator's own lateness is taken out. A request that a waiting
// worker took is measured from when the worker took it: the timer's
// lateness (Go's timers wake up to a millisecond late) and the worker's
// wake-up are the generator's. A request that had to wait for a free
// worker is measured from its planned time plus how late the scheduler's
// last timer fired, and never from before a worker took it. On a target
// that keeps up, the figures then agree with those of wrk pausing between
// requests at the same rate (bench/loadvswrk.sh), less the Go HTTP
// client's own overhead (a few tens of microseconds a request).
//
// Cancelling ctx stops the run: requests in flight are abandoned and the
// summary covers what completed, with ctx's error.
func Load(ctx context.Context, cfg LoadConfig) (LoadSummary, error) {
	cfg, t, err := cfg.withDefaults()
	if err == nil {
		err = guardRate(t, cfg.Rate, cfg.Force, "load")
	}
	if err != nil {
		return LoadSummary{Target: cfg.Proxy}, err
	}
	client := cfg.Client
	if client == nil {
		c, tr := newClient(cfg.Concurrency)
		defer tr.CloseIdleConnections()
		client = c
	}
	planned := plannedRequests(cfg.Rate, cfg.Duration)
	stats := &loadStats{all: newHistogram(), window: newHistogram(), errors: map[string]int64{}}

	jobs := make(chan loadJob)
	var workers sync.WaitGroup
	for range cfg.Concurrency {
		workers.Go(func() {
			for j := range jobs {
				from := j.planned
				if now := time.Now(); j.idle || now.Before(from) {
					from = now
				}
				rctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
				var r reply
				if j.put {
					r = do(rctx, client, http.MethodPost, t.url("/put", j.key), putBody(j.value), false)
				} else {
					r = do(rctx, client, http.MethodGet, t.url("/get", j.key), nil, false)
				}
				cancel()
				if ctx.Err() != nil {
					continue // abandoned: not a measurement
				}
				done := time.Now()
				stats.add(done.Sub(from), r, !j.put, done)
			}
		})
	}

	start := time.Now()
	end := start.Add(cfg.Duration)
	stopProgress := make(chan struct{})
	var reporter sync.WaitGroup
	if cfg.Progress != nil {
		reporter.Go(func() {
			tick := time.NewTicker(cfg.ProgressEvery)
			defer tick.Stop()
			for {
				select {
				case <-stopProgress:
					return
				case now := <-tick.C:
					cfg.Progress(stats.progress(now.Sub(start), cfg.ProgressEvery))
				}
			}
		})
	}

	sent := schedule(ctx, cfg, start, end, planned, jobs)
	close(jobs)
	workers.Wait()
	close(stopProgress)
	reporter.Wait()

	stats.mu.Lock()
	defer stats.mu.Unlock()
	s := LoadSummary{
		Target:    t.base.String(),
		Planned:   planned,
		Sent:      sent,
		Completed: stats.completed,
		OK:        stats.ok,
		NotFound:  stats.notFound,
		Errors:    copyCounts(stats.errors),
		P50:       stats.all.quantile(0.50),
		P90:       stats.all.quantile(0.90),
		P99:       stats.all.quantile(0.99),
		Max:       stats.all.quantile(1),
		Mean:      stats.all.mean(),
	}
	if ctx.Err() == nil {
		s.Missed = planned - sent
	}
	last := stats.last
	if last.IsZero() {
		last = time.Now()
	}
	s.Elapsed = last.Sub(start)
	if s.Elapsed > 0 {
		s.Rate = float64(s.Completed) / s.Elapsed.Seconds()
	}
	return s, ctx.Err()
}

// schedule hands the planned requests to the workers, each at its planned
// time (or at once when that time has passed), until planned are handed
// out, end passes or ctx ends. It returns how many it handed out.
//
// Go's timers wake up late by up to a millisecond or so when the process is
// otherwise idle. That lateness is the generator's, not the target's: a
// job a waiting worker takes at once is marked idle and measured from the
// worker's start; any other from its planned time plus the lateness of the
// last timer wake-up, and never from before it was actually handed to a
// worker. Waiting for a free worker (the target being slow) still counts in
// full.
func schedule(ctx context.Context, cfg LoadConfig, start, end time.Time, planned int64, jobs chan<- loadJob) int64 {
	rng := rand.New(rand.NewPCG(uint64(start.UnixNano()), 0x6b76636c617373))
	interval := float64(time.Second) / cfg.Rate
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	deadline := time.NewTimer(time.Until(end))
	defer deadline.Stop()
	var sent int64
	puts := 0
	var lag time.Duration // how late the last timer woke the scheduler
	for i := range planned {
		at := start.Add(time.Duration(float64(i) * interval))
		if wait := time.Until(at); wait > 0 {
			timer.Reset(wait)
			select {
			case <-timer.C:
				lag = max(time.Since(at), 0)
			case <-ctx.Done():
				return sent
			}
		}
		// Puts walk the keys in turn, so a run of at least K puts writes
		// every key (a lesson can count on key-0 … key-K-1 existing); gets
		// pick keys at random.
		j := loadJob{planned: at.Add(lag)}
		if rng.Float64() < cfg.PutRatio {
			j.put = true
			j.key = "key-" + strconv.Itoa(puts%cfg.Keys)
			j.value = "load-" + strconv.FormatInt(i, 10)
			puts++
		} else {
			j.key = "key-" + strconv.Itoa(rng.IntN(cfg.Keys))
		}
		// A free worker always takes the job, even if the scheduler itself
		// ran late; only a job that waits for one can miss the end.
		j.idle = true
		select {
		case jobs <- j:
			sent++
			continue
		default:
		}
		j.idle = false
		select {
		case jobs <- j:
			sent++
		case <-ctx.Done():
			return sent
		case <-deadline.C:
			return sent
		}
	}
	return sent
}
