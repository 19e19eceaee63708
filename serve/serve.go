// Package serve is the HTTP server plumbing that a node and the proxy share:
// listening with an error that says what to do, one set of http.Server
// limits, a shutdown that does not stall Ctrl-C, and this machine's LAN
// address for a class on a local network.
package serve

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
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

// Server is an http.Server with kvclass's limits, listening on a TCP
// address and optionally serving more listeners (an ngrok tunnel, a relay).
type Server struct {
	srv *http.Server
	ln  net.Listener

	mu    sync.Mutex
	extra []*http.Server // serving the listeners given to Serve
}

// Listen listens on addr (host:port; port 0 picks a free one) for h. It does
// not serve yet: call Start. A failure is a *ListenError.
func Listen(addr string, h http.Handler, log *slog.Logger) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, &ListenError{Addr: addr, Err: err}
	}
	return &Server{ln: ln, srv: HTTPServer(h, log)}, nil
}

// HTTPServer returns an http.Server for h with kvclass's limits: bounded
// header and body reading, writing, idle connections and header size. Its
// own errors go to log at debug level.
func HTTPServer(h http.Handler, log *slog.Logger) *http.Server {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}
}

// Start serves the TCP listener in the background.
func (s *Server) Start() { go s.srv.Serve(s.ln) }

// Serve serves one more listener in the background: a tunnel's, whose
// requests all come from the tunnel's agent and carry the client's address
// in X-Forwarded-For, set by the tunnel's edge. ClientAddr reads that
// address for requests that arrived through ln, and only for them. When
// serving ends for another reason than the server's shutdown or the
// listener's close, ended (if not nil) is called with why.
func (s *Server) Serve(ln net.Listener, ended func(error)) {
	fwd := HTTPServer(forwarded(s.srv.Handler), nil)
	fwd.ErrorLog = s.srv.ErrorLog
	s.mu.Lock()
	s.extra = append(s.extra, fwd)
	s.mu.Unlock()
	go func() {
		err := fwd.Serve(ln)
		if ended != nil && !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
			ended(err)
		}
	}()
}

// viaForwarder marks a request's context: it came through a listener whose
// edge sets X-Forwarded-For.
type viaForwarder struct{}

func forwarded(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), viaForwarder{}, true)))
	})
}

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
func (s *Server) Addr() *net.TCPAddr { return s.ln.Addr().(*net.TCPAddr) }

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
func (s *Server) Close() error { return s.ln.Close() }

// Shutdown stops the server: it lets requests in flight finish for up to a
// second, then closes what is left. A browser keeps spare connections open
// without ever sending a request on them, and http.Server.Shutdown alone
// would wait for those, stalling Ctrl-C. Serve's listeners are closed too.
func (s *Server) Shutdown() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	s.mu.Lock()
	servers := append([]*http.Server{s.srv}, s.extra...)
	s.mu.Unlock()
	var errs []error
	for _, srv := range servers {
		if err := srv.Shutdown(ctx); err != nil {
			errs = append(errs, srv.Close())
		}
	}
	return errors.Join(errs...)
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
