// Package edgetest runs a stand-in of ngrok's edge on loopback, so the real
// ngrok Go SDK can connect, authenticate, bind endpoints and carry traffic
// without the internet.
//
// It models ngrok's free plan, per authtoken (one token is one account):
//
//   - each token has exactly one URL, its dev domain (DevDomain: a name
//     derived from the token, like https://amber-otter-3f9a0c.ngrok-free.dev);
//     a bind without a URL gets it, and a second endpoint on it while the first
//     is online is refused with ERR_NGROK_334, from any session of the token;
//   - a token may run MaxAgents agent sessions (ERR_NGROK_108 beyond) and
//     MaxEndpoints online endpoints (ERR_NGROK_18021 beyond), 3 each by default;
//   - a session that ends without a clean close (the agent crashed, the laptop
//     slept) still counts, and keeps its endpoints online, until its heartbeat
//     tolerance runs out (HeartbeatTolerance); a clean close releases them at
//     once. An agent that reconnects with its client id takes its endpoints
//     back at once, as the SDK does after a network drop.
//
// Every endpoint is served on a loopback port of its own, and the agent is
// told the URL http://127.0.0.1:PORT, so no DNS or routing by Host header is
// needed. EndpointURL and Endpoints map the URL ngrok would show (the dev
// domain or a requested URL) to that loopback URL; a URL keeps its port when
// it is bound again, so a node's public URL survives a restart as a dev
// domain does. A request to an endpoint with no agent is answered as ngrok
// answers it: 404 with the header Ngrok-Error-Code: ERR_NGROK_3200.
//
// Tests drive it with DropSessions (a network drop the edge notices: endpoints
// offline at once), CrashAgents (a process that died: endpoints held for the
// tolerance, the agent never comes back), StopEndpoint (the dashboard's "stop
// endpoint"), RefuseBinds, and AgentCommand (the dashboard's stop, restart and
// update), and wait for what follows with Stats and Wait rather than sleeping.
package edgetest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.ngrok.com/muxado/v2"
)

// Options configures an Edge. The zero value is ngrok's free plan for any
// non-empty authtoken.
type Options struct {
	// Authtokens lists the accepted authtokens; empty accepts any non-empty one.
	Authtokens []string
	// Addr is where agents connect; default "127.0.0.1:0" (a fresh port).
	Addr string
	// MaxAgents caps the agent sessions of one authtoken, lost ones included;
	// one more is refused with ERR_NGROK_108. Zero means the free plan's 3,
	// a negative value no cap.
	MaxAgents int
	// MaxEndpoints caps the online endpoints of one authtoken; one more is
	// refused with ERR_NGROK_18021. Zero means the free plan's 3, a negative
	// value no cap.
	MaxEndpoints int
	// HeartbeatTolerance is how long a session that ended without a clean
	// close keeps counting and keeps its endpoints online, as ngrok notices a
	// dead agent only by its missed heartbeats. Zero uses the interval plus
	// tolerance the agent announced (10 s + 15 s by default in the SDK); tests
	// set a short one.
	HeartbeatTolerance time.Duration
	// ForeignDomains lists hostnames reserved by "another account": binding
	// a URL on one of them is refused with ERR_NGROK_320.
	ForeignDomains []string
	// Logger receives the edge's log; nil discards it.
	Logger *slog.Logger
}

// The free plan's limits, used when Options leaves them zero.
const (
	FreeAgents    = 3 // agent sessions per account
	FreeEndpoints = 3 // online endpoints per account
)

// Timeouts that keep a misbehaving agent or client from holding goroutines.
const (
	handshakeTimeout = 10 * time.Second // TLS handshake of an agent
	authTimeout      = 10 * time.Second // from handshake to a successful Auth
	authFailedLinger = time.Second      // a rejected agent is cut after this
	rpcTimeout       = 10 * time.Second // one RPC stream, both ways
	offlineTimeout   = 5 * time.Second  // answering a request for an offline endpoint
	maxRPCBytes      = 1 << 20          // largest RPC request read
	maxEndpointsKept = 256              // offline endpoints kept answering ERR_NGROK_3200
	// defaultHold is how long a lost session holds on when its agent
	// announced no heartbeat settings: the SDK's 10 s interval + 15 s
	// tolerance.
	defaultHold = 25 * time.Second
)

// Edge is a running stand-in of ngrok's edge. Its methods are safe for
// concurrent use.
type Edge struct {
	opts Options
	log  *slog.Logger
	ca   *authority
	tls  *tls.Config
	ln   net.Listener
	wg   sync.WaitGroup

	mu        sync.Mutex
	closed    bool
	sessions  map[*session]struct{}
	endpoints map[string]*endpoint // by Id
	byURL     map[string]*endpoint // by ngrok URL (dev domain or requested), normalised
	conns     map[net.Conn]struct{}
	crashed   map[string]bool   // client ids of crashed agents: they never come back
	refusals  map[string]string // authtoken → bind error, see RefuseBinds
	stats     Stats
	changed   chan struct{} // closed and replaced on every change of stats
}

// Stats counts what the edge has seen, so a test can wait for an event
// (Wait) instead of sleeping or racing the SDK's reconnects.
type Stats struct {
	Sessions int // live authenticated agent sessions
	Lost     int // sessions that ended without a clean close and still count
	Online   int // endpoints a live session serves
	Held     int // endpoints only a lost session holds
	Auths    int // successful authentications so far (reconnects included)
	Binds    int // successful binds so far (re-binds after a reconnect included)
	Drops    int // DropSessions, CrashAgents and StopEndpoint calls so far: a generation to wait past
}

// Start listens on Options.Addr (default 127.0.0.1:0) with a CA made for this
// edge and serves agents until Close.
func Start(opts Options) (*Edge, error) {
	ca, err := newAuthority()
	if err != nil {
		return nil, fmt.Errorf("edgetest: %w", err)
	}
	addr := opts.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("edgetest: listen for agents: %w", err)
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	e := &Edge{
		opts: opts,
		log:  log,
		ca:   ca,
		tls: &tls.Config{
			Certificates: []tls.Certificate{ca.server},
			MinVersion:   tls.VersionTLS12,
		},
		ln:        ln,
		sessions:  make(map[*session]struct{}),
		endpoints: make(map[string]*endpoint),
		byURL:     make(map[string]*endpoint),
		conns:     make(map[net.Conn]struct{}),
		crashed:   make(map[string]bool),
		refusals:  make(map[string]string),
		changed:   make(chan struct{}),
	}
	e.wg.Add(1)
	go e.acceptAgents()
	log.Info("edgetest listening for agents", "addr", ln.Addr().String())
	return e, nil
}

// ConnectAddr is the host:port agents connect to (ngrok.WithAgentConnectURL).
func (e *Edge) ConnectAddr() string { return e.ln.Addr().String() }

// CAs returns a pool holding the edge's CA (ngrok.WithAgentConnectCAs).
func (e *Edge) CAs() *x509.CertPool { return e.ca.pool.Clone() }

// CAPEM returns the edge's CA certificate in PEM, for a file an agent loads.
func (e *Edge) CAPEM() []byte { return slices.Clone(e.ca.caPEM) }

// DevDomain returns the dev domain of the account that authtoken stands for,
// e.g. https://amber-otter-3f9a0c.ngrok-free.dev: the URL a bind without a
// URL gets. It is the same for the same token on every edge.
func DevDomain(authtoken string) string {
	sum := sha256.Sum256([]byte("edgetest dev domain\x00" + authtoken))
	adjective := adjectives[int(sum[0])%len(adjectives)]
	noun := nouns[int(sum[1])%len(nouns)]
	return "https://" + adjective + "-" + noun + "-" + hex.EncodeToString(sum[2:5]) + ".ngrok-free.dev"
}

// Words of dev domain names.
var (
	adjectives = []string{"amber", "brisk", "calm", "dapper", "eager", "fancy", "gentle", "hasty", "icy", "jolly", "keen", "lucky", "merry", "noble", "odd", "proud", "quiet", "rapid", "sunny", "tidy", "upbeat", "vivid", "witty", "zesty"}
	nouns      = []string{"otter", "badger", "crane", "dingo", "egret", "ferret", "gecko", "heron", "ibis", "jackal", "koala", "lemur", "marmot", "newt", "ocelot", "puffin", "quail", "raven", "stoat", "tapir", "urchin", "vole", "walrus", "yak"}
)

// EndpointURL returns the loopback URL that serves the endpoint with the
// given ngrok URL (a dev domain, or a URL an agent asked for with
// ngrok.WithURL), and whether there is one.
func (e *Edge) EndpointURL(ngrokURL string) (string, bool) {
	key, err := normalizeURL(ngrokURL)
	if err != nil || key == "" {
		return "", false
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	ep, ok := e.byURL[key]
	if !ok {
		return "", false
	}
	return ep.url, true
}

// EndpointInfo describes one endpoint the edge knows.
type EndpointInfo struct {
	ID           string // the Id the agent routes by
	URL          string // the loopback URL that serves it
	NgrokURL     string // the URL ngrok would show: the requested URL or the token's dev domain
	RequestedURL string // the URL the agent asked for, if any
	Description  string // the description the agent gave the endpoint
	Online       bool   // a live agent session serves it
	Held         bool   // only a lost session holds it, until its heartbeat tolerance ends: binds on it get ERR_NGROK_334, requests ERR_NGROK_3200
}

// Endpoints lists the endpoints the edge knows, online or not, sorted by URL.
func (e *Edge) Endpoints() []EndpointInfo {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]EndpointInfo, 0, len(e.endpoints))
	for _, ep := range e.endpoints {
		out = append(out, EndpointInfo{
			ID: ep.id, URL: ep.url, NgrokURL: ep.ngrokURL, RequestedURL: ep.requested, Description: ep.description,
			Online: ep.sess != nil && !ep.sess.lost, Held: ep.sess != nil && ep.sess.lost,
		})
	}
	slices.SortFunc(out, func(a, b EndpointInfo) int { return strings.Compare(a.URL, b.URL) })
	return out
}

// AgentInfo describes one agent session the edge counts.
type AgentInfo struct {
	ClientID   string // the id the agent reconnects with
	SessionID  string // the agent session id the edge gave it
	DevDomain  string // the dev domain of its account (authtoken)
	ClientType string // the client type of WithClientInfo, e.g. "kvclass"
	Version    string // the client version of WithClientInfo
	UserAgent  string // every client info, as one user agent string
	Metadata   string // the agent metadata (WithAgentMetadata)
	RemoteStop bool   // the agent accepts the dashboard's stop
	Lost       bool   // it ended without a clean close and still counts
}

// Agents lists the agent sessions the edge counts, sorted by client id.
func (e *Edge) Agents() []AgentInfo {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]AgentInfo, 0, len(e.sessions))
	for s := range e.sessions {
		if !s.authed {
			continue
		}
		out = append(out, AgentInfo{
			ClientID: s.clientID, SessionID: s.sessionID, DevDomain: DevDomain(s.token),
			ClientType: s.clientType, Version: s.version, UserAgent: s.userAgent, Metadata: s.metadata,
			RemoteStop: s.stopUnsupported != nil && *s.stopUnsupported == "", Lost: s.lost,
		})
	}
	slices.SortFunc(out, func(a, b AgentInfo) int { return strings.Compare(a.ClientID, b.ClientID) })
	return out
}

// Sessions returns how many live authenticated agent sessions are connected.
func (e *Edge) Sessions() int { return e.Stats().Sessions }

// Stats returns what the edge has counted so far.
func (e *Edge) Stats() Stats {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.statsLocked()
}

// statsLocked returns the counters with the current gauges. Call with e.mu
// held.
func (e *Edge) statsLocked() Stats {
	st := e.stats
	st.Sessions, st.Lost, st.Online, st.Held = 0, 0, 0, 0
	for s := range e.sessions {
		switch {
		case !s.authed:
		case s.lost:
			st.Lost++
		default:
			st.Sessions++
		}
	}
	for _, ep := range e.endpoints {
		switch {
		case ep.sess == nil:
		case ep.sess.lost:
			st.Held++
		default:
			st.Online++
		}
	}
	return st
}

// changedLocked wakes everyone in Wait. Call with e.mu held after a change.
func (e *Edge) changedLocked() {
	close(e.changed)
	e.changed = make(chan struct{})
}

// Wait waits until cond holds for the edge's Stats and returns them; it
// returns ctx's error (with the last Stats) when ctx ends first. cond runs
// on every change, with no lock held.
func (e *Edge) Wait(ctx context.Context, cond func(Stats) bool) (Stats, error) {
	for {
		e.mu.Lock()
		st, changed := e.statsLocked(), e.changed
		e.mu.Unlock()
		if cond(st) {
			return st, nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return st, ctx.Err()
		}
	}
}

// DropSessions cuts every agent session, as a network failure the edge
// notices would: their endpoints go offline at once, and the agents
// reconnect and bind them again. It returns the Stats right after the cut
// (no endpoint online), so a test can wait for Binds to pass them.
func (e *Edge) DropSessions() Stats {
	e.mu.Lock()
	dropped := make([]*session, 0, len(e.sessions))
	for s := range e.sessions {
		dropped = append(dropped, s)
		e.detachLocked(s)
	}
	e.stats.Drops++
	st := e.statsLocked()
	e.changedLocked()
	e.mu.Unlock()
	for _, s := range dropped {
		s.close()
	}
	e.log.Info("edgetest dropped agent sessions", "count", len(dropped))
	return st
}

// CrashAgents makes the agents of authtoken vanish as a crashed process
// does: their connections are cut without a clean close, so their sessions
// keep counting against MaxAgents and their endpoints stay online (held) for
// the heartbeat tolerance, and they never come back (their reconnects are
// refused). It returns how many agents crashed. A new agent on the same
// token gets ERR_NGROK_334 for the dev domain until the tolerance ends.
func (e *Edge) CrashAgents(authtoken string) int {
	e.mu.Lock()
	var crashed []*session
	for s := range e.sessions {
		if s.authed && !s.lost && s.token == authtoken {
			crashed = append(crashed, s)
			e.crashed[s.clientID] = true
			e.loseLocked(s)
		}
	}
	e.stats.Drops++
	e.changedLocked()
	e.mu.Unlock()
	for _, s := range crashed {
		s.cut()
	}
	e.log.Info("edgetest crashed agents", "count", len(crashed))
	return len(crashed)
}

// StopEndpoint stops the endpoint with the given URL (loopback, dev domain
// or requested) from the edge's side, as the dashboard's "stop endpoint"
// does: the agent is told, its listener ends, its session stays up, and the
// endpoint may be bound again.
func (e *Edge) StopEndpoint(endpointURL string) error {
	e.mu.Lock()
	ep := e.findLocked(endpointURL)
	if ep == nil || ep.sess == nil || ep.sess.lost {
		e.mu.Unlock()
		return fmt.Errorf("edgetest: no online endpoint at %s", endpointURL)
	}
	s := ep.sess
	ep.sess = nil
	ep.offlineSince = time.Now()
	e.stats.Drops++
	e.changedLocked()
	e.mu.Unlock()
	e.log.Info("edgetest stopped endpoint", "url", ep.url, "id", ep.id)

	stream, err := s.mux.OpenTypedStream(streamStopTunnel)
	if err != nil {
		return fmt.Errorf("edgetest: tell the agent: %w", err)
	}
	defer stream.Close()
	_ = stream.SetDeadline(time.Now().Add(rpcTimeout))
	req := stopTunnelReq{ID: ep.id, Message: fmt.Sprintf(msgEndpointStopped, ep.ngrokURL)}
	if err := json.NewEncoder(stream).Encode(req); err != nil {
		return fmt.Errorf("edgetest: tell the agent: %w", err)
	}
	return nil
}

// RefuseBinds makes every bind of authtoken fail with the ngrok error code
// and message, as ngrok refuses an account it has limited or suspended,
// until it is called again with an empty code.
func (e *Edge) RefuseBinds(authtoken, code, message string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if code == "" {
		delete(e.refusals, authtoken)
		return
	}
	e.refusals[authtoken] = ngrokError(code, "%s", message)
}

// An AgentCommand is what the dashboard can ask an agent to do.
type AgentCommand string

// The dashboard's agent commands.
const (
	CommandStop    AgentCommand = "stop"
	CommandRestart AgentCommand = "restart"
	CommandUpdate  AgentCommand = "update"
)

// AgentCommand sends cmd to every live agent of authtoken, as the
// dashboard's buttons do, and returns the agents' refusals joined (nil when
// every agent accepted). An agent that did not declare support for cmd is
// refused by the edge itself, with ERR_NGROK_805 for stop and ERR_NGROK_804
// for restart, as ngrok does for an SDK agent without an RPC handler.
func (e *Edge) AgentCommand(authtoken string, cmd AgentCommand) error {
	e.mu.Lock()
	var agents []*session
	for s := range e.sessions {
		if s.authed && !s.lost && s.token == authtoken {
			agents = append(agents, s)
		}
	}
	e.mu.Unlock()
	if len(agents) == 0 {
		return errors.New("edgetest: no agent of this authtoken is online")
	}
	var errs []error
	for _, s := range agents {
		if err := e.command(s, cmd); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// command sends one command to one agent and reads its answer.
func (e *Edge) command(s *session, cmd AgentCommand) error {
	var (
		typ         muxado.StreamType
		req         any = struct{}{}
		unsupported *string
		code, msg   string
	)
	switch cmd {
	case CommandStop:
		typ, unsupported, code, msg = streamStop, s.stopUnsupported, codeStopUnsupported, msgStopUnsupported
	case CommandRestart:
		typ, unsupported, code, msg = streamRestart, s.restartUnsupported, codeRestartUnsupported, msgRestartUnsupported
	case CommandUpdate:
		typ, unsupported, msg = streamUpdate, s.updateUnsupported, "This ngrok agent does not support remote updating: %s."
		req = updateReq{}
	default:
		return fmt.Errorf("edgetest: unknown agent command %q", cmd)
	}
	if unsupported == nil || *unsupported != "" {
		why := "the agent is too old"
		if unsupported != nil {
			why = *unsupported
		}
		if code == "" {
			return fmt.Errorf(msg, why)
		}
		return errors.New(ngrokError(code, msg, why))
	}
	stream, err := s.mux.OpenTypedStream(typ)
	if err != nil {
		return fmt.Errorf("edgetest: %s: %w", cmd, err)
	}
	defer stream.Close()
	_ = stream.SetDeadline(time.Now().Add(rpcTimeout))
	if err := json.NewEncoder(stream).Encode(req); err != nil {
		return fmt.Errorf("edgetest: %s: %w", cmd, err)
	}
	var resp commandResp
	if err := json.NewDecoder(io.LimitReader(stream, maxRPCBytes)).Decode(&resp); err != nil {
		return fmt.Errorf("edgetest: %s: no answer: %w", cmd, err)
	}
	if resp.Error != "" {
		return errors.New(resp.Error)
	}
	return nil
}

// Close stops the edge: it cuts every agent session and public connection,
// closes every endpoint port and waits for its goroutines to end.
func (e *Edge) Close() error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	e.closed = true
	sessions := make([]*session, 0, len(e.sessions))
	for s := range e.sessions {
		sessions = append(sessions, s)
		e.detachLocked(s)
	}
	endpoints := make([]*endpoint, 0, len(e.endpoints))
	for _, ep := range e.endpoints {
		endpoints = append(endpoints, ep)
	}
	conns := make([]net.Conn, 0, len(e.conns))
	for c := range e.conns {
		conns = append(conns, c)
	}
	e.changedLocked()
	e.mu.Unlock()

	err := e.ln.Close()
	for _, s := range sessions {
		s.close()
	}
	for _, ep := range endpoints {
		_ = ep.ln.Close()
	}
	for _, c := range conns {
		_ = c.Close()
	}
	e.wg.Wait()
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	if err != nil {
		return fmt.Errorf("edgetest: close: %w", err)
	}
	return nil
}

// acceptAgents serves the agent-facing listener until it closes.
func (e *Edge) acceptAgents() {
	e.acceptLoop(e.ln, "agents", e.serveAgent)
}

// acceptLoop accepts connections on ln until it closes and serves each on
// its own goroutine, tracked so Close can cut it.
func (e *Edge) acceptLoop(ln net.Listener, what string, serve func(net.Conn)) {
	defer e.wg.Done()
	for {
		conn, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			e.log.Warn("edgetest accept failed", "on", what, "err", err)
			time.Sleep(10 * time.Millisecond)
			continue
		}
		if !e.track(conn) {
			_ = conn.Close()
			return
		}
		e.wg.Add(1)
		go func() {
			defer e.wg.Done()
			defer e.untrack(conn)
			serve(conn)
		}()
	}
}

// track records a live connection so Close can cut it; it reports false once
// the edge is closed.
func (e *Edge) track(c net.Conn) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return false
	}
	e.conns[c] = struct{}{}
	return true
}

// untrack closes c and forgets it.
func (e *Edge) untrack(c net.Conn) {
	_ = c.Close()
	e.mu.Lock()
	delete(e.conns, c)
	e.mu.Unlock()
}

// tokenAccepted reports whether token may open a session.
func (e *Edge) tokenAccepted(token string) bool {
	if token == "" {
		return false
	}
	if len(e.opts.Authtokens) == 0 {
		return true
	}
	ok := false
	for _, t := range e.opts.Authtokens {
		if subtle.ConstantTimeCompare([]byte(t), []byte(token)) == 1 {
			ok = true
		}
	}
	return ok
}

// maxAgents and maxEndpoints are the per-token limits; 0 means no cap.
func (e *Edge) maxAgents() int    { return limit(e.opts.MaxAgents, FreeAgents) }
func (e *Edge) maxEndpoints() int { return limit(e.opts.MaxEndpoints, FreeEndpoints) }

// limit turns an Options limit into a cap: zero is the plan's, negative none.
func limit(n, plan int) int {
	switch {
	case n == 0:
		return plan
	case n < 0:
		return 0
	}
	return n
}

// foreignDomain reports whether host is reserved by "another account".
func (e *Edge) foreignDomain(host string) bool {
	for _, d := range e.opts.ForeignDomains {
		if strings.EqualFold(strings.TrimSuffix(d, "."), host) {
			return true
		}
	}
	return false
}

// findLocked finds an endpoint by its loopback URL, ngrok URL or requested
// URL. Call with e.mu held.
func (e *Edge) findLocked(raw string) *endpoint {
	key, err := normalizeURL(raw)
	if err != nil || key == "" {
		return nil
	}
	if ep := e.byURL[key]; ep != nil {
		return ep
	}
	for _, ep := range e.endpoints {
		if ep.url == key {
			return ep
		}
	}
	return nil
}

// normalizeURL reduces an endpoint URL to the key the edge stores it under:
// scheme and lower-case host. An empty string stays empty.
func normalizeURL(raw string) (string, error) {
	if raw == "" {
		return "", nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("invalid URL %q: %w", raw, err)
	}
	if u.Host == "" {
		// ngrok accepts a bare domain; treat it as https.
		u, err = url.Parse("https://" + raw)
		if err != nil || u.Host == "" {
			return "", fmt.Errorf("invalid URL %q", raw)
		}
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme == "" {
		scheme = "https"
	}
	return scheme + "://" + strings.ToLower(strings.TrimSuffix(u.Host, ".")), nil
}

// randomID returns prefix followed by 16 random hex digits.
func randomID(prefix string) string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}
