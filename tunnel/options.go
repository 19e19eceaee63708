package tunnel

import (
	"cmp"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	"golang.ngrok.com/ngrok/v2"
)

// Options configures Listen.
type Options struct {
	// URL is the endpoint's URL (--ngrok-url): a reserved or dev domain as a
	// full URL, e.g. https://my-name.ngrok-free.dev. Empty lets ngrok choose,
	// which on the free plan is the account's one dev domain.
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

	// Description tells whose agent and endpoint this is on ngrok's
	// dashboard: "kvclass node NAME" or "kvclass proxy".
	Description string
	// Version is the caller's version; the agent introduces itself to ngrok
	// as the client "kvclass" of that version. Empty sends "dev".
	Version string

	// StartTimeout bounds one attempt to connect, authenticate and bind;
	// default DefaultStartTimeout. The SDK retries a failing session with
	// backoff until its context ends, so this bound is what ends an attempt
	// that cannot succeed; errors ngrok names by code end it at once.
	StartTimeout time.Duration
	// ReleaseWait bounds how long Listen keeps trying while ngrok refuses the
	// start because an earlier session of the same account still holds the
	// URL (ERR_NGROK_334) or the account's agent sessions (ERR_NGROK_108), as
	// after a crash or a sleeping laptop, until ngrok notices that session is
	// gone (about 25 s). Default DefaultReleaseWait; negative fails at once.
	// Listen's ctx bounds the wait too.
	ReleaseWait time.Duration
	// OnWait, if set, receives the one line Listen reports when it starts
	// waiting for ngrok to release the URL; nil logs it at warn level.
	OnWait func(line string)
	// RebindTimeout bounds how long the tunnel tries to bring its endpoint
	// back after ngrok stopped it (from the dashboard, or for the account)
	// while the session lives on; default DefaultRebindTimeout. After it,
	// Accept fails for good with the reason.
	RebindTimeout time.Duration

	// Logger receives the tunnel's log; nil discards it. The SDK's warnings
	// reach it at warn level, the rest of the SDK's log at debug.
	Logger *slog.Logger
	// OnState, if set, is called on every state change, in order, from a
	// goroutine of the tunnel's own (never from the SDK's). It should return
	// quickly: while it runs, later states queue, and beyond a few the
	// oldest are dropped.
	OnState func(State)
	// OnStop, if set, is called on a goroutine of its own when someone stops
	// this agent from ngrok's dashboard or API: the caller should shut down
	// cleanly (a node leaves its class, the proxy stops) and Close the
	// tunnel. ngrok ends the session right after; Accept then fails with an
	// error matching net.ErrClosed. Without OnStop, the dashboard's stop is
	// refused with a message saying to stop kvclass where it runs.
	OnStop func()
	// OnRestart, if set, is called on a goroutine of its own when someone
	// restarts this agent from ngrok's dashboard or API. The tunnel restarts
	// its session by itself (same URL, reported through OnState), so
	// OnRestart is for logging or for restarting more.
	OnRestart func()
}

// Defaults used where Options leaves a duration zero.
const (
	DefaultStartTimeout  = 15 * time.Second
	DefaultReleaseWait   = 60 * time.Second
	DefaultRebindTimeout = 2 * time.Minute
)

// clientType is the client name the agent sends to ngrok with its version.
const clientType = "kvclass"

// sdkOptions checks opts and turns them into the SDK's agent and endpoint
// options (the event handler is added per session). Its errors are *Error,
// phrased for the command line.
func (t *Tunnel) sdkOptions(opts Options) ([]ngrok.AgentOption, []ngrok.EndpointOption, error) {
	agentOpts := []ngrok.AgentOption{
		ngrok.WithAuthtoken(opts.Authtoken),
		// Without a logger of its own the SDK logs to slog's default.
		ngrok.WithLogger(slog.New(sdkHandler{t.log.Handler()})),
		ngrok.WithClientInfo(clientType, cmp.Or(opts.Version, "dev")),
		// The dashboard's stop, restart and update reach the agent only
		// when it has an RPC handler.
		ngrok.WithRPCHandler(t.onRPC),
	}
	if opts.Description != "" {
		// SDK v2.4.0 keeps the agent description without sending it; the
		// metadata reaches the dashboard's agent list.
		agentOpts = append(agentOpts,
			ngrok.WithAgentDescription(opts.Description),
			ngrok.WithAgentMetadata(opts.Description))
	}

	if opts.ConnectURL != "" {
		host, port, err := net.SplitHostPort(opts.ConnectURL)
		if err != nil || host == "" || port == "" || strings.Contains(opts.ConnectURL, "/") {
			return nil, nil, usageError("ngrok: --ngrok-connect-url takes HOST:PORT, like connect.ngrok-agent.com:443, not %q", opts.ConnectURL)
		}
		agentOpts = append(agentOpts, ngrok.WithAgentConnectURL(opts.ConnectURL))
	}

	pool := opts.CAs
	if opts.CAFile != "" {
		pem, err := os.ReadFile(opts.CAFile)
		if err != nil {
			return nil, nil, &Error{msg: fmt.Sprintf("ngrok: cannot read --ngrok-ca: %s", oneLine(err)), err: err}
		}
		pool = x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, nil, usageError("ngrok: --ngrok-ca %s holds no PEM certificate", opts.CAFile)
		}
	}
	if pool != nil {
		agentOpts = append(agentOpts, ngrok.WithAgentConnectCAs(pool))
	}

	var endpointOpts []ngrok.EndpointOption
	if opts.URL != "" {
		u, err := url.Parse(opts.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
			(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			return nil, nil, usageError("ngrok: --ngrok-url takes a full URL, like https://my-name.ngrok-free.dev, not %q", opts.URL)
		}
		endpointOpts = append(endpointOpts, ngrok.WithURL(u.Scheme+"://"+u.Host))
	}
	if opts.Description != "" {
		endpointOpts = append(endpointOpts, ngrok.WithDescription(opts.Description))
	}
	return agentOpts, endpointOpts, nil
}

// usageError is an *Error about a bad option value.
func usageError(format string, args ...any) *Error {
	msg := fmt.Sprintf(format, args...)
	return &Error{msg: msg, err: errors.New(msg)}
}
