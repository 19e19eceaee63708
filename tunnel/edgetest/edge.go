// Package edgetest runs a stand-in of ngrok's edge on loopback, so the real
// ngrok Go SDK can connect, authenticate, bind endpoints and carry traffic
// without the internet.
//
// An agent connects to ConnectAddr over TLS (trusting CAs or CAPEM) and speaks
// the SDK's session protocol over muxado. Every endpoint it binds gets its own
// loopback port and the public URL http://127.0.0.1:PORT, so no routing by
// Host header or DNS is needed; each TCP connection accepted on that port is
// carried to the agent as one proxy stream. An agent that asks for a URL of
// its own (ngrok.WithURL) is still served on a loopback port and told that
// port's URL; EndpointURL maps the requested URL to it, and the same requested
// URL keeps its port when bound again, as a reserved domain would.
//
// Like ngrok's edge, it rejects unknown authtokens, too many agent sessions,
// too many endpoints and URLs that are taken, with the ngrok error codes in the
// error text, and answers a request to an endpoint whose agent is gone with
// an HTTP error carrying the header Ngrok-Error-Code: ERR_NGROK_3200.
package edgetest

import (
	"crypto/rand"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// Options configures an Edge. The zero value accepts any non-empty authtoken
// and sets no limits.
type Options struct {
	// Authtokens lists the accepted authtokens; empty accepts any non-empty one.
	Authtokens []string
	// Addr is where agents connect; default "127.0.0.1:0" (a fresh port).
	Addr string
	// MaxSessions caps simultaneous agent sessions, like the free plan's 3
	// agents; one more is refused with ERR_NGROK_108. Zero means no cap.
	MaxSessions int
	// MaxEndpoints caps online endpoints over all sessions, like the free
	// plan's 3; one more is refused with ERR_NGROK_18021. Zero means no cap.
	MaxEndpoints int
	// ForeignDomains lists hostnames reserved by "another account": binding
	// a URL on one of them is refused with ERR_NGROK_320.
	ForeignDomains []string
	// Logger receives the edge's log; nil discards it.
	Logger *slog.Logger
}

// Timeouts that keep a misbehaving agent or client from holding goroutines.
const (
	handshakeTimeout = 10 * time.Second // TLS handshake of an agent
	authTimeout      = 10 * time.Second // from handshake to a successful Auth
	authFailedLinger = time.Second      // a rejected agent is cut after this
	rpcTimeout       = 10 * time.Second // one RPC stream, both ways
	offlineTimeout   = 5 * time.Second  // answering a request for an offline endpoint
	maxRPCBytes      = 1 << 20          // largest RPC request read
	maxEndpointsKept = 256              // offline endpoints kept answering ERR_NGROK_3200
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
	byURL     map[string]*endpoint // by requested URL, normalised
	conns     map[net.Conn]struct{}
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

// EndpointURL returns the loopback URL that serves the endpoint bound with
// the requested URL (as passed to ngrok.WithURL), and whether there is one.
func (e *Edge) EndpointURL(requested string) (string, bool) {
	key, err := normalizeURL(requested)
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
	URL          string // public loopback URL
	RequestedURL string // the URL the agent asked for, if any
	Online       bool   // whether an agent session serves it now
}

// Endpoints lists the endpoints the edge knows, online or not, sorted by URL.
func (e *Edge) Endpoints() []EndpointInfo {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]EndpointInfo, 0, len(e.endpoints))
	for _, ep := range e.endpoints {
		out = append(out, EndpointInfo{ID: ep.id, URL: ep.url, RequestedURL: ep.requested, Online: ep.sess != nil})
	}
	slices.SortFunc(out, func(a, b EndpointInfo) int { return strings.Compare(a.URL, b.URL) })
	return out
}

// Sessions returns how many authenticated agent sessions are connected.
func (e *Edge) Sessions() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for s := range e.sessions {
		if s.authed {
			n++
		}
	}
	return n
}

// DropSessions cuts every agent session, as a network failure would. Their
// endpoints go offline at once; agents reconnect and bind them again.
func (e *Edge) DropSessions() {
	e.mu.Lock()
	dropped := make([]*session, 0, len(e.sessions))
	for s := range e.sessions {
		dropped = append(dropped, s)
		e.detachLocked(s)
	}
	e.mu.Unlock()
	for _, s := range dropped {
		s.close()
	}
	e.log.Info("edgetest dropped agent sessions", "count", len(dropped))
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

// foreignDomain reports whether host is reserved by "another account".
func (e *Edge) foreignDomain(host string) bool {
	for _, d := range e.opts.ForeignDomains {
		if strings.EqualFold(strings.TrimSuffix(d, "."), host) {
			return true
		}
	}
	return false
}

// normalizeURL reduces a requested endpoint URL to the key the edge stores it
// under: scheme and lower-case host. An empty string stays empty.
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
