package node

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"syscall"
	"time"

	"github.com/kvclass/kvclass/kvapi"
)

// This file is the sidecar's client of the student's own server (the
// upstream, Config.Upstream): every call bounded in time and size, no
// redirects followed, no environment proxy (the upstream is next to the
// sidecar), and the query sent on byte for byte.

// Defaults of the sidecar's calls to its upstream.
const (
	// DefaultUpstreamTimeout bounds one data call to the upstream, its
	// answer included: within the proxy's own node-call timeout (2 s), so
	// a slow server is the sidecar's 504, which the proxy relays.
	DefaultUpstreamTimeout = 2 * time.Second
	// upstreamStateTimeout bounds a read of the upstream's whole state.
	upstreamStateTimeout = 5 * time.Second
	// maxUpstreamState is the largest /state?format=json answer the sidecar
	// reads from its upstream.
	maxUpstreamState = 32 << 20
	// answerSlack is what an answer may hold besides a value of MaxBody
	// bytes: {"value": ...}, or an error naming a key.
	answerSlack = 64 << 10
)

// errNoAnswer is wrapped by a call the upstream did not answer in time.
var errNoAnswer = errors.New("no answer")

// upstreamProbeKey is the key the sidecar reads to tell whether an
// upstream without GET /health answers at all.
const upstreamProbeKey = "kvclass-sidecar-probe"

// upstream is the student's own server behind a sidecar.
type upstream struct {
	base      *url.URL // scheme://host[:port], no path
	client    *http.Client
	timeout   time.Duration
	maxAnswer int64
	userAgent string
}

// newUpstream returns the client of the server at base.
func newUpstream(base *url.URL, timeout time.Duration, maxBody int64, userAgent string) *upstream {
	if timeout <= 0 {
		timeout = DefaultUpstreamTimeout
	}
	dialer := &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}
	return &upstream{
		base: base,
		client: &http.Client{
			Transport: &http.Transport{
				DialContext:            dialer.DialContext,
				TLSHandshakeTimeout:    timeout,
				ResponseHeaderTimeout:  timeout,
				MaxResponseHeaderBytes: 64 << 10,
				MaxIdleConnsPerHost:    32,
				IdleConnTimeout:        30 * time.Second,
				DisableCompression:     true, // bodies are relayed as they came
			},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		timeout:   timeout,
		maxAnswer: maxBody + answerSlack,
		userAgent: userAgent,
	}
}

// String is the upstream's base URL.
func (u *upstream) String() string { return u.base.String() }

// target is the upstream's URL for path and a raw query, sent as the
// client sent it: the sidecar never decodes and re-escapes a key, so a key
// with &, #, +, %, / or spaces reaches the upstream exactly as the proxy
// escaped it.
func (u *upstream) target(path, rawQuery string) string {
	t := *u.base
	t.Path, t.RawPath, t.RawQuery = path, "", rawQuery
	return t.String()
}

// upstreamReply is an upstream's answer, read whole.
type upstreamReply struct {
	status int
	header http.Header
	body   []byte
}

// call sends one request to the upstream and reads its answer, at most
// limit bytes, within timeout. header holds the request headers to pass
// on. Its error says what went wrong in words for a person: "connection
// refused", "no answer within 2s", "answer larger than N bytes".
func (u *upstream) call(ctx context.Context, method, path, rawQuery string, header http.Header, body []byte, limit int64, timeout time.Duration) (*upstreamReply, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var rd io.Reader = http.NoBody
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.target(path, rawQuery), rd)
	if err != nil {
		return nil, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if u.userAgent != "" && req.Header.Get("User-Agent") == "" {
		req.Header.Set("User-Agent", u.userAgent)
	}
	resp, err := u.client.Do(req)
	if err != nil {
		return nil, u.explain(ctx, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, u.explain(ctx, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("answer larger than %d bytes", limit)
	}
	return &upstreamReply{status: resp.StatusCode, header: resp.Header, body: data}, nil
}

// explain turns a failed call into a short reason.
func (u *upstream) explain(ctx context.Context, err error) error {
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return errors.New("connection refused")
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded):
		return fmt.Errorf("%w within %s", errNoAnswer, u.timeout)
	case errors.Is(err, context.Canceled):
		return errors.New("the call was cancelled")
	}
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		return fmt.Errorf("%w within %s", errNoAnswer, u.timeout)
	}
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		err = urlErr.Err
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Err != nil {
		err = opErr.Err
	}
	return err
}

// probe asks whether the upstream serves: GET /health must answer 2xx. An
// upstream without /health (it answers 404 or 405) is asked a GET of a
// probe key instead, and any answer below 500 counts: a 404 for the key
// is a server that works. It returns the upstream's Server header, and why
// it does not serve: "connection refused", "no answer within 2s", "GET
// /health answered 500".
func (u *upstream) probe(ctx context.Context) (server string, err error) {
	rep, err := u.call(ctx, http.MethodGet, "/health", "", nil, nil, 4<<10, u.timeout)
	if err != nil {
		return "", err
	}
	server = rep.header.Get("Server")
	switch {
	case rep.status/100 == 2:
		return server, nil
	case rep.status != http.StatusNotFound && rep.status != http.StatusMethodNotAllowed:
		return server, fmt.Errorf("GET /health answered %d", rep.status)
	}
	rep, err = u.call(ctx, http.MethodGet, "/get", "key="+upstreamProbeKey, nil, nil, 4<<10, u.timeout)
	if err != nil {
		return server, err
	}
	if rep.status >= 500 {
		return server, fmt.Errorf("it has no GET /health, and GET /get answered %d", rep.status)
	}
	if server == "" {
		server = rep.header.Get("Server")
	}
	return server, nil
}

// upstreamError is the sidecar's answer when its upstream could not be
// called: 504 when it did not answer in time, else 502, naming the
// upstream and the reason.
func (u *upstream) upstreamError(err error) *kvapi.Error {
	status := http.StatusBadGateway
	if errors.Is(err, errNoAnswer) {
		status = http.StatusGatewayTimeout
	}
	return kvapi.Errorf(status, "This node forwards to its owner's server at "+u.String()+", which did not answer properly: "+err.Error()+".")
}

// passHeaders are the request headers the sidecar passes to its upstream,
// and the answer headers it relays back.
var (
	passRequest = []string{"Content-Type", "Accept", kvapi.VersionHeader}
	passAnswer  = []string{"Content-Type", kvapi.VersionHeader, "Allow", "Retry-After"}
)

// pick returns the headers of h named in names.
func pick(h http.Header, names []string) http.Header {
	out := make(http.Header, len(names))
	for _, name := range names {
		if v := h.Values(name); len(v) > 0 {
			out[http.CanonicalHeaderKey(name)] = v
		}
	}
	return out
}

// relayTo writes rep to w as the upstream sent it: status, body, and the
// headers in passAnswer.
func relayTo(w http.ResponseWriter, rep *upstreamReply) {
	h := w.Header()
	for k, v := range pick(rep.header, passAnswer) {
		h[k] = v
	}
	h.Set("Content-Length", strconv.Itoa(len(rep.body)))
	w.WriteHeader(rep.status)
	w.Write(rep.body)
}
