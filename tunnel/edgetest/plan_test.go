package edgetest

import (
	"context"
	"strings"
	"testing"
	"time"
)

// waitStats waits for cond on e's Stats, failing the test after a while.
func waitStats(t *testing.T, e *Edge, what string, cond func(Stats) bool) Stats {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := e.Wait(ctx, cond)
	if err != nil {
		t.Fatalf("waiting for %s: %v; stats %+v", what, err, st)
	}
	return st
}

func TestDevDomainIsStablePerToken(t *testing.T) {
	a, b := DevDomain("token-a"), DevDomain("token-b")
	if a != DevDomain("token-a") || a == b {
		t.Fatalf("DevDomain: %s and %s", a, b)
	}
	if !strings.HasPrefix(a, "https://") || !strings.HasSuffix(a, ".ngrok-free.dev") {
		t.Errorf("DevDomain = %s, want https://NAME.ngrok-free.dev", a)
	}
	if key, _ := normalizeURL(a); key != a {
		t.Errorf("DevDomain %s is not in normal form (%s)", a, key)
	}
}

// A bind without a URL gets the token's dev domain; a second endpoint on it
// is ERR_NGROK_334 from any session of that token, and another token has a
// dev domain of its own.
func TestOneURLPerToken(t *testing.T) {
	e := startEdge(t, Options{})
	a := dialAgent(t, e)
	a.auth("alice")
	first := a.bind("", "")
	if first.Error != "" {
		t.Fatalf("bind: %+v", first)
	}
	if got, ok := e.EndpointURL(DevDomain("alice")); !ok || got != first.URL {
		t.Errorf("EndpointURL(dev domain) = %q, %v; want %q", got, ok, first.URL)
	}

	if again := a.bind("", ""); !strings.Contains(again.Error, codeEndpointOnline) || !strings.Contains(again.Error, DevDomain("alice")) {
		t.Errorf("second bind on the same session: %+v", again)
	}
	b := dialAgent(t, e)
	b.auth("alice")
	if again := b.bind("", DevDomain("alice")); !strings.Contains(again.Error, codeEndpointOnline) {
		t.Errorf("the dev domain asked for by name from another session: %+v", again)
	}

	c := dialAgent(t, e)
	c.auth("bob")
	other := c.bind("", "")
	if other.Error != "" || other.URL == first.URL {
		t.Errorf("another token's bind: %+v", other)
	}
	if taken := c.bind("", DevDomain("alice")); !strings.Contains(taken.Error, codeDomainForeign) {
		t.Errorf("another account's dev domain: %+v", taken)
	}
	eps := e.Endpoints()
	if len(eps) != 2 || eps[0].NgrokURL == eps[1].NgrokURL || !eps[0].Online || !eps[1].Online {
		t.Errorf("Endpoints = %+v", eps)
	}
}

// A session that ends with a clean close releases its endpoint at once.
func TestCleanCloseReleasesAtOnce(t *testing.T) {
	e := startEdge(t, Options{HeartbeatTolerance: time.Hour})
	a := dialAgent(t, e)
	a.auth("x")
	first := a.bind("", "")
	_ = a.mux.Close()
	waitStats(t, e, "the release", func(s Stats) bool { return s.Online == 0 && s.Held == 0 && s.Lost == 0 })

	b := dialAgent(t, e)
	b.auth("x")
	if again := b.bind("", ""); again.Error != "" || again.URL != first.URL {
		t.Errorf("bind after a clean close: %+v, want %s", again, first.URL)
	}
}

// A session cut without a clean close holds its endpoint and its agent slot
// for the heartbeat tolerance.
func TestLostSessionHoldsUntilItsTolerance(t *testing.T) {
	const tolerance = 300 * time.Millisecond
	e := startEdge(t, Options{HeartbeatTolerance: tolerance, MaxAgents: 1})
	a := dialAgent(t, e)
	a.auth("x")
	first := a.bind("", "")
	_ = a.conn.Close() // no GoAway: the process died
	st := waitStats(t, e, "the lost session", func(s Stats) bool { return s.Lost == 1 })
	if st.Held != 1 || st.Online != 0 || st.Sessions != 0 {
		t.Errorf("stats %+v, want the endpoint held by a lost session", st)
	}
	if eps := e.Endpoints(); len(eps) != 1 || !eps[0].Held || eps[0].Online {
		t.Errorf("Endpoints = %+v, want one held", eps)
	}
	if agents := e.Agents(); len(agents) != 1 || !agents[0].Lost {
		t.Errorf("Agents = %+v, want one lost", agents)
	}

	b := dialAgent(t, e)
	if resp := b.auth("x"); !strings.Contains(resp.Error, codeAgentLimit) || !strings.Contains(resp.Error, "limited to 1 simultaneous") {
		t.Errorf("auth while the lost session counts: %+v", resp)
	}
	waitStats(t, e, "the release", func(s Stats) bool { return s.Lost == 0 && s.Held == 0 })
	c := dialAgent(t, e)
	if resp := c.auth("x"); resp.Error != "" {
		t.Fatalf("auth after the tolerance: %+v", resp)
	}
	if again := c.bind("", ""); again.Error != "" || again.URL != first.URL {
		t.Errorf("bind after the tolerance: %+v, want %s", again, first.URL)
	}
}

// An agent that reconnects with its client id takes its endpoint back at
// once, as the SDK does after a network drop; a crashed one never comes back.
func TestReconnectTakesBackWhatCrashDoesNot(t *testing.T) {
	e := startEdge(t, Options{HeartbeatTolerance: time.Hour})
	a := dialAgent(t, e)
	id := a.auth("x").ClientID
	first := a.bind("", "")
	_ = a.conn.Close()
	waitStats(t, e, "the lost session", func(s Stats) bool { return s.Lost == 1 })

	b := dialAgent(t, e)
	if resp := b.authAs("x", id); resp.Error != "" || resp.ClientID != id {
		t.Fatalf("reconnect: %+v", resp)
	}
	if again := b.bind(first.ID, ""); again.Error != "" || again.URL != first.URL {
		t.Fatalf("re-bind by Id: %+v", again)
	}
	if st := e.Stats(); st.Lost != 0 || st.Online != 1 {
		t.Errorf("after the reconnect: %+v", st)
	}

	if n := e.CrashAgents("x"); n != 1 {
		t.Fatalf("CrashAgents = %d", n)
	}
	if st := e.Stats(); st.Held != 1 || st.Drops != 1 {
		t.Errorf("after the crash: %+v", st)
	}
	c := dialAgent(t, e)
	if resp := c.authAs("x", id); !strings.Contains(resp.Error, "crashed") {
		t.Errorf("a crashed agent reconnecting: %+v", resp)
	}
	d := dialAgent(t, e)
	d.auth("x")
	if again := d.bind("", ""); !strings.Contains(again.Error, codeEndpointOnline) {
		t.Errorf("a new agent while the crashed one holds the URL: %+v", again)
	}
}

func TestLimitsArePerToken(t *testing.T) {
	e := startEdge(t, Options{MaxAgents: 2, MaxEndpoints: 2})
	for range 2 {
		a := dialAgent(t, e)
		if resp := a.auth("x"); resp.Error != "" {
			t.Fatalf("auth: %+v", resp)
		}
	}
	if resp := dialAgent(t, e).auth("x"); !strings.Contains(resp.Error, codeAgentLimit) {
		t.Errorf("third agent of x: %+v", resp)
	}
	y := dialAgent(t, e)
	if resp := y.auth("y"); resp.Error != "" {
		t.Fatalf("another token: %+v", resp)
	}
	for _, u := range []string{"", "https://y2.example.com"} {
		if resp := y.bind("", u); resp.Error != "" {
			t.Fatalf("bind %q: %+v", u, resp)
		}
	}
	if resp := y.bind("", "https://y3.example.com"); !strings.Contains(resp.Error, codeEndpointLimit) {
		t.Errorf("third endpoint of y: %+v", resp)
	}

	unlimited := startEdge(t, Options{MaxAgents: -1})
	for range FreeAgents + 1 {
		if resp := dialAgent(t, unlimited).auth("x"); resp.Error != "" {
			t.Fatalf("no cap: %+v", resp)
		}
	}
}

func TestDropSessionsTakesEndpointsOfflineAtOnce(t *testing.T) {
	e := startEdge(t, Options{})
	a := dialAgent(t, e)
	a.auth("x")
	a.bind("", "")
	st := e.DropSessions()
	if st.Online != 0 || st.Held != 0 || st.Sessions != 0 || st.Drops != 1 || st.Binds != 1 {
		t.Errorf("DropSessions returned %+v", st)
	}
}

func TestRefuseBinds(t *testing.T) {
	e := startEdge(t, Options{})
	a := dialAgent(t, e)
	a.auth("x")
	e.RefuseBinds("x", "ERR_NGROK_9999", "No endpoints for you.")
	if resp := a.bind("", ""); !strings.Contains(resp.Error, "No endpoints for you.") || !strings.Contains(resp.Error, "ERR_NGROK_9999") {
		t.Errorf("refused bind: %+v", resp)
	}
	e.RefuseBinds("x", "", "")
	if resp := a.bind("", ""); resp.Error != "" {
		t.Errorf("bind after the refusal ended: %+v", resp)
	}
}

func TestAgentCommandWithoutHandler(t *testing.T) {
	e := startEdge(t, Options{})
	if err := e.AgentCommand("x", CommandStop); err == nil {
		t.Error("a command with no agent online succeeded")
	}
	a := dialAgent(t, e)
	a.auth("x") // declares no remote operations, like an old agent
	if err := e.AgentCommand("x", CommandStop); err == nil || !strings.Contains(err.Error(), codeStopUnsupported) {
		t.Errorf("stop = %v, want %s", err, codeStopUnsupported)
	}
	if err := e.AgentCommand("x", CommandRestart); err == nil || !strings.Contains(err.Error(), codeRestartUnsupported) {
		t.Errorf("restart = %v, want %s", err, codeRestartUnsupported)
	}
	if err := e.StopEndpoint("https://nowhere.example.com"); err == nil {
		t.Error("StopEndpoint of an unknown URL succeeded")
	}
}
