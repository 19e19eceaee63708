package web

import (
	"context"
	"crypto/sha256"
	"fmt"
	"math/big"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/kvclass/kvclass/web/webtest"
)

// classroom fills c with what a class looks like ten minutes in: keys
// placed by the seed's sharding rule over its nodes, one node down, and a
// feed of recent requests.
func classroom(c *testClass) {
	values := webtest.Classroom()
	names := make([]string, len(c.nodes))
	for i, n := range c.nodes {
		names[i] = n.view.Name
	}
	for _, v := range values {
		c.store(names[shardOf(v.Key, len(names))], v.Key, v.Raw)
	}
}

// shardOf is the seed's placement: SHA-256(key) as a big-endian number mod n.
func shardOf(key string, n int) int {
	sum := sha256.Sum256([]byte(key))
	var x big.Int
	x.SetBytes(sum[:])
	return int(x.Mod(&x, big.NewInt(int64(n))).Int64())
}

// testScreenshot renders a realistic class for review, in the dark theme
// (docs/state.png) and the light one, and checks that the theme follows the
// system's preference until the toggle picks one.
func testScreenshot(t *testing.T, browser context.Context) {
	c := newTestClass(t, Snapshot{
		Role:  "proxy",
		Mode:  "sharding",
		Rule:  "owner = nodes[ int(sha256(key)) mod 4 ]",
		Join:  "kvclass node --join https://kvclass-demo.ngrok-free.dev --token 4711",
		Limit: KeysPerNode,
	}, "kv1", "kv2", "kv3", "kv4")
	for i, student := range []string{"anya", "boris", "vera", "gleb"} {
		c.nodes[i].view.URL = "https://kv" + fmt.Sprint(i+1) + "-" + student + ".ngrok-free.dev"
	}
	c.nodes[2].view.Status, c.nodes[2].view.Reason = "down", "missed heartbeats for 15s"
	classroom(c)
	url := c.serve(t)

	ctx := webtest.NewTab(t, browser)
	console := webtest.RecordConsole(t, ctx)
	emulate := func(features ...*emulation.MediaFeature) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Features: features})
			return err
		})
	}
	// Reduced motion: the shot shows the settled page, not a flash.
	webtest.Do(t, ctx, emulate(
		&emulation.MediaFeature{Name: "prefers-reduced-motion", Value: "reduce"},
		&emulation.MediaFeature{Name: "prefers-color-scheme", Value: "dark"},
	))
	webtest.Do(t, ctx, chromedp.Navigate(url+"/state"))
	webtest.WaitTrue(t, ctx, `document.querySelectorAll('.card').length === 4`)
	feed := []Event{
		{Op: "PUT", Key: "key-1", Result: "ok"},
		{Op: "PUT", Key: "key-2", Result: "ok"},
		{Op: "PUT", Key: "key-3", Result: "ok"},
		{Op: "GET", Key: "key-2", Result: "hit"},
		{Op: "PUT", Key: "user:42", Result: "ok"},
		{Op: "GET", Key: "key-12", Result: "error", Status: 503, Error: "node kv3 is down"},
		{Op: "GET", Key: "user:42", Result: "hit"},
		{Op: "GET", Key: "key-99", Result: "miss", Status: 404},
		{Op: "DELETE", Key: "todo:3", Result: "miss", Status: 404},
		{Op: "PUT", Key: "greeting", Result: "ok"},
		{Op: "GET", Key: "city", Result: "hit"},
		{Op: "PUT", Key: "key-13", Result: "ok"},
	}
	for _, ev := range feed {
		ev.Type = EventRequest
		if ev.Result != "miss" {
			ev.Nodes = []string{c.nodes[shardOf(ev.Key, 4)].view.Name}
		}
		if ev.Status == 0 {
			ev.Status = 200
		}
		c.publish(ev)
	}
	c.put(c.nodes[shardOf("key-13", 4)].view.Name, "key-13", `"value-13"`)
	webtest.WaitTrue(t, ctx, fmt.Sprintf(`document.querySelectorAll('#feed li').length === %d`, len(feed)))
	webtest.WaitEqual(t, ctx, `document.documentElement.dataset.theme`, "dark")
	webtest.WaitAnimations(t, ctx)
	webtest.Screenshot(t, ctx, "state") // docs/state.png comes from proxy's end-to-end test

	// The theme follows the system until the toggle picks one.
	webtest.Do(t, ctx, emulate(
		&emulation.MediaFeature{Name: "prefers-reduced-motion", Value: "reduce"},
		&emulation.MediaFeature{Name: "prefers-color-scheme", Value: "light"},
	))
	webtest.WaitEqual(t, ctx, `document.documentElement.dataset.theme`, "light")
	webtest.WaitAnimations(t, ctx)
	webtest.Screenshot(t, ctx, "state-light")
	webtest.Do(t, ctx, chromedp.Click(chromedp.ID("theme")))
	webtest.WaitEqual(t, ctx, `document.documentElement.dataset.theme`, "dark")
	noConsoleProblems(t, console)
}
