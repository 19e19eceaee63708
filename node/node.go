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
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/kvclass/kvclass/kvapi"
	"github.com/kvclass/kvclass/registry/join"
	"github.com/kvclass/kvclass/serve"
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
	// Relay joins to be reached through the proxy's relay (--relay): the
	// node is never published; it needs no public address or ngrok account.
	Relay bool

	// Upstream is the base URL of a student's own server, in any language
	// (--upstream): the node is then a sidecar that keeps no store of its
	// own but forwards every data call to that server and relays its
	// answers unchanged, tells its page about the writes it forwards, and
	// reports the server's health to the proxy (see docs/OWN-NODE.md). The
	// server must answer before the node starts.
	Upstream string
	// UpstreamTimeout bounds each call to Upstream; default
	// DefaultUpstreamTimeout.
	UpstreamTimeout time.Duration

	MaxBody  int64    // bytes in a /put body; default kvapi.DefaultMaxBody
	MaxKey   int      // bytes in a key; default kvapi.DefaultMaxKey
	MaxBytes int64    // bytes the store holds; default kvapi.DefaultMaxBytes
	Origins  []string // extra origins allowed to open /ws and to write

	// StateDir is the directory where the node keeps its join secret per
	// proxy and name, so a restarted node rejoins in its place at once;
	// empty keeps nothing (the CLI passes join.DefaultStateDir).
	StateDir string

	// DataDir keeps the node's keys, values, versions and tombstones in
	// DataDir/kvclass-node.db (a bbolt file, see DataFileName), so that a
	// restart, even after a crash, keeps them; empty keeps them in memory
	// only, as the seed did.
	DataDir string
	// Tombstones is how long a deleted key's version is kept, so that an
	// older write arriving late cannot bring the key back; default
	// DefaultTombstones.
	Tombstones time.Duration
	// Now is the wall clock under the node's versions (its hybrid logical
	// clock) and tombstone times; default time.Now. Tests pass their own.
	Now func() time.Time

	UserAgent string // sent on calls to the proxy, e.g. "kvclass/1.0"
	Logger    *slog.Logger
}

// Node is a running storage node: its store, HTTP server, optional ngrok
// tunnel and optional registry session.
type Node struct {
	cfg     Config
	log     *slog.Logger
	store   *Store
	hub     *web.Hub
	handler *Handler
	side    *sidecar     // set for a sidecar (Config.Upstream)
	serving http.Handler // what the node serves: handler, or side
	server  *serve.Server

	tun     *tunnel.Tunnel
	session *join.Session

	mu       sync.Mutex
	url      string // advertised URL
	tunState *web.Tunnel

	stop      context.CancelFunc // stops the node as Ctrl-C would
	sweepStop chan struct{}      // closed at shutdown: stops the tombstone sweeper
	closeOnce sync.Once
	done      chan struct{}
	stopErr   error
	endErr    error // why the node stopped by itself (its public URL is gone), set before stop
}

// New returns a node ready to Start.
func New(cfg Config) (*Node, error) {
	if cfg.Host == "" {
		cfg.Host = "127.0.0.1"
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = kvapi.DefaultMaxBody
	}
	if cfg.MaxKey <= 0 {
		cfg.MaxKey = kvapi.DefaultMaxKey
	}
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = kvapi.DefaultMaxBytes
	}
	if cfg.Name != "" {
		if err := kvapi.CheckName(cfg.Name); err != nil {
			return nil, err
		}
	}
	if cfg.Relay && (cfg.Join == "" || cfg.Ngrok != nil || cfg.Advertise != "") {
		return nil, errors.New("--relay needs --join, and replaces --ngrok and --advertise: the proxy reaches the node through the relay")
	}
	if cfg.Join != "" && cfg.Token == "" {
		return nil, errors.New("--join needs --token: the class code the instructor's proxy printed")
	}
	var upstreamURL *url.URL
	if cfg.Upstream != "" {
		u, err := kvapi.ParseNodeURL(cfg.Upstream)
		if err != nil {
			return nil, fmt.Errorf("--upstream: %w (the base URL of your server, such as http://127.0.0.1:5000)", err)
		}
		if cfg.DataDir != "" {
			return nil, errors.New("--upstream and --data: with --upstream your server keeps the data; drop --data")
		}
		upstreamURL = u
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.DataDir != "" && cfg.MaxKey > bolt.MaxKeySize {
		return nil, fmt.Errorf("--max-key %d is over %d, the longest key a --data file takes", cfg.MaxKey, bolt.MaxKeySize)
	}
	if cfg.DataDir != "" && cfg.MaxBody > bolt.MaxValueSize {
		return nil, fmt.Errorf("--max-body %d is over %d, the largest value a --data file takes", cfg.MaxBody, bolt.MaxValueSize)
	}
	store := newStore(storeOptions{MaxBytes: cfg.MaxBytes, Tombstones: cfg.Tombstones, Now: cfg.Now, Origin: cfg.Name})
	n := &Node{cfg: cfg, log: log, store: store, done: make(chan struct{}), sweepStop: make(chan struct{})}
	n.handler = &Handler{
		store:     n.store,
		limits:    kvapi.Limits{MaxBody: cfg.MaxBody, MaxKey: cfg.MaxKey},
		origins:   serve.NewOrigins(cfg.Origins),
		authority: n.authority,
		view:      n.view,
	}
	if cfg.Ngrok != nil {
		n.handler.tunnel = n.tunnelState
	}
	n.handler.dataHTTP = serve.AsHTTP(n.handler.Data, cfg.MaxBody)
	n.serving = n.handler
	snapshot := n.handler.Snapshot
	if upstreamURL != nil {
		n.side = newSidecar(n, upstreamURL)
		n.serving, snapshot = n.side, n.side.snapshot
	}
	n.hub = web.NewHub(web.HubOptions{Snapshot: snapshot, Origins: cfg.Origins, Logger: log})
	n.handler.hub = n.hub
	return n, nil
}

// Store returns the node's store.
func (n *Node) Store() *Store { return n.store }

// Handler returns the node's HTTP handler (a sidecar's, with
// Config.Upstream).
func (n *Node) Handler() http.Handler { return n.serving }

// Name returns the node's name.
func (n *Node) Name() string { return n.handler.name }

// URL returns the URL the node advertises to its proxy.
func (n *Node) URL() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.url
}

// LocalURL returns the URL of the node's own listener.
func (n *Node) LocalURL() string { return n.server.LocalURL() }

func (n *Node) view() web.NodeView {
	v := web.NodeView{Name: n.handler.name, URL: n.URL(), Status: "up"}
	if n.side != nil {
		own, down := n.side.status()
		v.Own = own
		if down != "" {
			v.Status, v.Reason = "down", down
		}
	}
	return v
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
	ctx, n.stop = context.WithCancel(ctx)
	if err := n.openData(); err != nil {
		n.hub.Close()
		n.stop()
		close(n.done)
		return err
	}
	if n.side != nil {
		if err := n.side.start(ctx); err != nil {
			n.hub.Close()
			n.closeStore()
			n.stop()
			close(n.done)
			return err
		}
	}
	h := serve.Handler{Data: n.handler.Data, Std: n.serving, MaxBody: n.cfg.MaxBody}
	if n.side != nil {
		h.Data = nil // a sidecar forwards the data API to its upstream
	}
	srv, err := serve.Listen(net.JoinHostPort(n.cfg.Host, strconv.Itoa(n.cfg.Port)), h, n.log)
	if err != nil {
		n.hub.Close()
		n.closeStore()
		n.stop()
		close(n.done)
		return err
	}
	n.server = srv
	if n.handler.name == "" {
		n.handler.name = "node-" + strconv.Itoa(srv.Port())
		if n.cfg.Name != "" {
			n.handler.name = n.cfg.Name
		}
	}
	n.store.setOrigin(n.handler.name)
	go n.store.sweepEvery(n.sweepStop, sweepInterval(n.store.ttl))
	n.mu.Lock()
	n.url = n.advertise()
	if n.cfg.Relay {
		n.url = kvapi.RelayURL(n.handler.name)
	}
	n.mu.Unlock()
	srv.Start()

	if n.cfg.Ngrok != nil {
		if err := n.publish(ctx); err != nil {
			n.shutdown()
			n.stop()
			close(n.done)
			return err
		}
	}
	if n.cfg.Join != "" {
		joinURL := n.URL()
		own := ""
		if n.side != nil {
			own, _ = n.side.status()
		}
		s, err := join.Join(ctx, join.Options{
			Proxy:    n.cfg.Join,
			Token:    n.cfg.Token,
			Name:     n.handler.name,
			URL:      joinURL,
			Relay:    n.cfg.Relay,
			Handler:  n.serving,
			Own:      own,
			Header:   n.header(),
			StateDir: n.cfg.StateDir,
			Logger:   n.log,
		})
		if err != nil {
			n.shutdown()
			n.stop()
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
	if n.side != nil {
		n.side.startWatch(ctx)
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
	addr := n.server.Addr()
	host := addr.IP.String()
	if addr.IP.IsUnspecified() {
		host = "127.0.0.1"
		if n.cfg.Join != "" && n.cfg.Ngrok == nil && !serve.IsLoopbackURL(n.cfg.Join) {
			if ip := serve.LANAddress(); ip != "" {
				host = ip
				n.log.Info("advertising this machine's LAN address; pass --advertise to choose another", "url", "http://"+net.JoinHostPort(host, strconv.Itoa(addr.Port)))
			} else {
				n.log.Warn("listening on all interfaces but found no LAN address: pass --advertise http://YOUR-IP:PORT")
			}
		}
	}
	return "http://" + net.JoinHostPort(host, strconv.Itoa(addr.Port))
}

// publish serves the node through an ngrok endpoint as well as its local
// listener, and follows the tunnel's state: a new public URL means a rejoin.
func (n *Node) publish(ctx context.Context) error {
	opts := *n.cfg.Ngrok
	if opts.Logger == nil {
		opts.Logger = n.log
	}
	opts.OnState = n.onTunnelState
	opts.Description = "kvclass node " + n.handler.name
	opts.OnStop = func() { // the ngrok dashboard's Stop: a clean leave
		n.log.Warn("stopped from the ngrok dashboard; leaving the class")
		n.stop()
	}
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
	n.server.Serve(tun, n.tunnelEnded)
	return nil
}

// tunnelEnded stops the node when its public URL is gone for good (ngrok
// stopped the endpoint and it could not come back): it leaves the class with
// the reason, which the page shows, and Wait returns it.
func (n *Node) tunnelEnded(err error) {
	why := tunnel.Explain(err)
	n.log.Error("the node's public URL is gone; leaving the class", "why", why)
	n.mu.Lock()
	n.endErr = errors.New(why)
	n.mu.Unlock()
	n.stop()
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

// authority is the secret the node's proxy proves itself with: the join
// secret, "" while the node has not joined.
func (n *Node) authority() string {
	n.mu.Lock()
	s := n.session
	n.mu.Unlock()
	if s == nil {
		return ""
	}
	return s.Secret()
}

// stopOn stops the node when ctx ends (it tells the proxy it is going), or
// when its session ends by itself: the instructor removed it from the class,
// and Wait then returns why.
func (n *Node) stopOn(ctx context.Context) {
	var ended <-chan struct{}
	if n.session != nil {
		ended = n.session.Done()
	}
	select {
	case <-ctx.Done():
	case <-ended:
		n.log.Error("stopping: " + n.session.Err().Error())
		n.stopErr = n.session.Err()
		n.stopErr = errors.Join(n.stopErr, n.shutdown())
		close(n.done)
		return
	}
	n.mu.Lock()
	endErr := n.endErr
	n.mu.Unlock()
	why := ""
	if endErr != nil {
		why = endErr.Error()
	}
	if n.session != nil {
		leaveCtx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		if err := n.session.LeaveBecause(leaveCtx, why); err != nil {
			n.log.Warn("could not tell the proxy this node is stopping", "err", err)
		}
		cancel()
	}
	n.stopErr = errors.Join(endErr, n.shutdown())
	close(n.done)
}

func (n *Node) shutdown() error {
	if n.side != nil {
		n.side.stopWatch()
	}
	n.hub.Close()
	err := n.server.Shutdown()
	if n.tun != nil {
		n.tun.Close()
	}
	return errors.Join(err, n.closeStore())
}

// openData loads the node's data file, with Config.DataDir.
func (n *Node) openData() error {
	if n.cfg.DataDir == "" {
		return nil
	}
	d, err := openDisk(n.cfg.DataDir, n.log)
	if err != nil {
		return fmt.Errorf("--data %s: %w", n.cfg.DataDir, err)
	}
	keys, tombs, err := n.store.attach(d)
	if err != nil {
		d.close()
		return fmt.Errorf("--data %s: %w", n.cfg.DataDir, err)
	}
	n.log.Info("loaded the data file", "file", d.path, "keys", keys, "tombstones", tombs)
	if used, limit := n.store.used.Load(), n.cfg.MaxBytes; used > limit {
		n.log.Warn("the data file holds more than --max-bytes: puts that grow the data are refused until keys are deleted", "bytes", used, "max_bytes", limit)
	}
	return nil
}

// closeStore stops the tombstone sweeper and closes the data file, once
// the server no longer serves: writes waiting for it are committed first.
func (n *Node) closeStore() error {
	var err error
	n.closeOnce.Do(func() {
		close(n.sweepStop)
		if n.store.disk != nil {
			err = n.store.disk.close()
		}
	})
	return err
}

// Done is closed once the node has stopped: after its context ended, or by
// itself when the instructor removed it from the class (Wait says why).
func (n *Node) Done() <-chan struct{} { return n.done }

// Wait blocks until the node has stopped after its context ended (or its
// Start failed), and returns the error of its shutdown, if any.
func (n *Node) Wait() error {
	<-n.done
	return n.stopErr
}
