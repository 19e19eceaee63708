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
	Placement string     `json:"placement,omitempty"`
	Replicas  int        `json:"replicas,omitempty"`
	Join      string     `json:"join,omitempty"` // the line students paste (proxy only)
	Limit     int        `json:"limit"`          // at most this many keys per node are listed
	Tunnel    *Tunnel    `json:"tunnel,omitempty"`
	Nodes     []NodeView `json:"nodes"` // in the node order: Nodes[i] is position i of "mod N"
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
}

// KeyView is one key and the display form of its value.
type KeyView struct {
	Key   string `json:"key"`
	Value string `json:"value"` // display text, cut as in the seed (see Preview)
	Size  int    `json:"size"`  // true size of the display text in bytes
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
	Result string    `json:"result,omitempty"` // "ok", "hit", "miss", "error"
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
}

// Tunnel is a node's ngrok tunnel state.
type Tunnel struct {
	State string `json:"state"` // "connecting", "online", "reconnecting", "offline"
	URL   string `json:"url,omitempty"`
	Error string `json:"error,omitempty"`
}
