package registry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/kvclass/kvclass/tunnel"
)

// dialFunc is net.Dialer.DialContext's signature (Options.Dial).
type dialFunc = func(ctx context.Context, network, address string) (net.Conn, error)

// probeDial returns how the registry dials joined nodes: through p's
// Dialer, or, with Options.Dial set, p's address check and then dial.
func probeDial(p Policy, dial dialFunc, timeout time.Duration) dialFunc {
	if dial == nil {
		return p.Dialer(timeout).DialContext
	}
	return func(ctx context.Context, network, address string) (net.Conn, error) {
		if err := p.Control(network, address, nil); err != nil {
			return nil, &net.OpError{Op: "dial", Net: network, Err: err}
		}
		return dial(ctx, network, address)
	}
}

// healthDial returns how the registry dials config nodes: plainly, or
// through Options.Dial.
func healthDial(dial dialFunc, timeout time.Duration) dialFunc {
	if dial == nil {
		return (&net.Dialer{Timeout: timeout}).DialContext
	}
	return dial
}

// newProbeClient returns the HTTP client for GET /health checks: every step
// bounded by timeout, no environment proxy (it would bypass the dialer's
// policy check), redirects not followed.
func newProbeClient(dial dialFunc, timeout time.Duration) *http.Client {
	return &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			DialContext:            dial,
			TLSHandshakeTimeout:    timeout,
			ResponseHeaderTimeout:  timeout,
			MaxResponseHeaderBytes: 16 << 10,
			MaxIdleConnsPerHost:    1,
			IdleConnTimeout:        30 * time.Second,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// getHealth asks base/health, as userAgent, and wants a 200.
func getHealth(ctx context.Context, client *http.Client, base, userAgent string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/health", nil)
	if err != nil {
		return fmt.Errorf("bad URL: %w", err)
	}
	if userAgent == "" {
		userAgent = "kvclass"
	}
	req.Header.Set("User-Agent", userAgent)
	req.Header.Set(tunnel.SkipWarningHeader, "1") // a free ngrok endpoint's warning page is not the node
	resp, err := client.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return errors.New("no answer in time")
		}
		return errors.New(shortErr(err))
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
	if resp.StatusCode != http.StatusOK {
		if code := resp.Header.Get(tunnel.ErrorCodeHeader); code != "" {
			return errors.New(tunnel.EdgeError(code))
		}
		return fmt.Errorf("GET /health answered HTTP %d", resp.StatusCode)
	}
	return nil
}
