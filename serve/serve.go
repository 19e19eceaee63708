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
}

// Listen listens on addr (host:port; port 0 picks a free one) for h. It does
// not serve yet: call Start. A failure is a *ListenError.
func Listen(addr string, h http.Handler, log *slog.Logger) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, &ListenError{Addr: addr, Err: err}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Server{ln: ln, srv: &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}}, nil
}

// Start serves the TCP listener in the background.
func (s *Server) Start() { go s.srv.Serve(s.ln) }

// Serve serves one more listener in the background, such as a tunnel's.
// When serving it ends for another reason than the server's shutdown or
// the listener's close, ended (if not nil) is called with why.
func (s *Server) Serve(ln net.Listener, ended func(error)) {
	go func() {
		err := s.srv.Serve(ln)
		if ended != nil && !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
			ended(err)
		}
	}()
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
	if err := s.srv.Shutdown(ctx); err != nil {
		return s.srv.Close()
	}
	return nil
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
