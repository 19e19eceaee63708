// Package proxy is the kvclass proxy: it places keys on nodes (sharding) or
// copies them to every node (replication), keeps the live node list from
// the registry, and serves the class's page.
package proxy

import (
	"cmp"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kvclass/kvclass/kvapi"
	"github.com/kvclass/kvclass/placement"
	"github.com/kvclass/kvclass/registry"
	"github.com/kvclass/kvclass/serve"
	"github.com/kvclass/kvclass/tunnel"
	"github.com/kvclass/kvclass/web"
)

// Config configures a Proxy. The zero value of a field means its default.
type Config struct {
	File          *File              // the config file; nil runs with registered nodes only
	Mode          Mode               // overrides File.Mode when set
	WriteQuorum   int                // overrides File.WriteQuorum when > 0
	Placement     *placement.Config  // its non-zero fields override the state's and File's
	Replication   *ReplicationConfig // overrides the state's and File's when set
	RebalanceAuto bool               // rebalance after every membership change (also File's rebalance: auto)

	Host    string        // address to listen on; default 127.0.0.1
	Port    int           // 0 picks a free port
	Timeout time.Duration // bound on every call to a node; default 2s

	Token        string // the class code students join with; default State's; required
	AdminToken   string // the instructor's bearer token for /admin/; default State's; required
	AllowPrivate bool   // let nodes join from loopback and private addresses
	MaxPerAddr   int    // joined nodes admitted from one address; default registry's (64)
	HideJoin     bool   // keep the join line (and class code) off the public page
	Downloads    string // a folder of release archives the /join page offers (--downloads)

	// State is the proxy's state file (--state): the class code and admin
	// token, and what the class set up live (mode, placement, quorum, the
	// lock, every joined node with its place and secret). The proxy
	// restores it at New, its known nodes down in their places until they
	// rejoin, and saves every change. Flags given explicitly (Mode,
	// WriteQuorum) win over it. Nil keeps nothing across restarts.
	State *StateFile

	Heartbeat      time.Duration // registry heartbeat interval; default registry's
	Expiry         time.Duration // a down node is removed after this; default registry's
	HealthInterval time.Duration // how often config nodes are checked; default registry's

	Origins []string        // extra origins allowed to open /ws
	Ngrok   *tunnel.Options // non-nil publishes the proxy through ngrok

	MaxBody int64 // bytes in a /put body; default kvapi.DefaultMaxBody
	MaxKey  int   // bytes in a key; default kvapi.DefaultMaxKey

	UserAgent string // sent on every call to a node, e.g. "kvclass/1.0"
	Logger    *slog.Logger
}

// Proxy is a running proxy.
type Proxy struct {
	cfg      Config
	log      *slog.Logger
	limits   kvapi.Limits
	origins  serve.Origins
	join     *web.JoinPage
	reg      *registry.Registry
	hub      *web.Hub
	table    atomic.Pointer[table]
	states   stateCache    // /state?format=json, shared and briefly cached
	version  atomic.Uint64 // bumped on every data change the proxy makes or sees
	dataHTTP http.Handler  // data for net/http: serve.AsHTTP(data)

	maxGather int64         // bytes of node data in one /state?format=json
	faults    faults        // the instructor's faults on calls to nodes
	clock     *kvapi.Clock  // stamps the versions of replicated writes ("proxy")
	acked     acked         // latest acknowledged version per key, for stale reads
	hints     hintStore     // writes down owners missed
	seconds   seconds       // answers per second, for the availability strip
	placing   placeState    // misplaced keys and rebalances
	checks    checkRuns     // the page's linearizability checks
	divergent atomic.Int64  // keys anti-entropy last found divergent
	aeKick    chan struct{} // the anti-entropy interval changed

	mu          sync.Mutex // serializes table rebuilds
	mode        Mode
	place       placement.Config  // normalized
	liveMode    bool              // the mode was set live: keep it across restarts
	livePlace   bool              // the placement was set live: keep it across restarts
	liveRepl    bool              // R, W and the repairs were set live: keep them across restarts
	repl        ReplicationConfig // R, read repair, hints, anti-entropy, pinned reads
	replicasSet bool              // N was set (config, flag, admin); else every node under mode: replication
	quorum      int
	members     []registry.Member
	clients     map[clientKey]*nodeClient
	followers   map[string]*follower
	retired     []*follower // cancelled, maybe still ending
	started     bool
	rejoining   map[string]bool // nodes known before a restart that have not rejoined
	warmUntil   time.Time       // until then, replicated writes wait for them
	rejoinLeft  atomic.Int32    // len(rejoining), read on the request path

	tun    *tunnel.Tunnel
	server *serve.Server
	ctx    context.Context // the proxy's lifetime, for followers; set by Start
	done   chan struct{}
}

// New returns a proxy ready to Start.
func New(cfg Config) (*Proxy, error) {
	if cfg.Host == "" {
		cfg.Host = "127.0.0.1"
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 2 * time.Second
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = kvapi.DefaultMaxBody
	}
	if cfg.MaxKey <= 0 {
		cfg.MaxKey = kvapi.DefaultMaxKey
	}
	if cfg.File == nil {
		cfg.File = &File{Mode: Sharding, WriteQuorum: 1}
	}
	var saved State
	if cfg.State != nil {
		saved = cfg.State.State()
		cfg.Token = cmp.Or(cfg.Token, saved.ClassCode)
		cfg.AdminToken = cmp.Or(cfg.AdminToken, saved.AdminToken)
	}
	// Precedence: a flag, then what the instructor set live (kept in the
	// state file), then the config file. Only live changes are kept.
	mode := cmp.Or(cfg.Mode, saved.Mode, cfg.File.Mode, Sharding)
	if _, err := ParseMode(string(mode)); err != nil {
		return nil, err
	}
	quorum := max(cmp.Or(cfg.WriteQuorum, saved.WriteQuorum, cfg.File.WriteQuorum), 1)
	place := cfg.File.Placement
	replicasSet := cfg.File.Placement.Replicas > 0 || saved.ReplicasSet
	if saved.Placement != nil {
		place = *saved.Placement
	}
	if f := cfg.Placement; f != nil { // flags: the fields given win
		place.Strategy = cmp.Or(f.Strategy, place.Strategy)
		place.VNodes = cmp.Or(f.VNodes, place.VNodes)
		place.Replicas = cmp.Or(f.Replicas, place.Replicas)
		replicasSet = replicasSet || f.Replicas > 0
	}
	place, err := place.Normalize()
	if err != nil {
		return nil, err
	}
	repl := cfg.File.Replication
	if saved.Replication != nil {
		repl = *saved.Replication
	}
	if cfg.Replication != nil {
		repl = *cfg.Replication
	}
	if repl, err = repl.normalize(); err != nil {
		return nil, err
	}
	if cfg.Token == "" || cfg.AdminToken == "" {
		return nil, errors.New("proxy needs a class code and an admin token")
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	p := &Proxy{
		cfg:         cfg,
		log:         log,
		limits:      kvapi.Limits{MaxBody: cfg.MaxBody, MaxKey: cfg.MaxKey},
		origins:     serve.NewOrigins(cfg.Origins),
		maxGather:   defaultMaxGather,
		mode:        mode,
		quorum:      quorum,
		place:       place,
		liveMode:    cfg.Mode == "" && saved.Mode != "",
		livePlace:   cfg.Placement == nil && saved.Placement != nil,
		liveRepl:    cfg.Replication == nil && cfg.WriteQuorum == 0 && (saved.Replication != nil || saved.WriteQuorum > 0),
		repl:        repl,
		replicasSet: replicasSet,
		clock:       kvapi.NewClock(time.Now),
		aeKick:      make(chan struct{}, 1),
		clients:     map[clientKey]*nodeClient{},
		followers:   map[string]*follower{},
		done:        make(chan struct{}),
	}
	p.dataHTTP = serve.AsHTTP(p.data, cfg.MaxBody)
	p.join = web.NewJoinPage(web.JoinOptions{Info: p.joinInfo, Downloads: cfg.Downloads})
	p.hub = web.NewHub(web.HubOptions{Snapshot: p.snapshot, Origins: cfg.Origins, ClientAddr: serve.ClientAddr, Logger: log})
	p.table.Store(&table{mode: mode, quorum: quorum, repl: repl, byName: map[string]*backend{}, place: mustPlace(place, nil)})
	p.hints.changed = p.hintsChanged
	p.placing.auto = cfg.RebalanceAuto || cfg.File.Rebalance == "auto"
	p.rejoining = map[string]bool{}
	for _, n := range saved.Nodes {
		p.rejoining[n.Name] = true
	}
	p.warmUntil = time.Now().Add(warmup(cfg.Heartbeat))
	reg, err := registry.New(registry.Options{
		Token:          cfg.Token,
		Static:         cfg.File.Nodes,
		Restore:        saved.Nodes,
		Locked:         saved.Locked,
		MaxPerAddr:     cfg.MaxPerAddr,
		ClientAddr:     serve.ClientAddr,
		AllowPrivate:   cfg.AllowPrivate,
		Heartbeat:      cfg.Heartbeat,
		Expiry:         cfg.Expiry,
		HealthInterval: cfg.HealthInterval,
		ProbeTimeout:   cfg.Timeout,
		OnChange:       p.setMembers,
		Notify:         p.notify,
		UserAgent:      cfg.UserAgent,
		Logger:         log,
	})
	if err != nil {
		return nil, err
	}
	p.reg = reg
	p.setMembers(reg.Members())
	if len(saved.Nodes) > 0 {
		log.Info("restored the class from the state file; its nodes are down in their places until they rejoin", "nodes", len(saved.Nodes), "mode", mode, "state", cfg.State.Path())
	}
	return p, nil
}

// warmup is how long after a start the proxy waits for the nodes it knew
// before a restart to rejoin before it takes replicated writes without
// them: a few heartbeats, at least 10s.
func warmup(heartbeat time.Duration) time.Duration {
	return max(10*time.Second, 4*cmp.Or(heartbeat, registry.DefaultHeartbeat))
}

// stillRejoining returns how many nodes known before a restart have not
// rejoined yet, while the warmup lasts (0 after it): under replication, a
// write that went on without them would leave them stale.
func (p *Proxy) stillRejoining() int {
	n := int(p.rejoinLeft.Load())
	if n == 0 || time.Now().After(p.warmUntil) {
		return 0
	}
	return n
}

// persist saves what the class set up into the state file, if there is
// one. p.mu is held.
func (p *Proxy) persist() {
	if p.cfg.State == nil || p.reg == nil {
		return
	}
	nodes := p.reg.Saved()
	err := p.cfg.State.Update(func(s *State) {
		s.Mode, s.Placement = "", nil
		if p.liveMode {
			s.Mode = p.mode
		}
		if p.livePlace {
			place := p.place
			s.Placement = &place
		}
		s.WriteQuorum, s.Replication, s.ReplicasSet = 0, nil, p.replicasSet
		if p.liveRepl {
			repl := p.repl
			s.WriteQuorum, s.Replication = p.quorum, &repl
		}
		s.Nodes, s.Locked = nodes, p.reg.Locked()
	})
	if err != nil {
		p.log.Error("cannot save the class's state; a restart would forget the latest changes", "err", err)
	}
}

// Registry returns the proxy's registry.
func (p *Proxy) Registry() *registry.Registry { return p.reg }

// URL returns the proxy's public URL: its ngrok URL when published, its
// LAN address when it listens on every interface, else its listening
// address.
func (p *Proxy) URL() string {
	if p.tun != nil {
		return p.tun.URL()
	}
	if p.server.ServesLAN() {
		if ip := serve.LANAddress(); ip != "" {
			return "http://" + net.JoinHostPort(ip, strconv.Itoa(p.server.Port()))
		}
	}
	return p.LocalURL()
}

// LocalURL returns the URL of the proxy's own listener.
func (p *Proxy) LocalURL() string { return p.server.LocalURL() }

// JoinLine returns the command students paste to join this proxy at a
// URL of their own: through their ngrok account, on the LAN, or on this
// machine. JoinLines adds the relay's.
func (p *Proxy) JoinLine() string {
	u := p.joinURL()
	switch {
	case p.tun != nil:
		return "kvclass node --ngrok --join " + u + " --token " + p.cfg.Token
	case p.server.ServesLAN():
		// Serving a LAN: students' nodes must listen beyond their own
		// loopback too.
		return "kvclass node --host 0.0.0.0 --join " + u + " --token " + p.cfg.Token
	default:
		return "kvclass node --join " + u + " --token " + p.cfg.Token
	}
}

// joinURL is the proxy's URL as students' nodes reach it.
func (p *Proxy) joinURL() string {
	u := p.URL()
	if p.tun == nil && p.server.ServesLAN() && u == p.LocalURL() {
		u = "http://INSTRUCTOR-IP:" + strconv.Itoa(p.server.Port())
	}
	return u
}

// JoinLines returns the lines students paste to join, each with whom it is
// for: through the proxy's relay (no ngrok account, no public address
// needed), and through their own ngrok account or on the classroom's
// network.
func (p *Proxy) JoinLines() []web.JoinLine {
	relayLine := web.JoinLine{Kind: web.JoinRelay, Line: "kvclass node --relay --join " + p.joinURL() + " --token " + p.cfg.Token}
	kind := ""
	switch {
	case p.tun != nil:
		kind = web.JoinNgrok
	case p.server.ServesLAN():
		kind = web.JoinLAN
	}
	return []web.JoinLine{relayLine, {Kind: kind, Line: p.JoinLine()}}
}

// joinInfo is what the /join page shows.
func (p *Proxy) joinInfo() web.JoinInfo {
	info := web.JoinInfo{Hidden: p.cfg.HideJoin}
	if p.server == nil {
		return info
	}
	if p.tun != nil {
		info.URL = p.tun.URL()
	}
	if !info.Hidden {
		info.Lines = p.JoinLines()
	}
	return info
}

// Start listens, publishes the proxy through ngrok if asked, and serves
// until ctx ends; Wait waits for the clean stop.
func (p *Proxy) Start(ctx context.Context) error {
	h := serve.Handler{Data: p.data, Std: p, MaxBody: p.cfg.MaxBody}
	srv, err := serve.Listen(net.JoinHostPort(p.cfg.Host, strconv.Itoa(p.cfg.Port)), h, p.log)
	if err != nil {
		p.abort()
		return err
	}
	p.server = srv
	runCtx, cancel := context.WithCancel(ctx)
	if p.cfg.Ngrok != nil {
		opts := *p.cfg.Ngrok
		if opts.Logger == nil {
			opts.Logger = p.log
		}
		opts.Description = "kvclass proxy"
		opts.OnStop = func() { // the ngrok dashboard's Stop: a clean stop
			p.log.Warn("stopped from the ngrok dashboard; the proxy stops")
			cancel()
		}
		tun, err := tunnel.Listen(ctx, opts)
		if err != nil {
			cancel()
			srv.Close()
			p.abort()
			return err
		}
		p.tun = tun
		srv.Serve(tun, func(err error) {
			p.log.Error("the proxy's public URL is gone; it still serves on this machine and the LAN, restart it to publish again", "why", tunnel.Explain(err))
		})
	}
	p.mu.Lock()
	p.ctx, p.started = runCtx, true
	p.syncFollowers()
	p.mu.Unlock()
	regDone := make(chan struct{})
	go func() {
		defer close(regDone)
		p.reg.Run(runCtx)
	}()
	var loops sync.WaitGroup
	loops.Go(func() { p.runSeconds(runCtx.Done()) })
	loops.Go(func() { p.runAntiEntropy(runCtx) })
	p.scanSoon()
	srv.Start()
	go func() {
		<-runCtx.Done()
		cancel()
		<-regDone
		loops.Wait()
		p.reg.Close()
		p.hub.Close()
		p.server.Shutdown()
		if p.tun != nil {
			p.tun.Close()
		}
		p.mu.Lock()
		followers := p.retired
		for _, f := range p.followers {
			f.cancel()
			followers = append(followers, f)
		}
		for _, c := range p.clients {
			c.close()
		}
		p.mu.Unlock()
		for _, f := range followers {
			<-f.done
		}
		close(p.done)
	}()
	return nil
}

// abort releases what New made when Start fails.
func (p *Proxy) abort() {
	p.reg.Close()
	p.hub.Close()
	close(p.done)
}

// Wait blocks until the proxy has stopped after its context ended (or its
// Start failed).
func (p *Proxy) Wait() { <-p.done }

// ServeHTTP routes a request: the data API, /state and /ws for the page,
// /registry/ for nodes and /admin/ for the instructor. A state-changing
// request that a browser sends from a page of another site is refused
// first. The data API is data's, served here through serve.AsHTTP (the
// proxy's own server runs data on fasthttp's server).
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead && !p.origins.AllowWrite(r) {
		kvapi.WriteError(w, kvapi.ErrCrossSite)
		return
	}
	switch path := r.URL.Path; {
	case path == kvapi.OpGet.Path, path == kvapi.OpPut.Path, path == kvapi.OpDelete.Path:
		p.dataHTTP.ServeHTTP(w, r)
	case path == "/health":
		kvapi.ServeHealth(w, r, "proxy")
	case path == "/state":
		p.state(w, r)
	case path == "/ws":
		p.hub.ServeHTTP(w, r)
	case path == "/":
		http.Redirect(w, r, "/state", http.StatusFound)
	case strings.HasPrefix(path, "/registry/"):
		p.reg.Handler().ServeHTTP(w, r)
	case strings.HasPrefix(path, "/admin/"):
		p.admin(w, r)
	case strings.HasPrefix(path, "/placement/"):
		p.placementHTTP(w, r)
	case path == web.JoinPath || strings.HasPrefix(path, web.JoinPath+"/"):
		p.join.ServeHTTP(w, r)
	case strings.HasPrefix(path, "/assets/"):
		web.Assets().ServeHTTP(w, r)
	default:
		kvapi.WriteError(w, kvapi.ErrNoRoute)
	}
}

// setMembers installs a new membership: a new routing table, swapped
// atomically. The registry calls it after every change.
func (p *Proxy) setMembers(members []registry.Member) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.members = members
	present := make(map[string]bool, len(members))
	for _, m := range members {
		present[m.Name] = !m.Up
	}
	for name := range p.rejoining {
		if !present[name] { // back up, or gone (kicked, expired)
			delete(p.rejoining, name)
		}
	}
	p.rejoinLeft.Store(int32(len(p.rejoining)))
	p.rebuild()
	p.persist()
}

// setMode switches between sharding and replication, live.
func (p *Proxy) setMode(mode Mode) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mode, p.liveMode = mode, true
	p.rebuild()
	p.persist()
	p.scanSoon()
}

// setPlacement switches the placement strategy, live; keys stay where they
// are until a rebalance moves them (the page marks them misplaced).
func (p *Proxy) setPlacement(cfg placement.Config) error {
	cfg, err := cfg.Normalize()
	if err != nil {
		return err
	}
	p.mu.Lock()
	p.place, p.livePlace = cfg, true
	p.rebuild()
	p.persist()
	p.mu.Unlock()
	p.scanSoon()
	p.hub.Publish(web.Event{Type: web.EventMode, Mode: p.table.Load().mode.String(), Placement: string(cfg.Strategy), Replicas: cfg.Replicas})
	p.log.Info("placement changed", "placement", cfg.Strategy, "vnodes", cfg.VNodes, "replicas", cfg.Replicas)
	return nil
}

// setLocked locks or unlocks the class, and keeps it so across restarts.
func (p *Proxy) setLocked(locked bool) {
	p.reg.SetLocked(locked)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.persist()
}

// rebuild makes and swaps in a new table; p.mu is held.
func (p *Proxy) rebuild() {
	n := replicasOf(p.mode, p.place, p.replicasSet)
	t, stale := buildTable(p.mode, p.quorum, p.repl, n, p.place, p.members, p.clients, p.newClient)
	p.table.Store(t)
	for _, c := range stale {
		c.close()
	}
	p.syncFollowers()
}

func (p *Proxy) newClient(m registry.Member) (*nodeClient, error) {
	var dial dialFunc
	rawURL := m.URL
	switch {
	case m.Relay:
		name := m.Name
		dial = func(string, time.Duration) (net.Conn, error) { return p.reg.DialRelay(name) }
		rawURL = relayHTTPURL(name)
	case m.Joined:
		policy := p.reg.Policy()
		dial = func(addr string, timeout time.Duration) (net.Conn, error) {
			return policy.Dialer(timeout).Dial("tcp", addr)
		}
	}
	return newNodeClient(rawURL, dial, p.cfg.UserAgent, p.cfg.Timeout, p.cfg.MaxBody)
}

// relayHTTPURL is the URL the proxy's requests to a relayed node carry (the
// connection itself goes through the relay).
func relayHTTPURL(name string) string { return "http://" + name + ".relay" }

// notify turns a registry change into an event for the page.
func (p *Proxy) notify(c registry.Change) {
	m := c.Member
	view := nodeView(m.Name, m.URL, m.Up, m.Reason, m.Own)
	p.mu.Lock()
	f := p.followers[c.Member.Name]
	p.mu.Unlock()
	if f != nil {
		view.Count, _ = f.view()
	}
	p.decorate(&view)
	ev := web.Event{Type: web.EventNode, Node: c.Member.Name, Change: pageChange(c.Kind), View: &view}
	switch c.Kind {
	case registry.ChangeJoin, registry.ChangeLeave, registry.ChangeKick:
		// The table was rebuilt for this change before Notify: its order
		// is the order after it.
		ev.Order = p.table.Load().place.Nodes()
	}
	p.hub.Publish(ev)
	switch c.Kind {
	case registry.ChangeJoin, registry.ChangeLeave, registry.ChangeKick:
		if c.Kind != registry.ChangeJoin {
			p.hints.drop(m.Name)
		}
		p.scanSoon()
	case registry.ChangeUp:
		if p.hints.count(m.Name) > 0 {
			go p.replayHints(m.Name)
		}
	}
}

// pageChange maps a registry change to the page's word for it: the one
// place where the membership's vocabulary meets the page's.
func pageChange(k registry.ChangeKind) string {
	switch k {
	case registry.ChangeJoin:
		return web.ChangeJoin
	case registry.ChangeLeave:
		return web.ChangeLeave
	case registry.ChangeKick:
		return web.ChangeKick
	case registry.ChangeUp:
		return web.ChangeUp
	case registry.ChangeDown:
		return web.ChangeDown
	case registry.ChangeURL:
		return web.ChangeURL
	}
	return string(k)
}

// nodeView is a node as the page shows it, without its keys.
func nodeView(name, url string, up bool, reason, own string) web.NodeView {
	v := web.NodeView{Name: name, URL: url, Status: "up", Reason: reason, Own: own}
	if !up {
		v.Status = "down"
	}
	return v
}

// downReasons maps the down nodes among nodes to why they are down.
func downReasons(nodes []*backend) map[string]string {
	out := map[string]string{}
	for _, b := range nodes {
		if !b.up {
			out[b.name] = b.reason
		}
	}
	return out
}
