// Package tunnel publishes a local HTTP server through ngrok with the ngrok Go
// SDK: Listen connects to ngrok's edge, authenticates with the user's
// authtoken, binds one HTTP endpoint and returns a net.Listener whose
// connections are that endpoint's traffic, so an http.Server can Serve it.
//
// On ngrok's free plan an account has one public URL, its dev domain, which
// a bind without Options.URL gets; it stays the same across restarts. Listen
// waits (Options.ReleaseWait) while an earlier session of the account still
// holds it, as after a crash. The SDK reconnects by itself when the session
// drops, and the tunnel binds its endpoint again when ngrok stops it;
// Options.OnState and the logger report both. The agent introduces itself
// (Options.Description, Options.Version) and answers the dashboard's stop
// and restart (Options.OnStop, Options.OnRestart).
//
// Every error Listen returns is one line that says what to do (see Explain).
// ErrorCodeHeader, EdgeError and ExplainEdgeCode tell a client an answer
// ngrok's edge made itself from the upstream's, and explain it.
//
// Package edgetest runs a local stand-in of ngrok's edge, for tests and for
// rehearsing a class offline.
package tunnel

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"golang.ngrok.com/ngrok/v2"
)

// The states a tunnel reports through Options.OnState.
const (
	StateConnecting   = "connecting"   // Listen started
	StateOnline       = "online"       // the endpoint serves URL (again, after a reconnect or a re-bind)
	StateReconnecting = "reconnecting" // the session dropped or ngrok stopped the endpoint (Err says why); the tunnel is bringing it back
	StateOffline      = "offline"      // closed, stopped from the dashboard, or it could not be brought back (Err says why)
)

// State is a tunnel's state, as reported to Options.OnState.
type State struct {
	State string // one of the State constants
	URL   string // the public URL, once known
	Err   error  // why, for reconnecting and offline; explained in one line
}

const (
	// defaultConnectAddr is where the SDK connects without ConnectURL.
	defaultConnectAddr = "connect.ngrok-agent.com:443"
	// unbindTimeout bounds the polite unbind in Close; the session is closed
	// after it either way.
	unbindTimeout = 2 * time.Second
	// diagnoseTimeout bounds the probe that classifies an unexplained start
	// failure.
	diagnoseTimeout = 3 * time.Second
	// releaseHint is how long ngrok takes to notice a dead session: the
	// SDK's default heartbeat interval plus tolerance (10 s + 15 s).
	releaseHint = "about 25 s"
)

// Retry pacing while waiting for a release and while re-binding: the first
// delay, growing by half each time up to the last.
var (
	retryFirst = 250 * time.Millisecond
	retryMax   = 3 * time.Second
)

// Tunnel is an ngrok endpoint as a net.Listener: Accept returns the
// endpoint's connections. Close it to take the endpoint offline.
type Tunnel struct {
	log          *slog.Logger
	target       target
	agentOpts    []ngrok.AgentOption
	endpointOpts []ngrok.EndpointOption
	startTimeout time.Duration
	releaseWait  time.Duration
	rebindFor    time.Duration
	onWait       func(string)
	onStop       func()
	onRestart    func()
	states       *notifier
	life         context.Context    // the tunnel's lifetime: parent of every session's context
	end          context.CancelFunc // ends life
	quit         context.Context    // ends when Close starts: stops a re-bind
	stopQuit     context.CancelFunc

	mu         sync.Mutex
	sess       *session               // the current SDK agent and session
	ln         ngrok.EndpointListener // set once bound; replaced by a re-bind
	url        string
	closing    bool
	stopped    bool           // stopped from the dashboard
	restarting bool           // restarted from the dashboard; the next re-bind takes a new session
	failed     error          // why Accept fails for good, after a re-bind gave up
	down       chan struct{}  // non-nil while the session reconnects; closed when it is back
	reported   string         // the last state and error reported, to skip repeats
	rebinds    sync.WaitGroup // re-binds in progress, which Close waits for
	rebindMu   sync.Mutex     // one re-bind at a time
	closeOnce  sync.Once
}

// session is one SDK agent and its session.
type session struct {
	agent  ngrok.Agent
	ctx    context.Context // the session runs until it ends
	cancel context.CancelFunc
	errs   chan error  // session failures while starting
	bound  atomic.Bool // its endpoint is online: later disconnects are reconnects
	dead   atomic.Bool // the SDK gave the session up for good (stopped, restarted, closed)
}

// Listen connects to ngrok's edge, authenticates, binds one HTTP endpoint and
// returns a Tunnel whose connections are the endpoint's traffic. One attempt
// takes at most about Options.StartTimeout; while ngrok says an earlier
// session of the account still holds the URL or the agent sessions, Listen
// retries for up to Options.ReleaseWait, reporting that once through
// Options.OnWait. ctx bounds only the start: once Listen returns, the tunnel
// lives until Close.
//
// Its errors are one line saying what to do: ErrNoAuthtoken without an
// authtoken (without dialing), an *Error otherwise, or an error wrapping
// ctx's when ctx ends first.
func Listen(ctx context.Context, opts Options) (*Tunnel, error) {
	if opts.Authtoken == "" {
		return nil, ErrNoAuthtoken
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	t := &Tunnel{
		log:          log,
		target:       target{url: opts.URL, connectAddr: cmp.Or(opts.ConnectURL, defaultConnectAddr)},
		startTimeout: cmp.Or(max(opts.StartTimeout, 0), DefaultStartTimeout),
		releaseWait:  cmp.Or(opts.ReleaseWait, DefaultReleaseWait),
		rebindFor:    cmp.Or(max(opts.RebindTimeout, 0), DefaultRebindTimeout),
		onWait:       opts.OnWait,
		onStop:       opts.OnStop,
		onRestart:    opts.OnRestart,
	}
	agentOpts, endpointOpts, err := t.sdkOptions(opts)
	if err != nil {
		return nil, err
	}
	t.agentOpts, t.endpointOpts = agentOpts, endpointOpts
	// The SDK dials reconnects and runs its session with the context given
	// to Connect, so that context must live as long as the tunnel.
	t.life, t.end = context.WithCancel(context.WithoutCancel(ctx))
	t.quit, t.stopQuit = context.WithCancel(t.life)
	t.states = newNotifier(opts.OnState)

	t.states.send(State{State: StateConnecting})
	log.Info("ngrok connecting", "connect_url", t.target.connectAddr)
	s, ln, err := t.start(ctx)
	if err != nil {
		log.Debug("ngrok start failed", "err", err)
		t.stopQuit()
		t.end()
		t.states.send(State{State: StateOffline, Err: err})
		t.states.close()
		return nil, err
	}

	t.mu.Lock()
	t.sess, t.ln, t.url = s, ln, ln.URL().String()
	url := t.url
	t.mu.Unlock()
	log.Info("ngrok endpoint online", "url", url)
	t.states.send(State{State: StateOnline, URL: url})
	return t, nil
}

// start connects and binds, retrying for up to releaseWait while ngrok
// refuses because an earlier session of the account holds what it needs.
func (t *Tunnel) start(ctx context.Context) (*session, ngrok.EndpointListener, error) {
	var deadline time.Time
	delay := retryFirst
	for {
		s, ln, err := t.connect(ctx, ctx)
		if err == nil {
			return s, ln, nil
		}
		code := errorCode(err)
		if (code != CodeEndpointOnline && code != CodeAgentLimit) || t.releaseWait < 0 {
			return nil, nil, err
		}
		now := time.Now()
		if deadline.IsZero() {
			deadline = now.Add(t.releaseWait)
			t.waiting(code, err)
		}
		left := deadline.Sub(now)
		if left <= 0 {
			return nil, nil, explainAfter(err, t.target, t.releaseWait)
		}
		timer := time.NewTimer(min(delay, left))
		select {
		case <-timer.C:
		case <-ctx.Done():
			timer.Stop()
			return nil, nil, fmt.Errorf("ngrok: start cancelled while waiting for ngrok to release %s: %w", held(code, err, t.target), ctx.Err())
		}
		delay = min(delay*3/2, retryMax)
	}
}

// waiting reports, once, that start waits for ngrok to release what an
// earlier session of the account holds.
func (t *Tunnel) waiting(code string, err error) {
	var line string
	if code == CodeAgentLimit {
		line = fmt.Sprintf("waiting for ngrok to release an agent session of this account: earlier sessions of this account are still online (they are released within %s)", releaseHint)
	} else {
		line = fmt.Sprintf("waiting for ngrok to release %s: an earlier session of this account is still online (it is released within %s)", held(code, err, t.target), releaseHint)
	}
	if t.onWait != nil {
		t.onWait(line)
		return
	}
	t.log.Warn(line)
}

// held names what ngrok holds for an earlier session: the URL it reported,
// for ERR_NGROK_334.
func held(code string, err error, tg target) string {
	if code == CodeAgentLimit {
		return "an agent session"
	}
	return reportedURL(err, tg)
}

// connect makes a new SDK agent, connects and binds, within startTimeout. It
// ends early on an error ngrok names by code or on an untrusted
// certificate, which retrying cannot fix, and when ctx ends. The session's
// own context derives from the tunnel's life, so it outlives ctx; diagCtx
// bounds the certificate probe.
func (t *Tunnel) connect(ctx, diagCtx context.Context) (*session, ngrok.EndpointListener, error) {
	s := &session{errs: make(chan error, 8)}
	opts := append(slices.Clone(t.agentOpts), ngrok.WithEventHandler(func(ev ngrok.Event) { t.onEvent(s, ev) }))
	agent, err := ngrok.NewAgent(opts...)
	if err != nil {
		return nil, nil, explain(fmt.Errorf("create agent: %w", err), t.target)
	}
	s.agent = agent
	s.ctx, s.cancel = context.WithCancel(t.life)

	type result struct {
		ln  ngrok.EndpointListener
		err error
	}
	done := make(chan result, 1)
	go func() {
		if err := agent.Connect(s.ctx); err != nil {
			done <- result{err: err}
			return
		}
		ln, err := agent.Listen(s.ctx, t.endpointOpts...)
		done <- result{ln: ln, err: err}
	}()
	// abort ends the session and waits for the goroutine above, which ends
	// once the session's context is cancelled and the session closed.
	abort := func(finished *result) {
		s.dead.Store(true)
		s.cancel()
		_ = agent.Disconnect()
		if finished == nil {
			r := <-done
			finished = &r
		}
		if finished.ln != nil {
			_ = closeListener(finished.ln)
		}
		_ = agent.Disconnect()
	}

	deadline := time.Now().Add(t.startTimeout)
	timer := time.NewTimer(t.startTimeout)
	defer timer.Stop()
	var lastErr error
	diagnosed := false
	for {
		select {
		case r := <-done:
			if r.err == nil {
				s.bound.Store(true)
				return s, r.ln, nil
			}
			abort(&r)
			return nil, nil, explain(r.err, t.target)
		case err := <-s.errs:
			lastErr = err
			// An error ngrok names by code, or an untrusted certificate,
			// does not go away by retrying.
			if errorCode(err) != "" || isCertificateError(err) {
				abort(nil)
				return nil, nil, explain(err, t.target)
			}
			if diagnosed || isDialError(err) {
				continue
			}
			// The SDK may report a failed TLS handshake as just a closed
			// session; a probe with the same settings tells whether the
			// edge's certificate is the problem.
			diagnosed = true
			if derr := diagnose(diagCtx, agent, deadline); derr != nil && ngrok.IsTLSDiagnoseFailure(derr) && isCertificateError(derr) {
				abort(nil)
				return nil, nil, explain(derr, t.target)
			}
		case <-timer.C:
			abort(nil)
			return nil, nil, t.timeoutError(lastErr)
		case <-ctx.Done():
			abort(nil)
			return nil, nil, fmt.Errorf("ngrok: start cancelled: %w", ctx.Err())
		}
	}
}

// timeoutError explains an attempt that did not finish within startTimeout;
// lastErr is the last session failure seen, if any.
func (t *Tunnel) timeoutError(lastErr error) error {
	if lastErr != nil && isDialError(lastErr) {
		return explain(lastErr, t.target)
	}
	why := ""
	if lastErr != nil {
		why = " (" + oneLine(lastErr) + ")"
	}
	return &Error{
		msg: fmt.Sprintf("ngrok: no answer from the ngrok service at %s within %s%s: check the internet connection, a firewall, or --ngrok-connect-url",
			t.target.connectAddr, t.startTimeout, why),
		err: errors.Join(context.DeadlineExceeded, lastErr),
	}
}

// diagnose probes the edge with the agent's TLS settings, without a
// session, until diagnoseTimeout or deadline, whichever comes first.
func diagnose(ctx context.Context, agent ngrok.Agent, deadline time.Time) error {
	d, ok := agent.(ngrok.Diagnoser)
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
// session reconnects, and while the tunnel binds the endpoint again after
// ngrok stopped it, it keeps waiting. After Close, or after a stop from
// ngrok's dashboard, it returns an error that matches net.ErrClosed. Any
// other error is for good: ngrok stopped the endpoint and it could not be
// brought back within Options.RebindTimeout; the error says why.
func (t *Tunnel) Accept() (net.Conn, error) {
	for {
		t.mu.Lock()
		ln, err := t.ln, t.finalErrLocked()
		t.mu.Unlock()
		if err != nil {
			return nil, err
		}
		conn, aerr := ln.Accept()
		if aerr == nil {
			return conn, nil
		}
		if err := t.rebind(ln, aerr); err != nil {
			return nil, err
		}
	}
}

// finalErrLocked returns the error Accept returns for good, or nil. Call
// with t.mu held.
func (t *Tunnel) finalErrLocked() error {
	switch {
	case t.closing:
		return fmt.Errorf("ngrok endpoint %s: %w", t.url, net.ErrClosed)
	case t.stopped:
		return fmt.Errorf("ngrok endpoint %s: stopped from the ngrok dashboard: %w", t.url, net.ErrClosed)
	}
	return t.failed
}

// rebind brings the endpoint back after its listener old ended without
// Close (cause says why): it binds again on the same session while that
// lives, or on a new one, with backoff, for up to rebindFor. It returns nil
// once a new listener is in place, or the error Accept fails with for good.
func (t *Tunnel) rebind(old ngrok.EndpointListener, cause error) error {
	t.rebindMu.Lock()
	defer t.rebindMu.Unlock()
	t.mu.Lock()
	if err := t.finalErrLocked(); err != nil {
		t.mu.Unlock()
		return err
	}
	if t.ln != old {
		t.mu.Unlock()
		return nil // another Accept brought it back
	}
	t.rebinds.Add(1)
	defer t.rebinds.Done()
	s, url := t.sess, t.url
	fresh := t.restarting
	t.restarting = false
	t.mu.Unlock()

	why := explain(cause, t.target)
	if fresh {
		why = &Error{msg: "ngrok: the agent was restarted from the ngrok dashboard", err: cause}
	}
	t.report(State{State: StateReconnecting, URL: url, Err: why})
	_ = closeListener(old)

	deadline := time.Now().Add(t.rebindFor)
	delay := retryFirst
	lastErr := why
	for {
		var (
			ns  *session
			ln  ngrok.EndpointListener
			err error
		)
		if fresh || s.dead.Load() {
			ns, ln, err = t.connect(t.quit, t.quit)
		} else {
			ctx, cancel := context.WithTimeout(t.quit, t.startTimeout)
			ln, err = s.agent.Listen(ctx, t.endpointOpts...)
			cancel()
			if err != nil {
				err = explain(err, t.target)
			}
		}
		if err == nil {
			return t.rebound(s, ns, ln)
		}
		if t.quit.Err() != nil {
			return t.closedErr()
		}
		lastErr = err
		// Trouble without an ngrok error code is the session's: the next
		// try opens a new one. A code (334: the URL is taken) is ngrok's
		// answer, and the same session asks again.
		fresh = errorCode(err) == ""
		left := time.Until(deadline)
		if left <= 0 {
			break
		}
		timer := time.NewTimer(min(delay, left))
		select {
		case <-timer.C:
		case <-t.quit.Done():
			timer.Stop()
			return t.closedErr()
		}
		delay = min(delay*3/2, retryMax)
	}

	failed := &Error{
		Code: errorCode(lastErr),
		msg: fmt.Sprintf("ngrok: the endpoint %s went offline (%s) and could not be started again within %s: %s",
			url, trimPrefix(Explain(why)), t.rebindFor, trimPrefix(Explain(lastErr))),
		err: errors.Join(cause, lastErr),
	}
	t.mu.Lock()
	if err := t.finalErrLocked(); err != nil {
		t.mu.Unlock()
		return err
	}
	t.failed = failed
	t.mu.Unlock()
	t.report(State{State: StateOffline, URL: url, Err: failed})
	return failed
}

// rebound puts the listener a re-bind got in place: on s, or on the new
// session ns, which replaces s. Once Close has begun it releases them
// instead and returns Accept's final error.
func (t *Tunnel) rebound(s, ns *session, ln ngrok.EndpointListener) error {
	url := ln.URL().String()
	t.mu.Lock()
	if err := t.finalErrLocked(); err != nil {
		t.mu.Unlock()
		_ = closeListener(ln)
		if ns != nil {
			endSession(ns)
		}
		return err
	}
	previous := t.url
	t.ln, t.url = ln, url
	if ns != nil {
		t.sess = ns
		if t.down != nil {
			close(t.down)
			t.down = nil
		}
	}
	t.mu.Unlock()
	if ns != nil {
		endSession(s)
	}
	if url != previous {
		t.log.Warn("ngrok endpoint URL changed", "old", previous, "url", url)
	}
	t.report(State{State: StateOnline, URL: url})
	return nil
}

// closedErr is Accept's error once Close has begun.
func (t *Tunnel) closedErr() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.finalErrLocked(); err != nil {
		return err
	}
	return fmt.Errorf("ngrok endpoint %s: %w", t.url, net.ErrClosed)
}

// endSession ends an SDK session the tunnel no longer uses.
func endSession(s *session) {
	s.dead.Store(true)
	_ = s.agent.Disconnect()
	s.cancel()
}

// Addr returns the endpoint's public URL as a net.Addr.
func (t *Tunnel) Addr() net.Addr { return addr(t.URL()) }

// URL returns the endpoint's current public URL, e.g.
// https://abcd.ngrok-free.dev.
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
		t.mu.Unlock()
		// A re-bind in progress gives up and releases what it got.
		t.stopQuit()
		t.rebinds.Wait()

		t.mu.Lock()
		s, ln, url := t.sess, t.ln, t.url
		online := t.down == nil && t.failed == nil && !t.stopped && !s.dead.Load()
		t.mu.Unlock()
		if online {
			t.unbindAndDisconnect(s, ln)
		} else {
			// No session to unbind on: end it, then release the endpoint.
			t.disconnect(s)
			_ = closeListener(ln)
		}
		t.end()
		t.log.Info("ngrok endpoint closed", "url", url)
		t.states.send(State{State: StateOffline, URL: url})
		t.states.close()
	})
	return nil
}

// unbindAndDisconnect asks the edge to take the endpoint offline, waiting at
// most unbindTimeout, then ends the session.
func (t *Tunnel) unbindAndDisconnect(s *session, ln ngrok.EndpointListener) {
	unbound := make(chan error, 1)
	go func() { unbound <- closeListener(ln) }()
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
	t.disconnect(s)
	if unbound != nil {
		<-unbound
	}
	if err != nil {
		t.log.Debug("ngrok unbind", "err", err)
	}
}

// disconnect ends the SDK session and its context.
func (t *Tunnel) disconnect(s *session) {
	s.dead.Store(true)
	if err := s.agent.Disconnect(); err != nil {
		t.log.Debug("ngrok disconnect", "err", err)
	}
	s.cancel()
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
