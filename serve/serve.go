// Package serve is the HTTP server plumbing that a node and the proxy share:
// listening with an error that says what to do, one server that runs the
// data API on fasthttp and everything else on standard handlers, one set of
// limits, a shutdown that does not stall Ctrl-C, and this machine's LAN
// address for a class on a local network.
package serve

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/url"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttpadaptor"

	"github.com/kvclass/kvclass/kvapi"
)

// ListenError reports that a node or the proxy could not listen on its
// address, usually because another program holds the port.
type ListenError struct {
	Addr string
	Err  error
}

// Error names the port when it is taken, the address otherwise.
func (e *ListenError) Error() string {
	if errors.Is(e.Err, syscall.EADDRINUSE) {
		return "port " + portOf(e.Addr) + " is already in use"
	}
	return "cannot listen on " + e.Addr + ": " + e.Err.Error()
}

// Unwrap returns the listen error.
func (e *ListenError) Unwrap() error { return e.Err }

func portOf(addr string) string {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	return port
}

// Handler is what a Server serves. The data API runs on fasthttp's
// server: net/http's server alone costs a proxy about 1.8 times nginx's CPU
// per request (docs/BENCHMARKS.md). Everything else stays on a standard
// http.Handler, served through fasthttpadaptor: the page, the websockets
// (their Hijack works through it), the registry, the admin API.
type Handler struct {
	// Data serves the data API's paths, /get, /put and /delete (the Op
	// paths of kvapi), when a request's raw path is one of them exactly,
	// so Data may route on ctx.URI().PathOriginal(). Nil: Std serves them
	// too.
	Data fasthttp.RequestHandler
	// Std serves every other request, and the data paths spelled another
	// way ("/g%65t"), as net/http would route them.
	Std http.Handler
	// MaxBody bounds a request's body, as kvapi.Limits.MaxBody: Data must
	// answer a larger one with kvapi's 413 (kvapi.Limits.BodyCtx), and the
	// server answers so itself past MaxBody + 256 KiB, without reading it.
	// Default kvapi.DefaultMaxBody.
	MaxBody int64
}

// Limits of the fasthttp server, as net/http's HTTPServer has them. A
// request's line and headers must fit in maxHeader (net/http allowed 64
// KiB; nginx's default is 8 KiB per line): fasthttp reads them into a
// buffer of that size per connection.
const (
	readTimeout  = 30 * time.Second
	writeTimeout = 30 * time.Second
	maxHeader    = 16 << 10
)

// IdleTimeout closes a keep-alive connection that sent no request for that
// long. It is the read timeout, so that the read deadline the server sets
// twice per request (idle, then reading) stays where it is (see coarse).
// A client that keeps idle connections to a node or the proxy (the proxy's
// node clients) must drop them sooner.
const IdleTimeout = readTimeout

// workerIdle is how long fasthttp keeps a goroutine waiting for the next
// connection. Its cleaner sleeps that long between rounds, and outlives a
// server's shutdown by as much (fasthttp's default, 10 s, shows as a
// leaked goroutine in tests that stop a node).
const workerIdle = time.Second

// bodySlack is how far past MaxBody the server reads a body, so that the
// handler's 413 reaches a client that is still sending it (net/http reads
// up to 256 KiB of a body the handler left, for the same reason). A larger
// body gets the server's 413 at once, and its connection is closed.
const bodySlack = 256 << 10

// Server serves a Handler on a TCP address, and optionally on more
// listeners (an ngrok tunnel, a relay): one fasthttp server per listener.
type Server struct {
	h   Handler
	log *slog.Logger
	std fasthttp.RequestHandler // h.Std through fasthttpadaptor

	mu      sync.Mutex
	servers []*served // the TCP listener's first, then Serve's
	closing bool
}

// served is one fasthttp server and its listener.
type served struct {
	srv *fasthttp.Server
	ln  *listener
}

// Listen listens on addr (host:port; port 0 picks a free one) for h. It does
// not serve yet: call Start. A failure is a *ListenError.
func Listen(addr string, h Handler, log *slog.Logger) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, &ListenError{Addr: addr, Err: err}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if h.MaxBody <= 0 {
		h.MaxBody = kvapi.DefaultMaxBody
	}
	s := &Server{h: h, log: log, std: fasthttpadaptor.NewFastHTTPHandler(detached(h.Std))}
	s.servers = []*served{{srv: s.fastServer(false), ln: track(ln)}}
	return s, nil
}

// HTTPServer returns an http.Server for h with kvclass's limits: bounded
// header and body reading, writing, idle connections and header size. Its
// own errors go to log at debug level. It is for handlers served outside a
// Server (a relayed node's streams).
func HTTPServer(h http.Handler, log *slog.Logger) *http.Server {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       IdleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}
}

// fastServer returns a fasthttp server of s's handler with kvclass's
// limits. forwarded marks its requests as having come through a listener
// whose edge sets X-Forwarded-For (see ClientAddr).
func (s *Server) fastServer(forwarded bool) *fasthttp.Server {
	handler := s.serve
	if forwarded {
		handler = func(ctx *fasthttp.RequestCtx) {
			ctx.SetUserValue(viaForwarder{}, true)
			s.serve(ctx)
		}
	}
	return &fasthttp.Server{
		Handler:                      handler,
		ErrorHandler:                 s.requestError,
		ReadTimeout:                  readTimeout,
		WriteTimeout:                 writeTimeout,
		IdleTimeout:                  IdleTimeout,
		ReadBufferSize:               maxHeader,
		MaxRequestBodySize:           int(min(s.h.MaxBody+bodySlack, math.MaxInt32)),
		NoDefaultServerHeader:        true,
		NoDefaultContentType:         true,
		DisablePreParseMultipartForm: true,
		CloseOnShutdown:              true,
		LazyRequestTime:              true,
		MaxIdleWorkerDuration:        workerIdle,
		Logger:                       debugLogger{s.log},
	}
}

// serve routes a request: the data paths to Data, the rest to Std. A
// handler's panic closes the connection without an answer, as net/http
// does, and leaves the server serving.
func (s *Server) serve(ctx *fasthttp.RequestCtx) {
	defer func() {
		if v := recover(); v != nil {
			s.log.Error("a request handler panicked; its connection is closed", "path", string(ctx.Path()), "panic", v, "stack", string(debug.Stack()))
			ctx.Response.Reset()
			ctx.HijackSetNoResponse(true)
			ctx.Hijack(func(net.Conn) {})
		}
	}()
	if s.h.Data != nil && isDataPath(ctx.URI().PathOriginal()) {
		s.h.Data(ctx)
		return
	}
	s.std(ctx)
}

// detached returns h for fasthttpadaptor: it gives h requests whose strings
// are h's own, as net/http's are. The adaptor's point into fasthttp's
// buffers, which the next request on the connection overwrites, and a
// handler may keep a key, a header or an address (the page's events, the
// registry's per-address counts).
func detached(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Method = strings.Clone(r.Method)
		r.Host = strings.Clone(r.Host)
		r.Proto = strings.Clone(r.Proto)
		r.RequestURI = strings.Clone(r.RequestURI)
		if u, err := url.ParseRequestURI(r.RequestURI); err == nil {
			r.URL = u
		}
		r.Header = cloneHeader(r.Header)
		r.Trailer = cloneHeader(r.Trailer)
		r.TransferEncoding = slices.Clone(r.TransferEncoding)
		for i, v := range r.TransferEncoding {
			r.TransferEncoding[i] = strings.Clone(v)
		}
		if ctx, ok := r.Context().(*fasthttp.RequestCtx); ok {
			if c, ok := ctx.Conn().(*conn); ok {
				w = hijacker{w, c}
			}
		}
		h.ServeHTTP(w, r)
	})
}

// hijacker hands a hijacked connection over only once fasthttp's server
// is done with it. The server clears the connection's deadlines after the
// adapted handler hijacks it, and a deadline the new owner set before that
// (a websocket's handshake timeout) would be lost.
type hijacker struct {
	http.ResponseWriter
	c *conn
}

// Hijack returns the connection, once the server has cleared its
// deadlines.
func (w hijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	cleared := make(chan struct{})
	w.c.cleared.Store(&cleared)
	nc, brw, err := w.ResponseWriter.(http.Hijacker).Hijack()
	if err != nil {
		w.c.cleared.Store(nil)
		return nc, brw, err
	}
	select {
	case <-cleared:
	case <-time.After(time.Second): // the server failed the connection meanwhile
	}
	return nc, brw, nil
}

// Flush sends what the handler wrote so far.
func (w hijacker) Flush() { w.ResponseWriter.(http.Flusher).Flush() }

// Unwrap returns the adaptor's writer, for http.ResponseController.
func (w hijacker) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// cloneHeader copies h, its names and values included.
func cloneHeader(h http.Header) http.Header {
	if h == nil {
		return nil
	}
	out := make(http.Header, len(h))
	for k, vv := range h {
		c := make([]string, len(vv))
		for i, v := range vv {
			c[i] = strings.Clone(v)
		}
		out[strings.Clone(k)] = c
	}
	return out
}

// isDataPath reports whether a raw request path is one of the data API's.
func isDataPath(path []byte) bool {
	return string(path) == kvapi.OpGet.Path || string(path) == kvapi.OpPut.Path || string(path) == kvapi.OpDelete.Path
}

// requestError answers a request the server could not read, with kvapi's
// JSON errors.
func (s *Server) requestError(ctx *fasthttp.RequestCtx, err error) {
	var small *fasthttp.ErrSmallBuffer
	var netErr net.Error
	e := kvapi.Errorf(http.StatusBadRequest, "Malformed HTTP request.")
	switch {
	case errors.Is(err, fasthttp.ErrBodyTooLarge):
		e = kvapi.Limits{MaxBody: s.h.MaxBody}.TooLarge()
	case errors.As(err, &small):
		e = kvapi.Errorf(http.StatusRequestHeaderFieldsTooLarge, "The request line and headers are larger than "+strconv.Itoa(maxHeader)+" bytes.")
	case errors.As(err, &netErr) && netErr.Timeout():
		e = kvapi.Errorf(http.StatusRequestTimeout, "The request did not arrive in time.")
	}
	kvapi.WriteErrorCtx(ctx, e)
}

// debugLogger is fasthttp's logger: the server's own errors, at debug
// level, as net/http's ErrorLog had them.
type debugLogger struct{ log *slog.Logger }

// Printf logs one message of the server.
func (l debugLogger) Printf(format string, args ...any) {
	l.log.Debug(fmt.Sprintf(format, args...))
}

// Start serves the TCP listener in the background.
func (s *Server) Start() {
	first := s.servers[0]
	go first.srv.Serve(first.ln)
}

// Serve serves one more listener in the background: a tunnel's, whose
// requests all come from the tunnel's agent and carry the client's address
// in X-Forwarded-For, set by the tunnel's edge. ClientAddr reads that
// address for requests that arrived through ln, and only for them. When
// serving ends for another reason than the server's shutdown or the
// listener's close, ended (if not nil) is called with why.
func (s *Server) Serve(ln net.Listener, ended func(error)) {
	sv := &served{srv: s.fastServer(true), ln: track(ln)}
	s.mu.Lock()
	s.servers = append(s.servers, sv)
	s.mu.Unlock()
	go func() {
		sv.srv.Serve(sv.ln)
		s.mu.Lock()
		closing := s.closing
		s.mu.Unlock()
		if err := sv.ln.acceptErr(); ended != nil && err != nil && !closing && !errors.Is(err, net.ErrClosed) {
			ended(err)
		}
	}()
}

// viaForwarder marks a request: it came through a listener whose edge sets
// X-Forwarded-For. The mark is a fasthttp user value, which the request's
// context (a *fasthttp.RequestCtx, through fasthttpadaptor) returns as a
// context value.
type viaForwarder struct{}

// ClientAddr returns who sent r, for per-address limits: the host of
// r.RemoteAddr, or, for a request that came through a tunnel served with
// Serve, the last address of X-Forwarded-For (the one the tunnel's edge
// added; earlier ones are the client's own claims).
func ClientAddr(r *http.Request) string {
	if via, _ := r.Context().Value(viaForwarder{}).(bool); via {
		if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
			last := xff[len(xff)-1]
			if i := strings.LastIndexByte(last, ','); i >= 0 {
				last = last[i+1:]
			}
			if ip := strings.TrimSpace(last); net.ParseIP(ip) != nil {
				return ip
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// Addr returns the TCP address the server listens on.
func (s *Server) Addr() *net.TCPAddr { return s.servers[0].ln.Addr().(*net.TCPAddr) }

// Port returns the port the server listens on.
func (s *Server) Port() int { return s.Addr().Port }

// LocalURL returns http://HOST:PORT of the TCP listener; an unspecified host
// (0.0.0.0) is reached as 127.0.0.1 on this machine.
func (s *Server) LocalURL() string {
	addr := s.Addr()
	host := addr.IP.String()
	if addr.IP.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, strconv.Itoa(addr.Port))
}

// ServesLAN reports whether the server listens on every interface.
func (s *Server) ServesLAN() bool { return s.Addr().IP.IsUnspecified() }

// Close stops listening without serving: for a Server that never started.
func (s *Server) Close() error { return s.servers[0].ln.Close() }

// Shutdown stops the server: it lets requests in flight finish for up to a
// second, then closes what is left. A browser keeps spare connections open
// without ever sending a request on them, and waiting for those would
// stall Ctrl-C. Serve's listeners are closed too.
func (s *Server) Shutdown() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	s.mu.Lock()
	s.closing = true
	servers := slices.Clone(s.servers)
	s.mu.Unlock()
	var wg sync.WaitGroup
	for _, sv := range servers {
		wg.Go(func() {
			if sv.srv.ShutdownWithContext(ctx) != nil {
				sv.ln.closeConns() // still busy after the grace
			}
			sv.ln.Close() // a server that never served has not closed it
		})
	}
	wg.Wait()
	return nil
}

// listener tracks the connections it accepted, so that Shutdown can close
// those still open after its grace, and keeps why Accept failed, for
// Serve's ended.
type listener struct {
	net.Listener

	mu    sync.Mutex
	conns map[*conn]struct{}
	err   error
}

func track(ln net.Listener) *listener {
	return &listener{Listener: ln, conns: map[*conn]struct{}{}}
}

// Accept accepts a connection and tracks it until it is closed.
func (l *listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	l.mu.Lock()
	defer l.mu.Unlock()
	if err != nil {
		l.err = err
		return nil, err
	}
	tc := &conn{Conn: c, l: l}
	l.conns[tc] = struct{}{}
	return tc, nil
}

func (l *listener) acceptErr() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.err
}

// closeConns closes every connection still open, hijacked ones included.
func (l *listener) closeConns() {
	l.mu.Lock()
	conns := make([]*conn, 0, len(l.conns))
	for c := range l.conns {
		conns = append(conns, c)
	}
	l.mu.Unlock()
	for _, c := range conns {
		c.Close()
	}
}

// conn is a tracked connection, with coarse deadlines (deadline.go): the
// server sets three per request.
type conn struct {
	net.Conn
	l       *listener
	once    sync.Once
	rd, wd  coarse
	cleared atomic.Pointer[chan struct{}] // closed by the next SetDeadline(zero time): see hijacker
}

// deadlineSlack is how late a server connection's deadline may fire: a
// second, on timeouts of 30 s.
const deadlineSlack = time.Second

// SetReadDeadline sets the read deadline, coarsely.
func (c *conn) SetReadDeadline(t time.Time) error {
	return c.rd.set(t, deadlineSlack, c.Conn.SetReadDeadline)
}

// SetWriteDeadline sets the write deadline, coarsely.
func (c *conn) SetWriteDeadline(t time.Time) error {
	return c.wd.set(t, deadlineSlack, c.Conn.SetWriteDeadline)
}

// SetDeadline sets both deadlines, coarsely.
func (c *conn) SetDeadline(t time.Time) error {
	err := errors.Join(c.SetReadDeadline(t), c.SetWriteDeadline(t))
	if ch := c.cleared.Load(); ch != nil && t.IsZero() && c.cleared.CompareAndSwap(ch, nil) {
		close(*ch)
	}
	return err
}

// Close closes the connection and stops tracking it.
func (c *conn) Close() error {
	c.once.Do(func() {
		c.l.mu.Lock()
		delete(c.l.conns, c)
		c.l.mu.Unlock()
	})
	return c.Conn.Close()
}

// LANAddress returns this machine's first private IPv4 address on an
// interface that is up, or "" if it has none. It sends nothing.
func LANAddress() string {
	ifaces, err := net.Interfaces()
	if err != nil {
		return ""
	}
	for _, ifc := range ifaces {
		if ifc.Flags&net.FlagUp == 0 || ifc.Flags&net.FlagLoopback != 0 {
			continue
		}
		addrs, _ := ifc.Addrs()
		for _, a := range addrs {
			if ipn, ok := a.(*net.IPNet); ok && ipn.IP.To4() != nil && ipn.IP.IsPrivate() {
				return ipn.IP.String()
			}
		}
	}
	return ""
}

// IsLoopbackURL reports whether rawURL's host is this machine.
func IsLoopbackURL(rawURL string) bool {
	u, err := url.Parse(rawURL)
	if err != nil {
		return false
	}
	ip := net.ParseIP(u.Hostname())
	return u.Hostname() == "localhost" || ip != nil && ip.IsLoopback()
}
