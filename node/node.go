package node

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/kvclass/kvclass/registry"
	"github.com/kvclass/kvclass/tunnel"
	"github.com/kvclass/kvclass/web"
)

// Config configures a Node. The zero value of a field means its default.
type Config struct {
	Name      string // default "node-PORT"
	Host      string // address to listen on; default 127.0.0.1
	Port      int    // 0 picks a free port
	Advertise string // URL the proxy should call; default the ngrok URL, else http://HOST:PORT

	Join  string // the proxy's URL; empty runs the node on its own
	Token string // the class code

	Ngrok *tunnel.Options // non-nil publishes the node through ngrok

	MaxBody  int64    // bytes in a /put body; default DefaultMaxBody
	MaxKey   int      // bytes in a key; default DefaultMaxKey
	MaxBytes int64    // bytes the store holds; default DefaultMaxBytes
	Origins  []string // extra origins allowed to open /ws

	UserAgent string // sent on calls to the proxy, e.g. "kvclass/1.0"
	Logger    *slog.Logger
}

// ListenError reports that the node or proxy could not listen on its
// address, usually because another program holds the port.
type ListenError struct {
	Addr string
	Err  error
}

func (e *ListenError) Error() string {
	if errors.Is(e.Err, syscall.EADDRINUSE) {
		return "port " + portOf(e.Addr) + " is already in use"
	}
	return "cannot listen on " + e.Addr + ": " + e.Err.Error()
}

func (e *ListenError) Unwrap() error { return e.Err }

// Listen listens on addr and reports a failure as a *ListenError.
func Listen(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, &ListenError{Addr: addr, Err: err}
	}
	return ln, nil
}

func portOf(addr string) string {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	return port
}

// Node is a running storage node: its store, HTTP server, optional ngrok
// tunnel and optional registry session.
type Node struct {
	cfg     Config
	log     *slog.Logger
	store   *Store
	hub     *web.Hub
	handler *Handler
	server  *http.Server

	ln      net.Listener
	tun     *tunnel.Tunnel
	session *registry.Session

	mu       sync.Mutex
	url      string // advertised URL
	tunState *web.Tunnel

	done    chan struct{}
	stopErr error
}

// New returns a node ready to Start.
func New(cfg Config) (*Node, error) {
	if cfg.Host == "" {
		cfg.Host = "127.0.0.1"
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	if cfg.MaxKey <= 0 {
		cfg.MaxKey = DefaultMaxKey
	}
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = DefaultMaxBytes
	}
	if cfg.Name != "" {
		if err := registry.CheckName(cfg.Name); err != nil {
			return nil, err
		}
	}
	if cfg.Join != "" && cfg.Token == "" {
		return nil, errors.New("--join needs --token: the class code the instructor's proxy printed")
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	n := &Node{cfg: cfg, log: log, store: NewStore(cfg.MaxBytes), done: make(chan struct{})}
	n.handler = &Handler{
		store:  n.store,
		limits: Limits{MaxBody: cfg.MaxBody, MaxKey: cfg.MaxKey},
		view:   n.view,
	}
	if cfg.Ngrok != nil {
		n.handler.tunnel = n.tunnelState
	}
	n.hub = web.NewHub(web.HubOptions{Snapshot: n.handler.Snapshot, Origins: cfg.Origins, Logger: log})
	n.handler.hub = n.hub
	return n, nil
}

// Store returns the node's store.
func (n *Node) Store() *Store { return n.store }

// Handler returns the node's HTTP handler.
func (n *Node) Handler() http.Handler { return n.handler }

// Name returns the node's name.
func (n *Node) Name() string { return n.handler.name }

// URL returns the URL the node advertises to its proxy.
func (n *Node) URL() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.url
}

// LocalURL returns the URL of the node's own listener.
func (n *Node) LocalURL() string { return "http://" + n.ln.Addr().String() }

func (n *Node) view() web.NodeView {
	return web.NodeView{Name: n.handler.name, URL: n.URL(), Status: "up"}
}

func (n *Node) tunnelState() *web.Tunnel {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.tunState == nil {
		return &web.Tunnel{State: "connecting"}
	}
	t := *n.tunState
	return &t
}

// Start listens, publishes the node through ngrok if asked, and joins the
// proxy if asked. It returns once the node serves, or with the first error:
// a taken port, an ngrok failure, or a proxy that refused the first join.
// The node runs until ctx ends; Wait waits for its clean stop.
func (n *Node) Start(ctx context.Context) error {
	ln, err := Listen(net.JoinHostPort(n.cfg.Host, strconv.Itoa(n.cfg.Port)))
	if err != nil {
		n.hub.Close()
		close(n.done)
		return err
	}
	n.ln = ln
	if n.handler.name == "" {
		n.handler.name = "node-" + portOf(ln.Addr().String())
		if n.cfg.Name != "" {
			n.handler.name = n.cfg.Name
		}
	}
	n.server = &http.Server{
		Handler:           n.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(n.log.Handler(), slog.LevelDebug),
	}
	n.mu.Lock()
	n.url = n.advertise()
	n.mu.Unlock()
	go n.server.Serve(ln)

	if n.cfg.Ngrok != nil {
		if err := n.publish(ctx); err != nil {
			n.shutdown()
			close(n.done)
			return err
		}
	}
	if n.cfg.Join != "" {
		joinURL := n.URL()
		s, err := registry.Join(ctx, registry.JoinOptions{
			Proxy:  n.cfg.Join,
			Token:  n.cfg.Token,
			Name:   n.handler.name,
			URL:    joinURL,
			Header: n.header(),
			Logger: n.log,
		})
		if err != nil {
			n.shutdown()
			close(n.done)
			return fmt.Errorf("join %s: %w", n.cfg.Join, err)
		}
		n.mu.Lock()
		n.session = s
		moved := n.url != joinURL // the tunnel's URL changed while joining
		n.mu.Unlock()
		if moved {
			s.SetURL(n.URL())
		}
	}
	go n.stopOn(ctx)
	return nil
}

func (n *Node) header() http.Header {
	h := http.Header{}
	h.Set(tunnel.SkipWarningHeader, "1")
	if n.cfg.UserAgent != "" {
		h.Set("User-Agent", n.cfg.UserAgent)
	}
	return h
}

func (n *Node) advertise() string {
	if n.cfg.Advertise != "" {
		return n.cfg.Advertise
	}
	addr := n.ln.Addr().(*net.TCPAddr)
	host := addr.IP.String()
	if addr.IP.IsUnspecified() {
		host = "127.0.0.1"
		if n.cfg.Join != "" && n.cfg.Ngrok == nil && !loopbackURL(n.cfg.Join) {
			if ip := LANAddress(); ip != "" {
				host = ip
				n.log.Info("advertising this machine's LAN address; pass --advertise to choose another", "url", "http://"+net.JoinHostPort(host, strconv.Itoa(addr.Port)))
			} else {
				n.log.Warn("listening on all interfaces but found no LAN address: pass --advertise http://YOUR-IP:PORT")
			}
		}
	}
	return "http://" + net.JoinHostPort(host, strconv.Itoa(addr.Port))
}

// loopbackURL reports whether rawURL's host is this machine.
func loopbackURL(rawURL string) bool {
	u, err := url.Parse(rawURL)
	if err != nil {
		return false
	}
	ip := net.ParseIP(u.Hostname())
	return u.Hostname() == "localhost" || ip != nil && ip.IsLoopback()
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

// publish serves the node through an ngrok endpoint as well as its local
// listener, and follows the tunnel's state: a new public URL means a rejoin.
func (n *Node) publish(ctx context.Context) error {
	opts := *n.cfg.Ngrok
	if opts.Logger == nil {
		opts.Logger = n.log
	}
	opts.OnState = n.onTunnelState
	tun, err := tunnel.Listen(ctx, opts)
	if err != nil {
		return err
	}
	n.tun = tun
	n.mu.Lock()
	if n.cfg.Advertise == "" {
		n.url = tun.URL()
	}
	n.tunState = &web.Tunnel{State: "online", URL: tun.URL()}
	n.mu.Unlock()
	go n.server.Serve(tun)
	return nil
}

func (n *Node) onTunnelState(st tunnel.State) {
	t := &web.Tunnel{State: st.State, URL: st.URL}
	if st.Err != nil {
		t.Error = tunnel.Explain(st.Err)
	}
	n.mu.Lock()
	n.tunState = t
	changed := st.State == "online" && st.URL != "" && n.cfg.Advertise == "" && st.URL != n.url
	if changed {
		n.url = st.URL
	}
	session := n.session
	n.mu.Unlock()
	n.hub.Publish(web.Event{Type: web.EventTunnel, Node: n.handler.name, Tunnel: t})
	if changed && session != nil {
		session.SetURL(st.URL)
	}
}

func (n *Node) stopOn(ctx context.Context) {
	<-ctx.Done()
	if n.session != nil {
		leaveCtx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		if err := n.session.Leave(leaveCtx); err != nil {
			n.log.Warn("could not tell the proxy this node is stopping", "err", err)
		}
		cancel()
	}
	n.stopErr = n.shutdown()
	close(n.done)
}

func (n *Node) shutdown() error {
	n.hub.Close()
	err := Shutdown(n.server)
	if n.tun != nil {
		n.tun.Close()
	}
	return err
}

// Shutdown stops srv: it lets requests in flight finish for up to a second,
// then closes what is left. A browser keeps spare connections open without
// ever sending a request on them, and http.Server.Shutdown alone would wait
// 5 s for those, stalling Ctrl-C.
func Shutdown(srv *http.Server) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		return srv.Close()
	}
	return nil
}

// Wait blocks until the node has stopped after its context ended (or its
// Start failed), and returns the error of its shutdown, if any.
func (n *Node) Wait() error {
	<-n.done
	return n.stopErr
}
