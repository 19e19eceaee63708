package join

// Options configure a node's join client.

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/kvclass/kvclass/kvapi"
)

// Options configure a node's join client.
type Options struct {
	// Proxy is the proxy's base URL, http:// or https:// (--join).
	Proxy string
	// Token is the class code (--token). It is never logged.
	Token string
	// Name is the node's name; see CheckName.
	Name string
	// URL is where the proxy and others reach the node (--advertise, or the
	// node's ngrok URL).
	URL string
	// Secret is a secret from an earlier session, presented at the first
	// join; empty for a fresh node. It is never logged.
	Secret string
	// Relay joins to be reached through the proxy's relay (GET
	// /registry/relay) instead of at URL: the node needs no public
	// address. Handler is the node's HTTP handler, served over the relay.
	Relay   bool
	Handler http.Handler
	// StateDir is a directory where the node keeps its secret per proxy and
	// name (files of mode 0600), so a node restarted after a crash rejoins
	// in its place at once. Empty keeps nothing. See DefaultStateDir.
	StateDir string
	// Own says the node is a student's own implementation behind kvclass's
	// sidecar: its server's product ("Werkzeug/3.0.1") or "own" (see
	// kvapi.OwnProduct); the page shows it. Empty for kvclass's own node.
	Own string
	// Header holds extra headers for every request to the proxy, such as
	// ngrok-skip-browser-warning or User-Agent (default "kvclass-node").
	Header http.Header
	// TLSConfig configures https/wss to the proxy; nil means the defaults.
	TLSConfig *tls.Config
	// DialTimeout bounds connecting to the proxy: TCP, TLS and the websocket
	// handshake. Default 10s.
	DialTimeout time.Duration
	// ReplyTimeout bounds the wait for the join's answer; the proxy probes
	// the node's /health first. Default 30s.
	ReplyTimeout time.Duration
	// MinBackoff and MaxBackoff bound the wait between rejoin attempts, which
	// doubles from MinBackoff after each failure (with jitter). Defaults
	// 500ms and 15s.
	MinBackoff, MaxBackoff time.Duration
	// Logger receives the session's logs; nil discards them.
	Logger *slog.Logger
	// Dial, when set, opens every connection to the proxy (the websocket,
	// the relay, POST /registry/leave) in place of TCP. It is for tests,
	// which serve the proxy on an in-memory network (internal/memnet) so
	// they can run on fake time. It is called with the host:port the
	// request goes to (the proxy's, or an environment HTTP proxy's) and
	// must connect there and honour ctx; TLS, when the URL is https, is
	// still done above it. Nil dials TCP with DialTimeout.
	Dial func(ctx context.Context, network, address string) (net.Conn, error)
}

// Defaults for Options.
const (
	fallbackHeartbeat   = 5 * time.Second // when the proxy names none
	writeWait           = 2 * time.Second // bound on a websocket write
	DefaultDialTimeout  = 10 * time.Second
	DefaultReplyTimeout = 30 * time.Second
	DefaultMinBackoff   = 500 * time.Millisecond
	DefaultMaxBackoff   = 15 * time.Second
)

// Error is a join the proxy refused: a wrong class code, a taken name, an
// unreachable node URL. Join returns it for a refused first join.
type Error struct {
	// Status is the HTTP status of the refusal (401, 409, 422, ...).
	Status int
	// Message is the proxy's explanation, cleaned of control characters.
	Message string
	// RetryAfter is set when the proxy asked to be asked again later
	// (Retry-After): it was busy, not refusing this node.
	RetryAfter time.Duration
}

// Error is one line for the node's terminal.
func (e *Error) Error() string {
	return fmt.Sprintf("proxy refused the join: %s (%d)", e.Message, e.Status)
}

// ErrSessionClosed is returned by Leave after Close or Leave.
var ErrSessionClosed = errors.New("registry session is closed")

// ErrKicked is the Err of a session the instructor ended by removing the
// node from the class.
var ErrKicked = errors.New("the instructor removed this node from the class")

// Reasons a session's background goroutine uses between its states.
var (
	errURLChanged = errors.New("the node's URL changed")
	errLeaving    = errors.New("the node is leaving")
)

// Session is a node's membership in a proxy: one websocket carrying the
// join, heartbeats (pings) and the leave. Once admitted it rejoins by itself
// whenever the connection fails, for as long as it runs.
type Session struct {
	opts     Options
	log      *slog.Logger
	wsURL    string
	leaveURL string
	relayURL string
	header   http.Header
	dialer   *websocket.Dialer
	client   *http.Client

	ctx       context.Context // ends at Close
	cancel    context.CancelFunc
	done      chan struct{} // closed when the background goroutine ends
	relayDone chan struct{} // closed when the relay loop ends; nil without a relay

	urlChanged    chan struct{}
	statusChanged chan struct{}
	leaveReq      chan leaveRequest

	mu            sync.Mutex
	url           string
	secret        string
	err           error // why the session ended by itself: ErrKicked
	leaving       bool
	leaveReason   string
	status        kvapi.Status // the node's health as it reports it (SetStatus)
	attemptCancel context.CancelFunc
}

type leaveRequest struct {
	ctx    context.Context
	result chan error
}

// Join connects to the proxy's GET /registry/ws, sends the join and waits for
// the answer. A refused join returns a *Error; an unreachable proxy
// returns another error. ctx bounds this first join only: once admitted, the
// session runs in the background until Leave or Close, pinging every
// heartbeat interval and rejoining with backoff after any failure, whatever
// the proxy answers (it may be restarting), logging why each time.
//
// A proxy that answers that it is busy (many nodes joining at once from one
// address) is asked again with backoff until ctx ends or ReplyTimeout passes. With
// Options.StateDir, the secret of an earlier session of the same name with
// the same proxy is presented, so a node restarted after a crash takes its
// place back at once; a live process on this machine holding the name is
// an error naming it.
func Join(ctx context.Context, opts Options) (*Session, error) {
	s, err := newSession(opts)
	if err != nil {
		return nil, err
	}
	if err := s.claimState(); err != nil {
		s.cancel()
		return nil, err
	}
	conn, hb, err := s.firstJoin(ctx)
	if err != nil {
		s.cancel()
		s.client.CloseIdleConnections()
		s.releaseState()
		return nil, err
	}
	s.saveState()
	s.log.Info("joined the proxy", "proxy", s.opts.Proxy, "node", s.opts.Name, "url", s.currentURL(), "heartbeat", hb.String())
	if s.opts.Relay {
		s.relayDone = make(chan struct{})
		go s.relayLoop()
	}
	go s.run(conn, hb)
	return s, nil
}

// firstJoin is the first join, asked again while the proxy answers that it
// is busy (an answer with Retry-After).
func (s *Session) firstJoin(ctx context.Context) (*websocket.Conn, time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, s.opts.ReplyTimeout)
	defer cancel()
	backoff := s.opts.MinBackoff
	for {
		conn, hb, err := s.dialJoin(ctx)
		var refused *Error
		if err == nil || !errors.As(err, &refused) || refused.RetryAfter == 0 {
			return conn, hb, err
		}
		wait := max(jitter(backoff), refused.RetryAfter/2)
		backoff = min(2*backoff, s.opts.MaxBackoff)
		s.log.Info("the proxy is busy; asking again", "why", refused.Message, "in", wait.Round(time.Millisecond).String())
		select {
		case <-ctx.Done():
			return nil, 0, err
		case <-time.After(wait):
		}
	}
}

// Done is closed when the session has ended: after Leave or Close, or by
// itself when the instructor removed the node (see Err).
func (s *Session) Done() <-chan struct{} { return s.done }

// Err returns why a session that ended by itself did: ErrKicked. It is nil
// while the session runs and after Leave or Close.
func (s *Session) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

func newSession(opts Options) (*Session, error) {
	if opts.Token == "" {
		return nil, errors.New("joining a proxy needs the class code (--token)")
	}
	if err := kvapi.CheckName(opts.Name); err != nil {
		return nil, err
	}
	switch {
	case opts.Relay && opts.Handler == nil:
		return nil, errors.New("a relayed node needs its Handler")
	case opts.Relay:
		opts.URL = ""
	default:
		if _, err := kvapi.ParseNodeURL(opts.URL); err != nil {
			return nil, fmt.Errorf("the node's URL: %w", err)
		}
	}
	if opts.Secret != "" && !kvapi.ValidSecret(opts.Secret) {
		return nil, errors.New("the saved node secret is malformed")
	}
	wsURL, leaveURL, relayURL, err := registryURLs(opts.Proxy)
	if err != nil {
		return nil, err
	}
	for _, d := range []struct {
		v   *time.Duration
		def time.Duration
	}{
		{&opts.DialTimeout, DefaultDialTimeout},
		{&opts.ReplyTimeout, DefaultReplyTimeout},
		{&opts.MinBackoff, DefaultMinBackoff},
		{&opts.MaxBackoff, DefaultMaxBackoff},
	} {
		if *d.v <= 0 {
			*d.v = d.def
		}
	}
	opts.MaxBackoff = max(opts.MaxBackoff, opts.MinBackoff)
	header := opts.Header.Clone()
	if header == nil {
		header = http.Header{}
	}
	if header.Get("User-Agent") == "" {
		header.Set("User-Agent", "kvclass-node")
	}
	dial := opts.Dial
	if dial == nil {
		dial = (&net.Dialer{Timeout: opts.DialTimeout, KeepAlive: 30 * time.Second}).DialContext
	}
	s := &Session{
		opts:     opts,
		log:      opts.Logger,
		wsURL:    wsURL,
		leaveURL: leaveURL,
		relayURL: relayURL,
		header:   header,
		dialer: &websocket.Dialer{
			NetDialContext:   dial,
			Proxy:            http.ProxyFromEnvironment,
			HandshakeTimeout: opts.DialTimeout,
			TLSClientConfig:  opts.TLSConfig,
			ReadBufferSize:   1024,
			WriteBufferSize:  1024,
		},
		client: &http.Client{
			Timeout: opts.DialTimeout,
			Transport: &http.Transport{
				Proxy:                 http.ProxyFromEnvironment,
				DialContext:           dial,
				TLSClientConfig:       opts.TLSConfig,
				TLSHandshakeTimeout:   opts.DialTimeout,
				ResponseHeaderTimeout: opts.DialTimeout,
				DisableKeepAlives:     true,
			},
		},
		done:          make(chan struct{}),
		urlChanged:    make(chan struct{}, 1),
		statusChanged: make(chan struct{}, 1),
		leaveReq:      make(chan leaveRequest),
		url:           opts.URL,
		secret:        opts.Secret,
		status:        kvapi.Status{Type: kvapi.StatusType, Up: true},
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	return s, nil
}

// registryURLs derives the websocket and leave URLs from the proxy's base URL.
func registryURLs(proxy string) (wsURL, leaveURL, relayURL string, err error) {
	u, err := url.Parse(proxy)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return "", "", "", fmt.Errorf("the proxy URL %q must look like http://HOST:PORT or https://HOST", kvapi.Truncate(proxy, 200))
	}
	base := strings.TrimRight(u.Path, "/")
	u.RawPath, u.RawQuery, u.Fragment = "", "", ""
	leave := *u
	leave.Path = base + "/registry/leave"
	ws := *u
	ws.Path = base + kvapi.PathWS
	ws.Scheme = "ws"
	if u.Scheme == "https" {
		ws.Scheme = "wss"
	}
	rl := ws
	rl.Path = base + kvapi.PathRelay
	return ws.String(), leave.String(), rl.String(), nil
}

// Name returns the node's name.
func (s *Session) Name() string { return s.opts.Name }

// Secret returns the secret that proves this node to the proxy. Keep it only
// where the node's owner can read it.
func (s *Session) Secret() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.secret
}

func (s *Session) currentURL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.url
}

// SetURL tells the session the node's URL changed (a new ngrok URL): it
// rejoins at once with its secret and the new URL, keeping its place.
func (s *Session) SetURL(u string) {
	s.mu.Lock()
	changed := s.url != u
	s.url = u
	s.mu.Unlock()
	if changed {
		signal(s.urlChanged)
	}
}

// SetStatus tells the proxy whether the node can serve, without leaving
// the class: down with reason ("upstream: connection refused"), which the
// page shows and heartbeats do not undo, or up again. It is sent at once
// over the session's websocket ({"type": "status", ...}, see kvapi.Status)
// and again after every rejoin while the node is down; a node that never
// calls it is up. kvclass's sidecar calls it when the student's server
// behind it stops or starts answering.
func (s *Session) SetStatus(up bool, reason string) {
	st := kvapi.Status{Type: kvapi.StatusType, Up: up}
	if !up {
		st.Reason = kvapi.Truncate(reason, kvapi.MaxReasonLen)
	}
	s.mu.Lock()
	changed := s.status != st
	s.status = st
	s.mu.Unlock()
	if changed {
		signal(s.statusChanged)
	}
}

// currentStatus returns the node's health as it reports it.
func (s *Session) currentStatus() kvapi.Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.status
}

// Leave tells the proxy the node is stopping, so it is marked down at once
// (reason "stopped") and keeps its place: {"type":"leave"} on the websocket,
// or POST /registry/leave when there is no working websocket. Then it stops
// the session. ctx bounds the whole call.
func (s *Session) Leave(ctx context.Context) error { return s.LeaveBecause(ctx, "") }

// LeaveBecause is Leave with the reason the node stops when it is not its
// owner's Ctrl-C (its public URL is gone, say); the page shows it as the
// node's reason, "stopped: REASON".
func (s *Session) LeaveBecause(ctx context.Context, reason string) error {
	if err := ctx.Err(); err != nil {
		s.Close()
		return fmt.Errorf("leave: %w", err)
	}
	s.mu.Lock()
	s.leaving, s.leaveReason = true, reason
	if s.attemptCancel != nil {
		s.attemptCancel()
	}
	s.mu.Unlock()
	req := leaveRequest{ctx: ctx, result: make(chan error, 1)}
	select {
	case s.leaveReq <- req:
	case <-s.done:
		return ErrSessionClosed
	case <-ctx.Done():
		s.Close()
		return fmt.Errorf("leave: %w", ctx.Err())
	}
	select {
	case err := <-req.result:
		<-s.done
		return err
	case <-ctx.Done():
		s.Close()
		return fmt.Errorf("leave: %w", ctx.Err())
	}
}

// Close stops the session without telling the proxy, which marks the node
// down when its heartbeats stop. It waits for the background goroutine.
func (s *Session) Close() {
	s.cancel()
	<-s.done
}

// signal makes a non-blocking send on a 1-buffered channel.
func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}
