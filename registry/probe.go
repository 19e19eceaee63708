package registry

import (
	"context"
	"errors"
	"fmt"
	"github.com/kvclass/kvclass/tunnel"
	"io"
	"net"
	"net/http"
	"time"
)

// newProbeClient returns the HTTP client for GET /health checks: every step
// bounded by timeout, no environment proxy (it would bypass the dialer's
// policy check), redirects not followed.
func newProbeClient(dialer *net.Dialer, timeout time.Duration) *http.Client {
	return &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			DialContext:            dialer.DialContext,
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
