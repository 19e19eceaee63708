package conform

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// hangingServer accepts requests and never answers them.
func hangingServer(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-t.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// endlessServer answers every request with 200 and a body without end.
func endlessServer(t *testing.T) *httptest.Server {
	chunk := []byte(strings.Repeat("endless ", 4096))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// drippingServer sends its status line at once, then a byte of body now
// and then, for ever.
func drippingServer(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		for {
			if _, err := w.Write([]byte("x")); err != nil || rc.Flush() != nil {
				return
			}
			select {
			case <-r.Context().Done():
				return
			case <-t.Context().Done():
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestHangingServer: cases fail with "no answer within", and after three
// in a row the rest are not run, so the run ends in about three timeouts.
func TestHangingServer(t *testing.T) {
	srv := hangingServer(t)
	start := time.Now()
	rep, err := Run(t.Context(), srv.URL, Options{Timeout: 150 * time.Millisecond})
	elapsed := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	if rep.CorePassed {
		t.Fatal("a hanging server passes the core")
	}
	if elapsed > 3*time.Second {
		t.Errorf("the run took %s against a hanging server", elapsed)
	}
	failed := rep.Failed()
	if len(failed) != len(rep.Cases) {
		t.Errorf("%d of %d cases failed; want all", len(failed), len(rep.Cases))
	}
	for i, c := range failed {
		switch {
		case i < giveUpAfter && !strings.Contains(c.Got, "no answer within 150ms"):
			t.Errorf("case %d: %s; want no answer within 150ms", i, c)
		case i >= giveUpAfter && !(c.Skipped && strings.Contains(c.Got, "no answer to 3 cases in a row")):
			t.Errorf("case %d: %s; want not run", i, c)
		}
	}
	t.Log(failed[0])
	t.Log(failed[len(failed)-1])
}

// TestEndlessBody: every answer is cut at the limit and fails its case;
// the run stays short.
func TestEndlessBody(t *testing.T) {
	srv := endlessServer(t)
	start := time.Now()
	rep, err := Run(t.Context(), srv.URL, Options{MaxAnswer: 64 << 10, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if elapsed := time.Since(start); elapsed > 10*time.Second {
		t.Errorf("the run took %s against an endless body", elapsed)
	}
	if rep.CorePassed {
		t.Fatal("an endless body passes the core")
	}
	for _, c := range rep.Failed() {
		if c.Group == GroupCore && !strings.Contains(c.Got, "answer larger than 65536 bytes") {
			t.Errorf("%s; want answer larger than 65536 bytes", c)
		}
	}
	t.Log(rep.Failed()[0])
}

// TestDrippingBody: a body that never ends, slowly, is a timeout.
func TestDrippingBody(t *testing.T) {
	srv := drippingServer(t)
	start := time.Now()
	rep, err := Run(t.Context(), srv.URL, Options{Timeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if elapsed := time.Since(start); elapsed > 3*time.Second {
		t.Errorf("the run took %s against a dripping body", elapsed)
	}
	first := rep.Failed()[0]
	if !strings.Contains(first.Got, "no complete answer within 200ms") {
		t.Errorf("%s; want no complete answer within 200ms", first)
	}
	t.Log(first)
}

// TestUnreachable: nothing listening is ErrUnreachable, with a report that
// says so.
func TestUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	rep, err := Run(t.Context(), url, Options{})
	if !errors.Is(err, ErrUnreachable) {
		t.Fatalf("err = %v; want ErrUnreachable", err)
	}
	if rep == nil || rep.Error == "" || rep.CorePassed || len(rep.Cases) != len(coreCases())+len(allExtensionCases()) {
		t.Fatalf("report %+v", rep)
	}
	t.Log(err)
}

// TestBadURL: a URL that is not a node's base URL is refused before any
// request.
func TestBadURL(t *testing.T) {
	for _, u := range []string{"", "localhost:5000", "ftp://x", "http://x/path", "http://x?q"} {
		if _, err := Run(t.Context(), u, Options{}); err == nil {
			t.Errorf("Run(%q) ran", u)
		}
		if err := Check(t.Context(), u, Options{}); err == nil {
			t.Errorf("Check(%q) ran", u)
		}
	}
	if _, err := Run(t.Context(), "http://127.0.0.1:1", Options{Groups: []string{"nope"}}); err == nil || !strings.Contains(err.Error(), "json-errors") {
		t.Errorf("an unknown group: %v", err)
	}
}

func allExtensionCases() []testCase {
	var cs []testCase
	for _, g := range Extensions() {
		cs = append(cs, groupCases(g)...)
	}
	return cs
}
