package proxy

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/kvclass/kvclass/serve"
	"github.com/kvclass/kvclass/tunnel"
)

// nodeClient calls one node. It keeps a pool of keep-alive connections to
// the node's URL and reuses them across routing-table swaps, and it writes
// each request straight into a pooled fasthttp request: no per-request URL
// parsing, no per-request allocation of headers. Its connections keep
// coarse deadlines (serve.CoarseDeadlines), and the pool reuses the last
// used connection first.
type nodeClient struct {
	host    string               // Host header
	hc      *fasthttp.HostClient // data calls: answers bounded by dataLimit
	bulk    *fasthttp.HostClient // /state: answers bounded by maxNodeState
	timeout time.Duration
	late    atomic.Bool  // the node missed the last replicated write's grace
	pending atomic.Int32 // replicated writes in flight to the node
}

// maxLaggingWrites bounds the replicated writes in flight to a node that is
// late: beyond them a write does not call it at all (a stuck replica would
// otherwise cost a connection and a goroutine per write until its timeout),
// unless the write's quorum cannot be reached without it.
const maxLaggingWrites = 4

// errLagging is a replicated write not sent to a node that is not answering.
var errLagging = errors.New("not sent: the node is not answering its earlier writes")

// startWrite reserves a replicated write to the node, or reports that the
// node is lagging with too many writes in flight; done must follow a start.
func (c *nodeClient) startWrite() bool {
	if n := c.pending.Add(1); c.late.Load() && n > maxLaggingWrites {
		c.pending.Add(-1)
		return false
	}
	return true
}

// forceWrite reserves a replicated write to the node whatever its lag:
// for a write that no replica would take otherwise. done must follow.
func (c *nodeClient) forceWrite() { c.pending.Add(1) }

// doneWrite ends a write started with startWrite or forceWrite.
func (c *nodeClient) doneWrite() { c.pending.Add(-1) }

// lagging reports whether the node was late on the last replicated write:
// writes that reached their quorum do not wait for it.
func (c *nodeClient) lagging() bool { return c.late.Load() }

// answered records whether the node answered a replicated write within its
// grace.
func (c *nodeClient) answered(inTime bool) {
	if c.late.Load() == inTime {
		c.late.Store(!inTime)
	}
}

// maxNodeState bounds what the proxy reads of one node's /state: a node
// whose state is larger shows on /state?format=json as failing. A data
// answer is bounded by the proxy's --max-body plus room for the JSON around
// the value (dataSlack): a node cannot make the proxy buffer more.
const (
	maxNodeState = 8 << 20
	dataSlack    = 4 << 10
)

// idleConns is how long a node's idle connection is kept: less than a
// kvclass node keeps it (serve.IdleTimeout), so the proxy does not send a
// write on a connection the node is closing.
const idleConns = serve.IdleTimeout * 2 / 3

// dialFunc opens a connection to addr within timeout.
type dialFunc func(addr string, timeout time.Duration) (net.Conn, error)

// newNodeClient returns the client of the node at rawURL; its data answers
// may hold values up to maxValue bytes.
func newNodeClient(rawURL string, dial dialFunc, ua string, timeout time.Duration, maxValue int64) (*nodeClient, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("node URL %q: %w", rawURL, err)
	}
	tlsOn := u.Scheme == "https"
	addr := u.Host
	if u.Port() == "" {
		port := "80"
		if tlsOn {
			port = "443"
		}
		addr = net.JoinHostPort(u.Hostname(), port)
	}
	hc := &fasthttp.HostClient{
		Addr:                     addr,
		Name:                     ua,
		IsTLS:                    tlsOn,
		TLSConfig:                &tls.Config{ServerName: u.Hostname(), MinVersion: tls.VersionTLS12},
		MaxConns:                 1024,
		MaxIdleConnDuration:      idleConns,
		ConnPoolStrategy:         fasthttp.LIFO, // the last used first: the node's busy goroutines and buffers stay hot (docs/BENCHMARKS.md)
		MaxResponseBodySize:      int(maxValue) + dataSlack,
		MaxConnWaitTimeout:       timeout,
		DisablePathNormalizing:   true,
		NoDefaultUserAgentHeader: ua == "",
	}
	if dial == nil {
		dial = fasthttp.DialTimeout
	}
	// Each call sets its connection's deadlines: coarse ones (up to 1/20
	// of the timeout late) spare the timer updates.
	hc.DialTimeout = func(addr string, t time.Duration) (net.Conn, error) {
		c, err := dial(addr, t)
		if err != nil {
			return nil, err
		}
		return serve.CoarseDeadlines(c, timeout/20), nil
	}
	bulk := &fasthttp.HostClient{
		Addr: hc.Addr, Name: hc.Name, IsTLS: hc.IsTLS, TLSConfig: hc.TLSConfig,
		MaxConns:                 16,
		MaxIdleConnDuration:      idleConns,
		MaxResponseBodySize:      maxNodeState,
		MaxConnWaitTimeout:       timeout,
		DisablePathNormalizing:   true,
		NoDefaultUserAgentHeader: ua == "",
		DialTimeout:              hc.DialTimeout,
	}
	hc.RetryIfErr, bulk.RetryIfErr = retryOnStaleConn(hc), retryOnStaleConn(bulk)
	return &nodeClient{host: u.Host, hc: hc, bulk: bulk, timeout: timeout}, nil
}

// retryOnStaleConn is hc's retry rule. A node that restarted (a student's
// laptop, a container, a node on the same port) leaves its old connections
// in the pool, closed by the peer: a call on one fails before a byte of the
// answer comes back. Every call the proxy makes is idempotent (a put
// carries its value and version, a delete its key, a fault its setting),
// so such a call is made once more, within what is left of its timeout,
// after the pool's idle connections (likely all the dead process's) are
// dropped. Any other failure is the node's answer and is not retried.
func retryOnStaleConn(hc *fasthttp.HostClient) fasthttp.RetryIfErrFunc {
	return func(_ *fasthttp.Request, attempts int, err error) (resetTimeout, retry bool) {
		if attempts > 1 || !staleConn(err) {
			return false, false
		}
		hc.CloseIdleConnections()
		return false, true
	}
}

// staleConn reports whether err says the peer had closed the connection.
func staleConn(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, fasthttp.ErrConnectionClosed) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// nodeCall is one data call to a node: method path?key=KEY with an optional
// JSON body and version header, bounded by timeout (0: the client's).
type nodeCall struct {
	method, path, key string
	body              []byte
	version           string // X-Kvclass-Version to send; "" sends none
	timeout           time.Duration
}

// send makes the call nc (the key escaped as a query value) and fills resp.
// It fails on a transport error, a timeout, an answer that is not HTTP, and
// an answer that ngrok's edge made in place of the node.
func (c *nodeClient) send(nc nodeCall, resp *fasthttp.Response) error {
	timeout := nc.timeout
	if timeout <= 0 {
		timeout = c.timeout
	}
	req := fasthttp.AcquireRequest()
	defer fasthttp.ReleaseRequest(req)
	var scratch [256]byte
	uri := append(scratch[:0], nc.path...)
	if nc.key != "" {
		uri = append(uri, "?key="...)
		uri = appendQueryEscape(uri, nc.key)
	}
	req.Header.SetRequestURIBytes(uri)
	if nc.version != "" {
		req.Header.SetCanonical(versionKey, []byte(nc.version))
	}
	return c.do(c.hc, timeout, nc.method, req, nc.body, resp)
}

// post sends POST path with "Authorization: Bearer bearer" when bearer is
// set, and fills resp.
func (c *nodeClient) post(path, bearer string, resp *fasthttp.Response) error {
	req := fasthttp.AcquireRequest()
	defer fasthttp.ReleaseRequest(req)
	req.Header.SetRequestURI(path)
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	return c.do(c.hc, c.timeout, fasthttp.MethodPost, req, nil, resp)
}

// get sends GET requestURI (already escaped) and fills resp.
func (c *nodeClient) get(requestURI string, resp *fasthttp.Response) error {
	req := fasthttp.AcquireRequest()
	defer fasthttp.ReleaseRequest(req)
	req.Header.SetRequestURI(requestURI)
	return c.do(c.bulk, c.timeout, fasthttp.MethodGet, req, nil, resp)
}

// skipWarningKey: one is tunnel.SkipWarningHeader as fasthttp writes it,
// set on every call.
var (
	skipWarningKey = []byte("Ngrok-Skip-Browser-Warning")
	one            = []byte("1")
)

// do makes the call req (its method and body set here), bounded by
// timeout from its start to the answer's end, and fills resp.
func (c *nodeClient) do(hc *fasthttp.HostClient, timeout time.Duration, method string, req *fasthttp.Request, body []byte, resp *fasthttp.Response) error {
	req.Header.SetMethod(method)
	req.Header.SetHost(c.host)
	req.UseHostHeader = true
	req.Header.SetCanonical(skipWarningKey, one)
	if body != nil {
		req.Header.SetContentType("application/json")
		req.SetBodyRaw(body)
	}
	if err := hc.DoTimeout(req, resp, timeout); err != nil {
		return describe(err, timeout)
	}
	if code := resp.Header.Peek(tunnel.ErrorCodeHeader); len(code) > 0 {
		return errors.New(tunnel.EdgeError(string(code)))
	}
	if st := resp.StatusCode(); st < 200 || st > 599 {
		return fmt.Errorf("answered with HTTP status %d", st)
	}
	return nil
}

func describe(err error, timeout time.Duration) error {
	switch {
	case errors.Is(err, fasthttp.ErrTimeout), errors.Is(err, fasthttp.ErrDialTimeout):
		return fmt.Errorf("no answer within %s", timeout)
	case errors.Is(err, fasthttp.ErrNoFreeConns), errors.Is(err, fasthttp.ErrConnPoolStrategyNotImpl):
		return errors.New("too many requests in flight to this node")
	case errors.Is(err, fasthttp.ErrBodyTooLarge):
		return errors.New("answer too large")
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return fmt.Errorf("cannot connect: %v", op.Err)
	}
	return err
}

// close drops the client's idle connections.
func (c *nodeClient) close() {
	c.hc.CloseIdleConnections()
	c.bulk.CloseIdleConnections()
}

const upperhex = "0123456789ABCDEF"

// appendQueryEscape appends s escaped as a query value, as url.QueryEscape
// would, without allocating.
func appendQueryEscape(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			c == '-', c == '_', c == '.', c == '~':
			dst = append(dst, c)
		case c == ' ':
			dst = append(dst, '+')
		default:
			dst = append(dst, '%', upperhex[c>>4], upperhex[c&15])
		}
	}
	return dst
}
