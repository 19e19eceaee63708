package web

// This file defines the JSON messages of the /ws stream, shared by the node
// and the proxy. docs/EVENTS.md documents the same schema for readers of the
// wire. Every event is an idempotent state update, so a client that applies
// an event twice (once through a snapshot, once as an event) ends in the
// same state.

// Message types on the /ws stream.
const (
	TypeSnapshot = "snapshot" // the whole view; always the first message
	TypeEvents   = "events"   // a batch of events, in publish order
)

// Event types carried inside an "events" message.
const (
	EventPut     = "put"     // a key was stored on a node
	EventDelete  = "delete"  // a key was deleted on a node
	EventReset   = "reset"   // a node's data was cleared
	EventRequest = "request" // the proxy served a client request (the feed)
	EventNode    = "node"    // a node joined, left, went up or down, or changed URL
	EventMode    = "mode"    // the proxy's mode changed
	EventTunnel  = "tunnel"  // a node's ngrok tunnel changed state

	EventClass     = "class"     // the class's lessons changed: Class (replication, misplaced keys, rebalance, check)
	EventFault     = "fault"     // the instructor set or cleared a node's fault: Node, Fault (nil: cleared)
	EventSecond    = "second"    // one second of the proxy's answers, for the availability strip: Second
	EventMisplaced = "misplaced" // keys on a node that is not among their owners: Node, Keys (that node's listed keys), Count
)

// Node changes carried by an EventNode event.
const (
	ChangeJoin  = "join"
	ChangeLeave = "leave" // removed: expired
	ChangeKick  = "kick"  // removed by the instructor
	ChangeUp    = "up"
	ChangeDown  = "down"
	ChangeURL   = "url"
	// ChangeSync: the proxy re-read the node's keys (after its stream to the
	// node reconnected); View carries Count and the newest Keys, which
	// replace what the page shows for that node.
	ChangeSync = "sync"
)

// Snapshot is the first message on every /ws connection, and what a client
// resyncs from after a reconnect. The same shape serves a node (Role "node",
// one entry in Nodes) and the proxy (Role "proxy", every node in order).
type Snapshot struct {
	Type string `json:"type"` // always TypeSnapshot
	Role string `json:"role"` // "node" or "proxy"
	Mode string `json:"mode,omitempty"`
	Rule string `json:"rule,omitempty"` // placement rule, human readable
	// Placement is the placement strategy's word ("modulo", "ring",
	// "rendezvous"; empty means modulo, the seed's) and Replicas the owners
	// per key under sharding (0 or 1: one). Both are optional: the page
	// words the rule from them, and shows Rule for a strategy it does not
	// know.
	Placement string `json:"placement,omitempty"`
	Replicas  int    `json:"replicas,omitempty"`
	Join      string `json:"join,omitempty"` // the line students paste (proxy only)
	// Class holds the state of the lessons beyond the seed (proxy only):
	// replication settings, misplaced keys, a rebalance, a check.
	Class *Class `json:"class,omitempty"`
	// Seconds are the proxy's answers per second over the last minutes, for
	// the availability strip (proxy only), oldest first.
	Seconds []Second   `json:"seconds,omitempty"`
	Limit   int        `json:"limit"` // at most this many keys per node are listed
	Tunnel  *Tunnel    `json:"tunnel,omitempty"`
	Nodes   []NodeView `json:"nodes"` // in the node order: Nodes[i] is position i of "mod N"
}

// NodeView is one node as the page shows it.
type NodeView struct {
	Name   string `json:"name"`
	URL    string `json:"url,omitempty"`
	Status string `json:"status"` // "up" or "down"
	Reason string `json:"reason,omitempty"`
	Count  int    `json:"count"` // number of keys the node holds
	// Keys are the newest keys, newest first, at most Snapshot.Limit.
	Keys []KeyView `json:"keys,omitempty"`
	// Misplaced counts the node's keys that are not among their owners'
	// (after a join, a leave or a placement change, until a rebalance).
	Misplaced int `json:"misplaced,omitempty"`
	// Hints counts the writes the proxy keeps for this down node, to replay
	// when it is back (hinted handoff).
	Hints int `json:"hints,omitempty"`
	// Fault is the fault the instructor set on the proxy's calls to the
	// node; nil when none.
	Fault *Fault `json:"fault,omitempty"`
	// Own names a student's own implementation behind the node (kvclass
	// node --upstream): its Server header's product, or "own"; empty for
	// kvclass's node.
	Own string `json:"own,omitempty"`
}

// KeyView is one key and the display form of its value.
type KeyView struct {
	Key   string `json:"key"`
	Value string `json:"value"` // display text, cut as in the seed (see Preview)
	Size  int    `json:"size"`  // true size of the display text in bytes
	// Version is the value's version, HLC/ORIGIN, when the node keeps
	// versions.
	Version string `json:"version,omitempty"`
	// Misplaced marks a key on a node that is not among its owners.
	Misplaced bool `json:"misplaced,omitempty"`
}

// Class is the state of the lessons beyond the seed, as the page shows it.
type Class struct {
	// Replicas, ReadQuorum and WriteQuorum are N, R and W; Overlap tells
	// whether R + W > N (every read meets the latest acknowledged write).
	Replicas    int  `json:"n"`
	ReadQuorum  int  `json:"r"`
	WriteQuorum int  `json:"w"`
	Overlap     bool `json:"overlap"`
	// ReadRepair is "off", "async" or "sync"; HintedHandoff and
	// AntiEntropy (an interval such as "30s", "" when off) name the other
	// repairs that run.
	ReadRepair    string `json:"read_repair,omitempty"`
	HintedHandoff bool   `json:"hinted_handoff,omitempty"`
	AntiEntropy   string `json:"anti_entropy,omitempty"`
	// Divergent counts the keys whose replicas differ, as anti-entropy
	// last found them.
	Divergent int `json:"divergent"`
	// PinnedRead names the node reads are pinned to (the instructor makes
	// a stale read happen on cue), "" when none.
	PinnedRead string `json:"pinned_read,omitempty"`
	// Misplaced counts keys on a node that is not among their owners, over
	// the whole class; Keys is how many keys the proxy saw in all.
	Misplaced int `json:"misplaced"`
	Keys      int `json:"keys"`
	// Rebalance is the rebalance in progress or last run; nil when none ran.
	Rebalance *Rebalance `json:"rebalance,omitempty"`
	// Check is the linearizability check in progress or last run.
	Check *Check `json:"check,omitempty"`
	// Locked tells whether the class admits only known nodes.
	Locked bool `json:"locked,omitempty"`
}

// Rebalance is a rebalance's progress.
type Rebalance struct {
	Running bool  `json:"running"`
	Moved   int   `json:"moved"` // keys copied to their owners and removed from their old holder
	Total   int   `json:"total"` // keys misplaced when it started
	Bytes   int64 `json:"bytes"` // bytes of values moved
	// Waiting names the down nodes whose keys wait until they are up or
	// kicked.
	Waiting []string `json:"waiting,omitempty"`
	Error   string   `json:"error,omitempty"`
}

// Check is a linearizability check's progress and verdict.
type Check struct {
	Running bool   `json:"running"`
	Ops     int    `json:"ops"`
	Verdict string `json:"verdict,omitempty"` // "LINEARIZABLE", "NOT LINEARIZABLE", "NO VERDICT"
	// Explanation is the smallest anomaly in words, when not linearizable.
	Explanation string `json:"explanation,omitempty"`
}

// Fault is the instructor's fault on the proxy's calls to one node.
type Fault struct {
	DelayMS int     `json:"delay_ms,omitempty"` // added before each call
	Drop    float64 `json:"drop,omitempty"`     // fraction of calls failed at random, 0..1
	Pause   bool    `json:"pause,omitempty"`    // every call hangs until the timeout
}

// Second is one second of the proxy's answers to clients.
type Second struct {
	T    int64 `json:"t"`    // Unix seconds
	OK   int   `json:"ok"`   // answers below 500 (a 404 is an answer)
	Fail int   `json:"fail"` // 5xx answers: the class was unavailable
	// Faulted names the nodes with a fault during that second.
	Faulted []string `json:"faulted,omitempty"`
}

// Batch is a TypeEvents message: events in publish order.
type Batch struct {
	Type   string  `json:"type"` // always TypeEvents
	Events []Event `json:"events"`
}

// Event is one change. Which fields are set depends on Type:
//
//	put:     Node, Key, Value, Size, Count
//	delete:  Node, Key, Count
//	reset:   Node, Count (0)
//	request: Op, Key, Nodes, Result, Status, Error
//	node:    Change, View (the node's new state, without keys); Order
//	         on a join, leave or kick (optional: the node order after it)
//	mode:    Mode; Placement and Replicas (optional: as in Snapshot)
//	tunnel:  Tunnel
//	class:   Class (the whole of it, replacing the last)
//	fault:   Node, Fault (nil: cleared)
//	second:  Second
//	misplaced: Node, Count (the node's misplaced keys), Keys (which of its
//	         listed keys are misplaced; replaces the marks on them)
type Event struct {
	Type   string    `json:"type"`
	Time   int64     `json:"t"` // Unix milliseconds
	Node   string    `json:"node,omitempty"`
	Key    string    `json:"key,omitempty"`
	Value  string    `json:"value,omitempty"`
	Size   int       `json:"size,omitempty"`
	Count  int       `json:"count,omitempty"`
	Op     string    `json:"op,omitempty"`     // "PUT", "GET", "DELETE"
	Nodes  []string  `json:"nodes,omitempty"`  // nodes that served a request
	Result string    `json:"result,omitempty"` // "ok", "hit", "miss", "error", "late", "stale"
	Status int       `json:"status,omitempty"` // HTTP status returned to the client
	Error  string    `json:"error,omitempty"`
	Change string    `json:"change,omitempty"`
	View   *NodeView `json:"view,omitempty"`
	Mode   string    `json:"mode,omitempty"`
	Tunnel *Tunnel   `json:"tunnel,omitempty"`
	// Order is the whole node order after a membership change (join,
	// leave, kick): the page shows each node's position in it, for "mod
	// N" by hand. Without it the page appends a joined node at the end
	// until the next snapshot.
	Order []string `json:"order,omitempty"`
	// Placement and Replicas travel on a mode event when the instructor
	// changes the placement (see Snapshot); absent, they are unchanged.
	Placement string `json:"placement,omitempty"`
	Replicas  int    `json:"replicas,omitempty"`
	// Version is a put's or a delete's version (put, delete and request
	// events), HLC/ORIGIN.
	Version string `json:"version,omitempty"`
	// Stale, on a request event, says that a read returned an older
	// version than one the proxy knows was acknowledged, e.g. "kv1 stale:
	// 41 < 44" (the result is then "stale").
	Stale string `json:"stale,omitempty"`
	// Misplaced, on a GET request that missed on its owner, names the node
	// that holds the key (X-Kvclass-Misplaced).
	Misplaced string `json:"misplaced,omitempty"`
	// Class, Fault, Second and Keys travel on class, fault, second and
	// misplaced events.
	Class  *Class   `json:"class,omitempty"`
	Fault  *Fault   `json:"fault,omitempty"`
	Second *Second  `json:"second,omitempty"`
	Keys   []string `json:"keys,omitempty"`
}

// Tunnel is a node's ngrok tunnel state.
type Tunnel struct {
	State string `json:"state"` // "connecting", "online", "reconnecting", "offline"
	URL   string `json:"url,omitempty"`
	Error string `json:"error,omitempty"`
}
