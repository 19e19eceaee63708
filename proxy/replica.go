package proxy

import (
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kvclass/kvclass/kvapi"
	"github.com/kvclass/kvclass/placement"
	"github.com/kvclass/kvclass/web"
)

// ReplicationConfig is how the proxy keeps a key's copies: N owners per key
// (placement's Replicas, or every node in order under mode: replication
// unless set), R and W, and the repairs that bring copies together. DESIGN.md,
// Versions and replication, is the contract.
type ReplicationConfig struct {
	// ReadQuorum R: a read asks the key's owners at once, waits for R
	// answers and returns the newest version. 1 (the default) is the seed's
	// read: the owners one after another, the first 200 wins.
	ReadQuorum int `json:"read_quorum,omitempty"`
	// ReadRepair: "off", "async" (the default: write the newest version back
	// to owners that answered older) or "sync" (the read answers only once
	// the newest version is on W owners: the ABD rule, linearizable reads
	// when R + W > N).
	ReadRepair string `json:"read_repair,omitempty"`
	// HintedHandoff keeps the writes a down owner missed (bounded per node)
	// and replays them when it is back.
	HintedHandoff bool `json:"hinted_handoff,omitempty"`
	// AntiEntropy is how often the proxy compares owners' digests and
	// copies the newest version where they differ; 0 is off.
	AntiEntropy time.Duration `json:"anti_entropy,omitempty"`
	// PinRead sends every read to this node first (R = 1): the instructor
	// makes a stale read happen on cue. Empty: the node order.
	PinRead string `json:"pin_read,omitempty"`
}

// Read repair modes.
const (
	RepairOff   = "off"
	RepairAsync = "async"
	RepairSync  = "sync"
)

// normalize fills the defaults and checks the values.
func (r ReplicationConfig) normalize() (ReplicationConfig, error) {
	if r.ReadQuorum == 0 {
		r.ReadQuorum = 1
	}
	if r.ReadRepair == "" {
		r.ReadRepair = RepairAsync
	}
	switch {
	case r.ReadQuorum < 1 || r.ReadQuorum > placement.MaxReplicas:
		return r, fmt.Errorf("read_quorum must be at least 1, not %d", r.ReadQuorum)
	case r.ReadRepair != RepairOff && r.ReadRepair != RepairAsync && r.ReadRepair != RepairSync:
		return r, fmt.Errorf("unknown read_repair %q: use off, async or sync", r.ReadRepair)
	case r.AntiEntropy < 0:
		return r, fmt.Errorf("anti_entropy is negative")
	case r.AntiEntropy > 0 && r.AntiEntropy < time.Second:
		return r, fmt.Errorf("anti_entropy must be at least 1s (or 0, off), not %s", r.AntiEntropy)
	}
	return r, nil
}

// replicasOf is N for the table being built: placement's replicas, or, under
// mode: replication with no replicas set, every node (0 here).
func replicasOf(mode Mode, place placement.Config, set bool) int {
	if mode == Replication && !set {
		return 0
	}
	return place.Replicas
}

// classView is the replication part of the page's Class.
func (t *table) classView(n int) web.Class {
	if n == 0 {
		n = len(t.nodes)
	}
	n = min(n, len(t.nodes))
	c := web.Class{
		Replicas: n, ReadQuorum: t.repl.ReadQuorum, WriteQuorum: t.quorum,
		Overlap:       t.repl.ReadQuorum+t.quorum > n,
		ReadRepair:    t.repl.ReadRepair,
		HintedHandoff: t.repl.HintedHandoff,
		PinnedRead:    t.repl.PinRead,
	}
	if t.repl.AntiEntropy > 0 {
		c.AntiEntropy = t.repl.AntiEntropy.String()
	}
	return c
}

// replicationRequest is POST /admin/replication's body; fields left out keep
// their values.
type replicationRequest struct {
	Replicas      *int    `json:"replicas"`
	ReadQuorum    *int    `json:"read_quorum"`
	WriteQuorum   *int    `json:"write_quorum"`
	ReadRepair    *string `json:"read_repair"`
	HintedHandoff *bool   `json:"hinted_handoff"`
	AntiEntropy   *string `json:"anti_entropy"` // a duration, "0" off
	PinRead       *string `json:"pin_read"`
}

// adminReplication sets N, R, W and the repairs, live.
func (p *Proxy) adminReplication(w http.ResponseWriter, body []byte) {
	var req replicationRequest
	if !decodeAdmin(w, body, &req) {
		return
	}
	p.mu.Lock()
	repl, quorum, place, replicasSet := p.repl, p.quorum, p.place, p.replicasSet
	p.mu.Unlock()
	if req.Replicas != nil {
		place.Replicas, replicasSet = *req.Replicas, true
	}
	if req.ReadQuorum != nil {
		repl.ReadQuorum = *req.ReadQuorum
	}
	if req.WriteQuorum != nil {
		quorum = *req.WriteQuorum
	}
	if req.ReadRepair != nil {
		repl.ReadRepair = *req.ReadRepair
	}
	if req.HintedHandoff != nil {
		repl.HintedHandoff = *req.HintedHandoff
	}
	if req.AntiEntropy != nil {
		d, err := parseInterval(*req.AntiEntropy)
		if err != nil {
			kvapi.WriteError(w, kvapi.Errorf(http.StatusBadRequest, err.Error()))
			return
		}
		repl.AntiEntropy = d
	}
	if req.PinRead != nil {
		if *req.PinRead != "" && p.table.Load().byName[*req.PinRead] == nil {
			kvapi.WriteError(w, kvapi.Errorf(http.StatusNotFound, "No node named "+strconv.Quote(*req.PinRead)+" to pin reads to."))
			return
		}
		repl.PinRead = *req.PinRead
	}
	if quorum < 1 {
		kvapi.WriteError(w, kvapi.Errorf(http.StatusBadRequest, "write_quorum must be at least 1."))
		return
	}
	if err := p.setReplication(place, replicasSet, quorum, repl); err != nil {
		kvapi.WriteError(w, kvapi.Errorf(http.StatusBadRequest, err.Error()))
		return
	}
	c := p.table.Load().classView(p.table.Load().n)
	overlap := "R + W ≤ N: a read can miss the last write"
	if c.Overlap {
		overlap = "R + W > N: every read meets the last acknowledged write"
	}
	kvapi.WriteMessage(w, fmt.Sprintf("N=%d R=%d W=%d (%s); read repair %s.", c.Replicas, c.ReadQuorum, c.WriteQuorum, overlap, c.ReadRepair))
}

// parseInterval reads an anti-entropy interval: a duration, "0" or "off".
func parseInterval(s string) (time.Duration, error) {
	if s == "0" || s == "off" || s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("anti_entropy %q is not a duration such as 30s (0 turns it off)", s)
	}
	return d, nil
}

// setReplication installs new replication settings, live, and keeps them
// across restarts.
func (p *Proxy) setReplication(place placement.Config, replicasSet bool, quorum int, repl ReplicationConfig) error {
	place, err := place.Normalize()
	if err != nil {
		return err
	}
	repl, err = repl.normalize()
	if err != nil {
		return err
	}
	p.mu.Lock()
	p.place, p.replicasSet, p.quorum, p.repl = place, replicasSet, quorum, repl
	p.livePlace, p.liveRepl = true, true
	p.rebuild()
	p.persist()
	p.mu.Unlock()
	p.publishClass()
	p.kickAntiEntropy()
	return nil
}

// acked remembers the latest version acknowledged to a client per key, so
// a read that returns an older one can be called stale on the page. It is
// bounded: past maxAcked keys it forgets at random.
type acked struct {
	mu sync.Mutex
	m  map[string]kvapi.Version
	n  atomic.Int32 // len(m), read without the lock on every read
}

const maxAcked = 200000

// record notes that v of key was acknowledged.
func (a *acked) record(key string, v kvapi.Version) {
	if v.IsZero() {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.m == nil {
		a.m = map[string]kvapi.Version{}
	}
	if old, ok := a.m[key]; ok && old.Compare(v) >= 0 {
		return
	}
	if len(a.m) >= maxAcked {
		for k := range a.m { // forget one at random
			delete(a.m, k)
			break
		}
	}
	a.m[key] = v
	a.n.Store(int32(len(a.m)))
}

// staleness says whether a read of key that returned v is older than the
// latest acknowledged version, and by how much in words ("" when not).
func (a *acked) staleness(key string, v kvapi.Version) (kvapi.Version, bool) {
	if a.n.Load() == 0 {
		return kvapi.Version{}, false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	last, ok := a.m[key]
	if !ok || v.Compare(last) >= 0 {
		return kvapi.Version{}, false
	}
	return last, true
}

// shortVersion writes a version for the feed as the time it was stamped,
// to the millisecond, and its counter when not 0: "10:31:07.944".
func shortVersion(v kvapi.Version) string {
	if v.IsZero() {
		return "none"
	}
	s := v.Time().Format("15:04:05.000")
	if c := v.Counter(); c > 0 {
		s += "+" + strconv.Itoa(int(c))
	}
	return s
}

// stamp is a new version for a write the proxy makes (a replicated write
// of a client that sent none, a move): the proxy's hybrid logical clock,
// origin "proxy".
func (p *Proxy) stamp() kvapi.Version {
	return kvapi.Version{HLC: p.clock.Now(), Origin: proxyOrigin}
}

// proxyOrigin is the origin of the versions the proxy stamps.
const proxyOrigin = "proxy"
