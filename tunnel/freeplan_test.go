package tunnel_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kvclass/kvclass/internal/testwait"
	"github.com/kvclass/kvclass/tunnel"
	"github.com/kvclass/kvclass/tunnel/edgetest"
)

// lines collects what Options.OnWait reports.
type lines struct {
	mu  sync.Mutex
	got []string
}

func (l *lines) add(s string) {
	l.mu.Lock()
	l.got = append(l.got, s)
	l.mu.Unlock()
}

func (l *lines) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.got...)
}

// statesOf returns Options.OnState feeding a channel.
func statesOf(opts *tunnel.Options) <-chan tunnel.State {
	ch := make(chan tunnel.State, 64)
	opts.OnState = func(s tunnel.State) { ch <- s }
	return ch
}

// within returns a context that ends after d, or with the test.
func within(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// checkOneLine fails unless msg is one line holding every want and none of
// the unwanted.
func checkOneLine(t *testing.T, msg string, wants, unwanted []string) {
	t.Helper()
	if strings.ContainsAny(msg, "\r\n") {
		t.Errorf("message is not one line: %q", msg)
	}
	for _, w := range wants {
		if !strings.Contains(msg, w) {
			t.Errorf("message %q lacks %q", msg, w)
		}
	}
	for _, u := range unwanted {
		if strings.Contains(msg, u) {
			t.Errorf("message %q has %q", msg, u)
		}
	}
}

// On the free plan an account has one URL, its dev domain: a second agent
// on the same token cannot have it, and is told why in words that fit.
func TestTwoAgentsOnOneToken(t *testing.T) {
	edge := startEdge(t, edgetest.Options{})
	first := listen(t, options(edge, "shared"))
	dev := edgetest.DevDomain("shared")
	if got, ok := edge.EndpointURL(dev); !ok || got != first.URL() {
		t.Fatalf("EndpointURL(%s) = %q, %v; want the first tunnel's %s", dev, got, ok, first.URL())
	}
	serve(t, first, text("first"))

	var waits lines
	opts := options(edge, "shared")
	opts.ReleaseWait = 600 * time.Millisecond
	opts.OnWait = waits.add
	start := time.Now()
	_, err := tunnel.Listen(context.Background(), opts)
	var te *tunnel.Error
	if !errors.As(err, &te) || te.Code != tunnel.CodeEndpointOnline {
		t.Fatalf("second agent: err = %v, want code %s", err, tunnel.CodeEndpointOnline)
	}
	if elapsed := time.Since(start); elapsed < opts.ReleaseWait || elapsed > opts.ReleaseWait+opts.StartTimeout {
		t.Errorf("gave up after %s, want about ReleaseWait %s", elapsed, opts.ReleaseWait)
	}
	checkOneLine(t, err.Error(),
		[]string{dev, "still online", "after waiting", "someone else is using this NGROK_AUTHTOKEN", "earlier kvclass or ngrok", "own ngrok account", "--relay", "ERR_NGROK_334"},
		[]string{"--ngrok-url", "choose another"})
	if w := waits.all(); len(w) != 1 || !strings.HasPrefix(w[0], "waiting for ngrok to release "+dev+": an earlier session of this account is still online") {
		t.Errorf("OnWait got %q, want one line about %s", w, dev)
	}
	t.Logf("second agent on one token: %s", err)

	// Without waiting, the same words at once.
	opts.ReleaseWait = -1
	_, err = tunnel.Listen(context.Background(), opts)
	checkOneLine(t, tunnel.Explain(err), []string{dev, "already online", "--relay"}, []string{"--ngrok-url"})

	// The first one never noticed.
	if _, body := get(t, first.URL()+"/"); body != "first /" {
		t.Errorf("first tunnel answered %q", body)
	}
	if st, err := edge.Wait(within(t, wait), func(st edgetest.Stats) bool { return st.Sessions == 1 && st.Online == 1 }); err != nil {
		t.Errorf("edge stats %+v, want one session and one endpoint left", st)
	}
}

// A node that crashed (no clean close) and is started again at once: ngrok
// still holds the URL for the dead session, so the restart waits, says so
// once, and gets the same URL when ngrok lets go.
func TestRestartAfterACrash(t *testing.T) {
	t.Parallel()
	const tolerance = 1500 * time.Millisecond
	edge := startEdge(t, edgetest.Options{HeartbeatTolerance: tolerance})
	crashed, err := tunnel.Listen(context.Background(), options(edge, "laptop"))
	if err != nil {
		t.Fatal(err)
	}
	url := crashed.URL()

	if n := edge.CrashAgents("laptop"); n != 1 {
		t.Fatalf("CrashAgents = %d, want 1", n)
	}
	if st := edge.Stats(); st.Held != 1 || st.Lost != 1 {
		t.Fatalf("after the crash: %+v, want the endpoint held by the lost session", st)
	}
	// The crashed process is gone; its tunnel object here only needs
	// releasing.
	closed := make(chan struct{})
	go func() {
		defer close(closed)
		crashed.Close()
	}()
	t.Cleanup(func() { <-closed })

	var waits lines
	opts := options(edge, "laptop")
	opts.OnWait = waits.add
	start := time.Now()
	restarted, err := tunnel.Listen(within(t, wait), opts)
	if err != nil {
		t.Fatalf("restart after a crash: %v", err)
	}
	t.Cleanup(func() { restarted.Close() })
	t.Logf("restarted after %s", time.Since(start).Round(time.Millisecond))
	if restarted.URL() != url {
		t.Errorf("restarted at %s, want the same URL %s", restarted.URL(), url)
	}
	w := waits.all()
	if len(w) != 1 || !strings.Contains(w[0], "waiting for ngrok to release "+edgetest.DevDomain("laptop")) || !strings.Contains(w[0], "about 25 s") {
		t.Errorf("OnWait got %q, want one line about the dev domain", w)
	}
	serve(t, restarted, text("back"))
	if _, body := get(t, url+"/x"); body != "back /x" {
		t.Errorf("after the restart GET = %q", body)
	}
}

// The restart wait is bounded by ctx as well.
func TestReleaseWaitEndsWithCtx(t *testing.T) {
	edge := startEdge(t, edgetest.Options{})
	listen(t, options(edge, "shared"))
	opts := options(edge, "shared")
	opts.OnWait = func(string) {}
	start := time.Now()
	_, err := tunnel.Listen(within(t, 500*time.Millisecond), opts)
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 3*time.Second {
		t.Fatalf("err = %v after %s, want ctx's deadline soon", err, time.Since(start))
	}
	if !strings.Contains(err.Error(), "waiting for ngrok to release") {
		t.Errorf("message %q does not say what it waited for", err)
	}
}

// A token over its agent limit gets ERR_NGROK_108 in words that fit; once
// an agent of the account stops, a waiting start gets in.
func TestTokenOverItsAgentLimit(t *testing.T) {
	edge := startEdge(t, edgetest.Options{})
	var agents []*tunnel.Tunnel
	for _, u := range []string{"https://a.example.com", "https://b.example.com", "https://c.example.com"} {
		opts := options(edge, "busy")
		opts.URL = u
		agents = append(agents, listen(t, opts))
	}

	opts := options(edge, "busy")
	opts.ReleaseWait = -1
	_, err := tunnel.Listen(context.Background(), opts)
	var te *tunnel.Error
	if !errors.As(err, &te) || te.Code != tunnel.CodeAgentLimit {
		t.Fatalf("fourth agent: err = %v, want code %s", err, tunnel.CodeAgentLimit)
	}
	checkOneLine(t, err.Error(),
		[]string{"limit of 3 agent sessions", "someone else is using this NGROK_AUTHTOKEN", "earlier kvclass or ngrok", "https://dashboard.ngrok.com/agents", "--relay", "ERR_NGROK_108"},
		[]string{"--ngrok-url"})

	// Another account is not affected.
	listen(t, options(edge, "other"))

	var waits lines
	opts.ReleaseWait = wait
	opts.OnWait = waits.add
	done := make(chan error, 1)
	go func() {
		tun, err := tunnel.Listen(context.Background(), opts)
		if err == nil {
			t.Cleanup(func() { tun.Close() })
		}
		done <- err
	}()
	testwait.For(t, "one wait reported", func() bool { return len(waits.all()) == 1 })
	if w := waits.all()[0]; !strings.Contains(w, "waiting for ngrok to release an agent session") {
		t.Errorf("OnWait got %q", w)
	}
	agents[0].Close()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("start after an agent stopped: %v", err)
		}
	case <-time.After(wait):
		t.Fatal("the waiting start did not get in")
	}
}

// ngrok stops the endpoint while the session lives on (the dashboard's
// "stop endpoint"): the tunnel binds it again and Accept never fails.
func TestStoppedEndpointComesBack(t *testing.T) {
	edge := startEdge(t, edgetest.Options{})
	opts := options(edge, "kv1")
	states := statesOf(&opts)
	tun := listen(t, opts)
	serve(t, tun, text("kv1"))
	url := tun.URL()
	expectState(t, states, tunnel.StateConnecting)
	expectState(t, states, tunnel.StateOnline)

	before := edge.Stats()
	if err := edge.StopEndpoint(url); err != nil {
		t.Fatal(err)
	}
	s := expectState(t, states, tunnel.StateReconnecting)
	if !strings.Contains(tunnel.Explain(s.Err), "stopped from the ngrok dashboard") {
		t.Errorf("reconnecting because %v", s.Err)
	}
	if s := expectState(t, states, tunnel.StateOnline); s.URL != url {
		t.Errorf("back at %s, want %s", s.URL, url)
	}
	if st := edge.Stats(); st.Binds != before.Binds+1 || st.Auths != before.Auths {
		t.Errorf("stats %+v after %+v: want one more bind on the same session", st, before)
	}
	if resp, body := get(t, url+"/again"); resp.StatusCode != http.StatusOK || body != "kv1 /again" {
		t.Errorf("after the re-bind GET = %d %q", resp.StatusCode, body)
	}
}

// When ngrok will not take the endpoint back, Accept fails for good after
// RebindTimeout, with the reason, and the state says offline.
func TestStoppedEndpointThatCannotComeBack(t *testing.T) {
	t.Parallel()
	edge := startEdge(t, edgetest.Options{})
	opts := options(edge, "kv1")
	opts.RebindTimeout = time.Second
	states := statesOf(&opts)
	tun := listen(t, opts)
	url := tun.URL()
	accepted := make(chan error, 1)
	go func() {
		for {
			c, err := tun.Accept()
			if err != nil {
				accepted <- err
				return
			}
			c.Close()
		}
	}()
	expectState(t, states, tunnel.StateConnecting)
	expectState(t, states, tunnel.StateOnline)

	edge.RefuseBinds("kv1", tunnel.CodeAccountEndpoints, "You have exceeded the maximum number of concurrent endpoints allowed for this account.")
	if err := edge.StopEndpoint(url); err != nil {
		t.Fatal(err)
	}
	expectState(t, states, tunnel.StateReconnecting)
	s := expectState(t, states, tunnel.StateOffline)
	var err error
	select {
	case err = <-accepted:
	case <-time.After(wait):
		t.Fatal("Accept still waiting after RebindTimeout")
	}
	if errors.Is(err, net.ErrClosed) {
		t.Fatalf("Accept = %v, want a final error other than net.ErrClosed", err)
	}
	var te *tunnel.Error
	if !errors.As(err, &te) || s.Err == nil || s.Err.Error() != err.Error() {
		t.Errorf("Accept = %v, offline state %v: want the same *tunnel.Error", err, s.Err)
	}
	checkOneLine(t, err.Error(), []string{url, "stopped from the ngrok dashboard", "could not be started again within 1s", "ERR_NGROK_18021"}, nil)
	t.Logf("final: %s", err)
	if _, err := tun.Accept(); err == nil || err.Error() != te.Error() {
		t.Errorf("Accept again = %v, want the same error", err)
	}
}

// The agent says whose it is, and the dashboard's stop, restart and update
// reach it.
func TestDashboardSeesAndStopsTheAgent(t *testing.T) {
	edge := startEdge(t, edgetest.Options{})
	stopped := make(chan struct{}, 1)
	opts := options(edge, "kv1")
	opts.Description = "kvclass node kv1"
	opts.Version = "1.2.3"
	opts.OnStop = func() { stopped <- struct{}{} }
	states := statesOf(&opts)
	tun := listen(t, opts)

	agents := edge.Agents()
	if len(agents) != 1 {
		t.Fatalf("agents %+v", agents)
	}
	a := agents[0]
	if a.ClientType != "kvclass" || a.Version != "1.2.3" || a.Metadata != "kvclass node kv1" || !a.RemoteStop || !strings.Contains(a.UserAgent, "kvclass/1.2.3") {
		t.Errorf("the edge sees the agent as %+v", a)
	}
	if eps := edge.Endpoints(); len(eps) != 1 || eps[0].Description != "kvclass node kv1" || eps[0].NgrokURL != edgetest.DevDomain("kv1") {
		t.Errorf("endpoints %+v", eps)
	}

	if err := edge.AgentCommand("kv1", edgetest.CommandUpdate); err == nil || !strings.Contains(err.Error(), "not supported") {
		t.Errorf("update = %v, want not supported", err)
	}
	expectState(t, states, tunnel.StateConnecting)
	expectState(t, states, tunnel.StateOnline)
	if err := edge.AgentCommand("kv1", edgetest.CommandStop); err != nil {
		t.Fatalf("stop = %v", err)
	}
	select {
	case <-stopped:
	case <-time.After(wait):
		t.Fatal("OnStop not called")
	}
	s := expectState(t, states, tunnel.StateOffline)
	if !strings.Contains(tunnel.Explain(s.Err), "stopped from the ngrok dashboard") {
		t.Errorf("offline because %v", s.Err)
	}
	if _, err := tun.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Accept after a stop = %v, want net.ErrClosed", err)
	}
	if _, err := edge.Wait(within(t, wait), func(st edgetest.Stats) bool { return st.Sessions == 0 && st.Online == 0 }); err != nil {
		t.Errorf("the stopped agent's session is still up: %+v", edge.Stats())
	}
}

func TestDashboardStopNeedsOnStop(t *testing.T) {
	edge := startEdge(t, edgetest.Options{})
	listen(t, options(edge, "kv1"))
	err := edge.AgentCommand("kv1", edgetest.CommandStop)
	if err == nil || !strings.Contains(err.Error(), "Ctrl-C") {
		t.Errorf("stop without OnStop = %v, want a refusal naming Ctrl-C", err)
	}
	if edge.Sessions() != 1 {
		t.Error("the refused stop ended the session")
	}
}

func TestDashboardRestart(t *testing.T) {
	edge := startEdge(t, edgetest.Options{})
	restarted := make(chan struct{}, 1)
	opts := options(edge, "kv1")
	opts.OnRestart = func() { restarted <- struct{}{} }
	states := statesOf(&opts)
	tun := listen(t, opts)
	serve(t, tun, text("kv1"))
	url := tun.URL()
	expectState(t, states, tunnel.StateConnecting)
	expectState(t, states, tunnel.StateOnline)
	before := edge.Stats()

	if err := edge.AgentCommand("kv1", edgetest.CommandRestart); err != nil {
		t.Fatalf("restart = %v", err)
	}
	select {
	case <-restarted:
	case <-time.After(wait):
		t.Fatal("OnRestart not called")
	}
	s := expectState(t, states, tunnel.StateReconnecting)
	if !strings.Contains(tunnel.Explain(s.Err), "restarted from the ngrok dashboard") {
		t.Errorf("reconnecting because %v", s.Err)
	}
	if s := expectState(t, states, tunnel.StateOnline); s.URL != url {
		t.Errorf("back at %s, want %s", s.URL, url)
	}
	// A new session, which may have needed a second try while the edge
	// noticed the old one's close.
	if st, err := edge.Wait(within(t, wait), func(st edgetest.Stats) bool { return st.Auths > before.Auths && st.Sessions == 1 }); err != nil {
		t.Errorf("stats %+v after %+v: want a new session", st, before)
	}
	if _, body := get(t, url+"/r"); body != "kv1 /r" {
		t.Errorf("after the restart GET = %q", body)
	}
}

func TestExplainEdgeCode(t *testing.T) {
	const proxy = "https://class.ngrok-free.dev"
	cases := []struct {
		code  string
		wants []string
	}{
		{tunnel.CodeEndpointOffline, []string{proxy, "endpoint offline", "still runs", "ERR_NGROK_3200"}},
		{tunnel.CodeMonthlyLimit, []string{proxy, "for the month", "20,000", "ERR_NGROK_727"}},
		{tunnel.CodeMonthlyBandwidth, []string{proxy, "data transfer for the month", "1 GB", "ERR_NGROK_725"}},
		{tunnel.CodeRequestRateLimit, []string{proxy, "rate limit", "4,000 a minute", "wait a minute", "ERR_NGROK_734"}},
		{tunnel.CodeBrowserWarning, []string{"ngrok-skip-browser-warning"}},
		{"ERR_NGROK_99999", []string{proxy, "https://ngrok.com/docs/errors/err_ngrok_99999"}},
		{"<script>", []string{proxy}},
	}
	for _, c := range cases {
		got := tunnel.ExplainEdgeCode(c.code, proxy)
		checkOneLine(t, got, c.wants, []string{"<script>"})
		if strings.Contains(got, "is the proxy's tunnel online") {
			t.Errorf("ExplainEdgeCode(%s) = %q", c.code, got)
		}
	}
	if got := tunnel.EdgeError(tunnel.CodeMonthlyBandwidth); got != "ngrok: monthly data transfer limit reached (ERR_NGROK_725)" {
		t.Errorf("EdgeError(725) = %q", got)
	}
}
