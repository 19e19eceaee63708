package check

import (
	"bytes"
	"context"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kvclass/kvclass/internal/testwait"
)

// testRate runs RunLoad at rate for d against an in-test server and checks
// that the achieved rate is within 5%.
func testRate(t *testing.T, rate float64, d time.Duration) {
	_, srv := newKVServer(t, false, nil)
	var out testwait.Buffer
	var progress atomic.Int64
	s, err := RunLoad(context.Background(), LoadConfig{
		Proxy: srv.URL, Rate: rate, Duration: d, Keys: 100, PutRatio: 0.5,
		Progress: func(LoadProgress) { progress.Add(1) },
	}, &out)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s", out.String())
	want := int64(rate * d.Seconds())
	if s.Planned != want || s.Sent != want || s.Completed != want || s.Missed != 0 {
		t.Errorf("planned %d sent %d completed %d missed %d, want %d each and 0 missed", s.Planned, s.Sent, s.Completed, s.Missed, want)
	}
	if math.Abs(s.Rate-rate)/rate > 0.05 {
		t.Errorf("achieved %.1f requests/s, want %g ± 5%%", s.Rate, rate)
	}
	if s.OK+s.NotFound != s.Completed || len(s.Errors) != 0 {
		t.Errorf("ok %d + not found %d != completed %d, errors %v", s.OK, s.NotFound, s.Completed, s.Errors)
	}
	if s.P50 <= 0 || s.P50 > s.P90 || s.P90 > s.P99 || s.P99 > s.Max {
		t.Errorf("percentiles out of order: p50 %s p90 %s p99 %s max %s", s.P50, s.P90, s.P99, s.Max)
	}
	if progress.Load() < int64(d/time.Second)-1 {
		t.Errorf("%d progress reports in %s", progress.Load(), d)
	}
	text := out.String()
	for _, w := range []string{"This run sends about " + fmtInt(want) + " requests", "\r   1s  ", " req  ", "p99 ", "no errors", "latency p50 "} {
		if !strings.Contains(text, w) {
			t.Errorf("output lacks %q:\n%s", w, text)
		}
	}
}

func TestLoadRate(t *testing.T) { testRate(t, 500, 2*time.Second) }

// TestLoadRate10s is the 10 s measurement, for benchmark runs:
// KVCLASS_LONG=1 go test -run TestLoadRate10s ./check/
func TestLoadRate10s(t *testing.T) {
	if testing.Short() || os.Getenv("KVCLASS_LONG") != "1" {
		t.Skip("a 10 s run: set KVCLASS_LONG=1 (and no -short) to run it")
	}
	testRate(t, 500, 10*time.Second)
}

func TestLoadCountsErrorsByStatus(t *testing.T) {
	t.Parallel()
	// key-0 … key-4 of 10 keys answer 503.
	_, srv := newKVServer(t, false, func(key string) int {
		if key < "key-5" {
			return http.StatusServiceUnavailable
		}
		return 0
	})
	var reports []LoadProgress
	var mu sync.Mutex
	s, err := Load(context.Background(), LoadConfig{
		Proxy: srv.URL, Rate: 200, Duration: time.Second, Keys: 10, PutRatio: 0.5,
		ProgressEvery: 200 * time.Millisecond,
		Progress: func(p LoadProgress) {
			mu.Lock()
			reports = append(reports, p)
			mu.Unlock()
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if s.Errors["503"] == 0 || s.OK == 0 || len(s.Errors) != 1 {
		t.Fatalf("errors %v, ok %d", s.Errors, s.OK)
	}
	if s.OK+s.NotFound+s.Errors["503"] != s.Completed {
		t.Errorf("ok %d + not found %d + 503s %d != %d", s.OK, s.NotFound, s.Errors["503"], s.Completed)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(reports) < 3 {
		t.Fatalf("%d progress reports", len(reports))
	}
	last := reports[len(reports)-1]
	if last.Errors["503"] == 0 || !strings.Contains(last.String(), "errors 503×") {
		t.Errorf("progress %q", last.String())
	}
	if !strings.Contains(s.String(), "errors by status: 503×") {
		t.Errorf("summary %q", s.String())
	}
}

func TestLoadRefusesNgrokAboveFreePlan(t *testing.T) {
	for _, host := range []string{"abc.ngrok-free.app", "x.ngrok.io", "NAME.ngrok-free.dev", "y.ngrok-free.pizza"} {
		u := "https://" + host
		var out bytes.Buffer
		began := time.Now()
		_, err := RunLoad(context.Background(), LoadConfig{Proxy: u, Rate: 100, Duration: time.Minute}, &out)
		if err == nil {
			t.Fatalf("%s: 6,000 a minute accepted", host)
		}
		for _, w := range []string{"6,000 a minute", "4,000 requests a minute", "ERR_NGROK_734", "--force", "--rate 66.6"} {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error lacks %q: %v", host, w, err)
			}
		}
		if !strings.Contains(out.String(), "This run sends about 6,000 requests") || !strings.Contains(out.String(), "30.0% of the free plan's 20,000 requests a month") {
			t.Errorf("%s: output %q", host, out.String())
		}
		if time.Since(began) > time.Second {
			t.Errorf("%s: refusing took %s", host, time.Since(began))
		}
	}
	// The same rate against a host that is not ngrok's is fine; so is the
	// plan's limit itself.
	if _, _, err := (LoadConfig{Proxy: "http://ngrok.example.com", Rate: 100}).withDefaults(); err != nil {
		t.Error(err)
	}
	tg, _ := parseTarget("https://a.ngrok.app")
	if err := guardRate(tg, 66.6, false, "load"); err != nil {
		t.Errorf("66.6/s refused: %v", err)
	}
	if err := guardRate(tg, 67, false, "load"); err == nil {
		t.Error("67/s accepted")
	}
	if _, err := Check(context.Background(), CheckConfig{Proxy: "https://a.ngrok.app", Rate: 100}); err == nil || !strings.Contains(err.Error(), "refusing to check") {
		t.Errorf("check at 100/s against ngrok: %v", err)
	}
}

func TestLoadForceAllowsNgrokAboveFreePlan(t *testing.T) {
	kv, srv := newKVServer(t, false, nil)
	u, _ := url.Parse(srv.URL)
	client := &http.Client{Transport: redirect{host: u.Host, next: http.DefaultTransport}}
	s, err := Load(context.Background(), LoadConfig{
		Proxy: "https://class.ngrok-free.app", Rate: 100, Duration: 200 * time.Millisecond,
		Keys: 3, PutRatio: 1, Force: true, Client: client,
	})
	if err != nil {
		t.Fatal(err)
	}
	if s.OK != 20 || len(kv.seenKeys()) == 0 {
		t.Errorf("ok %d, keys %v", s.OK, kv.seenKeys())
	}
}

func TestIsNgrokHost(t *testing.T) {
	for host, want := range map[string]bool{
		"abc.ngrok-free.app": true, "ngrok.io": true, "a.b.ngrok.dev": true, "X.NGROK.APP": true,
		"ngrok.app.evil.com": false, "myngrok.io": false, "localhost": false, "127.0.0.1": false,
	} {
		if got := IsNgrokHost(host); got != want {
			t.Errorf("%s: %v, want %v", host, got, want)
		}
	}
}

func TestLoadConfigErrors(t *testing.T) {
	for _, c := range []LoadConfig{
		{},
		{Proxy: "localhost:5003"},
		{Proxy: "ftp://x"},
		{Proxy: "http://x", PutRatio: 2},
		{Proxy: "http://x", Rate: -1},
		{Proxy: "http://x", Concurrency: -1},
	} {
		if _, err := Load(context.Background(), c); err == nil {
			t.Errorf("%+v accepted", c)
		} else if !strings.Contains(err.Error(), "pass") {
			t.Errorf("%+v: error does not say what to do: %v", c, err)
		}
	}
}

func TestLoadCancel(t *testing.T) {
	_, srv := newKVServer(t, false, nil)
	ctx, cancel := context.WithCancel(context.Background())
	began := time.Now()
	s, err := Load(ctx, LoadConfig{
		Proxy: srv.URL, Rate: 200, Duration: time.Minute, ProgressEvery: 50 * time.Millisecond,
		Progress: func(p LoadProgress) {
			if p.Requests > 0 {
				cancel()
			}
		},
	})
	if err != context.Canceled || s.Completed == 0 || s.Missed != 0 {
		t.Fatalf("err %v, completed %d, missed %d", err, s.Completed, s.Missed)
	}
	if took := time.Since(began); took > 10*time.Second {
		t.Errorf("cancel took %s", took)
	}
}

func TestHistogramPercentiles(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	h := newHistogram()
	var vals []time.Duration
	for range 100000 {
		// log-normal-ish latencies from 50µs to seconds
		v := time.Duration(math.Exp(rng.NormFloat64()*1.5+math.Log(1e6))) + 50*time.Microsecond
		vals = append(vals, v)
		h.record(v)
	}
	slices.Sort(vals)
	for _, q := range []float64{0.5, 0.9, 0.99, 0.999} {
		exact := vals[int(math.Ceil(q*float64(len(vals))))-1]
		got := h.quantile(q)
		if rel := math.Abs(float64(got-exact)) / float64(exact); rel > 0.004 {
			t.Errorf("q%g: %s, exact %s (%.2f%% off)", q, got, exact, rel*100)
		}
	}
	if h.quantile(1) != vals[len(vals)-1] || h.quantile(0) != vals[0] {
		t.Errorf("max %s min %s, want %s %s", h.quantile(1), h.quantile(0), vals[len(vals)-1], vals[0])
	}
	// Every bucket boundary maps back to its bucket.
	for _, v := range []uint64{0, 1, 511, 512, 513, 1023, 1024, 1 << 40, 1<<63 - 1} {
		lo, hi := bucketRange(bucketOf(v))
		if v < lo || v > hi {
			t.Errorf("%d in bucket [%d, %d]", v, lo, hi)
		}
	}
}

func TestFormatErrors(t *testing.T) {
	got := FormatErrors(map[string]int64{"timeout": 2, "503": 1, "502": 3, "conn": 1, "ERR_NGROK_734": 4})
	if want := "502×3 503×1 ERR_NGROK_734×4 conn×1 timeout×2"; got != want {
		t.Errorf("%q, want %q", got, want)
	}
}

// TestLoadCountsTheWaitForASlowTarget: the load is open-loop. Against a
// target slower than the rate allows, a request waits for a free worker,
// and that wait counts in its latency (no coordinated omission); against
// a target that keeps up, a request is measured from when an idle worker
// took it, so the generator's own wake-up does not count.
func TestLoadCountsTheWaitForASlowTarget(t *testing.T) {
	t.Parallel()
	const service = 50 * time.Millisecond
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(service) // the target's service time, which the test is about
		w.Write([]byte(`{"value":"v"}`))
	}))
	t.Cleanup(slow.Close)
	s, err := Load(context.Background(), LoadConfig{Proxy: slow.URL, Rate: 100, Duration: time.Second, Keys: 1, Concurrency: 1})
	if err != nil {
		t.Fatal(err)
	}
	// Request i is due at i×10 ms and starts at i×50 ms: it waits i×40 ms.
	if s.Completed < 5 || s.P50 < 4*service || s.Max < 8*service {
		t.Errorf("a 50 ms target at 100/s with one worker: %d completed, p50 %s, max %s; the wait for the worker must count", s.Completed, s.P50, s.Max)
	}
	fast := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`{"value":"v"}`)) }))
	t.Cleanup(fast.Close)
	s, err = Load(context.Background(), LoadConfig{Proxy: fast.URL, Rate: 200, Duration: time.Second, Keys: 1})
	if err != nil {
		t.Fatal(err)
	}
	if s.Completed != 200 || s.P50 > 20*time.Millisecond {
		t.Errorf("a fast target at 200/s: %d completed, p50 %s", s.Completed, s.P50)
	}
}
