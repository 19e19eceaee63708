package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// runHealth is "kvclass health URL": exit 0 when URL/health answers 200. A
// FROM scratch image has no shell or curl, so its healthchecks use this.
func runHealth(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("health", stderr)
	timeout := fs.Duration("timeout", 2*time.Second, "give up after this `long`")
	if err := parse(fs, args, "URL"); err != nil {
		return err
	}
	u := strings.TrimRight(fs.Arg(0), "/")
	if !strings.HasSuffix(u, "/health") {
		u += "/health"
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return usageError("bad URL: %v", err)
	}
	req.Header.Set("User-Agent", userAgent)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("unhealthy: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 256))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("unhealthy: %s answered %d", u, resp.StatusCode)
	}
	fmt.Fprintln(stdout, strings.TrimSpace(string(body)))
	return nil
}
