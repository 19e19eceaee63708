package web

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/kvclass/kvclass/web/webtest"
)

// This file tests the page at the size of a class: 40 nodes on a 1920x1080
// projector (the tiles layout), a phone, an empty class, and the "why is
// this key here" explanations. The layout checks live in webtest, so the
// proxy's test with 40 really joined nodes runs the same ones.

// bigClass returns a class of the 40 webtest.Students in the proxy's node
// order (by name), with keys placed by the seed's rule, two nodes down, and
// its page's URL.
func bigClass(t *testing.T, mode string) (*testClass, []string) {
	names := webtest.Students()
	slices.Sort(names)
	rule := "owner = nodes[ int(SHA-256(key)) mod 40 ]"
	if mode == "replication" {
		rule = "a put goes to every up node (quorum 1); a get asks the nodes in order"
	}
	c := newTestClass(t, Snapshot{
		Role: "proxy", Mode: mode, Rule: rule,
		Join:  "kvclass node --join https://kvclass-demo.ngrok-free.dev --token 4711",
		Limit: KeysPerNode,
	}, names...)
	for i, n := range c.nodes {
		n.view.URL = fmt.Sprintf("https://%s.ngrok-free.dev", names[i])
	}
	down := map[string]string{"yulia": "missed heartbeats for 15s", "mohammed-hassan": "stopped"}
	for _, n := range c.nodes {
		if r, ok := down[n.view.Name]; ok {
			n.view.Status, n.view.Reason = "down", r
		}
	}
	for _, kv := range webtest.Classroom() {
		c.store(names[shardOf(kv.Key, len(names))], kv.Key, kv.Raw)
	}
	for i := range 700 {
		k := fmt.Sprintf("key-%d", i+100)
		c.store(names[shardOf(k, len(names))], k, fmt.Sprintf(`"value-%d"`, i+100))
	}
	return c, names
}

// feedOf publishes requests a class makes: under sharding each served by
// its key's owner, under replication puts served by every up node.
func feedOf(c *testClass, names []string, mode string) int {
	var up []string
	for _, n := range c.nodes {
		if n.view.Status == "up" {
			up = append(up, n.view.Name)
		}
	}
	owner := func(k string) []string { return []string{names[shardOf(k, len(names))]} }
	if mode == "replication" {
		owner = func(string) []string { return up }
	}
	longKey := "a/very/long/key?with=parameters&and=more&and=even-more-text-than-fits"
	evs := []Event{
		{Op: "PUT", Key: "key-1", Nodes: owner("key-1"), Result: "ok", Status: 200},
		{Op: "GET", Key: "user:42", Nodes: owner("user:42")[:1], Result: "hit", Status: 200},
		{Op: "PUT", Key: longKey, Nodes: owner(longKey), Result: "ok", Status: 200},
		{Op: "GET", Key: "key-99999", Result: "miss", Status: 404},
		{Op: "PUT", Key: "лекция", Nodes: owner("лекция"), Result: "ok", Status: 200},
		{Op: "GET", Key: "essay", Nodes: []string{"fatima-al-rashid"}, Result: "error", Status: 502,
			Error: "Node fatima-al-rashid failed: dial tcp 203.0.113.7:443: i/o timeout after 2s."},
		{Op: "DELETE", Key: "todo:1", Nodes: owner("todo:1"), Result: "ok", Status: 200},
		{Op: "PUT", Key: "key with spaces", Nodes: []string{"alexander-novik", "fatima-al-rashid", "konstantin-ivan"}, Result: "ok", Status: 200},
		{Op: "PUT", Key: "key-2", Nodes: owner("key-2"), Result: "error", Status: 503, Error: "Write quorum not reached: 1 of 2 nodes stored the key (yulia: down)."},
		{Op: "GET", Key: "greeting", Nodes: owner("greeting")[:1], Result: "hit", Status: 200},
	}
	for _, ev := range evs {
		ev.Type = EventRequest
		c.publish(ev)
	}
	return len(evs)
}

// openBig opens a 1920x1080 tab on url in lang, with the settled look of a
// screenshot (reduced motion, dark), and waits for the 40 tiles.
func openBig(t *testing.T, browser context.Context, url string, nodes int) (context.Context, *webtest.ConsoleLog) {
	ctx := webtest.NewTab(t, browser)
	console := webtest.RecordConsole(t, ctx)
	webtest.SetViewport(t, ctx, webtest.ProjectorWidth, webtest.ProjectorHeight)
	webtest.Do(t, ctx, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Features: []*emulation.MediaFeature{
			{Name: "prefers-reduced-motion", Value: "reduce"},
			{Name: "prefers-color-scheme", Value: "dark"},
		}})
		return err
	}))
	webtest.Do(t, ctx, chromedp.Navigate(url+"/state"))
	webtest.WaitTrue(t, ctx, fmt.Sprintf(`document.querySelector('#conn.live') && document.querySelectorAll('.tile[data-node]').length === %d`, nodes))
	return ctx, console
}

// testProjector: 40 nodes at 1920x1080 in English and Russian, under
// sharding and replication: every tile visible, nothing overflows, names
// whole and large; a put flashes its tile; the screenshot for the README.
func testProjector(t *testing.T, browser context.Context) {
	for _, mode := range []string{"sharding", "replication"} {
		t.Run(mode, func(t *testing.T) {
			c, names := bigClass(t, mode)
			url := c.serve(t)
			ctx, console := openBig(t, browser, url, len(names))
			feed := feedOf(c, names, mode)
			webtest.WaitEqual(t, ctx, `document.querySelectorAll('#feed li').length`, feed)
			if mode == "replication" {
				webtest.WaitTrue(t, ctx, `Array.from(document.querySelectorAll('#feed li')).some(li => li.textContent.replace(/\s+/g, ' ').trim() === 'PUT key-1 → 38 nodes')`)
			}
			// The position is the node order's index: #i of mod N.
			webtest.WaitEqual(t, ctx, webtest.JSTile(names[20])+`.querySelector('.t-index').textContent`, "#20")
			webtest.WaitEqual(t, ctx, webtest.JSTile("yulia")+`.classList.contains('down')`, true)
			webtest.WaitTrue(t, ctx, webtest.JSTile("yulia")+`.title.includes('missed heartbeats for 15s')`)
			for _, lang := range []string{"en", "ru"} {
				webtest.SetLang(t, ctx, lang)
				webtest.CheckProjector(t, ctx, len(names))
			}
			webtest.WaitEqual(t, ctx, webtest.JSTile("yulia")+`.querySelector('.t-status').textContent`, "недоступен")
			if mode == "replication" {
				webtest.WaitTrue(t, ctx, `Array.from(document.querySelectorAll('#feed li')).some(li => li.textContent.replace(/\s+/g, ' ').trim() === 'PUT key-1 → 38 узлов')`)
				webtest.WaitAnimations(t, ctx)
				webtest.Screenshot(t, ctx, "projector-40-replication-ru")
				webtest.SetLang(t, ctx, "en")
				noConsoleProblems(t, console)
				return
			}

			// A put to node #37 flashes its tile, which is in view.
			webtest.SetLang(t, ctx, "en")
			target := names[37]
			if webtest.Eval[bool](t, ctx, webtest.JSFlashed(target)) {
				t.Fatalf("%s flashes before any request", target)
			}
			c.put(target, "late-key", `"for #37"`)
			webtest.WaitTrue(t, ctx, webtest.JSFlashed(target))
			webtest.WaitTrue(t, ctx, webtest.JSTileVisible(target))
			webtest.WaitEqual(t, ctx, webtest.JSTile(target)+`.querySelector('.t-count').textContent`, fmt.Sprint(len(c.node(target).keys)))
			// A request flashes every node that served it.
			c.publish(Event{Type: EventRequest, Op: "GET", Key: "x", Nodes: []string{names[3]}, Result: "hit", Status: 200})
			webtest.WaitTrue(t, ctx, webtest.JSFlashed(names[3]))

			webtest.WaitAnimations(t, ctx)
			path := webtest.Screenshot(t, ctx, "projector-40")
			updateDoc(t, path, "projector-40.png")
			noConsoleProblems(t, console)
		})
	}
}

// updateDoc copies a screenshot into docs/ when KVCLASS_UPDATE_SCREENSHOT=1.
func updateDoc(t *testing.T, path, name string) {
	if os.Getenv("KVCLASS_UPDATE_SCREENSHOT") != "1" {
		return
	}
	png, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join("..", "docs", name), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// testTiles: the tiles layout's panel, its toggle, and the node order of
// membership events.
func testTiles(t *testing.T, browser context.Context) {
	c, names := bigClass(t, "sharding")
	url := c.serve(t)
	ctx, console := openBig(t, browser, url, len(names))

	// A click on a tile opens the node's keys in the panel, in place of
	// the feed; every tile stays in view.
	target := names[36]
	webtest.Do(t, ctx, chromedp.Click(chromedp.CSS(`.tile[data-node="`+target+`"]`)))
	webtest.WaitTrue(t, ctx, `!document.getElementById('detail').hidden && document.getElementById('feed-panel').hidden`)
	webtest.WaitEqual(t, ctx, `document.querySelector('#detail .card').dataset.node`, target)
	var want []string
	for _, p := range c.node(target).keys[:min(len(c.node(target).keys), KeysPerNode)] {
		want = append(want, p.key)
	}
	webtest.WaitEqual(t, ctx, jsKeys(target), want)
	webtest.WaitEqual(t, ctx, jsText(target, ".index"), "#36")
	webtest.CheckProjector(t, ctx, len(names))
	// The panel's filter box searches the node on the server.
	filter := `#detail .card[data-node="` + target + `"] .filter`
	webtest.Do(t, ctx, chromedp.SendKeys(chromedp.CSS(filter), want[len(want)-1]))
	webtest.WaitEqual(t, ctx, jsKeys(target), []string{want[len(want)-1]})
	// A put shows in the open panel.
	c.put(target, "panel-key", `1`)
	webtest.WaitTrue(t, ctx, webtest.JSFlashed(target))
	webtest.Do(t, ctx, chromedp.Click(chromedp.ID("detail-close")))
	webtest.WaitTrue(t, ctx, `document.getElementById('detail').hidden && !document.getElementById('feed-panel').hidden`)

	// A join with the proxy's order takes its place in it; positions
	// follow.
	order := append(slices.Clone(names), "aaron")
	slices.Sort(order)
	c.mu.Lock()
	c.nodes = append([]*testNode{{view: NodeView{Name: "aaron", Status: "up"}}}, c.nodes...)
	c.mu.Unlock()
	c.publish(Event{Type: EventNode, Node: "aaron", Change: ChangeJoin, View: &NodeView{Name: "aaron", Status: "up"}, Order: order})
	webtest.WaitEqual(t, ctx, `Array.from(document.querySelectorAll('.tile[data-node]'), t => t.dataset.node)`, order)
	webtest.CheckProjector(t, ctx, len(order))
	c.publish(Event{Type: EventNode, Node: "aaron", Change: ChangeKick, View: &NodeView{Name: "aaron"}, Order: names})
	webtest.WaitEqual(t, ctx, `Array.from(document.querySelectorAll('.tile[data-node]'), t => t.dataset.node)`, names)
	webtest.CheckProjector(t, ctx, len(names))

	// The toggle: cards, tiles, automatic; remembered across a reload.
	webtest.WaitEqual(t, ctx, `document.getElementById('layout').dataset.pref`, "auto")
	webtest.Do(t, ctx, chromedp.Click(chromedp.ID("layout")))
	webtest.WaitEqual(t, ctx, `[document.body.dataset.layout, document.querySelectorAll('.card[data-node]').length]`, []any{"cards", len(names)})
	webtest.WaitTrue(t, ctx, `document.getElementById('tiles').hidden && !document.getElementById('nodes').hidden`)
	webtest.Do(t, ctx, chromedp.Reload())
	webtest.WaitTrue(t, ctx, `document.querySelector('#conn.live') !== null`)
	webtest.WaitEqual(t, ctx, `[document.body.dataset.layout, localStorage.getItem('kvclass.layout')]`, []string{"cards", "cards"})
	webtest.Do(t, ctx, chromedp.Click(chromedp.ID("layout")))
	webtest.WaitEqual(t, ctx, `document.body.dataset.layout`, "tiles")
	webtest.Do(t, ctx, chromedp.Click(chromedp.ID("layout")))
	webtest.WaitEqual(t, ctx, `[document.body.dataset.layout, localStorage.getItem('kvclass.layout')]`, []string{"tiles", "auto"})
	noConsoleProblems(t, console)

	// A small class shows cards by itself; tiles when chosen.
	small := newTestClass(t, Snapshot{Role: "proxy", Mode: "sharding", Limit: 5}, "kv1", "kv2", "kv3")
	surl := small.serve(t)
	sctx, sconsole := openPage(t, browser, surl, 3)
	webtest.WaitEqual(t, sctx, `document.body.dataset.layout`, "cards")
	webtest.WaitEqual(t, sctx, jsText("kv3", ".index"), "#2")
	webtest.Do(t, sctx, chromedp.Click(chromedp.ID("layout"))) // auto → cards
	webtest.Do(t, sctx, chromedp.Click(chromedp.ID("layout"))) // cards → tiles
	webtest.WaitEqual(t, sctx, `document.body.dataset.layout`, "tiles")
	webtest.WaitEqual(t, sctx, `Array.from(document.querySelectorAll('.tile[data-node] .t-index'), e => e.textContent)`, []string{"#0", "#1", "#2"})
	noConsoleProblems(t, sconsole)
}

// testPhone: at 390x844 the header's elements neither overlap nor stick
// out, in both languages, for a class and for an empty one.
func testPhone(t *testing.T, browser context.Context) {
	c, names := bigClass(t, "sharding")
	url := c.serve(t)
	empty := newTestClass(t, Snapshot{Role: "proxy", Mode: "sharding", Rule: "no nodes yet: keys get their owners when the first node joins",
		Join: "kvclass node --join https://kvclass-demo.ngrok-free.dev --token 4711", Limit: 5})
	eurl := empty.serve(t)
	for _, tc := range []struct {
		name, url string
		nodes     int
	}{{"class", url, len(names)}, {"empty", eurl, 0}} {
		ctx := webtest.NewTab(t, browser)
		console := webtest.RecordConsole(t, ctx)
		webtest.SetViewport(t, ctx, webtest.PhoneWidth, webtest.PhoneHeight)
		webtest.Do(t, ctx, chromedp.Navigate(tc.url+"/state"))
		webtest.WaitTrue(t, ctx, fmt.Sprintf(`document.querySelector('#conn.live') && document.querySelectorAll('.card[data-node]').length === %d`, tc.nodes))
		for _, lang := range []string{"en", "ru"} {
			webtest.SetLang(t, ctx, lang)
			webtest.CheckHeader(t, ctx)
			webtest.Screenshot(t, ctx, "phone-"+tc.name+"-"+lang)
		}
		// The longest connection badge ("reconnecting…" in Russian) wraps
		// the buttons to a line of their own rather than covering anything.
		webtest.Eval[bool](t, ctx, `(document.getElementById('conn-text').textContent = 'переподключение…', true)`)
		webtest.CheckHeader(t, ctx)
		webtest.SetLang(t, ctx, "en")
		noConsoleProblems(t, console)
	}
}

// testNoNodes: an empty class never says "mod 0".
func testNoNodes(t *testing.T, browser context.Context) {
	c := newTestClass(t, Snapshot{Role: "proxy", Mode: "sharding", Rule: "owner = nodes[ int(SHA-256(key)) mod 0 ]",
		Join: "kvclass node --join http://192.168.1.10:5003 --token 4711", Limit: 5})
	url := c.serve(t)
	ctx, console := openPage(t, browser, url, 0)
	webtest.WaitEqual(t, ctx, `document.getElementById('rule').textContent`, "no nodes yet — students join with the line below")
	webtest.WaitTrue(t, ctx, `!document.getElementById('no-nodes').hidden`)
	webtest.WaitTrue(t, ctx, `!document.body.textContent.includes('mod 0')`)
	webtest.SetLang(t, ctx, "ru")
	webtest.WaitEqual(t, ctx, `document.getElementById('rule').textContent`, "узлов пока нет — студенты подключаются строкой ниже")
	// The first node brings the rule.
	webtest.SetLang(t, ctx, "en")
	c.join("kv1", "http://127.0.0.1:5000")
	webtest.WaitEqual(t, ctx, `document.getElementById('rule').textContent`, "each key lives on one node: SHA-256(key) mod 1")
	// A placement the page has no words for shows the proxy's rule.
	c.publish(Event{Type: EventMode, Mode: "sharding", Placement: "jump"})
	webtest.WaitEqual(t, ctx, `document.getElementById('rule').textContent`, "owner = nodes[ int(SHA-256(key)) mod 0 ]")
	c.publish(Event{Type: EventMode, Mode: "sharding", Placement: "ring", Replicas: 2})
	webtest.WaitEqual(t, ctx, `document.getElementById('rule').textContent`, "ring: a key goes to the first node point at or after h(key)")
	noConsoleProblems(t, console)

	// The snapshot's placement and replicas word the rule.
	rc := newTestClass(t, Snapshot{Role: "proxy", Mode: "sharding", Placement: "rendezvous", Replicas: 2, Limit: 5}, "kv1", "kv2", "kv3")
	rctx, rconsole := openPage(t, browser, rc.serve(t), 3)
	webtest.WaitEqual(t, rctx, `document.getElementById('rule').textContent`, "rendezvous: a key goes to the node with the largest h(node, key), 2 copies of each key")
	noConsoleProblems(t, rconsole)
}

// explainStub answers GET /placement/explain as the proxy does, over the
// class's current nodes by the seed's rule, and records the keys it was
// asked about. Keys in missing get a 404.
type explainStub struct {
	c       *testClass
	missing map[string]bool
	mu      sync.Mutex
	asked   []string
}

func (s *explainStub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	key := r.URL.Query().Get("key")
	s.mu.Lock()
	s.asked = append(s.asked, key)
	s.mu.Unlock()
	if s.missing[key] {
		http.Error(w, `{"error": "no such thing"}`, http.StatusNotFound)
		return
	}
	s.c.mu.Lock()
	var names []string
	for _, n := range s.c.nodes {
		names = append(names, n.view.Name)
	}
	s.c.mu.Unlock()
	i := shardOf(key, len(names))
	q, _ := json.Marshal(key)
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{
		"key": key, "placement": "modulo", "nodes": len(names),
		"hash":       fmt.Sprintf("%x", sha256sum(key)),
		"arithmetic": fmt.Sprintf("int(SHA-256(%s)) mod %d = %d", q, len(names), i),
		"owners":     []string{names[i]}, "primary": names[i],
		"detail": map[string]any{"remainder": i},
	})
}

func (s *explainStub) keys() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.asked)
}

// testExplain: a click on a key's row or a feed entry shows why the key is
// where it is, fetched from /placement/explain with the key escaped right;
// a failure says "not available"; a node's own page offers none.
func testExplain(t *testing.T, browser context.Context) {
	c := newTestClass(t, Snapshot{Role: "proxy", Mode: "sharding", Limit: 50}, "kv1", "kv2", "kv3")
	awkward := []string{"a/b?c=d&e", "key with spaces", "100%+1#x", "лекция", "ключ&значение=1", `<img src=x onerror=window.__pwned=1>`, "plain"}
	for _, k := range awkward {
		c.store(c.nodes[shardOf(k, 3)].view.Name, k, `"v"`)
	}
	stub := &explainStub{c: c, missing: map[string]bool{"plain": true}}
	c.explain = stub.ServeHTTP
	url := c.serve(t)
	ctx, console := openPage(t, browser, url, 3)
	webtest.WaitTrue(t, ctx, `document.body.classList.contains('explains')`)

	row := func(node, key string) string {
		return `Array.from(` + jsCard(node) + `.querySelectorAll('.kv')).find(li => li.dataset.key === ` + jsString(key) + `)`
	}
	for _, k := range awkward[:len(awkward)-1] {
		i := shardOf(k, 3)
		node := c.nodes[i].view.Name
		webtest.Do(t, ctx, chromedp.Click(chromedp.JSPath(row(node, k)+`.querySelector('.k')`)))
		why := row(node, k) + `.querySelector('.why')`
		q, _ := json.Marshal(k)
		webtest.WaitEqual(t, ctx, why+`?.querySelector('.why-math').textContent`, fmt.Sprintf("int(SHA-256(%s)) mod 3 = %d", q, i))
		webtest.WaitEqual(t, ctx, why+`.querySelector('.why-owner').textContent`, fmt.Sprintf("position #%d → %s", i, node))
		webtest.WaitTrue(t, ctx, why+`.querySelector('.why-hash').textContent.includes(`+jsString(fmt.Sprintf("%x", sha256sum(k)))+`)`)
		if got := stub.keys(); got[len(got)-1] != k {
			t.Errorf("the proxy was asked about %q, want %q", got[len(got)-1], k)
		}
	}
	// One explanation per card: a click on another key moves it; a click
	// on the same key closes it.
	webtest.WaitTrue(t, ctx, `Array.from(document.querySelectorAll('.card')).every(c => c.querySelectorAll('.why').length <= 1)`)

	// The feed's entries explain too, in the feed panel.
	c.publish(Event{Type: EventRequest, Op: "PUT", Key: "key with spaces", Nodes: []string{c.nodes[shardOf("key with spaces", 3)].view.Name}, Result: "ok", Status: 200})
	webtest.WaitEqual(t, ctx, `document.querySelectorAll('#feed li').length`, 1)
	webtest.Do(t, ctx, chromedp.Click(chromedp.CSS(`#feed li .fkey`)))
	webtest.WaitEqual(t, ctx, `document.querySelector('#feed-why .why-math')?.textContent`, fmt.Sprintf(`int(SHA-256("key with spaces")) mod 3 = %d`, shardOf("key with spaces", 3)))
	webtest.Do(t, ctx, chromedp.Click(chromedp.CSS(`#feed-why .why-close`)))
	webtest.WaitTrue(t, ctx, `document.getElementById('feed-why').hidden`)

	// The language switch rewords an open explanation.
	webtest.SetLang(t, ctx, "ru")
	webtest.WaitTrue(t, ctx, `Array.from(document.querySelectorAll('.why-owner')).some(e => e.textContent.startsWith('позиция #'))`)
	webtest.SetLang(t, ctx, "en")
	webtest.WaitEqual(t, ctx, `typeof window.__pwned`, "undefined")
	noConsoleProblems(t, console)

	// A failure shows a note, not an error.
	node := c.nodes[shardOf("plain", 3)].view.Name
	webtest.Do(t, ctx, chromedp.Click(chromedp.JSPath(row(node, "plain")+`.querySelector('.k')`)))
	webtest.WaitEqual(t, ctx, row(node, "plain")+`.querySelector('.why .why-note')?.textContent`, "Explanation not available")

	// An answer in the placement package's own shape (no "arithmetic", a
	// ring, two owners): the page writes the line from its fields.
	c.mu.Lock()
	c.explain = func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"key": "лекция", "placement": "ring", "n": 3, "owners": ["kv2", "kv3"],
			"ring": {"vnodes": 64, "key_point": "1", "key_point_hex": "0x00000000000000aa",
			"points": [{"point": "2", "hex": "0x00000000000000bb", "node": "kv2", "vnode": 5}]}}`))
	}
	c.mu.Unlock()
	c.publish(Event{Type: EventMode, Mode: "sharding", Placement: "ring"})
	webtest.Eval[bool](t, ctx, `(document.querySelectorAll('.why-close').forEach(b => b.click()), true)`)
	lekciya := row(c.nodes[shardOf("лекция", 3)].view.Name, "лекция")
	webtest.Do(t, ctx, chromedp.Click(chromedp.JSPath(lekciya+`.querySelector('.k')`)))
	webtest.WaitEqual(t, ctx, lekciya+`.querySelector('.why .why-math')?.textContent`, `h("лекция") = 0x00000000000000aa → 0x00000000000000bb (kv2#5)`)
	webtest.WaitEqual(t, ctx, lekciya+`.querySelector('.why .why-owner').textContent`, "position #1 → kv2 then kv3")
	webtest.WaitTrue(t, ctx, lekciya+`.querySelector('.why .why-hash').hidden`)

	// A proxy without the endpoint: the same note.
	c.mu.Lock()
	c.explain = nil
	c.mu.Unlock()
	c.publish(Event{Type: EventMode, Mode: "sharding"}) // a new placement: the answers go stale
	webtest.Eval[bool](t, ctx, `(document.querySelectorAll('.why-close').forEach(b => b.click()), true)`)
	webtest.WaitEqual(t, ctx, `document.querySelectorAll('.why').length`, 0)
	webtest.Do(t, ctx, chromedp.Click(chromedp.JSPath(row(c.nodes[shardOf("лекция", 3)].view.Name, "лекция")+`.querySelector('.k')`)))
	webtest.WaitEqual(t, ctx, row(c.nodes[shardOf("лекция", 3)].view.Name, "лекция")+`.querySelector('.why .why-note')?.textContent`, "Explanation not available")

	// A node's own page has no placement to explain.
	nc := newTestClass(t, Snapshot{Role: "node", Limit: 10}, "kv1")
	nc.store("kv1", "hello", `"world"`)
	nstub := &explainStub{c: nc}
	nc.explain = nstub.ServeHTTP
	nurl := nc.serve(t)
	nctx, nconsole := openPage(t, browser, nurl, 1)
	webtest.WaitEqual(t, nctx, jsKeys("kv1"), []string{"hello"})
	webtest.Do(t, nctx, chromedp.Click(chromedp.CSS(`.kv .k`)))
	nc.put("kv1", "after", `1`) // an event after the click: the page has handled it
	webtest.WaitEqual(t, nctx, jsKeys("kv1"), []string{"after", "hello"})
	webtest.WaitEqual(t, nctx, `[document.querySelectorAll('.why').length, document.body.classList.contains('explains')]`, []any{0, false})
	if got := nstub.keys(); len(got) != 0 {
		t.Errorf("a node's page asked for explanations of %q", got)
	}
	noConsoleProblems(t, nconsole)
}

func sha256sum(s string) [32]byte { return sha256.Sum256([]byte(s)) }
