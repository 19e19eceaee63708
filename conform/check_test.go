package conform

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kvclass/kvclass/node"
)

// countingTransport counts the requests a client sends.
type countingTransport struct {
	n    atomic.Int32
	next http.RoundTripper
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.next.RoundTrip(r)
}

// TestCheckNode: kvclass's node passes the join check, through the
// caller's client and with its headers, in at most CheckRequests requests,
// and is left without the checker's keys.
func TestCheckNode(t *testing.T) {
	n, err := node.New(node.Config{Name: "checked"})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var badHeaders []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("User-Agent") != "kvclass-proxy/test" || r.Header.Get("Ngrok-Skip-Browser-Warning") != "1" {
			mu.Lock()
			badHeaders = append(badHeaders, r.Method+" "+r.URL.String())
			mu.Unlock()
		}
		n.Handler().ServeHTTP(w, r)
	}))
	defer srv.Close()
	counter := &countingTransport{next: http.DefaultTransport}
	err = Check(t.Context(), srv.URL, Options{
		Client: &http.Client{Transport: counter},
		Header: http.Header{"User-Agent": {"kvclass-proxy/test"}, "Ngrok-Skip-Browser-Warning": {"1"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := counter.n.Load(); got != CheckRequests {
		t.Errorf("Check sent %d requests; CheckRequests is %d", got, CheckRequests)
	}
	if len(badHeaders) > 0 {
		t.Errorf("requests without the caller's headers: %v", badHeaders)
	}
	if left := n.Store().Len(); left != 0 {
		t.Errorf("%d keys left after the check", left)
	}
}

// TestCheckBroken: a node with a bug fails the check with the first
// failing case's line.
func TestCheckBroken(t *testing.T) {
	var bug plantedBug
	for _, b := range plantedBugs() {
		if b.breaks == "get-missing" {
			bug = b
		}
	}
	n, err := node.New(node.Config{Name: "broken"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(bug.wrap(n.Handler()))
	defer srv.Close()
	err = Check(t.Context(), srv.URL, Options{})
	var f *Failure
	if !errors.As(err, &f) {
		t.Fatalf("err = %v; want a *Failure", err)
	}
	if f.Result.ID() != "core/get-missing" {
		t.Errorf("failed %s; want core/get-missing", f.Result.ID())
	}
	line := err.Error()
	for _, want := range []string{"core/get-missing: GET /get?key=" + KeyPrefix, `expected 404 {"error": ..., "key": `, `got 404 {"error": "Key not found."} (no "key" field)`} {
		if !strings.Contains(line, want) {
			t.Errorf("line %q lacks %q", line, want)
		}
	}
	if strings.Contains(line, "\n") {
		t.Errorf("line %q has a line break", line)
	}
	t.Log(line)
}

// TestCheckBudget: a node that never answers costs the check its budget,
// not a timeout per case.
func TestCheckBudget(t *testing.T) {
	srv := hangingServer(t)
	start := time.Now()
	err := Check(t.Context(), srv.URL, Options{Budget: 300 * time.Millisecond})
	elapsed := time.Since(start)
	var f *Failure
	if !errors.As(err, &f) {
		t.Fatalf("err = %v; want a *Failure", err)
	}
	if elapsed > 1500*time.Millisecond {
		t.Errorf("the check took %s with a budget of 300ms", elapsed)
	}
	if !strings.Contains(err.Error(), "core/health") || !strings.Contains(err.Error(), "time budget ran out") {
		t.Errorf("err = %q", err)
	}
	t.Log(err)
}

// TestCheckUnreachable: nothing listening fails the check on health.
func TestCheckUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	err := Check(t.Context(), url, Options{})
	var f *Failure
	if !errors.As(err, &f) || f.Result.Name != "health" || !strings.Contains(err.Error(), "no answer") {
		t.Fatalf("err = %v", err)
	}
}
