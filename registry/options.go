package registry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/kvclass/kvclass/serve"
)

// Static is a node from the proxy's config file. Config nodes are the
// instructor's own: the URL policy does not apply to them.
type Static struct {
	// Name is the node's name, unique among config nodes.
	Name string
	// URL is the node's base URL (http or https).
	URL string
}

// Options configure a Registry. Zero durations and counts take the defaults
// named on each field.
type Options struct {
	// Token is the class code a joining node must present; required. It is
	// compared in constant time and never logged.
	Token string
	// Static are the config file's nodes, in file order.
	Static []Static
	// AllowPrivate admits joined nodes at loopback, private and unspecified
	// addresses (--allow-private).
	AllowPrivate bool
	// Heartbeat is the interval websocket nodes are told to ping at
	// (heartbeat_ms); a node is marked down after three intervals without a
	// heartbeat. Default 5s.
	Heartbeat time.Duration
	// HTTPHeartbeat is the interval told to nodes that join over plain HTTP
	// and POST their heartbeats; it is at least Heartbeat. Default 30s, so
	// such a node sends no more than one request per 30s through a tunnel.
	HTTPHeartbeat time.Duration
	// Expiry is how long a joined node may stay down before it is removed
	// (--expiry). Default 5m.
	Expiry time.Duration
	// HealthInterval is how often config nodes get GET /health. Default 2s.
	HealthInterval time.Duration
	// JoinProbeTimeout bounds the join-time GET /health probe, which may
	// cross two ngrok hops (the proxy's and the node's tunnels). Default 5s,
	// and never less than ProbeTimeout.
	JoinProbeTimeout time.Duration
	// ProbeTimeout bounds each health
	// check. Default 2s.
	ProbeTimeout time.Duration
	// HandshakeTimeout bounds how long a websocket may take to send its join
	// message; a node sends it at once. Default 5s.
	HandshakeTimeout time.Duration
	// MaxNodes is the most members the list may hold, config nodes included;
	// a join that would add one more is answered 503. Default 256.
	MaxNodes int
	// MaxPerAddr caps the joined nodes admitted from one client address
	// (--max-per-address); one more new name is answered 429. A class
	// behind one NAT shares one address, so the default is well above a
	// class: 64.
	MaxPerAddr int
	// MaxPendingPerAddr caps the websockets from one address that have not
	// sent their join yet; one more is answered 503. Default 16.
	MaxPendingPerAddr int
	// Locked starts the registry locked: only nodes it knows (Restore, or
	// joined before) may join. See SetLocked.
	Locked bool
	// Restore are joined members from the proxy's state file, as Saved
	// returned them before a restart. They take their places at once,
	// down ("waiting to rejoin after the proxy restarted"), so no key moves
	// while they rejoin, and each name stays its node's.
	Restore []Saved
	// FailLimit and FailWindow bound failed joins (a bad class code) per
	// client address: past FailLimit failures within FailWindow the address
	// is throttled (see docs/REGISTRY.md). Successful joins never count.
	// Defaults 10 per minute.
	FailLimit  int
	FailWindow time.Duration
	// ClientAddr names who is asking, for the per-address limits. Default
	// serve.ClientAddr: the host of r.RemoteAddr, or the forwarded address
	// of a request that came through the proxy's tunnel.
	ClientAddr func(*http.Request) string
	// OnChange is called with the whole ordered member list after every
	// change. Calls are serialized and in order; the slice is the callee's.
	// It must not call Kick or Close.
	OnChange func([]Member)
	// Notify is called with each membership change, in order, after the
	// OnChange call for the same step. It must not block: the proxy forwards
	// to a non-blocking hub. It must not call Kick or Close.
	Notify func(Change)
	// SkipContractCheck admits joining nodes without checking the node
	// contract. By default every join (and every relay connection) runs
	// conform.Check against the node after its /health probe: at most
	// conform.CheckRequests requests within JoinProbeTimeout, writing one
	// key and deleting it, and a node that fails is refused with 422
	// naming the first failing case. kvclass's own node passes; tests of
	// other things that join stand-in nodes set this. (A negative switch,
	// so that the zero Options check.)
	SkipContractCheck bool
	// UserAgent is sent with every /health probe and check, e.g.
	// "kvclass/1.0". Default "kvclass".
	UserAgent string
	// Logger receives the registry's logs; nil discards them. Class codes,
	// admin tokens and node secrets are never logged.
	Logger *slog.Logger
	// Now tells the time; default time.Now. Timers still run on real time.
	Now func() time.Time
	// Dial, when set, is the network below the registry's own HTTP calls to
	// nodes: the /health probe and contract check of a joining node, and
	// the health checks of config nodes. It is for tests, which serve their
	// stand-in nodes on an in-memory network (internal/memnet) so they can
	// run on fake time. It gets the host:port of the node's URL as it is:
	// for a joined node the URL policy has already refused it unless it is
	// an allowed IP literal (a host name is refused: Dial may not resolve
	// names, nor connect anywhere but address, which would bypass the
	// policy). It must honour ctx. Nil dials TCP, the policy checking every
	// address dialed, as without the hook.
	Dial func(ctx context.Context, network, address string) (net.Conn, error)
}

// Defaults for Options.
const (
	DefaultHeartbeat         = 5 * time.Second
	DefaultHTTPHeartbeat     = 30 * time.Second
	DefaultExpiry            = 5 * time.Minute
	DefaultHealthInterval    = 2 * time.Second
	DefaultProbeTimeout      = 2 * time.Second
	DefaultJoinProbeTimeout  = 5 * time.Second
	DefaultHandshakeTimeout  = 5 * time.Second
	DefaultMaxNodes          = 256
	DefaultMaxPerAddr        = 64
	DefaultMaxPendingPerAddr = 16
	DefaultFailLimit         = 10
	DefaultFailWindow        = time.Minute
)

func applyDefaults(o *Options) error {
	durations := []struct {
		name string
		v    *time.Duration
		def  time.Duration
	}{
		{"Heartbeat", &o.Heartbeat, DefaultHeartbeat},
		{"HTTPHeartbeat", &o.HTTPHeartbeat, DefaultHTTPHeartbeat},
		{"Expiry", &o.Expiry, DefaultExpiry},
		{"HealthInterval", &o.HealthInterval, DefaultHealthInterval},
		{"ProbeTimeout", &o.ProbeTimeout, DefaultProbeTimeout},
		{"JoinProbeTimeout", &o.JoinProbeTimeout, DefaultJoinProbeTimeout},
		{"HandshakeTimeout", &o.HandshakeTimeout, DefaultHandshakeTimeout},
		{"FailWindow", &o.FailWindow, DefaultFailWindow},
	}
	for _, d := range durations {
		if *d.v < 0 {
			return fmt.Errorf("registry: %s is negative (%v)", d.name, *d.v)
		}
		if *d.v == 0 {
			*d.v = d.def
		}
	}
	o.HTTPHeartbeat = max(o.HTTPHeartbeat, o.Heartbeat)
	o.JoinProbeTimeout = max(o.JoinProbeTimeout, o.ProbeTimeout)
	if o.MaxNodes < 0 || o.FailLimit < 0 || o.MaxPerAddr < 0 || o.MaxPendingPerAddr < 0 {
		return errors.New("registry: MaxNodes, MaxPerAddr, MaxPendingPerAddr and FailLimit may not be negative")
	}
	if o.MaxPerAddr == 0 {
		o.MaxPerAddr = DefaultMaxPerAddr
	}
	if o.MaxPendingPerAddr == 0 {
		o.MaxPendingPerAddr = DefaultMaxPendingPerAddr
	}
	if o.MaxNodes == 0 {
		o.MaxNodes = DefaultMaxNodes
	}
	if o.FailLimit == 0 {
		o.FailLimit = DefaultFailLimit
	}
	if o.ClientAddr == nil {
		o.ClientAddr = serve.ClientAddr
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return nil
}
