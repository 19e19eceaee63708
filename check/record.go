package check

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of a check run, for the command line's flags.
const (
	// DefaultCheckDuration is how long a check's clients run.
	DefaultCheckDuration = 10 * time.Second
	// DefaultClients is the number of concurrent clients.
	DefaultClients = 4
	// DefaultCheckKeys is the number of keys the clients share.
	DefaultCheckKeys = 5
	// DefaultCheckRate is 50 operations/s over all clients: enough to catch
	// a replica that lags by tens of milliseconds, few enough to check in
	// well under a second, and inside ngrok's free plan (4,000 a minute).
	DefaultCheckRate = 50.0
)

// CheckConfig describes a check run.
type CheckConfig struct {
	// Proxy is the target's base URL: a proxy (or a node), http or https.
	Proxy string
	// Duration is how long the clients run; 0 means DefaultCheckDuration.
	Duration time.Duration
	// Clients is the number of concurrent clients; 0 means DefaultClients.
	Clients int
	// Keys is the number of keys the clients share; 0 means
	// DefaultCheckKeys. Few keys make clients collide, which is the point.
	Keys int
	// Rate is the operations per second over all clients, each client
	// pacing its own share; 0 means DefaultCheckRate.
	Rate float64
	// KeyPrefix names the keys: KeyPrefix + "0", "1", … The default is
	// "check-RUN-" with RUN a fresh tag, so a run starts on keys nobody
	// wrote: the check assumes every key starts absent, and a value left
	// by someone else (or by an earlier run) would read as an anomaly.
	KeyPrefix string
	// Timeout bounds each request; 0 means DefaultRequestTimeout.
	Timeout time.Duration
	// CheckTimeout bounds Porcupine's search; 0 means DefaultCheckTimeout.
	CheckTimeout time.Duration
	// HTML, when set, is the file to write Porcupine's visualization to.
	HTML string
	// Force allows, against an ngrok URL, a rate above the free plan's
	// 4,000 requests a minute.
	Force bool
	// Progress, when set, is called once per ProgressEvery while the
	// clients run, and once more (with Checking set) when the check of the
	// history begins. Calls never overlap; each must return quickly.
	Progress func(CheckProgress)
	// ProgressEvery is the interval between Progress calls; 0 means 1 s.
	ProgressEvery time.Duration
	// Client, when set, sends the requests instead of a tuned client (for
	// tests).
	Client *http.Client
}

// CheckProgress is a check run's progress while its clients run.
type CheckProgress struct {
	// Elapsed is the time since the clients started.
	Elapsed time.Duration `json:"elapsed_ns"`
	// Ops is the number of operations completed so far.
	Ops int64 `json:"ops"`
	// Rate is the operations per second over the last interval.
	Rate float64 `json:"rate"`
	// Errors counts failed operations so far by status label.
	Errors map[string]int64 `json:"errors,omitempty"`
	// Checking is set on the last report, sent once the clients have
	// stopped and the check of the Ops recorded begins.
	Checking bool `json:"checking,omitempty"`
}

// String is the progress as one line: "  3s  150 ops  50.0/s  no errors".
func (p CheckProgress) String() string {
	errs := "no errors"
	if len(p.Errors) > 0 {
		errs = "errors " + FormatErrors(p.Errors)
	}
	return fmt.Sprintf("%4.0fs  %s ops  %.1f/s  %s", p.Elapsed.Seconds(), fmtInt(p.Ops), p.Rate, errs)
}

func (c CheckConfig) withDefaults() (CheckConfig, target, error) {
	t, err := parseTarget(c.Proxy)
	if err != nil {
		return c, t, err
	}
	if c.Duration == 0 {
		c.Duration = DefaultCheckDuration
	}
	if c.Clients == 0 {
		c.Clients = DefaultClients
	}
	if c.Keys == 0 {
		c.Keys = DefaultCheckKeys
	}
	if c.Rate == 0 {
		c.Rate = DefaultCheckRate
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultRequestTimeout
	}
	if c.CheckTimeout == 0 {
		c.CheckTimeout = DefaultCheckTimeout
	}
	if c.ProgressEvery == 0 {
		c.ProgressEvery = time.Second
	}
	if c.KeyPrefix == "" {
		c.KeyPrefix = "check-" + runTag() + "-"
	}
	switch {
	case c.Duration < 0:
		return c, t, fmt.Errorf("--duration %s is negative: pass a duration like 10s", c.Duration)
	case c.Clients < 0 || c.Clients > 1000:
		return c, t, fmt.Errorf("--clients %d is out of range: pass from 1 to 1000 clients, like 4", c.Clients)
	case c.Keys < 0:
		return c, t, fmt.Errorf("--keys %d is negative: pass a number of keys like 5", c.Keys)
	case c.Rate < 0 || c.Rate > 1e5:
		return c, t, fmt.Errorf("rate %g is out of range: pass from 1 to 100000 operations/s", c.Rate)
	case c.Timeout < 0 || c.CheckTimeout < 0:
		return c, t, fmt.Errorf("timeouts must not be negative")
	}
	return c, t, nil
}

// runTag is a short random tag that names a run's keys.
func runTag() string {
	return strconv.FormatUint(rand.Uint64()%(36*36*36*36), 36)
}

// recorder gathers the clients' operations and counts.
type recorder struct {
	mu     sync.Mutex
	ops    []Op
	errors map[string]int64
	done   atomic.Int64
	window atomic.Int64
}

func (r *recorder) add(o Op) {
	r.mu.Lock()
	r.ops = append(r.ops, o)
	if o.failed() {
		r.errors[o.label()]++
	}
	r.mu.Unlock()
	r.done.Add(1)
	r.window.Add(1)
}

// Record runs cfg's clients against the proxy and returns the history they
// recorded: each client loops until cfg.Duration passes, paced at its share
// of cfg.Rate, picking a key at random and, one time in two, putting a value
// unique to the run ("c<client>-<seq>"), else getting the key. Cancelling
// ctx stops the clients; the history then holds what completed before,
// with requests cut short recorded as failed, and ctx's error.
func Record(ctx context.Context, cfg CheckConfig) ([]Op, error) {
	cfg, t, err := cfg.withDefaults()
	if err == nil {
		err = guardRate(t, cfg.Rate, cfg.Force, "check")
	}
	if err != nil {
		return nil, err
	}
	return record(ctx, cfg, t)
}

func record(ctx context.Context, cfg CheckConfig, t target) ([]Op, error) {
	client := cfg.Client
	if client == nil {
		c, tr := newClient(cfg.Clients)
		defer tr.CloseIdleConnections()
		client = c
	}
	keys := make([]string, cfg.Keys)
	for i := range keys {
		keys[i] = cfg.KeyPrefix + strconv.Itoa(i)
	}
	rec := &recorder{errors: map[string]int64{}}
	start := time.Now()
	end := start.Add(cfg.Duration)
	runCtx, cancel := context.WithDeadline(ctx, end)
	defer cancel()
	interval := time.Duration(float64(cfg.Clients) / cfg.Rate * float64(time.Second))

	var wg sync.WaitGroup
	for c := range cfg.Clients {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(start.UnixNano()), uint64(c)))
			next := start.Add(interval * time.Duration(c) / time.Duration(cfg.Clients))
			timer := time.NewTimer(time.Hour)
			defer timer.Stop()
			seq := 0
			for {
				if wait := time.Until(next); wait > 0 {
					timer.Reset(wait)
					select {
					case <-timer.C:
					case <-runCtx.Done():
						return
					}
				}
				if runCtx.Err() != nil {
					return
				}
				next = next.Add(interval)
				if now := time.Now(); next.Before(now) {
					next = now // behind: go on at once, but do not burst
				}
				o := Op{Client: c, Key: keys[rng.IntN(len(keys))], Kind: OpGet}
				if rng.IntN(2) == 0 {
					seq++
					o.Kind, o.Value = OpPut, "c"+strconv.Itoa(c)+"-"+strconv.Itoa(seq)
				}
				// Requests are bounded by the request timeout and by ctx,
				// not by the run's end: an operation in flight when the
				// run ends completes and is recorded.
				rctx, rcancel := context.WithTimeout(ctx, cfg.Timeout)
				o.Call = time.Since(start)
				var r reply
				if o.Kind == OpPut {
					r = do(rctx, client, http.MethodPost, t.url("/put", o.Key), putBody(o.Value), false)
				} else {
					r = do(rctx, client, http.MethodGet, t.url("/get", o.Key), nil, true)
				}
				o.Return = time.Since(start)
				rcancel()
				o.Status, o.Nodes, o.Version, o.Edge = r.status, r.nodes, r.version, r.edge
				o.Error, o.Timeout, o.NotSent = r.errMsg, r.timeout, r.dialErr
				if o.Kind == OpGet && r.found {
					o.Value, o.Found = r.value, true
				}
				rec.add(o)
			}
		})
	}

	stop := make(chan struct{})
	var reporter sync.WaitGroup
	if cfg.Progress != nil {
		reporter.Go(func() {
			tick := time.NewTicker(cfg.ProgressEvery)
			defer tick.Stop()
			for {
				select {
				case <-stop:
					return
				case now := <-tick.C:
					rec.mu.Lock()
					errs := copyCounts(rec.errors)
					rec.mu.Unlock()
					cfg.Progress(CheckProgress{
						Elapsed: now.Sub(start),
						Ops:     rec.done.Load(),
						Rate:    float64(rec.window.Swap(0)) / cfg.ProgressEvery.Seconds(),
						Errors:  errs,
					})
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	reporter.Wait()
	rec.mu.Lock()
	defer rec.mu.Unlock()
	sortOps(rec.ops)
	return rec.ops, ctx.Err()
}
