package web

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/kvclass/kvclass/kvapi"
)

// This file holds the fixture of the browser tests: a small in-memory class
// (nodes and their keys) behind a real test server that mounts ServePage,
// Assets, a real Hub and the JSON search endpoint, as the node and the proxy
// do. The browser itself comes from package webtest.

// testClass is the state the test server shows. Its methods change the
// state and publish the matching event, as a node or the proxy would.
type testClass struct {
	hub *Hub

	mu    sync.Mutex
	snap  Snapshot // Role, Mode, Rule, Join, Limit, Tunnel; Nodes is built from nodes
	nodes []*testNode

	// explain (under mu) answers GET /placement/explain as the proxy
	// would; nil, that path is 404 (a node, an older proxy).
	explain http.HandlerFunc
	// admin (under mu) answers /admin/ as the proxy would (adminStub);
	// whatif answers GET /placement/whatif. Nil, they are 404.
	admin  http.Handler
	whatif http.HandlerFunc
	// joinPage, when set before serve, is mounted at /join and /join/.
	joinPage *JoinPage
}

// testNode is one node of a testClass: its view and all its keys.
type testNode struct {
	view      NodeView
	keys      []testPair      // newest first
	misplaced map[string]bool // keys marked misplaced in the snapshot
}

// testPair is one stored key with its raw JSON value.
type testPair struct {
	key, raw string
}

// newTestClass returns a class with the given header and nodes (by name,
// all up, no keys) and a running hub; the hub closes when the test ends.
func newTestClass(t testing.TB, snap Snapshot, names ...string) *testClass {
	c := &testClass{snap: snap}
	for _, n := range names {
		c.nodes = append(c.nodes, &testNode{view: NodeView{Name: n, URL: "http://127.0.0.1:50" + n[len(n)-1:], Status: "up"}})
	}
	c.hub = NewHub(HubOptions{Snapshot: c.snapshot})
	hub := c.hub
	t.Cleanup(hub.Close)
	return c
}

// serve starts the test server of the page and returns its URL.
func (c *testClass) serve(t testing.TB) string {
	mux := http.NewServeMux()
	mux.HandleFunc("/state", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("format") == "json" {
			c.search(w, r)
			return
		}
		ServePage(w, r)
	})
	mux.Handle("/assets/", Assets())
	mux.HandleFunc("/ws", func(w http.ResponseWriter, r *http.Request) {
		c.currentHub().ServeHTTP(w, r)
	})
	mux.HandleFunc("/placement/explain", func(w http.ResponseWriter, r *http.Request) {
		c.mu.Lock()
		explain := c.explain
		c.mu.Unlock()
		if explain == nil {
			kvapi.WriteError(w, kvapi.ErrNoRoute)
			return
		}
		explain(w, r)
	})
	mux.HandleFunc("/admin/", func(w http.ResponseWriter, r *http.Request) {
		c.mu.Lock()
		admin := c.admin
		c.mu.Unlock()
		if admin == nil {
			kvapi.WriteError(w, kvapi.ErrNoRoute)
			return
		}
		admin.ServeHTTP(w, r)
	})
	mux.HandleFunc("/placement/whatif", func(w http.ResponseWriter, r *http.Request) {
		c.mu.Lock()
		whatif := c.whatif
		c.mu.Unlock()
		if whatif == nil {
			kvapi.WriteError(w, kvapi.ErrNoRoute)
			return
		}
		whatif(w, r)
	})
	if c.joinPage != nil {
		mux.Handle("/join", c.joinPage)
		mux.Handle("/join/", c.joinPage)
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL
}

// currentHub returns the hub that serves /ws now.
func (c *testClass) currentHub() *Hub {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hub
}

// publish publishes ev on the current hub.
func (c *testClass) publish(ev Event) {
	c.currentHub().Publish(ev)
}

// restartHub serves /ws with a new hub made with opts (and the class's
// Snapshot) and closes the old one, as a restarted server would: the page
// loses its connection and must resync from the new hub.
func (c *testClass) restartHub(t testing.TB, opts HubOptions) {
	opts.Snapshot = c.snapshot
	hub := NewHub(opts)
	t.Cleanup(hub.Close)
	c.mu.Lock()
	old := c.hub
	c.hub = hub
	c.mu.Unlock()
	old.Close()
}

// snapshot is the hub's Snapshot func.
func (c *testClass) snapshot() Snapshot {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.snap
	s.Type = TypeSnapshot
	s.Nodes = nil
	s.Seconds = slices.Clone(s.Seconds)
	for _, n := range c.nodes {
		v := n.view
		v.Count = len(n.keys)
		for _, p := range n.keys[:min(len(n.keys), s.Limit)] {
			text, size := Preview(p.raw)
			v.Keys = append(v.Keys, KeyView{Key: p.key, Value: text, Size: size, Misplaced: n.misplaced[p.key]})
		}
		s.Nodes = append(s.Nodes, v)
	}
	return s
}

func (c *testClass) node(name string) *testNode {
	for _, n := range c.nodes {
		if n.view.Name == name {
			return n
		}
	}
	return nil
}

// store stores key on node without publishing (for setting up a snapshot)
// and returns the node's key count.
func (c *testClass) store(node, key, raw string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.node(node)
	n.keys = slices.DeleteFunc(n.keys, func(p testPair) bool { return p.key == key })
	n.keys = slices.Insert(n.keys, 0, testPair{key, raw})
	return len(n.keys)
}

// put stores key on node and publishes the put.
func (c *testClass) put(node, key, raw string) {
	count := c.store(node, key, raw)
	text, size := Preview(raw)
	c.publish(Event{Type: EventPut, Node: node, Key: key, Value: text, Size: size, Count: count})
}

// setStatus marks node up or down and publishes the change.
func (c *testClass) setStatus(node, status, reason string) {
	c.mu.Lock()
	n := c.node(node)
	n.view.Status, n.view.Reason = status, reason
	v := n.view
	v.Count = len(n.keys)
	c.mu.Unlock()
	c.publish(Event{Type: EventNode, Node: node, Change: status, View: &v})
}

// join adds a node and publishes the join.
func (c *testClass) join(name, url string) {
	c.mu.Lock()
	n := &testNode{view: NodeView{Name: name, URL: url, Status: "up"}}
	c.nodes = append(c.nodes, n)
	v := n.view
	c.mu.Unlock()
	c.publish(Event{Type: EventNode, Node: name, Change: ChangeJoin, View: &v})
}

// kick removes a node and publishes the kick.
func (c *testClass) kick(name string) {
	c.mu.Lock()
	c.nodes = slices.DeleteFunc(c.nodes, func(n *testNode) bool { return n.view.Name == name })
	c.mu.Unlock()
	c.publish(Event{Type: EventNode, Node: name, Change: ChangeKick, View: &NodeView{Name: name}})
}

// search answers GET /state?format=json&node=NAME&q=TEXT as the proxy does:
// at most Limit keys of the node that contain TEXT, newest first, their
// number, and their raw values.
func (c *testClass) search(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.node(q.Get("node"))
	if n == nil {
		kvapi.WriteError(w, kvapi.Errorf(http.StatusNotFound, "no such node"))
		return
	}
	if n.view.Status == "down" {
		kvapi.WriteError(w, kvapi.Errorf(http.StatusServiceUnavailable, "node "+n.view.Name+" is down"))
		return
	}
	var b strings.Builder
	count := 0
	for _, p := range n.keys {
		if !strings.Contains(p.key, q.Get("q")) {
			continue
		}
		count++
		if count > c.snap.Limit {
			continue
		}
		if count > 1 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(p.key)
		b.Write(k)
		b.WriteByte(':')
		b.WriteString(p.raw)
	}
	name, _ := json.Marshal(n.view.Name)
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{"name":` + string(name) + `,"count":` + strconv.Itoa(count) + `,"data":{` + b.String() + `}}`))
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// jsCard is a JavaScript expression for the card of the named node.
func jsCard(name string) string {
	return `document.querySelector('.card[data-node=' + JSON.stringify(` + jsString(name) + `) + ']')`
}
