package proxy_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kvclass/kvclass/kvapi"
	"github.com/kvclass/kvclass/node"
	"github.com/kvclass/kvclass/placement"
	"github.com/kvclass/kvclass/proxy"
)

// This file holds the fixture of the end-to-end tests: a real classroom, a
// proxy and nodes on ephemeral loopback ports, the nodes joining the proxy
// through its registry as students' nodes do, and a plain HTTP client that
// plays the class's curl.

// The test class's credentials: the code students join with, and the
// instructor's bearer token.
const (
	classCode  = "class-code"
	adminToken = "admin-secret"
)

// class is a running classroom: a proxy and the nodes that joined it.
type class struct {
	proxy  *proxy.Proxy
	client *http.Client
	nodes  []*student // in the proxy's order (by name)
}

// student is one joined node, with the way to stop it as Ctrl-C does.
type student struct {
	*node.Node
	// stop ends the node's context (it tells the proxy it is stopping) and
	// waits for its clean stop. It may be called more than once.
	stop func()
}

// startClass starts a proxy in mode and joins one node per name, one after
// another. Names must be given in the proxy's order (sorted by name, as
// kv1…kv9 are), so that c.nodes[placement.SeedOwner(key, n)] owns key. Everything
// stops when the test ends: the nodes first, then the proxy.
func startClass(t testing.TB, mode proxy.Mode, names ...string) *class {
	t.Helper()
	p, err := proxy.New(proxy.Config{
		Mode:           mode,
		Token:          classCode,
		AdminToken:     adminToken,
		AllowPrivate:   true,
		HealthInterval: 100 * time.Millisecond,
	})
	if err != nil {
		t.Fatalf("new proxy: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := p.Start(ctx); err != nil {
		cancel()
		t.Fatalf("start proxy: %v", err)
	}
	t.Cleanup(func() { cancel(); p.Wait() })
	c := &class{proxy: p, client: &http.Client{Timeout: 10 * time.Second}}
	t.Cleanup(c.client.CloseIdleConnections)
	for _, name := range names {
		c.join(t, name)
	}
	return c
}

// join starts a node called name that joins the class with its code.
func (c *class) join(t testing.TB, name string) *student {
	t.Helper()
	n, err := node.New(node.Config{Name: name, Join: c.proxy.LocalURL(), Token: classCode})
	if err != nil {
		t.Fatalf("new node %s: %v", name, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := n.Start(ctx); err != nil {
		cancel()
		t.Fatalf("node %s joins %s: %v", name, c.proxy.LocalURL(), err)
	}
	s := &student{Node: n}
	s.stop = sync.OnceFunc(func() {
		cancel()
		if err := n.Wait(); err != nil {
			t.Errorf("node %s stops: %v", name, err)
		}
	})
	t.Cleanup(s.stop)
	c.nodes = append(c.nodes, s)
	return s
}

// url returns the proxy's base URL: what the class curls.
func (c *class) url() string { return c.proxy.LocalURL() }

// owner returns the node that owns key under sharding.
func (c *class) owner(key string) *student {
	return c.nodes[placement.SeedOwner(key, len(c.nodes))]
}

// keyOwnedBy returns the first of prefix0, prefix1, … that the node at
// index i owns under sharding.
func (c *class) keyOwnedBy(t testing.TB, i int, prefix string) string {
	t.Helper()
	for j := range 10_000 {
		if k := prefix + strconv.Itoa(j); placement.SeedOwner(k, len(c.nodes)) == i {
			return k
		}
	}
	t.Fatalf("no key %s… owned by node %d of %d", prefix, i, len(c.nodes))
	return ""
}

// reply is an HTTP answer as a test reads it.
type reply struct {
	status int
	header http.Header
	served string // the X-Kvclass-Node header: who served it
	body   string
}

// do sends one request and reads the whole answer.
func (c *class) do(t testing.TB, method, u, body string, header http.Header) reply {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := c.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		t.Fatalf("%s %s: read the answer: %v", method, u, err)
	}
	return reply{status: resp.StatusCode, header: resp.Header, served: resp.Header.Get(kvapi.NodeHeader), body: string(b)}
}

// put stores key with the JSON value raw through base (the proxy or a node).
func (c *class) put(t testing.TB, base, key, raw string) reply {
	t.Helper()
	return c.do(t, http.MethodPost, base+"/put?key="+url.QueryEscape(key), `{"value": `+raw+`}`, nil)
}

// get reads key through base.
func (c *class) get(t testing.TB, base, key string) reply {
	t.Helper()
	return c.do(t, http.MethodGet, base+"/get?key="+url.QueryEscape(key), "", nil)
}

// del deletes key through base.
func (c *class) del(t testing.TB, base, key string) reply {
	t.Helper()
	return c.do(t, http.MethodDelete, base+"/delete?key="+url.QueryEscape(key), "", nil)
}

// mustPut is put that fails the test unless the proxy or node stored it.
func (c *class) mustPut(t testing.TB, base, key, raw string) reply {
	t.Helper()
	r := c.put(t, base, key, raw)
	if r.status != http.StatusOK {
		t.Fatalf("put %q at %s: %d %s", key, base, r.status, r.body)
	}
	return r
}

// admin sends an instructor's request to the proxy with the bearer token.
func (c *class) admin(t testing.TB, token, path, body string) reply {
	t.Helper()
	return c.do(t, http.MethodPost, c.url()+path, body, http.Header{"Authorization": {"Bearer " + token}})
}

// quote returns s as a JSON string: a value for put, or a literal for
// JavaScript.
func quote(s string) string {
	b, _ := json.Marshal(s) // a string always marshals
	return string(b)
}
