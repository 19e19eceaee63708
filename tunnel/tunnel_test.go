package tunnel_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kvclass/kvclass/internal/testwait"
	"github.com/kvclass/kvclass/tunnel"
	"github.com/kvclass/kvclass/tunnel/edgetest"
)

// wait is how long tests wait for events that take milliseconds, so a loaded
// CI machine does not fail them.
const wait = 10 * time.Second

func startEdge(t *testing.T, opts edgetest.Options) *edgetest.Edge {
	t.Helper()
	edge, err := edgetest.Start(opts)
	if err != nil {
		t.Fatalf("start edge: %v", err)
	}
	t.Cleanup(func() {
		if err := edge.Close(); err != nil {
			t.Errorf("close edge: %v", err)
		}
	})
	return edge
}

// options returns Options that reach edge with token.
func options(edge *edgetest.Edge, token string) tunnel.Options {
	return tunnel.Options{
		ConnectURL:   edge.ConnectAddr(),
		CAs:          edge.CAs(),
		Authtoken:    token,
		StartTimeout: 5 * time.Second,
	}
}

func listen(t *testing.T, opts tunnel.Options) *tunnel.Tunnel {
	t.Helper()
	tun, err := tunnel.Listen(context.Background(), opts)
	if err != nil {
		t.Fatalf("Listen: %v", err)
	}
	t.Cleanup(func() { _ = tun.Close() })
	return tun
}

// serve runs an http.Server with h on tun until the test ends.
func serve(t *testing.T, tun *tunnel.Tunnel, h http.Handler) {
	t.Helper()
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(tun)
	}()
	t.Cleanup(func() {
		_ = srv.Close()
		<-done
	})
}

// text answers every request with s and the request path.
func text(s string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s %s", s, r.URL.Path)
	})
}

var client = &http.Client{Timeout: wait, Transport: &http.Transport{DisableKeepAlives: true}}

// get fetches url and returns the response with its body read.
func get(t *testing.T, url string) (*http.Response, string) {
	t.Helper()
	resp, err := client.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read %s: %v", url, err)
	}
	return resp, string(body)
}

func TestServesRequestsThroughTheEdge(t *testing.T) {
	edge := startEdge(t, edgetest.Options{Authtokens: []string{"good"}})
	tun := listen(t, options(edge, "good"))
	if !strings.HasPrefix(tun.URL(), "http://127.0.0.1:") {
		t.Fatalf("URL = %q, want the edge's loopback URL", tun.URL())
	}
	if tun.Addr().String() != tun.URL() {
		t.Errorf("Addr = %q, want %q", tun.Addr(), tun.URL())
	}
	serve(t, tun, text("kv1"))

	resp, body := get(t, tun.URL()+"/health")
	if resp.StatusCode != http.StatusOK || body != "kv1 /health" {
		t.Fatalf("GET = %d %q, want 200 %q", resp.StatusCode, body, "kv1 /health")
	}

	// Many concurrent requests, each on its own connection and proxy stream.
	const n = 40
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			path := fmt.Sprintf("/k%d", i)
			resp, err := client.Get(tun.URL() + path)
			if err != nil {
				errs <- err
				return
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				errs <- err
				return
			}
			if want := "kv1 " + path; string(body) != want {
				errs <- fmt.Errorf("GET %s = %q, want %q", path, body, want)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestTwoTunnelsServeTheirOwnHandlers(t *testing.T) {
	edge := startEdge(t, edgetest.Options{})
	a := listen(t, options(edge, "a"))
	b := listen(t, options(edge, "b"))
	if a.URL() == b.URL() {
		t.Fatalf("both tunnels got %s", a.URL())
	}
	serve(t, a, text("a"))
	serve(t, b, text("b"))
	for range 3 {
		if _, body := get(t, a.URL()+"/x"); body != "a /x" {
			t.Errorf("tunnel a answered %q", body)
		}
		if _, body := get(t, b.URL()+"/x"); body != "b /x" {
			t.Errorf("tunnel b answered %q", body)
		}
	}
}

func TestBadTokenFailsFastWithAFriendlyMessage(t *testing.T) {
	edge := startEdge(t, edgetest.Options{Authtokens: []string{"good"}})
	opts := options(edge, "bad")
	opts.StartTimeout = 3 * time.Second
	var states []tunnel.State
	var mu sync.Mutex
	opts.OnState = func(s tunnel.State) {
		mu.Lock()
		states = append(states, s)
		mu.Unlock()
	}

	start := time.Now()
	tun, err := tunnel.Listen(context.Background(), opts)
	elapsed := time.Since(start)
	if err == nil {
		tun.Close()
		t.Fatal("Listen with a bad token succeeded")
	}
	if elapsed >= opts.StartTimeout {
		t.Errorf("Listen took %s, want well under StartTimeout %s", elapsed, opts.StartTimeout)
	}
	var te *tunnel.Error
	if !errors.As(err, &te) || te.Code != tunnel.CodeAuthtokenInvalid {
		t.Fatalf("err = %#v, want *tunnel.Error with code %s", err, tunnel.CodeAuthtokenInvalid)
	}
	msg := err.Error()
	for _, want := range []string{"rejected", "ERR_NGROK_107", "https://dashboard.ngrok.com/get-started/your-authtoken", "export NGROK_AUTHTOKEN="} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
	if strings.Contains(msg, "\n") || strings.Contains(msg, "bad") {
		t.Errorf("message %q is not one line without the token", msg)
	}
	if tunnel.Explain(err) != msg {
		t.Errorf("Explain = %q, want the error's own message", tunnel.Explain(err))
	}
	t.Logf("bad token failed in %s: %s", elapsed.Round(time.Millisecond), msg)

	testwait.For(t, "the connecting and offline states", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(states) == 2
	})
	mu.Lock()
	defer mu.Unlock()
	if states[0].State != tunnel.StateConnecting || states[1].State != tunnel.StateOffline || states[1].Err == nil {
		t.Errorf("states = %+v, want connecting then offline with the error", states)
	}
}

func TestMissingTokenDoesNotDial(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	dialed := make(chan struct{}, 1)
	go func() {
		if c, err := ln.Accept(); err == nil {
			c.Close()
			dialed <- struct{}{}
		}
	}()

	_, err = tunnel.Listen(context.Background(), tunnel.Options{ConnectURL: ln.Addr().String()})
	if !errors.Is(err, tunnel.ErrNoAuthtoken) {
		t.Fatalf("err = %v, want ErrNoAuthtoken", err)
	}
	for _, want := range []string{"https://dashboard.ngrok.com/get-started/your-authtoken", "export NGROK_AUTHTOKEN="} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message %q lacks %q", err, want)
		}
	}
	select {
	case <-dialed:
		t.Error("Listen dialed without a token")
	case <-time.After(200 * time.Millisecond):
	}
}

func TestLimitsAndTakenDomainsGetFriendlyMessages(t *testing.T) {
	edge := startEdge(t, edgetest.Options{MaxEndpoints: 1, ForeignDomains: []string{"someone-else.ngrok-free.dev"}})
	const mine = "https://my-name.ngrok-free.dev"
	opts := options(edge, "x")
	opts.URL = mine
	first := listen(t, opts)
	if got, ok := edge.EndpointURL(mine); !ok || got != first.URL() {
		t.Errorf("EndpointURL(%s) = %q, %v; want %q", mine, got, ok, first.URL())
	}

	cases := []struct {
		name  string
		url   string
		code  string
		wants []string
	}{
		{"domain online elsewhere", mine, tunnel.CodeEndpointOnline, []string{mine, "already online", "NGROK_AUTHTOKEN", "--ngrok-url"}},
		{"endpoint limit", "", tunnel.CodeAccountEndpoints, []string{"maximum of online endpoints", "free plan"}},
		{"domain of another account", "https://someone-else.ngrok-free.dev", tunnel.CodeDomainForeign, []string{"reserved by another ngrok account", "--ngrok-url"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			opts := options(edge, "x")
			opts.URL = c.url
			opts.ReleaseWait = -1 // fail at once rather than wait for a release
			start := time.Now()
			tun, err := tunnel.Listen(context.Background(), opts)
			if err == nil {
				tun.Close()
				t.Fatal("Listen succeeded")
			}
			var te *tunnel.Error
			if !errors.As(err, &te) || te.Code != c.code {
				t.Fatalf("err = %v, want code %s", err, c.code)
			}
			for _, want := range append(c.wants, c.code) {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("message %q lacks %q", err, want)
				}
			}
			if time.Since(start) > 2*time.Second {
				t.Errorf("took %s to fail", time.Since(start))
			}
		})
	}

	// The endpoint that holds the domain still serves.
	serve(t, first, text("first"))
	if _, body := get(t, first.URL()+"/"); body != "first /" {
		t.Errorf("first endpoint answered %q", body)
	}
}

func TestReconnectsAfterTheSessionDrops(t *testing.T) {
	edge := startEdge(t, edgetest.Options{})
	states := make(chan tunnel.State, 32)
	opts := options(edge, "x")
	opts.OnState = func(s tunnel.State) { states <- s }
	tun := listen(t, opts)
	serve(t, tun, text("kv1"))
	url := tun.URL()

	expectState(t, states, tunnel.StateConnecting)
	if s := expectState(t, states, tunnel.StateOnline); s.URL != url {
		t.Errorf("online URL = %q, want %q", s.URL, url)
	}

	for round := range 2 {
		edge.DropSessions()
		if s := expectState(t, states, tunnel.StateReconnecting); s.Err == nil || s.URL != url {
			t.Errorf("round %d: reconnecting state = %+v, want the URL and an error", round, s)
		}
		if s := expectState(t, states, tunnel.StateOnline); s.URL != url {
			t.Errorf("round %d: online again at %q, want %q", round, s.URL, url)
		}
		if resp, body := get(t, url+"/back"); resp.StatusCode != http.StatusOK || body != "kv1 /back" {
			t.Errorf("round %d: after reconnect GET = %d %q", round, resp.StatusCode, body)
		}
	}
	if tun.URL() != url {
		t.Errorf("URL changed to %q", tun.URL())
	}

	tun.Close()
	expectState(t, states, tunnel.StateOffline)
}

// expectState waits for the next state and checks its name.
func expectState(t *testing.T, states <-chan tunnel.State, want string) tunnel.State {
	t.Helper()
	select {
	case s := <-states:
		if s.State != want {
			t.Fatalf("state = %+v, want %s", s, want)
		}
		return s
	case <-time.After(wait):
		t.Fatalf("no %s state within %s", want, wait)
		return tunnel.State{}
	}
}

func TestClosedEndpointAnswersWithNgrokErrorCode(t *testing.T) {
	edge := startEdge(t, edgetest.Options{})
	tun := listen(t, options(edge, "x"))
	serve(t, tun, text("kv1"))
	url := tun.URL()
	if resp, _ := get(t, url+"/"); resp.Header.Get(tunnel.ErrorCodeHeader) != "" {
		t.Fatalf("online endpoint answered with %s", tunnel.ErrorCodeHeader)
	}

	if err := tun.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, err := tun.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Accept after Close = %v, want net.ErrClosed", err)
	}
	resp, body := get(t, url+"/get?key=a")
	code := resp.Header.Get(tunnel.ErrorCodeHeader)
	if resp.StatusCode != http.StatusNotFound || code != tunnel.CodeEndpointOffline {
		t.Fatalf("offline endpoint answered %d with %s=%q, want 404 and %s", resp.StatusCode, tunnel.ErrorCodeHeader, code, tunnel.CodeEndpointOffline)
	}
	if !strings.Contains(body, tunnel.CodeEndpointOffline) {
		t.Errorf("body %q lacks the code", body)
	}
	if got := tunnel.EdgeError(code); got != "ngrok: endpoint offline (ERR_NGROK_3200)" {
		t.Errorf("EdgeError = %q", got)
	}
	testwait.For(t, "the session to end", func() bool { return edge.Sessions() == 0 })
}

func TestCloseWhileTheEdgeIsGone(t *testing.T) {
	t.Parallel()
	edge, err := edgetest.Start(edgetest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	states := make(chan tunnel.State, 32)
	opts := options(edge, "x")
	opts.OnState = func(s tunnel.State) { states <- s }
	tun := listen(t, opts)
	accepted := make(chan error, 1)
	go func() {
		_, err := tun.Accept()
		accepted <- err
	}()
	expectState(t, states, tunnel.StateConnecting)
	expectState(t, states, tunnel.StateOnline)

	if err := edge.Close(); err != nil {
		t.Fatal(err)
	}
	expectState(t, states, tunnel.StateReconnecting)
	start := time.Now()
	if err := tun.Close(); err != nil {
		t.Errorf("Close = %v", err)
	}
	if elapsed := time.Since(start); elapsed > 4*time.Second {
		t.Errorf("Close took %s without an edge", elapsed)
	}
	// Each failed reconnect with a new reason is reported; offline ends it.
	for offline := false; !offline; {
		select {
		case s := <-states:
			offline = s.State == tunnel.StateOffline
			if !offline && (s.State != tunnel.StateReconnecting || s.Err == nil) {
				t.Fatalf("state %+v before offline", s)
			}
		case <-time.After(wait):
			t.Fatal("no offline state after Close")
		}
	}
	select {
	case err := <-accepted:
		if !errors.Is(err, net.ErrClosed) {
			t.Errorf("Accept = %v, want net.ErrClosed", err)
		}
	case <-time.After(wait):
		t.Error("Accept still blocked after Close")
	}
}

func TestUnreachableEdge(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now

	start := time.Now()
	_, err = tunnel.Listen(context.Background(), tunnel.Options{ConnectURL: addr, Authtoken: "x", StartTimeout: time.Second})
	elapsed := time.Since(start)
	if err == nil {
		t.Fatal("Listen succeeded without an edge")
	}
	if elapsed > 3*time.Second {
		t.Errorf("Listen took %s with StartTimeout 1s", elapsed)
	}
	if msg := err.Error(); !strings.Contains(msg, "cannot reach") || !strings.Contains(msg, addr) || !strings.Contains(msg, "--ngrok-connect-url") {
		t.Errorf("message %q does not explain the unreachable edge", msg)
	}
}

func TestSilentEdgeTimesOut(t *testing.T) {
	t.Parallel()
	// A TCP server that never answers the TLS handshake.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns sync.WaitGroup
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			go func() {
				defer conns.Done()
				_, _ = io.Copy(io.Discard, c)
				c.Close()
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		conns.Wait()
	})

	start := time.Now()
	_, err = tunnel.Listen(context.Background(), tunnel.Options{ConnectURL: ln.Addr().String(), Authtoken: "x", StartTimeout: time.Second})
	if err == nil {
		t.Fatal("Listen succeeded")
	}
	if elapsed := time.Since(start); elapsed > 3*time.Second {
		t.Errorf("Listen took %s with StartTimeout 1s", elapsed)
	}
	if !strings.Contains(err.Error(), "no answer") {
		t.Errorf("message %q does not explain the timeout", err)
	}
}

func TestUntrustedEdgeCertificate(t *testing.T) {
	edge := startEdge(t, edgetest.Options{})
	opts := options(edge, "x")
	opts.CAs = nil // trust ngrok's own CA only
	start := time.Now()
	_, err := tunnel.Listen(context.Background(), opts)
	if err == nil {
		t.Fatal("Listen trusted an unknown CA")
	}
	if elapsed := time.Since(start); elapsed >= opts.StartTimeout {
		t.Errorf("Listen took %s, want a fast failure", elapsed)
	}
	if msg := err.Error(); !strings.Contains(msg, "does not trust") || !strings.Contains(msg, "--ngrok-ca") {
		t.Errorf("message %q does not explain the certificate", msg)
	}
	t.Logf("untrusted certificate: %s", err)
}

func TestCAFile(t *testing.T) {
	edge := startEdge(t, edgetest.Options{})
	path := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(path, edge.CAPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	opts := options(edge, "x")
	opts.CAs = nil
	opts.CAFile = path
	tun := listen(t, opts)
	serve(t, tun, text("ok"))
	if _, body := get(t, tun.URL()+"/"); body != "ok /" {
		t.Errorf("GET = %q", body)
	}

	opts.CAFile = filepath.Join(t.TempDir(), "missing.pem")
	if _, err := tunnel.Listen(context.Background(), opts); err == nil || !strings.Contains(err.Error(), "--ngrok-ca") {
		t.Errorf("missing CA file: err = %v", err)
	}
}

func TestBadOptionValues(t *testing.T) {
	cases := []struct {
		opts tunnel.Options
		want string
	}{
		{tunnel.Options{Authtoken: "x", ConnectURL: "https://connect.example:443"}, "--ngrok-connect-url takes HOST:PORT"},
		{tunnel.Options{Authtoken: "x", ConnectURL: "connect.example"}, "--ngrok-connect-url takes HOST:PORT"},
		{tunnel.Options{Authtoken: "x", URL: "my-name.ngrok-free.dev"}, "--ngrok-url takes a full URL"},
		{tunnel.Options{Authtoken: "x", URL: "https://my-name.ngrok-free.dev/path"}, "--ngrok-url takes a full URL"},
		{tunnel.Options{Authtoken: "x", URL: "ftp://my-name.ngrok-free.dev"}, "--ngrok-url takes a full URL"},
	}
	for _, c := range cases {
		_, err := tunnel.Listen(context.Background(), c.opts)
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("Listen(%+v) = %v, want one line with %q", c.opts, err, c.want)
		}
	}
}

func TestCancelledStart(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err = tunnel.Listen(ctx, tunnel.Options{ConnectURL: addr, Authtoken: "x", StartTimeout: wait})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want the context's error", err)
	}
}

func TestCloseLeavesNoGoroutines(t *testing.T) {
	before := countGoroutines()
	func() {
		edge, err := edgetest.Start(edgetest.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer edge.Close()
		tun, err := tunnel.Listen(context.Background(), options(edge, "x"))
		if err != nil {
			t.Fatal(err)
		}
		srv := &http.Server{Handler: text("kv1"), ReadHeaderTimeout: time.Second}
		done := make(chan struct{})
		go func() {
			defer close(done)
			_ = srv.Serve(tun)
		}()
		c := &http.Client{Timeout: wait, Transport: &http.Transport{}}
		for range 5 {
			resp, err := c.Get(tun.URL() + "/")
			if err != nil {
				t.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		edge.DropSessions() // exercise the reconnect path too
		testwait.For(t, "the session to come back", func() bool { return edge.Sessions() == 1 })
		c.CloseIdleConnections()
		_ = srv.Close() // closes tun
		<-done
	}()
	testwait.Seen(t, wait, "the tunnel's goroutines to end", func() (bool, string) {
		now := countGoroutines()
		if now <= before {
			return true, ""
		}
		buf := make([]byte, 1<<20)
		return false, fmt.Sprintf("%d before, %d after Close\n%s", before, now, buf[:runtime.Stack(buf, true)])
	})
}

// countGoroutines counts goroutines, leaving out the SDK's heartbeat
// goroutines (muxado's Heartbeat.requester and check): they do not watch for
// the session's end and finish on their next tick, up to the heartbeat
// interval plus tolerance (25 s by default) after it.
func countGoroutines() int {
	buf := make([]byte, 1<<20)
	n := 0
	for _, g := range strings.Split(string(buf[:runtime.Stack(buf, true)]), "\n\n") {
		if !strings.Contains(g, "muxado/v2.(*Heartbeat)") {
			n++
		}
	}
	return n
}
