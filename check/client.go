package check

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// Headers the proxy adds to its answers, and the one ngrok's edge adds to the
// answers it makes itself.
const (
	// NodeHeader names the node(s) that served a request, comma-separated
	// under replication.
	NodeHeader = "X-Kvclass-Node"
	// VersionHeader carries a stored value's version, "HLC/ORIGIN". It is
	// recorded when present and never required.
	VersionHeader = "X-Kvclass-Version"
	// NgrokErrorHeader marks an answer made by ngrok's edge rather than by
	// the server behind it (endpoint offline, rate limit, monthly cap).
	NgrokErrorHeader = "Ngrok-Error-Code"
)

// DefaultRequestTimeout bounds every request of a load or check run. It is
// longer than the proxy's node-call timeout (2 s), so a slow node shows as
// the proxy's 502, not as a client-side timeout.
const DefaultRequestTimeout = 5 * time.Second

// maxAnswer bounds what is read from one answer: a value is at most a
// node's --max-body (1 MiB by default).
const maxAnswer = 2 << 20

// target is a parsed proxy URL.
type target struct {
	base *url.URL // scheme, host and path prefix, no trailing slash
}

// parseTarget checks that raw is an http(s) URL with a host, the way the
// --proxy flag must be given.
func parseTarget(raw string) (target, error) {
	if raw == "" {
		return target{}, errors.New("no proxy URL: pass --proxy URL, like http://127.0.0.1:5003 or https://NAME.ngrok-free.app")
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return target{}, fmt.Errorf("--proxy %q is not an http:// or https:// URL; pass one like http://127.0.0.1:5003", raw)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return target{}, fmt.Errorf("--proxy %q has a query or fragment; pass just the proxy's base URL, like http://127.0.0.1:5003", raw)
	}
	b := *u
	b.Path = strings.TrimRight(b.Path, "/")
	b.RawPath = ""
	return target{base: &b}, nil
}

// url returns the request URL for path ("/put" or "/get") and key, the key
// query-escaped so that &, #, +, %, / and spaces survive.
func (t target) url(path, key string) string {
	return t.base.String() + path + "?key=" + url.QueryEscape(key)
}

// host is the target's host name, without a port.
func (t target) host() string { return t.base.Hostname() }

// newClient returns an HTTP client tuned for concurrency requests in flight
// to one host, so that the generator is not the bottleneck: enough idle
// keep-alive connections to reuse one per request in flight, no
// compression, no redirects (an answer is recorded as it came).
func newClient(concurrency int) (*http.Client, *http.Transport) {
	tr := &http.Transport{
		Proxy: http.ProxyFromEnvironment,
		DialContext: (&net.Dialer{
			Timeout:   5 * time.Second,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          concurrency + 16,
		MaxIdleConnsPerHost:   concurrency + 16,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		DisableCompression:    true,
	}
	c := &http.Client{
		Transport:     tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return c, tr
}

// userAgent is sent with every request, so a proxy's request feed shows
// where the traffic comes from.
const userAgent = "kvclass-check"

// reply is what one request got: an HTTP answer, or why there was none.
type reply struct {
	status  int    // 0 when no answer came
	value   string // get 200: the value read (see decodeValue)
	found   bool   // get: 200 with a value
	nodes   []string
	version string
	edge    string // the ngrok error code when ngrok's edge answered
	errMsg  string // the answer's "error" field, or why there was no answer
	timeout bool   // the request timed out
	dialErr bool   // the connection could not be opened: nothing was sent
}

// label names the reply's outcome in error counts: the status code
// ("503"), the ngrok error code, "timeout", or "conn" for a transport error.
func (r reply) label() string {
	switch {
	case r.edge != "":
		return r.edge
	case r.timeout:
		return "timeout"
	case r.status == 0:
		return "conn"
	default:
		return strconv.Itoa(r.status)
	}
}

// putBody is a put's JSON body.
func putBody(value string) []byte {
	b, _ := json.Marshal(struct {
		Value string `json:"value"`
	}{value})
	return b
}

// do sends one request and reads its answer. For a get with readValue set it
// decodes the value; otherwise the body is only drained, so the connection
// can be reused.
func do(ctx context.Context, c *http.Client, method, u string, body []byte, readValue bool) reply {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return reply{errMsg: err.Error()}
	}
	req.Header.Set("User-Agent", userAgent)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.Do(req)
	if err != nil {
		return transportReply(ctx, err)
	}
	defer resp.Body.Close()
	r := reply{
		status:  resp.StatusCode,
		nodes:   splitNodes(resp.Header.Get(NodeHeader)),
		version: resp.Header.Get(VersionHeader),
		edge:    resp.Header.Get(NgrokErrorHeader),
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		t := transportReply(ctx, err)
		r.errMsg, r.timeout = t.errMsg, t.timeout
		return r
	}
	if r.status == http.StatusOK && readValue && r.edge == "" {
		v, ok := decodeValue(data)
		if !ok {
			r.errMsg = "the 200 answer has no JSON \"value\": " + clip(string(data), 80)
			return r
		}
		r.value, r.found = v, true
		return r
	}
	if r.status != http.StatusOK {
		var e struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(data, &e) == nil && e.Error != "" {
			r.errMsg = e.Error
		} else {
			r.errMsg = clip(strings.TrimSpace(string(data)), 120)
		}
	}
	return r
}

// transportReply describes a request that got no complete answer.
func transportReply(ctx context.Context, err error) reply {
	r := reply{errMsg: err.Error()}
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) ||
		(errors.As(err, &ne) && ne.Timeout()) {
		r.timeout = true
	}
	if ctx.Err() == context.Canceled {
		r.errMsg = "canceled"
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Op == "dial" {
		r.dialErr = true
	}
	return r
}

// decodeValue returns the "value" of a get's answer: a JSON string as the
// string itself, any other JSON value as its compact JSON text.
func decodeValue(body []byte) (string, bool) {
	var a struct {
		Value json.RawMessage `json:"value"`
	}
	if json.Unmarshal(body, &a) != nil || len(a.Value) == 0 || string(a.Value) == "null" {
		return "", false
	}
	var s string
	if json.Unmarshal(a.Value, &s) == nil {
		return s, true
	}
	var buf bytes.Buffer
	if json.Compact(&buf, a.Value) != nil {
		return string(a.Value), true
	}
	return buf.String(), true
}

// splitNodes splits the NodeHeader's comma-separated names.
func splitNodes(h string) []string {
	if h == "" {
		return nil
	}
	parts := strings.Split(h, ",")
	out := parts[:0]
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// clip shortens s to at most n bytes for a message, on a rune boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && (s[n]&0xC0) == 0x80 {
		n--
	}
	return s[:n] + "..."
}
