package proxy

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/kvclass/kvclass/internal/testwait"
	"github.com/kvclass/kvclass/kvapi"
	"github.com/kvclass/kvclass/node"
	"github.com/kvclass/kvclass/placement"
)

// admin sends an instructor's request with the test proxies' admin token.
func admin(t testing.TB, p *Proxy, path, body string) reply {
	t.Helper()
	req, _ := http.NewRequest("POST", p.LocalURL()+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer admin-secret")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return reply{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

func TestExplainSaysWhyAKeyIsWhereItIs(t *testing.T) {
	nodes, _ := startNodes(t, 3)
	p := startProxy(t, Config{File: configFor(Sharding, nodes)})
	for i, key := range []string{"key-7", "a&b #c+d%/e f", "ключ"} {
		r := do(t, "GET", p.LocalURL()+"/placement/explain?key="+url.QueryEscape(key), "")
		var e explanation
		if r.status != 200 || json.Unmarshal([]byte(r.body), &e) != nil {
			t.Fatalf("%q: %d %s", key, r.status, r.body)
		}
		want := placement.SeedOwner(key, 3)
		if e.Key != key || e.Primary != nodes[want].Name() || e.Position != want || e.Modulo == nil || e.Modulo.Remainder != want {
			t.Fatalf("%q: %+v, want %s at %d", key, e, nodes[want].Name(), want)
		}
		if i == 0 && e.Arithmetic != `int(SHA-256("key-7")) mod 3 = 0` {
			t.Errorf("arithmetic %q", e.Arithmetic)
		}
		// The key is stored where the explanation says.
		if r := put(t, p.LocalURL(), key, `1`); r.header.Get(kvapi.NodeHeader) != e.Primary {
			t.Fatalf("%q stored on %s, explained on %s", key, r.header.Get(kvapi.NodeHeader), e.Primary)
		}
	}
	if r := do(t, "GET", p.LocalURL()+"/placement/explain", ""); r.status != 400 {
		t.Fatalf("no key: %d %s", r.status, r.body)
	}
}

func TestWhatIfCountsTheKeysThatWouldMove(t *testing.T) {
	nodes, _ := startNodes(t, 3)
	p := startProxy(t, Config{File: configFor(Sharding, nodes)})
	var keys []string
	for i := range 300 {
		k := "k" + strconv.Itoa(i)
		keys = append(keys, k)
		if r := put(t, p.LocalURL(), k, `1`); r.status != 200 {
			t.Fatal(r.body)
		}
	}
	r := do(t, "GET", p.LocalURL()+"/placement/whatif?join=kv4", "")
	var got whatIfAnswer
	if r.status != 200 || json.Unmarshal([]byte(r.body), &got) != nil {
		t.Fatalf("%d %s", r.status, r.body)
	}
	// The same forecast, computed here from the placement package.
	want, err := placement.WhatIf(keys, []string{"kv1", "kv2", "kv3"}, placement.Config{}, placement.Change{Join: "kv4", Static: 3})
	if err != nil {
		t.Fatal(err)
	}
	if got.Keys != 300 || got.Moved != want.Moved || len(got.MovedKeys) != want.Moved || got.Ideal != 0.25 {
		t.Fatalf("what-if %+v, want %+v", got.Movement, want.Movement)
	}
	ring := got.ByPlacement[placement.Ring]
	if got.Fraction < 0.6 || ring.Fraction > 0.45 {
		t.Fatalf("modulo moves %.2f, ring %.2f: the lesson is lost", got.Fraction, ring.Fraction)
	}
	for _, bad := range []string{"", "?join=kv4&leave=kv1", "?join=bad%20name", "?leave=nobody"} {
		if r := do(t, "GET", p.LocalURL()+"/placement/whatif"+bad, ""); r.status != 400 {
			t.Errorf("whatif%s: %d %s", bad, r.status, r.body)
		}
	}
}

func TestPlacementSwitchedLiveAndKeptAcrossARestart(t *testing.T) {
	nodes, _ := startNodes(t, 3)
	state, err := LoadState(filepath.Join(t.TempDir(), "state.json"), "class-code", "admin-secret-token")
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{File: configFor(Sharding, nodes), State: state, AdminToken: "admin-secret"}
	p := startProxy(t, cfg)
	if r := admin(t, p, "/admin/placement", `{"placement": "rendezvous", "replicas": 2}`); r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	if r := admin(t, p, "/admin/placement", `{"placement": "chaos"}`); r.status != 400 {
		t.Fatalf("bad placement: %d %s", r.status, r.body)
	}
	pt, _ := placement.New(placement.Config{Strategy: placement.Rendezvous, Replicas: 2}, []string{"kv1", "kv2", "kv3"})
	owners := func(k string) string {
		var names []string
		for _, i := range pt.Owners(k, nil) {
			names = append(names, pt.Node(i))
		}
		return strings.Join(names, ",")
	}
	byName := map[string]*node.Node{}
	for _, n := range nodes {
		byName[n.Name()] = n
	}
	for i := range 20 {
		k := "key-" + strconv.Itoa(i)
		r := put(t, p.LocalURL(), k, `1`)
		// The answer names the owners that stored it within the write's
		// grace (a slow one is reported late); every owner gets it.
		got := r.header.Get(kvapi.NodeHeader)
		if r.status != 200 || got == "" {
			t.Fatalf("put %s: %d via %q", k, r.status, got)
		}
		for _, n := range strings.Split(got, ",") {
			if !slices.Contains(strings.Split(owners(k), ","), n) {
				t.Fatalf("%s stored on %q, want among %q", k, got, owners(k))
			}
		}
		for _, o := range strings.Split(owners(k), ",") {
			testwait.For(t, k+" on "+o, func() bool { _, ok := byName[o].Store().Get(k); return ok })
		}
		for _, n := range nodes {
			if _, ok := n.Store().Get(k); ok && !strings.Contains(owners(k), n.Name()) {
				t.Fatalf("%s is on %s, not one of its owners %s", k, n.Name(), owners(k))
			}
		}
	}
	// A restarted proxy keeps the placement the instructor set live.
	second, err := New(Config{File: configFor(Sharding, nodes), State: state})
	if err != nil {
		t.Fatal(err)
	}
	if got := second.table.Load().place.Config(); got.Strategy != placement.Rendezvous || got.Replicas != 2 {
		t.Fatalf("after a restart: %+v", got)
	}
	second.abort()
}
