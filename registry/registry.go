package registry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/kvclass/kvclass/kvapi"
	"github.com/kvclass/kvclass/placement"
	"github.com/kvclass/kvclass/relay"
)

// Errors returned by Kick.
var (
	// ErrUnknownNode means no member has the name.
	ErrUnknownNode = errors.New("no such node")
	// ErrStaticNode means the name is a config node that no joined node
	// holds: it leaves the list when the config file says so.
	ErrStaticNode = errors.New("config nodes cannot be kicked")
)

// maxKicked bounds how many kicked node secrets are remembered.
const maxKicked = 4096

// Registry is the proxy's live membership: config nodes plus the nodes that
// joined, each up or down, in a stable order. Create it with New, serve
// Handler under "/registry/", run Run, and Close it when the proxy stops.
type Registry struct {
	opts     Options
	log      *slog.Logger
	now      func() time.Time
	token    digest
	policy   Policy
	probe    *http.Client // joined nodes: dials through the policy
	health   *http.Client // config nodes
	limiter  *limiter
	upgrader websocket.Upgrader

	closeCtx context.Context // ends at Close
	closeFn  context.CancelFunc
	running  atomic.Bool
	handlers sync.WaitGroup // websocket handlers, waited for by Close
	wake     chan struct{}  // the lease deadlines changed
	checkNow chan struct{}  // a config place needs a health check soon

	mu        sync.Mutex
	static    []string // config names in file order
	byName    map[string]*entry
	list      []Member // current ordered list; never modified in place
	kicked    map[digest]struct{}
	kickedQ   []digest
	sessions  map[*wsSession]struct{}
	closed    bool
	locked    bool           // only known nodes may join (the instructor's lock)
	pending   map[string]int // websockets waiting for their join, per address
	pendingWS int            // all websockets waiting for their join
	seq       uint64         // tickets handed out for deliveries

	dmu       sync.Mutex
	dcond     *sync.Cond
	delivered uint64 // last ticket delivered
}

// entry is one member's full state, guarded by Registry.mu.
type entry struct {
	name       string
	static     bool
	configURL  string
	joined     bool
	url        string
	secret     digest
	secretText string        // the secret itself: the proxy's authority over the node
	addr       string        // the address it joined from (addrKey), for MaxPerAddr
	interval   time.Duration // heartbeat interval the node was told
	lastBeat   time.Time
	up         bool
	reason     string
	since      time.Time
	session    *wsSession    // the node's websocket, if it joined over one
	relay      bool          // reached through the relay, not at a URL
	dialer     *relay.Dialer // the connected relay, nil while none
	relayGen   uint64        // relay connections so far
	own        string        // a student's own implementation: Member.Own
	nodeDown   bool          // the node reported itself down (kvapi.Status)
}

func (e *entry) member() Member {
	return Member{Name: e.name, URL: e.url, Static: e.static, Joined: e.joined, Relay: e.relay, RelayGen: e.relayGen, Own: e.own, Up: e.up, Reason: e.reason, Since: e.since}
}

// New checks opts and returns a Registry holding the config nodes, all up
// until their first health check says otherwise.
func New(opts Options) (*Registry, error) {
	if opts.Token == "" {
		return nil, errors.New("registry: a class code (Token) is required")
	}
	if err := applyDefaults(&opts); err != nil {
		return nil, err
	}
	token := digestOf(opts.Token)
	opts.Token = "" // only the digest is kept
	if len(opts.Static) > opts.MaxNodes {
		return nil, fmt.Errorf("registry: %d config nodes exceed the limit of %d nodes", len(opts.Static), opts.MaxNodes)
	}
	r := &Registry{
		opts:     opts,
		log:      opts.Logger,
		now:      opts.Now,
		token:    token,
		policy:   Policy{AllowPrivate: opts.AllowPrivate},
		limiter:  newLimiter(opts.FailLimit, opts.FailWindow, opts.Now),
		wake:     make(chan struct{}, 1),
		checkNow: make(chan struct{}, 1),
		byName:   make(map[string]*entry),
		kicked:   make(map[digest]struct{}),
		sessions: make(map[*wsSession]struct{}),
		pending:  make(map[string]int),
		locked:   opts.Locked,
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	r.dcond = sync.NewCond(&r.dmu)
	r.closeCtx, r.closeFn = context.WithCancel(context.Background())
	r.probe = newProbeClient(probeDial(r.policy, opts.Dial, opts.JoinProbeTimeout), opts.JoinProbeTimeout)
	r.health = newProbeClient(healthDial(opts.Dial, opts.ProbeTimeout), opts.ProbeTimeout)
	r.upgrader = websocket.Upgrader{
		HandshakeTimeout: opts.HandshakeTimeout,
		ReadBufferSize:   1024,
		WriteBufferSize:  1024,
		Error: func(w http.ResponseWriter, _ *http.Request, status int, reason error) {
			writeError(w, status, "websocket handshake: "+reason.Error())
		},
	}
	now := r.now()
	for i, s := range opts.Static {
		if s.Name == "" {
			return nil, fmt.Errorf("registry: config node %d has no name", i+1)
		}
		if _, dup := r.byName[s.Name]; dup {
			return nil, fmt.Errorf("registry: config node name %q appears twice", s.Name)
		}
		u, err := kvapi.ParseNodeURL(s.URL)
		if err != nil {
			return nil, fmt.Errorf("registry: config node %q: %w", s.Name, err)
		}
		r.static = append(r.static, s.Name)
		r.byName[s.Name] = &entry{name: s.Name, static: true, configURL: u.String(), url: u.String(), up: true, since: now}
	}
	if err := r.restore(opts.Restore); err != nil {
		return nil, err
	}
	r.opts.Restore = nil
	r.list = r.buildList()
	return r, nil
}

// Policy returns the URL policy applied to joined nodes; the proxy dials
// joined members through Policy().Dialer.
func (r *Registry) Policy() Policy { return r.policy }

// Members returns the ordered member list: config nodes in file order, then
// joined nodes by name (digit runs compare as numbers: kv2 before kv10). A
// node that joined under a config node's name holds that config place.
func (r *Registry) Members() []Member {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.list)
}

// Kick removes a joined node (the instructor's action) and closes its
// websocket. Its secret is refused from then on, so it cannot rejoin by
// itself; restarted, it gets a new secret and may join again. A joined node
// holding a config place gives the place back to the config node. It returns
// ErrUnknownNode or ErrStaticNode when there is no joined node to kick.
func (r *Registry) Kick(name string) error {
	err := r.update(func(d *delivery) error {
		e := r.byName[name]
		switch {
		case e == nil:
			return fmt.Errorf("kick %q: %w", name, ErrUnknownNode)
		case !e.joined:
			return fmt.Errorf("kick %q: %w", name, ErrStaticNode)
		}
		r.rememberKicked(e.secret)
		d.closeSession(e, kvapi.CloseKicked, "removed by the instructor")
		r.release(e, ChangeKick, d)
		return nil
	})
	if err == nil {
		r.log.Info("node kicked", "node", name)
	}
	return err
}

// rememberKicked records a kicked secret, forgetting the oldest past maxKicked.
func (r *Registry) rememberKicked(s digest) {
	if _, ok := r.kicked[s]; ok {
		return
	}
	if len(r.kickedQ) >= maxKicked {
		delete(r.kicked, r.kickedQ[0])
		r.kickedQ = r.kickedQ[1:]
	}
	r.kicked[s] = struct{}{}
	r.kickedQ = append(r.kickedQ, s)
}

// release removes a joined node from its place (kind is ChangeLeave or
// ChangeKick): a joined-only member leaves the list; a config place goes back
// to its config node, up until its next health check. Called with r.mu held.
func (r *Registry) release(e *entry, kind ChangeKind, d *delivery) {
	if !e.static {
		if e.dialer != nil {
			d.closers = append(d.closers, e.dialer)
		}
		delete(r.byName, e.name)
		d.changes = append(d.changes, Change{Kind: kind, Member: e.member()})
		return
	}
	old := e.member()
	if e.dialer != nil {
		d.closers = append(d.closers, e.dialer)
	}
	e.joined, e.secret, e.secretText, e.addr, e.session, e.relay, e.dialer = false, digest{}, "", "", nil, false, nil
	e.url, e.own, e.nodeDown = e.configURL, "", false
	if !e.up {
		e.up, e.reason, e.since = true, "", r.now()
	}
	d.changes = append(d.changes, diff(old, e.member())...)
	d.listChanged = true
	signal(r.checkNow)
}

// Close closes every node websocket (the nodes will rejoin whichever proxy
// answers next), refuses further registry requests with 503, and waits for
// the websocket handlers to return. The member list stays readable.
func (r *Registry) Close() {
	r.update(func(d *delivery) error {
		r.closed = true
		for s := range r.sessions {
			d.closing = append(d.closing, sessionClose{s, websocket.CloseGoingAway, "the proxy is stopping"})
		}
		for _, e := range r.byName {
			if e.dialer != nil {
				d.closers = append(d.closers, e.dialer)
				e.dialer = nil
			}
		}
		return nil
	})
	r.closeFn()
	r.handlers.Wait()
	r.probe.CloseIdleConnections()
	r.health.CloseIdleConnections()
}

// buildList returns the ordered member list. Called with r.mu held.
func (r *Registry) buildList() []Member {
	list := make([]Member, 0, len(r.byName))
	for _, name := range r.static {
		list = append(list, r.byName[name].member())
	}
	start := len(list)
	for _, e := range r.byName {
		if !e.static {
			list = append(list, e.member())
		}
	}
	slices.SortFunc(list[start:], func(a, b Member) int { return placement.CompareNames(a.Name, b.Name) })
	return list
}
