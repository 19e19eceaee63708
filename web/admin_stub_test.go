package web

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/kvclass/kvclass/kvapi"
)

// This file holds the stand-in of the proxy's side of the instructor's
// panel: an admin API that records every call and answers as the proxy
// does (docs/EVENTS.md, "The instructor's panel"), publishing on the
// class's hub the events the proxy would, and the class's lessons as the
// proxy keeps them.

// adminCall is one request the stub admin API received.
type adminCall struct {
	Method, Path, Query string
	Auth                string // the Authorization header
	ContentType         string
	Body                string // as sent ("" when none)
}

// adminStub answers /admin/ for a testClass.
type adminStub struct {
	c *testClass

	mu    sync.Mutex
	token string
	calls []adminCall
}

// newAdminStub mounts an admin API with the given token on c.
func newAdminStub(c *testClass, token string) *adminStub {
	s := &adminStub{c: c, token: token}
	c.mu.Lock()
	c.admin = s
	c.mu.Unlock()
	return s
}

// setToken changes the token the stub accepts (the instructor restarted
// the proxy with another).
func (s *adminStub) setToken(token string) {
	s.mu.Lock()
	s.token = token
	s.mu.Unlock()
}

// log returns the calls so far.
func (s *adminStub) log() []adminCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.calls)
}

// last returns the latest call, or a zero call when there is none.
func (s *adminStub) last() adminCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.calls) == 0 {
		return adminCall{}
	}
	return s.calls[len(s.calls)-1]
}

func (s *adminStub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 4<<10))
	call := adminCall{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Auth: r.Header.Get("Authorization"),
		ContentType: r.Header.Get("Content-Type"), Body: string(body)}
	s.mu.Lock()
	s.calls = append(s.calls, call)
	token := s.token
	s.mu.Unlock()
	if call.Auth != "Bearer "+token {
		w.Header().Set("WWW-Authenticate", `Bearer realm="kvclass admin"`)
		kvapi.WriteError(w, kvapi.Errorf(http.StatusUnauthorized, "This needs the instructor's admin token: Authorization: Bearer TOKEN."))
		return
	}
	var req struct {
		Mode          string  `json:"mode"`
		Name          string  `json:"name"`
		Placement     string  `json:"placement"`
		VNodes        int     `json:"vnodes"`
		Replicas      int     `json:"replicas"`
		ReadQuorum    int     `json:"read_quorum"`
		WriteQuorum   int     `json:"write_quorum"`
		ReadRepair    string  `json:"read_repair"`
		HintedHandoff bool    `json:"hinted_handoff"`
		AntiEntropy   string  `json:"anti_entropy"`
		PinRead       string  `json:"pin_read"`
		Node          string  `json:"node"`
		DelayMS       int     `json:"delay_ms"`
		Drop          float64 `json:"drop"`
		Pause         bool    `json:"pause"`
		Duration      string  `json:"duration"`
		Clients       int     `json:"clients"`
		Keys          int     `json:"keys"`
	}
	if len(body) > 0 {
		if err := json.Unmarshal(body, &req); err != nil {
			kvapi.WriteError(w, kvapi.Errorf(http.StatusBadRequest, "Malformed body: "+err.Error()+"."))
			return
		}
	}
	c := s.c
	route := r.Method + " " + r.URL.Path
	switch route {
	case "POST /admin/mode":
		c.mu.Lock()
		c.snap.Mode = req.Mode
		c.mu.Unlock()
		c.publish(Event{Type: EventMode, Mode: req.Mode})
		kvapi.WriteMessage(w, "Mode is now "+req.Mode+".")
	case "POST /admin/placement":
		c.mu.Lock()
		c.snap.Placement, c.snap.Replicas = req.Placement, req.Replicas
		mode := c.snap.Mode
		c.mu.Unlock()
		c.publish(Event{Type: EventMode, Mode: mode, Placement: req.Placement, Replicas: req.Replicas})
		kvapi.WriteMessage(w, fmt.Sprintf("Placement is now %s (%d vnodes, %d replicas).", req.Placement, req.VNodes, req.Replicas))
	case "POST /admin/replication":
		if req.ReadQuorum > req.Replicas || req.WriteQuorum > req.Replicas {
			kvapi.WriteError(w, kvapi.Errorf(http.StatusBadRequest, "R and W cannot exceed N."))
			return
		}
		c.updateClass(func(cl *Class) {
			cl.Replicas, cl.ReadQuorum, cl.WriteQuorum = req.Replicas, req.ReadQuorum, req.WriteQuorum
			cl.Overlap = req.ReadQuorum+req.WriteQuorum > req.Replicas
			cl.ReadRepair, cl.HintedHandoff, cl.PinnedRead = req.ReadRepair, req.HintedHandoff, req.PinRead
			cl.AntiEntropy = req.AntiEntropy
			if cl.AntiEntropy == "0" {
				cl.AntiEntropy = ""
			}
		})
		kvapi.WriteMessage(w, fmt.Sprintf("N=%d, R=%d, W=%d; read repair %s.", req.Replicas, req.ReadQuorum, req.WriteQuorum, req.ReadRepair))
	case "POST /admin/rebalance":
		var total int
		c.updateClass(func(cl *Class) {
			total = cl.Misplaced
			cl.Rebalance = &Rebalance{Running: true, Total: total}
		})
		kvapi.WriteMessage(w, fmt.Sprintf("Rebalance started: %d keys to move.", total))
	case "POST /admin/fault":
		if c.nodeView(req.Node) == nil {
			kvapi.WriteError(w, kvapi.Errorf(http.StatusNotFound, "No node "+req.Node+"."))
			return
		}
		c.setFault(req.Node, &Fault{DelayMS: req.DelayMS, Drop: req.Drop, Pause: req.Pause})
		kvapi.WriteMessage(w, "Fault set on "+req.Node+".")
	case "DELETE /admin/fault":
		if name := r.URL.Query().Get("node"); name != "" {
			if c.nodeView(name) == nil {
				kvapi.WriteError(w, kvapi.Errorf(http.StatusNotFound, "No node "+name+"."))
				return
			}
			c.setFault(name, nil)
			kvapi.WriteMessage(w, "Fault cleared on "+name+".")
			return
		}
		var cleared []string
		c.mu.Lock()
		for _, n := range c.nodes {
			if n.view.Fault != nil {
				cleared = append(cleared, n.view.Name)
			}
		}
		c.mu.Unlock()
		for _, name := range cleared {
			c.setFault(name, nil)
		}
		kvapi.WriteMessage(w, "Faults cleared: "+strings.Join(cleared, ", ")+".")
	case "POST /admin/check":
		c.updateClass(func(cl *Class) { cl.Check = &Check{Running: true} })
		kvapi.WriteMessage(w, fmt.Sprintf("Check started: %s, %d clients, %d keys.", req.Duration, req.Clients, req.Keys))
	case "POST /admin/lock", "POST /admin/unlock":
		locked := r.URL.Path == "/admin/lock"
		c.updateClass(func(cl *Class) { cl.Locked = locked })
		if locked {
			kvapi.WriteMessage(w, "The class is locked: only nodes that joined before may rejoin.")
		} else {
			kvapi.WriteMessage(w, "The class is open: new nodes may join with the class code.")
		}
	case "POST /admin/kick":
		if c.nodeView(req.Name) == nil {
			kvapi.WriteError(w, kvapi.Errorf(http.StatusNotFound, "Cannot kick "+req.Name+": no such node."))
			return
		}
		c.kick(req.Name)
		kvapi.WriteMessage(w, "Node "+req.Name+" removed.")
	case "POST /admin/reset":
		kvapi.WriteValue(w, http.StatusOK, map[string]any{"message": "Reset sent to every up node.", "nodes": map[string]string{}})
	default:
		kvapi.WriteError(w, kvapi.Errorf(http.StatusNotFound, "No such admin action: "+route+"."))
	}
}

// nodeView returns a copy of the named node's view, or nil.
func (c *testClass) nodeView(name string) *NodeView {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.node(name)
	if n == nil {
		return nil
	}
	v := n.view
	return &v
}

// updateClass changes the class's lessons and publishes the whole of them,
// as the proxy does.
func (c *testClass) updateClass(change func(*Class)) {
	c.mu.Lock()
	var cl Class
	if c.snap.Class != nil {
		cl = *c.snap.Class
	}
	change(&cl)
	c.snap.Class = &cl
	ev := Event{Type: EventClass, Class: &cl}
	c.mu.Unlock()
	c.publish(ev)
}

// setFault sets (nil: clears) a node's fault and publishes it.
func (c *testClass) setFault(node string, f *Fault) {
	c.mu.Lock()
	c.node(node).view.Fault = f
	c.mu.Unlock()
	c.publish(Event{Type: EventFault, Node: node, Fault: f})
}

// second adds one second of answers to the strip and publishes it.
func (c *testClass) second(s Second) {
	c.mu.Lock()
	c.snap.Seconds = append(c.snap.Seconds, s)
	c.mu.Unlock()
	c.publish(Event{Type: EventSecond, Second: &s})
}

// markMisplaced marks keys of node as misplaced (replacing its marks) and
// publishes the misplaced event, with the node's count.
func (c *testClass) markMisplaced(node string, count int, keys ...string) {
	c.mu.Lock()
	n := c.node(node)
	n.misplaced = map[string]bool{}
	for _, k := range keys {
		n.misplaced[k] = true
	}
	n.view.Misplaced = count
	c.mu.Unlock()
	c.publish(Event{Type: EventMisplaced, Node: node, Count: count, Keys: keys})
}

// whatIfAnswer is the stub's answer to GET /placement/whatif, in the
// proxy's shape.
func whatIfAnswerJSON(keys, moved int, ideal float64, movedKeys []string) map[string]any {
	move := func(m int, load float64) map[string]any {
		return map[string]any{"keys": keys, "moved": m, "fraction": float64(m) / float64(keys), "ideal": ideal,
			"load": map[string]any{"max": 0, "mean": 0, "max_over_mean": load}}
	}
	out := move(moved, 1.12)
	out["by_placement"] = map[string]any{"modulo": move(moved, 1.12), "ring": move(keys/4+1, 1.31), "rendezvous": move(keys/4, 1.05)}
	out["moved_keys"] = movedKeys
	return out
}
