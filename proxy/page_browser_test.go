package proxy_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/kvclass/kvclass/internal/testwait"
	"github.com/kvclass/kvclass/proxy"
	"github.com/kvclass/kvclass/web"
	"github.com/kvclass/kvclass/web/webtest"
)

// TestBrowserLiveClass drives the proxy's live page in headless Chromium
// against a real class: a proxy and nodes on loopback ports, the nodes
// joined through the registry as students' nodes join. The subtests share
// one browser; each has its own class and its own tab.
func TestBrowserLiveClass(t *testing.T) {
	t.Parallel()
	browser := webtest.NewBrowser(t)
	t.Run("put through the proxy", func(t *testing.T) { testPutThroughProxy(t, browser) })
	t.Run("put straight on a node", func(t *testing.T) { testPutOnNode(t, browser) })
	t.Run("stored markup stays text", func(t *testing.T) { testMarkupStaysText(t, browser) })
	t.Run("stopped node keeps its place", func(t *testing.T) { testStoppedNode(t, browser) })
	t.Run("mode switch", func(t *testing.T) { testModeSwitch(t, browser) })
	t.Run("forty joined nodes", func(t *testing.T) { testFortyJoinedNodes(t, browser) })
	t.Run("screenshot", func(t *testing.T) { testClassScreenshot(t, browser) })
}

// pageProbe runs in every document of a test tab before the page's own
// script (DevTools injects it, so the page's CSP does not apply to it). It
// records CSP violations in window.__csp, and in window.__seen the time
// (Date.now()) each key first showed on a card, keyed "NODE\nKEY": the
// moment the page's render inserted the row, not the moment a poll from
// the test noticed it.
const pageProbe = `(() => {
  window.__csp = [];
  document.addEventListener('securitypolicyviolation',
    (e) => window.__csp.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline')));
  window.__seen = new Map();
  new MutationObserver(() => {
    const now = Date.now();
    for (const k of document.querySelectorAll('.card[data-node] .k')) {
      const id = k.closest('.card').dataset.node + '\n' + k.textContent;
      if (!window.__seen.has(id)) window.__seen.set(id, now);
    }
  }).observe(document, { childList: true, subtree: true });
})();`

// livePage is the proxy's /state open in a tab of the test browser.
type livePage struct {
	ctx     context.Context
	console *webtest.ConsoleLog
}

// newPage opens a tab that records its console and runs pageProbe in every
// document. It does not navigate yet, so a test may set up emulation first.
func newPage(t *testing.T, browser context.Context) *livePage {
	t.Helper()
	ctx := webtest.NewTab(t, browser)
	p := &livePage{ctx: ctx, console: webtest.RecordConsole(t, ctx)}
	webtest.Do(t, ctx, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: pageProbe})
		return err
	}))
	return p
}

// openPage opens base's /state in a new tab and waits until it is live
// with the given number of node cards.
func openPage(t *testing.T, browser context.Context, base string, cards int) *livePage {
	t.Helper()
	p := newPage(t, browser)
	p.open(t, base, cards)
	return p
}

// open navigates to base's /state and waits until the page is live with
// the given number of node cards.
func (p *livePage) open(t *testing.T, base string, cards int) {
	t.Helper()
	webtest.Do(t, p.ctx, chromedp.Navigate(base+"/state"))
	p.waitLive(t, cards)
}

// waitLive waits until the page is connected and shows cards node cards.
func (p *livePage) waitLive(t *testing.T, cards int) {
	t.Helper()
	webtest.WaitTrue(t, p.ctx, fmt.Sprintf(`document.querySelector('#conn.live') && document.querySelectorAll('.card[data-node]').length === %d`, cards))
}

// shownAt waits until key shows on node's card and returns when it first
// did, by the page's clock.
func (p *livePage) shownAt(t *testing.T, node, key string) time.Time {
	t.Helper()
	id := quote(node + "\n" + key)
	webtest.WaitTrue(t, p.ctx, `window.__seen.has(`+id+`)`)
	ms := webtest.Eval[float64](t, p.ctx, `window.__seen.get(`+id+`)`)
	return time.UnixMilli(int64(ms))
}

// healthy fails the test if the page logged an error or an exception, or
// broke its Content-Security-Policy.
func (p *livePage) healthy(t *testing.T) {
	t.Helper()
	if problems := p.console.Problems(); len(problems) > 0 {
		t.Errorf("console problems: %q", problems)
	}
	if csp := webtest.Eval[[]string](t, p.ctx, `window.__csp`); len(csp) > 0 {
		t.Errorf("CSP violations: %q", csp)
	}
}

// Expressions that read the page.

func jsCard(node string) string {
	return `Array.from(document.querySelectorAll('.card[data-node]')).find(c => c.dataset.node === ` + quote(node) + `)`
}

func jsNames() string {
	return `Array.from(document.querySelectorAll('.card[data-node] .name'), e => e.textContent)`
}

func jsKeys(node string) string {
	return `Array.from(` + jsCard(node) + `?.querySelectorAll('.k') ?? [], e => e.textContent)`
}

func jsValues(node string) string {
	return `Array.from(` + jsCard(node) + `?.querySelectorAll('.v') ?? [], e => e.textContent)`
}

func jsText(node, sel string) string {
	return jsCard(node) + `?.querySelector(` + quote(sel) + `)?.textContent`
}

func jsTextOf(id string) string {
	return `document.getElementById(` + quote(id) + `).textContent`
}

// jsFeed is the request feed, newest first, one line of text per request.
const jsFeed = `Array.from(document.querySelectorAll('#feed li'), e => e.textContent.replace(/\s+/g, ' ').trim())`

// spread describes latencies for the log: min, median and max.
func spread(ds []time.Duration) string {
	s := slices.Clone(ds)
	slices.Sort(s)
	return fmt.Sprintf("min %v, median %v, max %v (n=%d)", s[0], s[len(s)/2], s[len(s)-1], len(s))
}

func testPutThroughProxy(t *testing.T, browser context.Context) {
	c := startClass(t, proxy.Sharding, "kv1", "kv2", "kv3")
	r := c.do(t, http.MethodGet, c.url()+"/state", "", nil)
	if r.status != http.StatusOK || r.header.Get("Content-Security-Policy") != web.ContentSecurityPolicy {
		t.Fatalf("GET /state: %d, CSP %q", r.status, r.header.Get("Content-Security-Policy"))
	}
	pg := openPage(t, browser, c.url(), 3)
	webtest.WaitEqual(t, pg.ctx, jsNames(), []string{"kv1", "kv2", "kv3"})
	webtest.Eval[bool](t, pg.ctx, `window.__sameDocument = true`)

	keys := []string{"hello", "key-1", "key-2", "key-3", "key-4", "key-5"}
	sent := map[string]time.Time{}
	for _, k := range keys {
		sent[k] = time.Now()
		if r := c.mustPut(t, c.url(), k, quote("v-"+k)); r.served != c.owner(k).Name() {
			t.Fatalf("put %s served by %q, want its owner %s", k, r.served, c.owner(k).Name())
		}
	}
	var took []time.Duration
	for _, k := range keys {
		took = append(took, pg.shownAt(t, c.owner(k).Name(), k).Sub(sent[k]))
	}
	t.Logf("put through the proxy → on its owner's card: %s", spread(took))

	// Each key is on its owner's card only, newest first, with its value;
	// the feed names the node that served each put.
	for _, n := range c.nodes {
		var want, values []string
		for _, k := range slices.Backward(keys) {
			if c.owner(k) == n {
				want, values = append(want, k), append(values, "v-"+k)
			}
		}
		webtest.WaitEqual(t, pg.ctx, jsKeys(n.Name()), want)
		webtest.WaitEqual(t, pg.ctx, jsValues(n.Name()), values)
		webtest.WaitEqual(t, pg.ctx, jsText(n.Name(), ".count"), fmt.Sprint(len(want)))
	}
	var feed []string
	for _, k := range slices.Backward(keys) {
		feed = append(feed, "PUT "+k+" → "+c.owner(k).Name())
	}
	webtest.WaitEqual(t, pg.ctx, jsFeed, feed)

	if r := c.get(t, c.url(), "hello"); r.status != http.StatusOK {
		t.Fatalf("get hello: %d %s", r.status, r.body)
	}
	webtest.WaitEqual(t, pg.ctx, jsFeed+`[0]`, "GET hello → "+c.owner("hello").Name()+" hit")
	if !webtest.Eval[bool](t, pg.ctx, `window.__sameDocument === true`) {
		t.Error("the page reloaded to show the puts")
	}
	pg.healthy(t)
}

func testPutOnNode(t *testing.T, browser context.Context) {
	c := startClass(t, proxy.Sharding, "kv1", "kv2", "kv3")
	pg := openPage(t, browser, c.url(), 3)

	// A student curls kv1 straight, with a key that kv2 owns: the page shows
	// where the data really is.
	kv1 := c.nodes[0]
	key := c.keyOwnedBy(t, 1, "direct-")
	sent := time.Now()
	c.mustPut(t, kv1.LocalURL(), key, `{"by":"curl"}`)
	t.Logf("put straight on a node → on the proxy's page: %v", pg.shownAt(t, "kv1", key).Sub(sent))
	webtest.WaitEqual(t, pg.ctx, jsKeys("kv1"), []string{key})
	webtest.WaitEqual(t, pg.ctx, jsValues("kv1"), []string{`{"by":"curl"}`})
	webtest.WaitEqual(t, pg.ctx, jsText("kv1", ".count"), "1")
	webtest.WaitEqual(t, pg.ctx, jsKeys("kv2"), []string{})
	// The proxy served no request, so its feed has none.
	if n := webtest.Eval[int](t, pg.ctx, `document.querySelectorAll('#feed li').length`); n != 0 {
		t.Errorf("feed has %d lines for a put the proxy never saw", n)
	}

	// A delete straight on the node leaves the card too.
	if r := c.del(t, kv1.LocalURL(), key); r.status != http.StatusOK {
		t.Fatalf("delete %s on kv1: %d %s", key, r.status, r.body)
	}
	webtest.WaitEqual(t, pg.ctx, jsKeys("kv1"), []string{})
	webtest.WaitEqual(t, pg.ctx, jsText("kv1", ".count"), "0")
	pg.healthy(t)
}

func testMarkupStaysText(t *testing.T, browser context.Context) {
	c := startClass(t, proxy.Sharding, "kv1", "kv2")
	pg := openPage(t, browser, c.url(), 2)

	key := `<script>window.__pwned2=1</script>`
	value := `<img src=x onerror=window.__pwned=1>`
	owner := c.owner(key).Name()
	c.mustPut(t, c.url(), key, quote(value))
	pg.shownAt(t, owner, key)
	webtest.WaitEqual(t, pg.ctx, jsKeys(owner), []string{key})
	webtest.WaitEqual(t, pg.ctx, jsValues(owner), []string{value})
	webtest.WaitEqual(t, pg.ctx, jsFeed, []string{"PUT " + key + " → " + owner})

	// The filter box's search goes through the proxy to the node; its
	// answer is shown as text too.
	webtest.Do(t, pg.ctx, chromedp.SendKeys(chromedp.CSS(`.card[data-node="`+owner+`"] .filter`), "<script"))
	webtest.WaitEqual(t, pg.ctx, jsText(owner, ".note"), "1 found")
	webtest.WaitEqual(t, pg.ctx, jsKeys(owner), []string{key})
	webtest.WaitEqual(t, pg.ctx, jsValues(owner), []string{value})

	// Give a smuggled image time to fail loading and fire its handler.
	webtest.Do(t, pg.ctx, chromedp.Sleep(300*time.Millisecond))
	webtest.WaitEqual(t, pg.ctx, `document.querySelectorAll('img, script:not([src])').length`, 0)
	webtest.WaitEqual(t, pg.ctx, `[typeof window.__pwned, typeof window.__pwned2]`, []string{"undefined", "undefined"})
	pg.healthy(t)

	// The CSP holds, and the checks above would see it broken: a script
	// written into the page is refused, reported to the page and logged.
	webtest.Eval[bool](t, pg.ctx, `(() => {
	  const s = document.createElement('script');
	  s.textContent = 'window.__inline = 1';
	  document.body.append(s);
	  return true;
	})()`)
	webtest.WaitTrue(t, pg.ctx, `window.__csp.length === 1`)
	webtest.WaitEqual(t, pg.ctx, `typeof window.__inline`, "undefined")
	testwait.For(t, "the console to report the refused inline script", func() bool { return len(pg.console.Problems()) > 0 })
}

func testStoppedNode(t *testing.T, browser context.Context) {
	c := startClass(t, proxy.Sharding, "kv1", "kv2", "kv3")
	pg := openPage(t, browser, c.url(), 3)
	keys := make([]string, len(c.nodes))
	for i, n := range c.nodes {
		keys[i] = c.keyOwnedBy(t, i, "k")
		c.mustPut(t, c.url(), keys[i], `"v"`)
		pg.shownAt(t, n.Name(), keys[i])
	}

	// Ctrl-C on kv2: it tells the proxy it is going.
	start := time.Now()
	c.nodes[1].stop()
	stopped := time.Since(start)
	webtest.WaitTrue(t, pg.ctx, jsCard("kv2")+`?.classList.contains('down')`)
	t.Logf("node stopped in %v; shown down %v after the stop began", stopped, time.Since(start))
	webtest.WaitEqual(t, pg.ctx, jsText("kv2", ".status"), "down")
	webtest.WaitEqual(t, pg.ctx, jsText("kv2", ".reason"), "stopped")
	webtest.WaitEqual(t, pg.ctx, jsNames(), []string{"kv1", "kv2", "kv3"})
	// What it held stays listed and counted, so the class sees which keys
	// are unavailable.
	webtest.WaitEqual(t, pg.ctx, jsKeys("kv2"), []string{keys[1]})
	webtest.WaitEqual(t, pg.ctx, jsText("kv2", ".count"), "1")
	webtest.WaitEqual(t, pg.ctx, `[`+jsCard("kv1")+`.classList.contains('down'), `+jsCard("kv3")+`.classList.contains('down')]`, []bool{false, false})

	// Its shard answers 503 at once, and the feed says why.
	if r := c.put(t, c.url(), keys[1], `"again"`); r.status != http.StatusServiceUnavailable || !strings.Contains(r.body, "stopped") {
		t.Fatalf("put on the stopped node's shard: %d %s", r.status, r.body)
	}
	webtest.WaitTrue(t, pg.ctx, `(l => l.startsWith(`+quote("PUT "+keys[1]+" → kv2 error 503")+`) && l.includes('stopped'))(`+jsFeed+`[0] ?? '')`)

	// A fresh page (a late student, a reload) shows the same.
	webtest.Do(t, pg.ctx, chromedp.Reload())
	pg.waitLive(t, 3)
	webtest.WaitEqual(t, pg.ctx, jsNames(), []string{"kv1", "kv2", "kv3"})
	webtest.WaitEqual(t, pg.ctx, jsText("kv2", ".reason"), "stopped")
	webtest.WaitEqual(t, pg.ctx, jsText("kv2", ".status"), "down")
	pg.healthy(t)
}

func testModeSwitch(t *testing.T, browser context.Context) {
	c := startClass(t, proxy.Sharding, "kv1", "kv2", "kv3")
	pg := openPage(t, browser, c.url(), 3)
	webtest.WaitEqual(t, pg.ctx, jsTextOf("mode-name"), "sharding")
	webtest.WaitTrue(t, pg.ctx, jsTextOf("rule")+`.includes('SHA-256')`)

	if r := c.admin(t, "not-the-token", "/admin/mode", `{"mode": "replication"}`); r.status != http.StatusUnauthorized {
		t.Fatalf("mode switch without the admin token: %d %s", r.status, r.body)
	}
	start := time.Now()
	if r := c.admin(t, adminToken, "/admin/mode", `{"mode": "replication"}`); r.status != http.StatusOK {
		t.Fatalf("mode switch: %d %s", r.status, r.body)
	}
	webtest.WaitEqual(t, pg.ctx, jsTextOf("mode-name"), "replication")
	t.Logf("mode switch → banner: %v", time.Since(start))
	webtest.WaitTrue(t, pg.ctx, `document.getElementById('mode-name').classList.contains('mode-replication')`)
	webtest.WaitTrue(t, pg.ctx, `(r => r !== '' && !r.includes('SHA-256'))(`+jsTextOf("rule")+`)`)

	// Under replication a put goes to every node: the feed names them all
	// and every card shows the key.
	if r := c.mustPut(t, c.url(), "shared", quote("everyone has it")); r.served != "kv1,kv2,kv3" {
		t.Fatalf("replicated put served by %q", r.served)
	}
	webtest.WaitEqual(t, pg.ctx, jsFeed, []string{"PUT shared → kv1 kv2 kv3"})
	for _, n := range c.nodes {
		pg.shownAt(t, n.Name(), "shared")
		webtest.WaitEqual(t, pg.ctx, jsValues(n.Name()), []string{"everyone has it"})
	}

	if r := c.admin(t, adminToken, "/admin/mode", `{"mode": "sharding"}`); r.status != http.StatusOK {
		t.Fatalf("mode switch back: %d %s", r.status, r.body)
	}
	webtest.WaitEqual(t, pg.ctx, jsTextOf("mode-name"), "sharding")
	webtest.WaitTrue(t, pg.ctx, `document.getElementById('mode-name').classList.contains('mode-sharding')`)
	pg.healthy(t)
}

// testClassScreenshot renders a realistic class, ten minutes in, for
// review: four nodes, about eight keys each, one node stopped, a feed with
// every kind of line. With KVCLASS_UPDATE_SCREENSHOT=1 it replaces
// docs/state.png.
func testClassScreenshot(t *testing.T, browser context.Context) {
	c := startClass(t, proxy.Sharding, "kv1", "kv2", "kv3", "kv4")
	pg := newPage(t, browser)
	// Reduced motion: the shot shows the settled page, not a flash.
	webtest.Do(t, pg.ctx, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Features: []*emulation.MediaFeature{
			{Name: "prefers-reduced-motion", Value: "reduce"},
			{Name: "prefers-color-scheme", Value: "dark"},
		}})
		return err
	}))
	pg.open(t, c.url(), 4)

	class := webtest.Classroom()
	for _, kv := range class {
		c.mustPut(t, c.url(), kv.Key, kv.Raw)
	}
	requests := len(class)
	for _, k := range []string{"user:42", "city", "key-3"} {
		if r := c.get(t, c.url(), k); r.status != http.StatusOK {
			t.Fatalf("get %s: %d %s", k, r.status, r.body)
		}
	}
	if r := c.get(t, c.url(), "key-99"); r.status != http.StatusNotFound {
		t.Fatalf("get key-99: %d %s", r.status, r.body)
	}
	requests += 4
	for _, kv := range class {
		pg.shownAt(t, c.owner(kv.Key).Name(), kv.Key)
	}
	c.nodes[2].stop() // kv3's student closed the laptop
	var kv3Key string
	for _, kv := range class {
		if c.owner(kv.Key) == c.nodes[2] {
			kv3Key = kv.Key
		}
	}
	if kv3Key == "" {
		t.Fatal("kv3 owns none of the class's keys")
	}
	if r := c.get(t, c.url(), kv3Key); r.status != http.StatusServiceUnavailable {
		t.Fatalf("get %s on the stopped kv3: %d %s", kv3Key, r.status, r.body)
	}
	late := "key-11"
	for i := 12; c.owner(late) == c.nodes[2] && i < 100; i++ {
		late = fmt.Sprintf("key-%d", i)
	}
	c.mustPut(t, c.url(), late, quote("value-"+strings.TrimPrefix(late, "key-")))
	if r := c.get(t, c.url(), "greeting"); r.status != http.StatusOK {
		t.Fatalf("get greeting: %d %s", r.status, r.body)
	}
	requests += 3

	pg.shownAt(t, c.owner(late).Name(), late)
	webtest.WaitEqual(t, pg.ctx, jsText("kv3", ".reason"), "stopped")
	counts := map[string]int{c.owner(late).Name(): 1}
	for _, kv := range class {
		counts[c.owner(kv.Key).Name()]++
	}
	for _, n := range c.nodes {
		webtest.WaitEqual(t, pg.ctx, jsText(n.Name(), ".count"), fmt.Sprint(counts[n.Name()]))
	}
	webtest.WaitEqual(t, pg.ctx, `document.querySelectorAll('#feed li').length`, min(requests, 30))
	webtest.WaitEqual(t, pg.ctx, jsFeed+`[0]`, "GET greeting → "+c.owner("greeting").Name()+" hit")
	webtest.WaitEqual(t, pg.ctx, `document.documentElement.dataset.theme`, "dark")
	webtest.WaitAnimations(t, pg.ctx)
	path := webtest.Screenshot(t, pg.ctx, "proxy-state")
	pg.healthy(t)

	if os.Getenv("KVCLASS_UPDATE_SCREENSHOT") == "1" {
		png, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join("..", "docs", "state.png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
