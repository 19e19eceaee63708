package check

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"
)

// Kinds of operation in a history.
const (
	// OpPut is a POST /put?key=K with {"value": V}.
	OpPut = "put"
	// OpGet is a GET /get?key=K.
	OpGet = "get"
)

// Op is one operation of a recorded history: a client's put or get through
// the proxy, with when it was called and when it returned.
type Op struct {
	// Client is the client that issued it, from 0.
	Client int `json:"client"`
	// Kind is OpPut or OpGet.
	Kind string `json:"op"`
	// Key is the key it wrote or read.
	Key string `json:"key"`
	// Value is, for a put, the value written; for a get that found the key,
	// the value read (a JSON string as itself, any other JSON value as its
	// JSON text).
	Value string `json:"value,omitempty"`
	// Found is set on a get that answered 200 with a value.
	Found bool `json:"found,omitempty"`
	// Call and Return are when the request started and when its answer had
	// been read, on the monotonic clock, relative to the run's start.
	Call   time.Duration `json:"call_ns"`
	Return time.Duration `json:"return_ns"`
	// Status is the HTTP status; 0 when no answer came.
	Status int `json:"status"`
	// Error is why the operation failed: the answer's "error" field,
	// "timeout", or a transport error. Empty on success.
	Error string `json:"error,omitempty"`
	// Timeout is set when the request timed out.
	Timeout bool `json:"timeout,omitempty"`
	// NotSent is set when the connection could not even be opened.
	NotSent bool `json:"not_sent,omitempty"`
	// Edge is ngrok's error code when ngrok's edge answered instead of the
	// proxy (the request never reached it).
	Edge string `json:"ngrok_error,omitempty"`
	// Nodes are the node(s) that served it, from X-Kvclass-Node.
	Nodes []string `json:"nodes,omitempty"`
	// Version is the X-Kvclass-Version of the answer, when it had one.
	Version string `json:"version,omitempty"`
}

// Outcome is what an operation's answer proves about its effect.
type Outcome int

const (
	// Done: the operation took effect (a put stored its value; a get read
	// a value or found the key absent).
	Done Outcome = iota
	// NotApplied: the operation certainly had no effect. A failed get is
	// always NotApplied: it is left out of the checked history.
	NotApplied
	// MaybeApplied: a put whose answer does not say whether it was stored.
	// It is checked as possibly stored at any time from its call to the end
	// of the history (Porcupine's usual treatment of an operation that
	// never returned), which never makes a linearizable system look
	// otherwise.
	MaybeApplied
)

// String names the outcome.
func (o Outcome) String() string {
	switch o {
	case Done:
		return "done"
	case NotApplied:
		return "not applied"
	default:
		return "maybe applied"
	}
}

// Outcome classifies the operation's answer.
//
// A get counts when it answered 200 with a value or 404 (the key is absent);
// any other get is NotApplied and dropped from the check: a read that
// failed tells nothing.
//
// A put is Done on 200. It is NotApplied only when the answer proves the
// value was not stored:
//   - the connection could not be opened (nothing was sent);
//   - ngrok's edge answered with a 4xx (rate limit, monthly cap, endpoint
//     offline): the request never reached the proxy;
//   - any other 4xx: the proxy or node refused the request before storing
//     (400 bad request, 405, 409 newer version stored, 413 too large…);
//   - 503 saying a node "is down" or that there are "no nodes": the proxy
//     did not call any node;
//   - 507: the node was full and refused to store.
//
// Everything else is MaybeApplied: a timeout or a transport error after
// sending, 502 (the proxy's call to a node failed or timed out: the node
// may have stored the value and answered too late), 503 "write quorum not
// reached" (some replicas may have stored it), any other 5xx, a 3xx, or an
// unrecognised answer. When unsure, MaybeApplied is the safe side: it can
// hide an anomaly but never invent one.
func (o Op) Outcome() Outcome {
	if o.Kind == OpGet {
		if o.Edge == "" && ((o.Status == http.StatusOK && o.Found) || o.Status == http.StatusNotFound) {
			return Done
		}
		return NotApplied
	}
	switch {
	case o.Status == http.StatusOK && o.Edge == "":
		return Done
	case o.Status == 0:
		if o.NotSent {
			return NotApplied
		}
		return MaybeApplied
	case o.Edge != "":
		if o.Status >= 400 && o.Status < 500 {
			return NotApplied
		}
		return MaybeApplied
	case o.Status >= 400 && o.Status < 500:
		return NotApplied
	case o.Status == http.StatusInsufficientStorage:
		return NotApplied
	case o.Status == http.StatusServiceUnavailable:
		e := strings.ToLower(o.Error)
		if strings.Contains(e, "quorum") {
			return MaybeApplied
		}
		if strings.Contains(e, " is down") || strings.Contains(e, "no nodes") || strings.Contains(e, "every node is down") {
			return NotApplied
		}
		return MaybeApplied
	default:
		return MaybeApplied
	}
}

// seconds writes a time of the history as "7.967 s".
func seconds(d time.Duration) string {
	return fmt.Sprintf("%.3f s", d.Seconds())
}

// nodeList writes nodes as the proxy's header does: "kv2,kv3".
func nodeList(nodes []string) string { return strings.Join(nodes, ",") }

// describe writes the operation for a list: "PUT key-1=c0-3 [1.200–1.250 s, kv1]".
func (o Op) describe() string {
	var b strings.Builder
	if o.Kind == OpPut {
		fmt.Fprintf(&b, "PUT %s=%s", o.Key, o.Value)
	} else {
		fmt.Fprintf(&b, "GET %s", o.Key)
		if o.Found {
			fmt.Fprintf(&b, " → %s", o.Value)
		} else if o.Status == http.StatusNotFound {
			b.WriteString(" → not found")
		}
	}
	fmt.Fprintf(&b, " [%.3f–%.3f s", o.Call.Seconds(), o.Return.Seconds())
	if len(o.Nodes) > 0 {
		b.WriteString(", " + nodeList(o.Nodes))
	}
	switch o.Outcome() {
	case MaybeApplied:
		fmt.Fprintf(&b, ", outcome unknown: %s", o.failure())
	case NotApplied:
		fmt.Fprintf(&b, ", failed: %s", o.failure())
	}
	b.WriteString("]")
	return b.String()
}

// failure names why the operation failed: "502", "timeout", "ERR_NGROK_734".
func (o Op) failure() string {
	switch {
	case o.Edge != "":
		return o.Edge
	case o.Timeout:
		return "timeout"
	case o.Status == 0:
		return "no answer"
	default:
		return fmt.Sprint(o.Status)
	}
}

// label is the operation's failure as counted in Result.Errors.
func (o Op) label() string {
	switch {
	case o.Edge != "":
		return o.Edge
	case o.Timeout:
		return "timeout"
	case o.Status == 0:
		return "conn"
	default:
		return fmt.Sprint(o.Status)
	}
}

// failed reports whether the operation did not get its expected answer
// (200, or 404 for a get).
func (o Op) failed() bool {
	if o.Edge != "" {
		return true
	}
	if o.Kind == OpGet {
		return !(o.Status == http.StatusOK && o.Found) && o.Status != http.StatusNotFound
	}
	return o.Status != http.StatusOK
}

// sortOps orders a history by call time, then return time, then client.
func sortOps(ops []Op) {
	sort.SliceStable(ops, func(i, j int) bool {
		a, b := ops[i], ops[j]
		if a.Call != b.Call {
			return a.Call < b.Call
		}
		if a.Return != b.Return {
			return a.Return < b.Return
		}
		return a.Client < b.Client
	})
}
