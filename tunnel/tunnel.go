// Package tunnel publishes a local HTTP server through ngrok with the ngrok Go
// SDK: Listen connects to ngrok's edge, authenticates with the user's
// authtoken, binds one HTTP endpoint and returns a net.Listener whose
// connections are that endpoint's traffic, so an http.Server can Serve it.
//
// The SDK reconnects by itself when the session drops; Options.OnState and
// the logger report it. Every error Listen returns is one line that says what
// to do (see Explain), and ErrorCodeHeader and EdgeError help a client tell
// ngrok's own answers from the upstream's.
//
// Package edgetest runs a local stand-in of ngrok's edge, for tests and for
// rehearsing a class offline.
package tunnel

import (
	"cmp"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"golang.ngrok.com/ngrok/v2"
)

// Options configures Listen.
type Options struct {
	// URL is the endpoint's URL (--ngrok-url): a reserved or dev domain as a
	// full URL, e.g. https://my-name.ngrok-free.dev. Empty lets ngrok choose.
	URL string
	// ConnectURL is the edge to connect to as HOST:PORT (--ngrok-connect-url,
	// like the agent's connect_url). Empty means ngrok's default.
	ConnectURL string
	// CAFile is a PEM file of roots that the edge's certificate must chain to
	// (--ngrok-ca, like the agent's root_cas). It wins over CAs.
	CAFile string
	// CAs is CAFile as a pool, for tests.
	CAs *x509.CertPool
	// Authtoken authenticates to ngrok. Callers read it from NGROK_AUTHTOKEN,
	// never from a flag that would show in ps.
	Authtoken string
	// StartTimeout bounds connecting, authenticating and binding; default
	// DefaultStartTimeout. The SDK retries a failing session with backoff
	// until its context ends, so this bound is what ends a start that cannot
	// succeed; errors ngrok names by code end it at once.
	StartTimeout time.Duration
	// Logger receives the tunnel's log; nil discards it. The SDK's own log
	// goes to it at debug level.
	Logger *slog.Logger
	// OnState, if set, is called on every state change, in order, from a
	// goroutine of the tunnel's own (never from the SDK's). It should return
	// quickly: while it runs, later states queue, and beyond a few the
	// oldest are dropped.
	OnState func(State)
}

// The states a tunnel reports through Options.OnState.
const (
	StateConnecting   = "connecting"   // Listen started
	StateOnline       = "online"       // the endpoint serves URL (again, after a reconnect)
	StateReconnecting = "reconnecting" // the session dropped (Err says why); the SDK is reconnecting
	StateOffline      = "offline"      // closed, or Listen failed (Err says why)
)

// State is a tunnel's state, as reported to Options.OnState.
type State struct {
	State string // one of the State constants
	URL   string // the public URL, once known
	Err   error  // why, for reconnecting and a failed start; explained in one line
}

// DefaultStartTimeout is the StartTimeout used when Options leaves it zero.
const DefaultStartTimeout = 15 * time.Second

const (
	// defaultConnectAddr is where the SDK connects without ConnectURL.
	defaultConnectAddr = "connect.ngrok-agent.com:443"
	// unbindTimeout bounds the polite unbind in Close; the session is closed
	// after it either way.
	unbindTimeout = 2 * time.Second
	// diagnoseTimeout bounds the probe that classifies an unexplained start
	// failure.
	diagnoseTimeout = 3 * time.Second
)

// Tunnel is an ngrok endpoint as a net.Listener: Accept returns the
// endpoint's connections. Close it to take the endpoint offline.
type Tunnel struct {
	log         *slog.Logger
	target      target
	agent       ngrok.Agent
	cancel      context.CancelFunc // ends the SDK session's context
	states      *notifier
	sessionErrs chan error // session failures while starting

	mu       sync.Mutex
	ln       ngrok.EndpointListener // set once bound
	url      string
	closing  bool
	down     chan struct{} // non-nil while the session reconnects; closed when it is back
	reported string        // the last state and error reported, to skip repeats

	closeOnce sync.Once
}

// Listen connects to ngrok's edge, authenticates, binds one HTTP endpoint and
// returns a Tunnel whose connections are the endpoint's traffic. It returns
// within about Options.StartTimeout. ctx bounds only the start: once Listen
// returns, the tunnel lives until Close.
//
// Its errors are one line saying what to do: ErrNoAuthtoken without an
// authtoken (without dialing), an *Error otherwise, or ctx's error when ctx
// ends first.
func Listen(ctx context.Context, opts Options) (*Tunnel, error) {
	if opts.Authtoken == "" {
		return nil, ErrNoAuthtoken
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	t := &Tunnel{
		log:         log,
		target:      target{url: opts.URL, connectAddr: cmp.Or(opts.ConnectURL, defaultConnectAddr)},
		sessionErrs: make(chan error, 8),
	}
	agentOpts, endpointOpts, err := t.sdkOptions(opts)
	if err != nil {
		return nil, err
	}
	agent, err := ngrok.NewAgent(agentOpts...)
	if err != nil {
		return nil, explain(fmt.Errorf("create agent: %w", err), t.target)
	}
	t.agent = agent
	t.states = newNotifier(opts.OnState)

	timeout := opts.StartTimeout
	if timeout <= 0 {
		timeout = DefaultStartTimeout
	}
	// The SDK dials reconnects and runs its session with the context given
	// to Connect, so that context must live as long as the tunnel.
	sessCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	t.cancel = cancel

	t.states.send(State{State: StateConnecting})
	log.Info("ngrok connecting", "connect_url", t.target.connectAddr)
	ln, err := t.start(ctx, sessCtx, timeout, endpointOpts)
	if err != nil {
		log.Debug("ngrok start failed", "err", err)
		t.states.send(State{State: StateOffline, Err: err})
		t.states.close()
		return nil, err
	}

	t.mu.Lock()
	t.url = ln.URL().String()
	url := t.url
	t.mu.Unlock()
	log.Info("ngrok endpoint online", "url", url)
	t.states.send(State{State: StateOnline, URL: url})
	return t, nil
}

// start connects and binds, within timeout. It ends early on an error ngrok
// names by code or on an untrusted certificate, which retrying cannot fix.
func (t *Tunnel) start(ctx, sessCtx context.Context, timeout time.Duration, endpointOpts []ngrok.EndpointOption) (ngrok.EndpointListener, error) {
	type result struct {
		ln  ngrok.EndpointListener
		err error
	}
	done := make(chan result, 1)
	go func() {
		if err := t.agent.Connect(sessCtx); err != nil {
			done <- result{err: err}
			return
		}
		ln, err := t.agent.Listen(sessCtx, endpointOpts...)
		if err == nil {
			t.mu.Lock()
			t.ln = ln
			t.mu.Unlock()
		}
		done <- result{ln: ln, err: err}
	}()
	// abort ends the session and waits for the goroutine above, which ends
	// once the session's context is cancelled and the session closed.
	abort := func(finished *result) {
		t.mu.Lock()
		t.closing = true
		t.mu.Unlock()
		t.cancel()
		_ = t.agent.Disconnect()
		if finished == nil {
			r := <-done
			finished = &r
		}
		if finished.ln != nil {
			_ = closeListener(finished.ln)
		}
		_ = t.agent.Disconnect()
	}

	deadline := time.Now().Add(timeout)
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	var lastErr error
	diagnosed := false
	for {
		select {
		case r := <-done:
			if r.err == nil {
				return r.ln, nil
			}
			abort(&r)
			return nil, explain(r.err, t.target)
		case err := <-t.sessionErrs:
			lastErr = err
			// An error ngrok names by code, or an untrusted certificate,
			// does not go away by retrying.
			if errorCode(err) != "" || isCertificateError(err) {
				abort(nil)
				return nil, explain(err, t.target)
			}
			if diagnosed || isDialError(err) {
				continue
			}
			// The SDK may report a failed TLS handshake as just a closed
			// session; a probe with the same settings tells whether the
			// edge's certificate is the problem.
			diagnosed = true
			if derr := t.diagnose(ctx, deadline); derr != nil && ngrok.IsTLSDiagnoseFailure(derr) && isCertificateError(derr) {
				abort(nil)
				return nil, explain(derr, t.target)
			}
		case <-timer.C:
			abort(nil)
			return nil, t.timeoutError(timeout, lastErr)
		case <-ctx.Done():
			abort(nil)
			return nil, fmt.Errorf("ngrok: start cancelled: %w", ctx.Err())
		}
	}
}

// timeoutError explains a start that did not finish within timeout; lastErr
// is the last session failure seen, if any.
func (t *Tunnel) timeoutError(timeout time.Duration, lastErr error) error {
	if lastErr != nil && isDialError(lastErr) {
		return explain(lastErr, t.target)
	}
	why := ""
	if lastErr != nil {
		why = " (" + oneLine(lastErr) + ")"
	}
	return &Error{
		msg: fmt.Sprintf("ngrok: no answer from the ngrok service at %s within %s%s: check the internet connection, a firewall, or --ngrok-connect-url",
			t.target.connectAddr, timeout, why),
		err: errors.Join(context.DeadlineExceeded, lastErr),
	}
}

// diagnose probes the edge with the agent's TLS settings, without a
// session, until diagnoseTimeout or deadline, whichever comes first.
func (t *Tunnel) diagnose(ctx context.Context, deadline time.Time) error {
	d, ok := t.agent.(ngrok.Diagnoser)
	if !ok {
		return nil
	}
	if soon := time.Now().Add(diagnoseTimeout); soon.Before(deadline) {
		deadline = soon
	}
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	_, err := d.Diagnose(ctx, "")
	return err
}

// isDialError reports whether err is a failure to open the TCP connection.
func isDialError(err error) bool {
	var opErr *net.OpError
	return errors.As(err, &opErr) && opErr.Op == "dial"
}

// Accept waits for and returns the endpoint's next connection. While the
// session reconnects it keeps waiting. After Close it returns an error that
// matches net.ErrClosed.
func (t *Tunnel) Accept() (net.Conn, error) {
	conn, err := t.ln.Accept()
	if err == nil {
		return conn, nil
	}
	t.mu.Lock()
	closing, url := t.closing, t.url
	t.mu.Unlock()
	if closing {
		return nil, fmt.Errorf("ngrok endpoint %s: %w", url, net.ErrClosed)
	}
	// ngrok stopped the endpoint while the session lives on.
	e := explain(err, t.target)
	t.report(State{State: StateOffline, URL: url, Err: e})
	return nil, e
}

// Addr returns the endpoint's public URL as a net.Addr.
func (t *Tunnel) Addr() net.Addr { return addr(t.URL()) }

// URL returns the endpoint's current public URL, e.g.
// https://abcd.ngrok-free.app.
func (t *Tunnel) URL() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.url
}

// Close takes the endpoint offline and ends the ngrok session. It waits at
// most a couple of seconds for the edge, always releases everything, and
// returns nil; a failure on the way is logged. Accept then fails with
// net.ErrClosed, and OnState receives a last "offline".
func (t *Tunnel) Close() error {
	t.closeOnce.Do(func() {
		// The SDK v2.4.0 races (go test -race) when an endpoint is closed
		// while it re-authenticates a reconnected session, so a reconnect
		// in progress gets a moment to finish first.
		t.mu.Lock()
		down := t.down
		t.mu.Unlock()
		if down != nil {
			timer := time.NewTimer(unbindTimeout)
			select {
			case <-down:
			case <-timer.C:
			}
			timer.Stop()
		}

		t.mu.Lock()
		t.closing = true
		url, online := t.url, t.down == nil
		t.mu.Unlock()
		if online {
			t.unbindAndDisconnect()
		} else {
			// No session to unbind on: end it, then release the endpoint.
			t.disconnect()
			_ = closeListener(t.ln)
		}
		t.log.Info("ngrok endpoint closed", "url", url)
		t.states.send(State{State: StateOffline, URL: url})
		t.states.close()
	})
	return nil
}

// unbindAndDisconnect asks the edge to take the endpoint offline, waiting at
// most unbindTimeout, then ends the session.
func (t *Tunnel) unbindAndDisconnect() {
	unbound := make(chan error, 1)
	go func() { unbound <- closeListener(t.ln) }()
	timer := time.NewTimer(unbindTimeout)
	defer timer.Stop()
	var err error
	select {
	case err = <-unbound:
		unbound = nil
	case <-timer.C:
		err = fmt.Errorf("no answer within %s", unbindTimeout)
	}
	// Closing the session also ends an unbind still waiting for the edge.
	t.disconnect()
	if unbound != nil {
		<-unbound
	}
	if err != nil {
		t.log.Debug("ngrok unbind", "err", err)
	}
}

// disconnect ends the SDK session and its context.
func (t *Tunnel) disconnect() {
	if err := t.agent.Disconnect(); err != nil {
		t.log.Debug("ngrok disconnect", "err", err)
	}
	t.cancel()
}

// closeListener closes an SDK endpoint listener. The SDK's Close waits for
// any connection it is handing to Accept, so connections are taken and
// dropped until Accept reports the listener closed.
func closeListener(ln ngrok.EndpointListener) error {
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			_ = conn.Close()
		}
	}()
	err := ln.Close()
	<-drained
	return err
}

// addr is a public URL as a net.Addr.
type addr string

// Network returns "ngrok".
func (a addr) Network() string { return "ngrok" }

// String returns the URL.
func (a addr) String() string { return string(a) }
