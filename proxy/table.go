package proxy

import (
	"strconv"

	"github.com/kvclass/kvclass/placement"
	"github.com/kvclass/kvclass/registry"
)

// table is one immutable version of the routing table: the mode and the
// nodes in placement order. The proxy swaps whole tables atomically, so a
// request sees either the old membership or the new one, never half of each.
type table struct {
	mode   Mode
	quorum int               // W
	repl   ReplicationConfig // R, read repair, hints, anti-entropy, pinned reads
	n      int               // N; 0: every node, in order (mode: replication)
	nodes  []*backend
	byName map[string]*backend
	place  *placement.Table // owners of keys over nodes, by index
}

// backend is a node as one table version sees it.
type backend struct {
	name   string
	url    string
	up     bool
	reason string
	joined bool   // joined live: dialed under the URL policy
	relay  bool   // reached through the registry's relay
	own    string // a student's own implementation (kvclass node --upstream)
	client *nodeClient
}

// clientKey identifies a reusable node client: the same URL reached under
// the same dial rules.
type clientKey struct {
	url      string
	joined   bool
	relay    bool
	relayGen uint64 // a new relay connection: the old connections are dead
}

// buildTable makes a table from the registry's ordered members, reusing the
// clients of nodes whose URL did not change. It returns the new table and the
// clients no longer used.
func buildTable(mode Mode, quorum int, repl ReplicationConfig, n int, place placement.Config, members []registry.Member, clients map[clientKey]*nodeClient, newClient func(registry.Member) (*nodeClient, error)) (*table, []*nodeClient) {
	t := &table{mode: mode, quorum: quorum, repl: repl, n: n, byName: make(map[string]*backend, len(members))}
	used := make(map[clientKey]bool, len(members))
	for _, m := range members {
		k := clientKey{m.URL, m.Joined, m.Relay, m.RelayGen}
		c := clients[k]
		if c == nil {
			var err error
			if c, err = newClient(m); err != nil {
				// A URL the registry admitted always parses; keep the node
				// in its place but down, so placement does not shift.
				b := &backend{name: m.Name, url: m.URL, reason: err.Error(), joined: m.Joined}
				t.nodes = append(t.nodes, b)
				t.byName[m.Name] = b
				continue
			}
			clients[k] = c
		}
		used[k] = true
		b := &backend{name: m.Name, url: m.URL, up: m.Up, reason: m.Reason, joined: m.Joined, relay: m.Relay, own: m.Own, client: c}
		if !b.up && b.reason == "" {
			b.reason = "down"
		}
		t.nodes = append(t.nodes, b)
		t.byName[m.Name] = b
	}
	names := make([]string, len(t.nodes))
	for i, b := range t.nodes {
		names[i] = b.name
	}
	if n > 0 {
		place.Replicas = n
	}
	t.place = mustPlace(place, names)
	var stale []*nodeClient
	for k, c := range clients {
		if !used[k] {
			stale = append(stale, c)
			delete(clients, k)
		}
	}
	return t, stale
}

// rule states the placement rule for the page.
func (t *table) rule() string {
	if t.n == 0 {
		return "a put goes to every up node (quorum " + strconv.Itoa(t.quorum) + "); a get asks the nodes in order"
	}
	return placement.Rule(t.place.Config(), len(t.nodes))
}

// ownersOf returns the nodes that own key, primary first: every node in
// order when N is every node (mode: replication, the seed's), else the
// placement's N owners. dst is reused.
func (t *table) ownersOf(key string, dst []*backend) []*backend {
	if t.n == 0 {
		return append(dst, t.nodes...)
	}
	var idx [8]int
	for _, i := range t.place.Owners(key, idx[:0]) {
		dst = append(dst, t.nodes[i])
	}
	return dst
}

// mustPlace builds the placement table of a config the proxy already
// validated.
func mustPlace(cfg placement.Config, names []string) *placement.Table {
	pt, err := placement.New(cfg, names)
	if err != nil {
		panic("placement config was validated before: " + err.Error())
	}
	return pt
}

// upOf returns the nodes marked up among nodes, in order.
func upOf(nodes []*backend) []*backend {
	out := make([]*backend, 0, len(nodes))
	for _, b := range nodes {
		if b.up {
			out = append(out, b)
		}
	}
	return out
}
