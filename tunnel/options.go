package tunnel

import (
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strings"

	"golang.ngrok.com/ngrok/v2"
)

// sdkOptions checks opts and turns them into the SDK's agent and endpoint
// options. Its errors are *Error, phrased for the command line.
func (t *Tunnel) sdkOptions(opts Options) ([]ngrok.AgentOption, []ngrok.EndpointOption, error) {
	agentOpts := []ngrok.AgentOption{
		ngrok.WithAuthtoken(opts.Authtoken),
		// Without a logger of its own the SDK logs to slog's default.
		ngrok.WithLogger(slog.New(debugHandler{t.log.Handler()})),
		ngrok.WithEventHandler(t.onEvent),
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
	return agentOpts, endpointOpts, nil
}

// usageError is an *Error about a bad option value.
func usageError(format string, args ...any) *Error {
	msg := fmt.Sprintf(format, args...)
	return &Error{msg: msg, err: errors.New(msg)}
}
