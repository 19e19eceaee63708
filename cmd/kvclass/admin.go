package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/kvclass/kvclass/kvapi"
	"github.com/kvclass/kvclass/proxy"
	"github.com/kvclass/kvclass/tunnel"
)

// The instructor's actions from a terminal: kvclass admin ACTION and
// kvclass fault. They need the admin token, which they read from
// KVCLASS_ADMIN_TOKEN or from the proxy's state file on this machine (never
// from a flag, which ps would show).

// adminClient sends the instructor's requests to one proxy.
type adminClient struct {
	base  string
	token string
	http  *http.Client
}

// newAdminClient checks the proxy URL and finds the admin token.
func newAdminClient(proxyURL, statePath string) (*adminClient, error) {
	u, err := url.Parse(strings.TrimRight(proxyURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, usageError("--proxy %q must look like http://HOST:PORT or https://HOST", proxyURL)
	}
	token := os.Getenv("KVCLASS_ADMIN_TOKEN")
	if token == "" {
		if statePath == "" {
			if statePath, err = proxy.DefaultStatePath(); err != nil {
				return nil, usageError("set KVCLASS_ADMIN_TOKEN, or pass --state FILE: %v", err)
			}
		}
		if _, err := os.Stat(statePath); err != nil {
			return nil, usageError("no admin token: set KVCLASS_ADMIN_TOKEN, or run this on the proxy's machine (its state file %s is not there; --state names another)", statePath)
		}
		st, err := proxy.LoadState(statePath, "", "")
		if err != nil {
			return nil, usageError("%v", err)
		}
		token = st.State().AdminToken
	}
	return &adminClient{base: u.String(), token: token, http: &http.Client{Timeout: 30 * time.Second}}, nil
}

// do sends method /admin/ACTION (with query) and body, and prints the
// proxy's message, or returns its error.
func (c *adminClient) do(ctx context.Context, stdout io.Writer, method, action, query string, body any) error {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	u := c.base + "/admin/" + action
	if query != "" {
		u += "?" + query
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return usageError("%v", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", userAgent)
	req.Header.Set(tunnel.SkipWarningHeader, "1")
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("cannot reach the proxy: %w", err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var answer struct {
		Message string            `json:"message"`
		Error   string            `json:"error"`
		Nodes   map[string]string `json:"nodes"`
	}
	json.Unmarshal(data, &answer)
	if resp.StatusCode != http.StatusOK {
		msg := answer.Error
		if msg == "" {
			msg = kvapi.Truncate(strings.TrimSpace(string(data)), 200)
		}
		return fmt.Errorf("the proxy answered %d: %s", resp.StatusCode, msg)
	}
	fmt.Fprintln(stdout, answer.Message)
	for _, n := range sortedKeys(answer.Nodes) {
		fmt.Fprintf(stdout, "  %s: %s\n", n, answer.Nodes[n])
	}
	return nil
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// runAdmin is "kvclass admin ACTION [FIELD=VALUE...]": POST /admin/ACTION
// with the fields as a JSON object (numbers and true/false as such). For
// example: kvclass admin rebalance; kvclass admin placement placement=ring
// vnodes=64; kvclass admin replication read_quorum=2 write_quorum=2.
func runAdmin(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("admin", stderr)
	proxyURL := fs.String("proxy", "http://localhost:5003", "the proxy's `URL`")
	statePath := fs.String("state", "", "the proxy's state `FILE`, for its admin token (default: the proxy's default)")
	rest, err := parseMixed(fs, args)
	if err != nil {
		return err
	}
	if len(rest) < 1 {
		return usageError("usage: kvclass admin ACTION [FIELD=VALUE...]  (actions: mode, placement, replication, rebalance, fault, check, kick, lock, unlock, reset)")
	}
	action := rest[0]
	body := map[string]any{}
	for _, kv := range rest[1:] {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return usageError("%q is not FIELD=VALUE", kv)
		}
		body[k] = fieldValue(v)
	}
	c, err := newAdminClient(*proxyURL, *statePath)
	if err != nil {
		return err
	}
	return c.do(ctx, stdout, http.MethodPost, action, "", body)
}

// fieldValue reads a FIELD=VALUE value: a number, true/false, or text.
func fieldValue(v string) any {
	if n, err := strconv.ParseFloat(v, 64); err == nil {
		return n
	}
	if b, err := strconv.ParseBool(v); err == nil {
		return b
	}
	return v
}

// runFault is "kvclass fault --proxy URL NODE [--delay D] [--drop P]
// [--pause] | --clear": the instructor's fault on the proxy's calls to a
// node, or no fault (NODE omitted with --clear: every node).
func runFault(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("fault", stderr)
	proxyURL := fs.String("proxy", "http://localhost:5003", "the proxy's `URL`")
	statePath := fs.String("state", "", "the proxy's state `FILE`, for its admin token (default: the proxy's default)")
	delay := fs.Duration("delay", 0, "add this `long` before every call to the node")
	drop := fs.Float64("drop", 0, "fail this `FRACTION` of the calls to the node (0 to 1)")
	pause := fs.Bool("pause", false, "every call to the node hangs until the timeout")
	clear := fs.Bool("clear", false, "clear the node's fault (every node's without NODE)")
	rest, err := parseMixed(fs, args)
	if err != nil {
		return err
	}
	c, err := newAdminClient(*proxyURL, *statePath)
	if err != nil {
		return err
	}
	if *clear {
		q := ""
		if len(rest) == 1 {
			q = "node=" + url.QueryEscape(rest[0])
		}
		return c.do(ctx, stdout, http.MethodDelete, "fault", q, nil)
	}
	if len(rest) != 1 {
		return usageError("usage: kvclass fault [--proxy URL] NODE [--delay D] [--drop P] [--pause] | --clear [NODE]")
	}
	if *delay == 0 && *drop == 0 && !*pause {
		return usageError("say which fault: --delay, --drop or --pause (or --clear)")
	}
	return c.do(ctx, stdout, http.MethodPost, "fault", "", map[string]any{
		"node": rest[0], "delay_ms": delay.Milliseconds(), "drop": *drop, "pause": *pause,
	})
}
