package registry

import (
	"time"
)

// Member is one place in the proxy's node list, as the routing table and the
// page see it.
type Member struct {
	// Name is the node's name, unique in the list.
	Name string
	// URL is where the proxy reaches the node.
	URL string
	// Static marks a place from the config file. A joined node may hold it
	// (Joined is then set too).
	Static bool
	// Joined marks a place held by a node that joined live: its URL passed
	// the URL policy, and the proxy must dial it through Policy().Dialer so
	// the policy holds at dial time too. Config nodes are dialed plainly.
	Joined bool
	// Relay marks a joined node reached through the proxy's relay (its URL
	// is "relay:NAME"): the proxy dials it with Registry.DialRelay.
	Relay bool
	// RelayGen counts the relay connections of a relayed node: a new one
	// means the old connections to it are dead.
	RelayGen uint64
	// Own names a student's own implementation behind the node (kvclass
	// node --upstream): its Server header's first product, such as
	// "Werkzeug/3.0.1", or "own"; empty for kvclass's node and config
	// nodes. The page shows it.
	Own string
	// Up tells whether the proxy should call the node; a down node keeps its
	// place and its shard answers 503 fast.
	Up bool
	// Reason says why the node is down: "stopped", "missed heartbeats",
	// "health check: <error>", or what the node reported itself
	// ("upstream: connection refused"); empty when up.
	Reason string
	// Since is when the node last went up or down, or appeared.
	Since time.Time
}

// ChangeKind says what happened to a member.
type ChangeKind string

// Kinds of Change.
const (
	ChangeJoin  ChangeKind = "join"  // a new member was added
	ChangeLeave ChangeKind = "leave" // a member was removed: down longer than the expiry
	ChangeKick  ChangeKind = "kick"  // a member was removed by the instructor
	ChangeUp    ChangeKind = "up"    // a member was marked up
	ChangeDown  ChangeKind = "down"  // a member was marked down, or its reason changed
	ChangeURL   ChangeKind = "url"   // a member's URL changed
)

// Change is one membership change, delivered to Options.Notify in order.
type Change struct {
	// Kind is what happened.
	Kind ChangeKind
	// Member is the member's state after the change (its last state for
	// leave and kick).
	Member Member
}

// diff returns the changes that turn old into new, for a member that stays.
func diff(old, new Member) []Change {
	var out []Change
	if old.URL != new.URL {
		out = append(out, Change{Kind: ChangeURL, Member: new})
	}
	switch {
	case old.Up != new.Up && new.Up:
		out = append(out, Change{Kind: ChangeUp, Member: new})
	case old.Up != new.Up || !new.Up && old.Reason != new.Reason:
		out = append(out, Change{Kind: ChangeDown, Member: new})
	}
	return out
}
