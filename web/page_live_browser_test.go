package web

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/kvclass/kvclass/web/webtest"
)

// TestPage drives the live page in headless Chromium against a real server
// and hub. The subtests share one browser, each in its own tab.
func TestPage(t *testing.T) {
	browser := webtest.NewBrowser(t)
	t.Run("snapshot and live events", func(t *testing.T) { t.Parallel(); testLiveEvents(t, browser) })
	t.Run("stored markup stays text", func(t *testing.T) { t.Parallel(); testMarkupIsText(t, browser) })
	t.Run("filter searches the server", func(t *testing.T) { t.Parallel(); testFilter(t, browser) })
	t.Run("language", func(t *testing.T) { t.Parallel(); testLanguage(t, browser) })
	t.Run("reconnect and resync", func(t *testing.T) { t.Parallel(); testReconnect(t, browser) })
	t.Run("node page", func(t *testing.T) { t.Parallel(); testNodePage(t, browser) })
	t.Run("screenshot", func(t *testing.T) { t.Parallel(); testScreenshot(t, browser) })
	t.Run("projector", func(t *testing.T) { t.Parallel(); testProjector(t, browser) })
	t.Run("tiles", func(t *testing.T) { t.Parallel(); testTiles(t, browser) })
	t.Run("phone", func(t *testing.T) { t.Parallel(); testPhone(t, browser) })
	t.Run("no nodes", func(t *testing.T) { t.Parallel(); testNoNodes(t, browser) })
	t.Run("why a key is here", func(t *testing.T) { t.Parallel(); testExplain(t, browser) })
	t.Run("join page", func(t *testing.T) { t.Parallel(); testJoinPage(t, browser) })
	t.Run("instructor token", func(t *testing.T) { t.Parallel(); testInstructorToken(t, browser) })
	t.Run("instructor actions", func(t *testing.T) { t.Parallel(); testInstructorActions(t, browser) })
	t.Run("what-if preview", func(t *testing.T) { t.Parallel(); testWhatIf(t, browser) })
	t.Run("misplaced keys", func(t *testing.T) { t.Parallel(); testMisplaced(t, browser) })
	t.Run("fault on another viewer", func(t *testing.T) { t.Parallel(); testFaultOnAnotherViewer(t, browser) })
	t.Run("check verdict", func(t *testing.T) { t.Parallel(); testCheckVerdict(t, browser) })
	t.Run("lessons on the projector", func(t *testing.T) { t.Parallel(); testLessonsProjector(t, browser) })
}

// Expressions that read the page.
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
	return jsCard(node) + `?.querySelector(` + jsString(sel) + `)?.textContent`
}

const jsFeed = `Array.from(document.querySelectorAll('#feed li'), e => e.textContent.replace(/\s+/g, ' ').trim())`

// openPage opens the page of url in a new tab, records its console, and
// waits until it is live with the given number of cards.
func openPage(t *testing.T, browser context.Context, url string, cards int) (context.Context, *webtest.ConsoleLog) {
	t.Helper()
	ctx := webtest.NewTab(t, browser)
	console := webtest.RecordConsole(t, ctx)
	webtest.Do(t, ctx, chromedp.Navigate(url+"/state"))
	webtest.WaitTrue(t, ctx, fmt.Sprintf(`document.querySelector('#conn.live') && document.querySelectorAll('.card').length === %d`, cards))
	return ctx, console
}

func noConsoleProblems(t *testing.T, console *webtest.ConsoleLog) {
	t.Helper()
	if p := console.Problems(); len(p) > 0 {
		t.Errorf("console problems: %q", p)
	}
}

func testLiveEvents(t *testing.T, browser context.Context) {
	c := newTestClass(t, Snapshot{
		Role: "proxy", Mode: "sharding", Rule: "owner = nodes[sha256(key) mod 3]",
		Join: "kvclass node --join http://192.168.1.10:5003 --token 4711", Limit: 5,
	}, "kv1", "kv2", "kv3")
	c.store("kv1", "alpha", `"one"`)
	c.store("kv2", "beta", `{"n": 2}`)
	url := c.serve(t)

	resp, err := http.Get(url + "/state")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	csp := resp.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "default-src 'self'") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("Content-Security-Policy = %q, want default-src 'self' and no unsafe-inline", csp)
	}

	ctx, console := openPage(t, browser, url, 3)
	webtest.WaitEqual(t, ctx, jsNames(), []string{"kv1", "kv2", "kv3"})
	webtest.WaitEqual(t, ctx, jsKeys("kv1"), []string{"alpha"})
	webtest.WaitEqual(t, ctx, jsValues("kv2"), []string{`{"n": 2}`})
	webtest.WaitEqual(t, ctx, `document.getElementById('join-line').textContent`, "kvclass node --join http://192.168.1.10:5003 --token 4711")
	webtest.WaitEqual(t, ctx, `document.getElementById('mode-name').textContent`, "sharding")
	webtest.WaitEqual(t, ctx, `document.getElementById('rule').textContent`, "each key lives on one node: SHA-256(key) mod 3")

	// A put shows at the top of its node's list, with the new count.
	c.put("kv3", "gamma", `"three"`)
	webtest.WaitEqual(t, ctx, jsKeys("kv3"), []string{"gamma"})
	c.put("kv3", "delta", `4`)
	webtest.WaitEqual(t, ctx, jsKeys("kv3"), []string{"delta", "gamma"})
	webtest.WaitEqual(t, ctx, jsText("kv3", ".count"), "2")
	// A put of an existing key moves it to the top.
	c.put("kv3", "gamma", `"three again"`)
	webtest.WaitEqual(t, ctx, jsKeys("kv3"), []string{"gamma", "delta"})
	webtest.WaitEqual(t, ctx, jsValues("kv3"), []string{"three again", "4"})

	// The list keeps the newest Limit keys and says how many more there are.
	for i := range 6 {
		c.put("kv1", fmt.Sprintf("k%d", i), `"v"`)
	}
	webtest.WaitEqual(t, ctx, jsKeys("kv1"), []string{"k5", "k4", "k3", "k2", "k1"})
	webtest.WaitEqual(t, ctx, jsText("kv1", ".more"), "+ 2 older — search to find them")

	// Delete and reset.
	c.mu.Lock()
	c.node("kv3").keys = c.node("kv3").keys[1:]
	c.mu.Unlock()
	c.publish(Event{Type: EventDelete, Node: "kv3", Key: "gamma", Count: 1})
	webtest.WaitEqual(t, ctx, jsKeys("kv3"), []string{"delta"})
	c.publish(Event{Type: EventReset, Node: "kv3"})
	webtest.WaitEqual(t, ctx, jsKeys("kv3"), []string{})
	webtest.WaitEqual(t, ctx, jsText("kv3", ".count"), "0")
	webtest.WaitEqual(t, ctx, jsText("kv3", ".note"), "No keys yet")

	// The request feed, newest on top; the serving node flashes.
	c.publish(Event{Type: EventRequest, Op: "PUT", Key: "key-7", Nodes: []string{"kv2"}, Result: "ok", Status: 200})
	c.publish(Event{Type: EventRequest, Op: "GET", Key: "key-3", Nodes: []string{"kv1"}, Result: "hit", Status: 200})
	c.publish(Event{Type: EventRequest, Op: "GET", Key: "key-9", Result: "miss", Status: 404})
	c.publish(Event{Type: EventRequest, Op: "PUT", Key: "key-9", Nodes: []string{"kv1", "kv2", "kv3"}, Result: "ok", Status: 200})
	c.publish(Event{Type: EventRequest, Op: "GET", Key: "key-5", Nodes: []string{"kv2"}, Result: "error", Status: 502, Error: "kv2: timeout"})
	webtest.WaitEqual(t, ctx, jsFeed, []string{
		"GET key-5 → kv2 error 502: kv2: timeout",
		"PUT key-9 → kv1 kv2 kv3",
		"GET key-9 → miss",
		"GET key-3 → kv1 hit",
		"PUT key-7 → kv2",
	})
	webtest.WaitTrue(t, ctx, `document.querySelector('#feed li').classList.contains('r-error')`)
	webtest.WaitTrue(t, ctx, jsCard("kv2")+`.matches('.flash-a, .flash-b')`)

	// A node that goes down keeps its place, greyed, with its reason.
	c.setStatus("kv2", "down", "missed heartbeats")
	webtest.WaitTrue(t, ctx, jsCard("kv2")+`.classList.contains('down')`)
	webtest.WaitEqual(t, ctx, jsText("kv2", ".reason"), "missed heartbeats")
	webtest.WaitEqual(t, ctx, jsText("kv2", ".status"), "down")
	webtest.WaitEqual(t, ctx, jsNames(), []string{"kv1", "kv2", "kv3"})
	c.setStatus("kv2", "up", "")
	webtest.WaitTrue(t, ctx, `!`+jsCard("kv2")+`.classList.contains('down')`)

	// Joins append a card; kicks remove one.
	c.join("kv4", "http://127.0.0.1:5004")
	webtest.WaitEqual(t, ctx, jsNames(), []string{"kv1", "kv2", "kv3", "kv4"})
	c.kick("kv1")
	webtest.WaitEqual(t, ctx, jsNames(), []string{"kv2", "kv3", "kv4"})
	webtest.WaitEqual(t, ctx, `document.querySelectorAll('.card').length`, 3) // the fade ends

	// The mode and a resync of one node's keys.
	c.publish(Event{Type: EventMode, Mode: "replication"})
	webtest.WaitEqual(t, ctx, `document.getElementById('mode-name').textContent`, "replication")
	c.publish(Event{Type: EventNode, Node: "kv4", Change: ChangeSync, View: &NodeView{
		Name: "kv4", Status: "up", Count: 9, Keys: []KeyView{{Key: "x", Value: "1", Size: 1}, {Key: "y", Value: "2", Size: 1}},
	}})
	webtest.WaitEqual(t, ctx, jsKeys("kv4"), []string{"x", "y"})
	webtest.WaitEqual(t, ctx, jsText("kv4", ".count"), "9")
	noConsoleProblems(t, console)
}

func testMarkupIsText(t *testing.T, browser context.Context) {
	c := newTestClass(t, Snapshot{Role: "proxy", Mode: "sharding", Limit: 10}, "kv1")
	c.store("kv1", `<img src=x onerror="window.__pwned=3">`, `"<b>snapshot</b>"`)
	url := c.serve(t)
	ctx, console := openPage(t, browser, url, 1)

	key := `<script>window.__pwned=2</script>`
	value := `<img src=x onerror=window.__pwned=1>`
	c.put("kv1", key, jsString(value))
	c.join(`<img src=y onerror=window.__pwned=4>`, `javascript:window.__pwned=5`)
	c.publish(Event{Type: EventRequest, Op: "PUT", Key: `<img src=z onerror=window.__pwned=6>`,
		Nodes: []string{"<i>kv1</i>"}, Result: "error", Status: 502, Error: `<img src=w onerror=window.__pwned=7>`})

	webtest.WaitEqual(t, ctx, jsKeys("kv1"), []string{key, `<img src=x onerror="window.__pwned=3">`})
	webtest.WaitEqual(t, ctx, jsValues("kv1"), []string{value, "<b>snapshot</b>"})
	webtest.WaitEqual(t, ctx, jsNames(), []string{"kv1", `<img src=y onerror=window.__pwned=4>`})
	webtest.WaitTrue(t, ctx, `document.querySelectorAll('#feed li').length === 1`)
	// Give a smuggled image time to fail loading and fire its handler.
	webtest.Do(t, ctx, chromedp.Sleep(500*time.Millisecond))
	webtest.WaitEqual(t, ctx, `document.querySelectorAll('img, script:not([src]), b, i').length`, 0)
	webtest.WaitEqual(t, ctx, `typeof window.__pwned`, "undefined")
	noConsoleProblems(t, console)
}

func testFilter(t *testing.T, browser context.Context) {
	c := newTestClass(t, Snapshot{Role: "proxy", Mode: "sharding", Limit: 5}, "kv1", "kv2")
	for i := range 30 {
		c.store("kv1", fmt.Sprintf("key-%02d", i), fmt.Sprintf(`{"i":%d}`, i))
	}
	long := `"` + strings.Repeat("щ", 70) + `"`
	raws := []string{long, `12345`, `{"a": [1, 2, 3]}`, `"` + strings.Repeat("x", 64) + `"`}
	for i, raw := range raws {
		c.store("kv2", fmt.Sprintf("raw-%d", i), raw)
	}
	url := c.serve(t)
	ctx, console := openPage(t, browser, url, 2)
	webtest.WaitEqual(t, ctx, jsKeys("kv1"), []string{"key-29", "key-28", "key-27", "key-26", "key-25"})

	// The filter finds keys that are not among the newest, on the server.
	filter := `.card[data-node="kv1"] .filter`
	webtest.Do(t, ctx, chromedp.SendKeys(chromedp.CSS(filter), "key-1"))
	webtest.WaitEqual(t, ctx, jsKeys("kv1"), []string{"key-19", "key-18", "key-17", "key-16", "key-15"})
	webtest.WaitEqual(t, ctx, jsValues("kv1"), []string{`{"i":19}`, `{"i":18}`, `{"i":17}`, `{"i":16}`, `{"i":15}`})
	webtest.WaitEqual(t, ctx, jsText("kv1", ".note"), "10 found, newest 5 shown")

	// A live put that matches the filter shows in the results.
	c.put("kv1", "key-1x", `"new"`)
	webtest.WaitEqual(t, ctx, jsKeys("kv1"), []string{"key-1x", "key-19", "key-18", "key-17", "key-16"})

	// Escape clears the filter and shows the newest keys again.
	webtest.Do(t, ctx, chromedp.SendKeys(chromedp.CSS(filter), kb.Escape))
	webtest.WaitEqual(t, ctx, jsKeys("kv1"), []string{"key-1x", "key-29", "key-28", "key-27", "key-26"})

	// Nothing matches.
	webtest.Do(t, ctx, chromedp.SendKeys(chromedp.CSS(filter), "zzz"))
	webtest.WaitEqual(t, ctx, jsText("kv1", ".note"), "No key contains this text")
	webtest.WaitEqual(t, ctx, jsKeys("kv1"), []string{})

	// Search results are cut exactly as the server cuts values (Preview).
	webtest.Do(t, ctx, chromedp.SendKeys(chromedp.CSS(`.card[data-node="kv2"] .filter`), "raw"))
	var want []string
	for i := len(raws) - 1; i >= 0; i-- {
		text, _ := Preview(raws[i])
		want = append(want, text)
	}
	webtest.WaitEqual(t, ctx, jsValues("kv2"), want)

	noConsoleProblems(t, console)

	// A search on a down node reports the server's error (and the browser
	// logs the failed request).
	c.setStatus("kv2", "down", "stopped")
	webtest.Do(t, ctx, chromedp.SendKeys(chromedp.CSS(`.card[data-node="kv2"] .filter`), "-"))
	webtest.WaitEqual(t, ctx, jsText("kv2", ".note"), "Search failed: node kv2 is down")
}

func testLanguage(t *testing.T, browser context.Context) {
	c := newTestClass(t, Snapshot{Role: "proxy", Mode: "replication", Limit: 5}, "kv1")
	for i := range 5 {
		c.store("kv1", fmt.Sprintf("k%d", i), `1`)
	}
	url := c.serve(t)
	ctx, console := openPage(t, browser, url, 1)
	webtest.WaitEqual(t, ctx, `document.querySelector('.feed-title').textContent`, "Requests")
	webtest.WaitEqual(t, ctx, jsText("kv1", ".count-label"), "keys")

	webtest.Do(t, ctx, chromedp.Click(chromedp.ID("lang")))
	webtest.WaitEqual(t, ctx, `document.documentElement.lang`, "ru")
	webtest.WaitEqual(t, ctx, `document.querySelector('.feed-title').textContent`, "Запросы")
	webtest.WaitEqual(t, ctx, `document.getElementById('mode-name').textContent`, "репликация")
	webtest.WaitEqual(t, ctx, jsText("kv1", ".count-label"), "ключей")
	webtest.WaitEqual(t, ctx, jsText("kv1", ".status"), "работает")
	webtest.WaitEqual(t, ctx, `document.getElementById('conn-text').textContent`, "в эфире")
	c.put("kv1", "k5", `1`)
	c.mu.Lock()
	c.node("kv1").keys = c.node("kv1").keys[:1]
	c.mu.Unlock()
	c.publish(Event{Type: EventDelete, Node: "kv1", Key: "k0", Count: 1})
	webtest.WaitEqual(t, ctx, jsText("kv1", ".count-label"), "ключ")
	webtest.Screenshot(t, ctx, "state-ru")

	// The choice survives a reload.
	webtest.Do(t, ctx, chromedp.Reload())
	webtest.WaitTrue(t, ctx, `document.querySelector('#conn.live') !== null`)
	webtest.WaitEqual(t, ctx, `document.querySelector('.feed-title').textContent`, "Запросы")
	noConsoleProblems(t, console)

	// A browser that prefers Russian gets Russian without the toggle.
	ru := webtest.NewTab(t, browser)
	ua := webtest.Eval[string](t, ru, `navigator.userAgent`)
	webtest.Do(t, ru, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := chromedp.Call(ctx, emulation.SetUserAgentOverride, emulation.SetUserAgentOverrideParams{UserAgent: ua, AcceptLanguage: "ru-RU,ru"})
		return err
	}))
	other := c.serve(t) // another origin: no saved choice
	webtest.Do(t, ru, chromedp.Navigate(other+"/state"))
	webtest.WaitEqual(t, ru, `document.documentElement.lang`, "ru")
	webtest.WaitEqual(t, ru, `document.getElementById('lang').textContent`, "EN")
}

func testReconnect(t *testing.T, browser context.Context) {
	c := newTestClass(t, Snapshot{Role: "proxy", Mode: "sharding", Limit: 20}, "kv1", "kv2")
	c.store("kv1", "before", `"restart"`)
	url := c.serve(t)
	ctx, console := openPage(t, browser, url, 2)
	webtest.WaitEqual(t, ctx, jsKeys("kv1"), []string{"before"})

	// The server restarts with a changed state: the page reconnects and
	// shows the new snapshot without a reload.
	webtest.Eval[bool](t, ctx, `window.__sameDocument = true`)
	c.store("kv2", "after", `"restart"`)
	c.mu.Lock()
	c.nodes = append([]*testNode{{view: NodeView{Name: "kv0", Status: "up"}}}, c.nodes...)
	c.mu.Unlock()
	c.restartHub(t, HubOptions{MaxPending: 4})
	webtest.WaitEqual(t, ctx, jsKeys("kv2"), []string{"after"})
	webtest.WaitEqual(t, ctx, jsNames(), []string{"kv0", "kv1", "kv2"}) // the snapshot's order wins
	webtest.WaitTrue(t, ctx, `document.querySelector('#conn.live') !== null && window.__sameDocument === true`)

	// More events than the hub holds between flushes: it drops them and
	// sends a fresh snapshot in their place, and the page shows the truth.
	var keys []string
	for i := range 12 {
		k := fmt.Sprintf("burst-%02d", i)
		c.store("kv1", k, `0`)
		keys = append([]string{k}, keys...)
	}
	for _, k := range keys {
		c.publish(Event{Type: EventPut, Node: "kv1", Key: k, Value: "0", Size: 1, Count: 13})
	}
	webtest.WaitEqual(t, ctx, jsKeys("kv1"), append(keys, "before"))
	noConsoleProblems(t, console)
}

func testNodePage(t *testing.T, browser context.Context) {
	c := newTestClass(t, Snapshot{Role: "node", Limit: 10, Tunnel: &Tunnel{State: "connecting"}}, "kv1")
	url := c.serve(t)
	ctx, console := openPage(t, browser, url, 1)
	webtest.WaitEqual(t, ctx, `document.getElementById('mode-name').textContent`, "kv1")
	webtest.WaitEqual(t, ctx, `document.getElementById('tunnel-state').textContent`, "connecting")
	webtest.WaitTrue(t, ctx, `document.getElementById('join').hidden`)
	webtest.WaitTrue(t, ctx, `document.getElementById('instructor').hidden && document.getElementById('class').hidden`)

	c.publish(Event{Type: EventTunnel, Tunnel: &Tunnel{State: "online", URL: "https://kv1-anya.ngrok-free.dev"}})
	webtest.WaitEqual(t, ctx, `document.getElementById('tunnel-state').textContent`, "online")
	webtest.WaitEqual(t, ctx, `document.getElementById('tunnel-url').textContent`, "https://kv1-anya.ngrok-free.dev")

	// On a node's own page its writes make the feed.
	c.put("kv1", "hello", `"world"`)
	webtest.WaitEqual(t, ctx, jsFeed, []string{"PUT hello → kv1"})
	webtest.WaitEqual(t, ctx, jsKeys("kv1"), []string{"hello"})
	webtest.Screenshot(t, ctx, "node")
	noConsoleProblems(t, console)
}
