package proxy_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/kvclass/kvclass/proxy"
	"github.com/kvclass/kvclass/web/webtest"
)

// testFortyJoinedNodes: a class of 40 students' nodes, joined through the
// registry with names of 16 characters, on the projector at 1920x1080 in
// both languages and both modes: every tile is inside the viewport with
// its whole name, its position and its count at projector size, and no
// feed row overflows; at 390x844 (a phone) the header's parts do not
// overlap.
func testFortyJoinedNodes(t *testing.T, browser context.Context) {
	const n = 40
	c := startClass(t, proxy.Sharding)
	for i := range n {
		// 16 characters, the longest name the page promises to show whole.
		c.join(t, fmt.Sprintf("konstantinova-%02d", i+1))
	}
	// A few writes, so that tiles have counts and the feed has rows.
	for i := range 12 {
		c.mustPut(t, c.url(), fmt.Sprintf("student-key-%d", i), `"a value"`)
	}
	pg := newPage(t, browser)
	webtest.SetViewport(t, pg.ctx, 1920, 1080)
	pg.open(t, c.url(), n)
	for _, mode := range []string{"sharding", "replication"} {
		if mode == "replication" {
			webtest.SetLang(t, pg.ctx, "en")
			if r := c.admin(t, adminToken, "/admin/mode", `{"mode": "replication"}`); r.status != http.StatusOK {
				t.Fatalf("mode switch: %d %s", r.status, r.body)
			}
			webtest.WaitEqual(t, pg.ctx, jsTextOf("mode-name"), "replication")
			// A replicated put names all 40 nodes: the feed must summarise.
			c.mustPut(t, c.url(), "everyone", `"has it"`)
		}
		for _, lang := range []string{"en", "ru"} {
			webtest.SetLang(t, pg.ctx, lang)
			webtest.CheckProjector(t, pg.ctx, n)
		}
	}
	webtest.SetViewport(t, pg.ctx, 390, 844)
	for _, lang := range []string{"en", "ru"} {
		webtest.SetLang(t, pg.ctx, lang)
		webtest.CheckHeader(t, pg.ctx)
	}
	pg.healthy(t)
}
