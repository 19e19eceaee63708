package placement

import "slices"

// Table places keys on one membership under one Config. Build a new Table on
// every membership or configuration change; a Table never changes, so the
// proxy can swap it atomically and read it from any goroutine.
type Table struct {
	cfg      Config   // normalized
	nodes    []string // node order
	replicas int      // cfg.Replicas capped at len(nodes)
	ring     ring     // Ring only
	prefixes [][]byte // Rendezvous only: name + "\x00"
}

// New builds the table for nodes (names in node order: config nodes in file
// order, then joined nodes by CompareNames; names must be unique, as the
// registry's are) under cfg. It fails only on a Config that Validate
// rejects. With no nodes every key has no owner.
func New(cfg Config, nodes []string) (*Table, error) {
	cfg, err := cfg.Normalize()
	if err != nil {
		return nil, err
	}
	return build(cfg, nodes, vnodePoint), nil
}

// build makes a table from a normalized cfg; point places ring points (the
// tie tests give crafted ones).
func build(cfg Config, nodes []string, point func(name string, i int) uint64) *Table {
	t := &Table{cfg: cfg, nodes: slices.Clone(nodes), replicas: min(cfg.Replicas, len(nodes))}
	switch cfg.Strategy {
	case Ring:
		t.ring = buildRing(t.nodes, cfg.VNodes, point)
	case Rendezvous:
		t.prefixes = make([][]byte, len(t.nodes))
		for i, name := range t.nodes {
			t.prefixes[i] = append([]byte(name), 0)
		}
	}
	return t
}

// Config returns the table's configuration, defaults filled in.
func (t *Table) Config() Config { return t.cfg }

// Len returns the number of nodes.
func (t *Table) Len() int { return len(t.nodes) }

// Nodes returns a copy of the node names, in node order: the indices Owner
// and Owners return point into it.
func (t *Table) Nodes() []string { return slices.Clone(t.nodes) }

// Node returns the name of node i.
func (t *Table) Node(i int) string { return t.nodes[i] }

// Replicas returns how many owners each key has: Config.Replicas capped at
// the node count (0 when there are no nodes).
func (t *Table) Replicas() int { return t.replicas }

// Owner returns the index of key's primary owner, or -1 when there are no
// nodes. It is Owners(key, nil)[0] without the slice; it never allocates
// under modulo and ring.
func (t *Table) Owner(key string) int {
	n := len(t.nodes)
	if n == 0 {
		return -1
	}
	switch t.cfg.Strategy {
	case Ring:
		return t.ring.owner(h(key))
	case Rendezvous:
		return rendezvousOwner(t.nodes, t.prefixes, key)
	default:
		return modIndex(key, n)
	}
}

// Owners returns dst[:0] with the indices of key's owners appended, primary
// first: Replicas() distinct indices into Nodes(), none when there are no
// nodes. It does not allocate when dst has room (under rendezvous: for keys
// up to about 480 bytes and up to 64 replicas).
func (t *Table) Owners(key string, dst []int) []int {
	dst = dst[:0]
	n := len(t.nodes)
	if n == 0 {
		return dst
	}
	switch t.cfg.Strategy {
	case Ring:
		return t.ring.owners(h(key), n, t.replicas, dst, nil)
	case Rendezvous:
		return rendezvousOwners(t.nodes, t.prefixes, key, t.replicas, dst)
	default:
		return moduloOwners(key, n, t.replicas, dst)
	}
}

// Misplaced reports whether a copy of key held by the node named holder is
// in the wrong place: holder is not among the key's owners under this table
// (a holder that is no longer a member is always misplaced). The page marks
// such keys and rebalance moves them.
func (t *Table) Misplaced(key, holder string) bool {
	var buf [8]int
	for _, i := range t.Owners(key, buf[:0]) {
		if t.nodes[i] == holder {
			return false
		}
	}
	return true
}
