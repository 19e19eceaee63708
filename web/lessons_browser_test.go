package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/kvclass/kvclass/kvapi"
	"github.com/kvclass/kvclass/web/webtest"
)

// This file tests the lessons beyond the seed on the page (issues 13-16):
// the instructor's panel against a stub of the proxy's admin API, the
// what-if preview, misplaced keys and a rebalance, faults on a second
// viewer's page, the availability strip, a check's verdict, and all of it
// at the size of a class of 40.

// adminToken is the instructor's token in these tests.
const adminToken = "kvc-admin-7f3a9c21e4"

// cspProbe records the page's CSP violations in window.__csp, from before
// its own script runs (DevTools injects it, so the CSP does not apply).
const cspProbe = `(() => {
  window.__csp = [];
  document.addEventListener('securitypolicyviolation',
    (e) => window.__csp.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline')));
})();`

// openProbed is openPage with the CSP probe, at width x height.
func openProbed(t *testing.T, browser context.Context, url string, cards, width, height int) (context.Context, *webtest.ConsoleLog) {
	t.Helper()
	ctx := webtest.NewTab(t, browser)
	console := webtest.RecordConsole(t, ctx)
	webtest.SetViewport(t, ctx, width, height)
	webtest.Do(t, ctx, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: cspProbe})
		return err
	}))
	webtest.Do(t, ctx, chromedp.Navigate(url+"/state"))
	webtest.WaitTrue(t, ctx, fmt.Sprintf(`document.querySelector('#conn.live') && document.querySelectorAll('.card[data-node], .tile[data-node]').length >= %d`, cards))
	return ctx, console
}

// pageClean fails the test on console problems other than the browser's
// own log of an HTTP error answer (a 401 or a 400 the test asked for), on
// CSP violations, and on injected script that ran.
func pageClean(t *testing.T, ctx context.Context, console *webtest.ConsoleLog) {
	t.Helper()
	var problems []string
	for _, p := range console.Problems() {
		if !strings.Contains(p, "the server responded with a status of") {
			problems = append(problems, p)
		}
	}
	if len(problems) > 0 {
		t.Errorf("console problems: %q", problems)
	}
	if csp := webtest.Eval[[]string](t, ctx, `window.__csp || []`); len(csp) > 0 {
		t.Errorf("CSP violations: %q", csp)
	}
	if webtest.Eval[string](t, ctx, `typeof window.__pwned`) != "undefined" {
		t.Error("injected markup ran")
	}
}

// testInstructorToken: the panel needs the admin token; the page keeps
// it in the tab's session storage, never in the URL or the page, sends it
// in the Authorization header only, and forgets it on a 401.
func testInstructorToken(t *testing.T, browser context.Context) {
	c := newTestClass(t, Snapshot{Role: "proxy", Mode: "sharding", Limit: 10}, "kv1", "kv2", "kv3")
	stub := newAdminStub(c, adminToken)
	url := c.serve(t)
	ctx, console := openProbed(t, browser, url, 3, webtest.ViewportWidth, webtest.ViewportHeight)

	// The button opens the token form, not the actions.
	webtest.WaitTrue(t, ctx, `!document.getElementById('instructor').hidden && document.getElementById('admin').hidden`)
	webtest.WaitEqual(t, ctx, `document.querySelector('#instructor .instructor-label')?.textContent`, "instructor")
	webtest.Do(t, ctx, chromedp.Click(chromedp.ID("instructor")))
	webtest.WaitTrue(t, ctx, `!document.getElementById('admin-login').hidden && document.getElementById('admin-body').hidden`)
	webtest.WaitEqual(t, ctx, `document.getElementById('admin-token').type`, "password")
	// An empty token is not kept.
	webtest.Do(t, ctx, chromedp.Click(chromedp.ID("admin-signin")))
	webtest.WaitEqual(t, ctx, `document.getElementById('admin-login-note').textContent`, "Enter the admin token first.")
	webtest.WaitEqual(t, ctx, webtest.JSAdminToken, "")

	webtest.EnterAdminToken(t, ctx, adminToken)
	webtest.WaitEqual(t, ctx, webtest.JSAdminToken, adminToken)
	tok := jsString(adminToken)
	webtest.WaitEqual(t, ctx, `[location.href.includes(`+tok+`), document.documentElement.outerHTML.includes(`+tok+`),
	  document.body.innerText.includes(`+tok+`), Array.from(document.querySelectorAll('input')).some(i => i.value.includes(`+tok+`)),
	  Object.values(localStorage).some(v => v.includes(`+tok+`))]`, []bool{false, false, false, false, false})

	// An action carries the token in its Authorization header only.
	status, msg := webtest.AdminClick(t, ctx, "a-mode-replication")
	if status != 200 || msg != "Mode is now replication." {
		t.Errorf("mode: %d %q", status, msg)
	}
	call := stub.last()
	if call.Auth != "Bearer "+adminToken || strings.Contains(call.Query, adminToken) || strings.Contains(call.Body, adminToken) {
		t.Errorf("the token travelled as %+v, want only Authorization: Bearer", call)
	}
	webtest.WaitEqual(t, ctx, `document.getElementById('mode-name').textContent`, "replication")
	webtest.WaitEqual(t, ctx, `document.getElementById('a-mode-replication').getAttribute('aria-pressed')`, "true")

	// Closing the panel or reloading the page keeps it for the tab.
	webtest.Do(t, ctx, chromedp.Click(chromedp.ID("admin-close")))
	webtest.WaitTrue(t, ctx, `document.getElementById('admin').hidden`)
	webtest.Do(t, ctx, chromedp.Reload())
	webtest.WaitTrue(t, ctx, `document.querySelector('#conn.live') !== null`)
	webtest.Do(t, ctx, chromedp.Click(chromedp.ID("instructor")))
	webtest.WaitTrue(t, ctx, webtest.JSAdminSignedIn)
	if u := webtest.Eval[string](t, ctx, `location.href`); strings.Contains(u, adminToken) {
		t.Errorf("the token is in the URL: %s", u)
	}
	// Another tab does not have it: session storage is the tab's own.
	other := webtest.NewTab(t, browser)
	webtest.Do(t, other, chromedp.Navigate(url+"/state"))
	webtest.WaitTrue(t, other, `document.querySelector('#conn.live') !== null`)
	webtest.Do(t, other, chromedp.Click(chromedp.ID("instructor")))
	webtest.WaitTrue(t, other, `!document.getElementById('admin-login').hidden && document.getElementById('admin-body').hidden`)
	webtest.WaitEqual(t, other, webtest.JSAdminToken, "")
	pageClean(t, ctx, console)

	// A 401 (the proxy restarted with another token) forgets it and says
	// so.
	stub.setToken("rotated-token")
	status, msg = webtest.AdminClick(t, ctx, "a-lock")
	if status != 401 || !strings.Contains(msg, "refused the admin token (401)") {
		t.Errorf("after a 401: %d %q", status, msg)
	}
	webtest.WaitEqual(t, ctx, webtest.JSAdminToken, "")
	webtest.WaitTrue(t, ctx, `!document.getElementById('admin-login').hidden && document.getElementById('admin-body').hidden`)
	webtest.WaitEqual(t, ctx, `document.getElementById('admin-login-note').textContent`,
		"The proxy refused the admin token (401), so this tab forgot it. Enter it again.")
	// In Russian too.
	webtest.SetLang(t, ctx, "ru")
	webtest.WaitEqual(t, ctx, `document.querySelector('label[for="admin-token"]')?.textContent`, "Токен администратора")
	webtest.SetLang(t, ctx, "en")

	// The new token works; "forget" signs out.
	stub.setToken(adminToken)
	webtest.EnterAdminToken(t, ctx, adminToken)
	if status, _ := webtest.AdminClick(t, ctx, "a-unlock"); status != 200 {
		t.Errorf("unlock after entering the token again: %d", status)
	}
	webtest.Do(t, ctx, chromedp.Click(chromedp.ID("admin-signout")))
	webtest.WaitTrue(t, ctx, `!document.getElementById('admin-login').hidden`)
	webtest.WaitEqual(t, ctx, webtest.JSAdminToken, "")
	pageClean(t, ctx, console)
}

// testInstructorActions: each action of the panel sends the method, path,
// body and header the proxy's admin API takes, shows the answer, and the
// events the proxy publishes show on the page.
func testInstructorActions(t *testing.T, browser context.Context) {
	c := newTestClass(t, Snapshot{Role: "proxy", Mode: "sharding", Limit: 10,
		Class: &Class{Replicas: 1, ReadQuorum: 1, WriteQuorum: 1, Overlap: true, Misplaced: 4, Keys: 12}}, "kv1", "kv2", "kv3")
	stub := newAdminStub(c, adminToken)
	url := c.serve(t)
	ctx, console := openProbed(t, browser, url, 3, webtest.ViewportWidth, webtest.ViewportHeight)
	webtest.EnterAdminToken(t, ctx, adminToken)

	type step struct {
		name          string
		set           [][2]string
		click         string
		method, path  string
		query, body   string
		after, expect string // an expression and its value once the proxy's events show
	}
	steps := []step{
		{name: "mode", click: "a-mode-sharding", method: "POST", path: "/admin/mode", body: `{"mode":"sharding"}`},
		{name: "placement", set: [][2]string{{"a-placement", "ring"}, {"a-vnodes", "16"}, {"a-preplicas", "2"}}, click: "a-placement-go",
			method: "POST", path: "/admin/placement", body: `{"placement":"ring","vnodes":16,"replicas":2}`,
			after: `document.getElementById('rule').textContent`, expect: "ring: a key goes to the first node point at or after h(key), 2 copies of each key"},
		{name: "replication", set: [][2]string{{"a-n", "3"}, {"a-r", "2"}, {"a-w", "2"}, {"a-repair", "sync"}, {"a-hints", "true"}, {"a-ae", "30s"}, {"a-pin", "kv1"}},
			click: "a-replication-go", method: "POST", path: "/admin/replication",
			body:   `{"replicas":3,"read_quorum":2,"write_quorum":2,"read_repair":"sync","hinted_handoff":true,"anti_entropy":"30s","pin_read":"kv1"}`,
			after:  `Array.from(document.querySelectorAll('#l-nrw, #l-repair li:not([hidden])'), e => e.textContent.replace(/\s+/g, ' ').trim())`,
			expect: `["N3R2W2 R + W > N: every read meets the last write","Read repair: sync","Hinted handoff: on","Anti-entropy: every 30s","Replicas agree","Reads pinned to kv1"]`},
		{name: "replication off", set: [][2]string{{"a-r", "1"}, {"a-w", "1"}, {"a-repair", "off"}, {"a-hints", "false"}, {"a-ae", "0"}, {"a-pin", ""}},
			click: "a-replication-go", method: "POST", path: "/admin/replication",
			body:   `{"replicas":3,"read_quorum":1,"write_quorum":1,"read_repair":"off","hinted_handoff":false,"anti_entropy":"0","pin_read":""}`,
			after:  `Array.from(document.querySelectorAll('#l-nrw, #l-repair li:not([hidden])'), e => e.textContent.replace(/\s+/g, ' ').trim())`,
			expect: `["N3R1W1 R + W ≤ N: reads can be stale","Read repair: off","Hinted handoff: off","Anti-entropy: off"]`},
		{name: "rebalance", click: "a-rebalance", method: "POST", path: "/admin/rebalance",
			after: `document.querySelector('#l-rebalance .rb-figs')?.textContent`, expect: "0 of 4 keys moved · 0 B"},
		{name: "fault", set: [][2]string{{"a-fnode", "kv2"}, {"a-delay", "300"}, {"a-drop", "20"}, {"a-pause", "true"}}, click: "a-fault-set",
			method: "POST", path: "/admin/fault", body: `{"node":"kv2","delay_ms":300,"drop":0.2,"pause":true}`,
			after: webtest.JSFault("kv2"), expect: "paused · +300 ms · drop 20%"},
		{name: "clear one", set: [][2]string{{"a-fnode", "kv2"}}, click: "a-fault-clear", method: "DELETE", path: "/admin/fault", query: "node=kv2",
			after: webtest.JSFault("kv2"), expect: ""},
		{name: "fault again", set: [][2]string{{"a-fnode", "kv3"}, {"a-delay", "1500"}, {"a-drop", "0"}, {"a-pause", "false"}}, click: "a-fault-set",
			method: "POST", path: "/admin/fault", body: `{"node":"kv3","delay_ms":1500,"drop":0,"pause":false}`,
			after: webtest.JSFault("kv3"), expect: "+1,500 ms"},
		{name: "clear all", click: "a-fault-clear-all", method: "DELETE", path: "/admin/fault",
			after: webtest.JSFault("kv3"), expect: ""},
		{name: "check", set: [][2]string{{"a-cdur", "10s"}, {"a-cclients", "4"}, {"a-ckeys", "5"}}, click: "a-check",
			method: "POST", path: "/admin/check", body: `{"duration":"10s","clients":4,"keys":5}`,
			after: `document.querySelector('#l-check .check-ops')?.textContent`, expect: "running… 0 operations"},
		{name: "lock", click: "a-lock", method: "POST", path: "/admin/lock",
			after: `!document.getElementById('l-locked').hidden`, expect: "true"},
		{name: "unlock", click: "a-unlock", method: "POST", path: "/admin/unlock",
			after: `!document.getElementById('l-locked').hidden`, expect: "false"},
		{name: "kick", set: [][2]string{{"a-kick-node", "kv3"}}, click: "a-kick", method: "POST", path: "/admin/kick", body: `{"name":"kv3"}`,
			after: jsNames(), expect: `["kv1","kv2"]`},
	}
	for _, s := range steps {
		var fill []string
		for _, f := range s.set {
			fill = append(fill, f[0], f[1])
		}
		if len(fill) > 0 {
			webtest.AdminFill(t, ctx, fill...)
		}
		n := len(stub.log())
		status, msg := webtest.AdminClick(t, ctx, s.click)
		calls := stub.log()
		if len(calls) != n+1 {
			t.Fatalf("%s: %d calls, want 1", s.name, len(calls)-n)
		}
		got := calls[n]
		want := adminCall{Method: s.method, Path: s.path, Query: s.query, Auth: "Bearer " + adminToken, Body: s.body}
		if s.body != "" {
			want.ContentType = "application/json"
		}
		if got != want {
			t.Errorf("%s sent\n %+v\nwant\n %+v", s.name, got, want)
		}
		if status != 200 || msg == "" || webtest.Eval[string](t, ctx, `document.getElementById('admin-msg').className`) != "admin-msg ok" {
			t.Errorf("%s: the panel shows %d %q", s.name, status, msg)
		}
		if s.after != "" {
			var want any
			if err := json.Unmarshal([]byte(s.expect), &want); err != nil {
				want = s.expect
			}
			webtest.WaitEqual(t, ctx, s.after, want)
		}
	}
	// The panel shows the class's settings as the proxy's events bring
	// them.
	webtest.WaitEqual(t, ctx, `['a-n', 'a-r', 'a-w', 'a-repair', 'a-ae', 'a-placement', 'a-preplicas'].map(id => document.getElementById(id).value)`,
		[]string{"3", "1", "1", "off", "0", "ring", "2"})
	webtest.WaitEqual(t, ctx, `Array.from(document.getElementById('a-kick-node').options, o => o.value)`, []string{"kv1", "kv2"})

	// A fault's own clear button in the list of faults.
	webtest.AdminFill(t, ctx, "a-fnode", "kv1", "a-pause", "true")
	webtest.AdminClick(t, ctx, "a-fault-set")
	webtest.WaitEqual(t, ctx, `Array.from(document.querySelectorAll('#a-faults li'), li => li.textContent)`, []string{"kv1 paused · +1,500 ms Clear"})
	seq := webtest.Eval[string](t, ctx, `document.getElementById('admin-msg').dataset.seq`)
	webtest.Do(t, ctx, chromedp.Click(chromedp.CSS(`#a-faults button[data-node="kv1"]`)))
	webtest.WaitTrue(t, ctx, `document.getElementById('admin-msg').dataset.seq !== `+jsString(seq))
	if got := stub.last(); got.Method != "DELETE" || got.Query != "node=kv1" {
		t.Errorf("the list's clear button sent %+v", got)
	}
	webtest.WaitEqual(t, ctx, webtest.JSFault("kv1"), "")

	// Reset asks first; "cancel" sends nothing.
	n := len(stub.log())
	webtest.Do(t, ctx, chromedp.Click(chromedp.ID("a-reset")))
	webtest.WaitTrue(t, ctx, `!document.getElementById('a-reset-confirm').hidden`)
	webtest.Do(t, ctx, chromedp.Click(chromedp.ID("a-reset-no")))
	webtest.WaitTrue(t, ctx, `document.getElementById('a-reset-confirm').hidden`)
	webtest.Do(t, ctx, chromedp.Click(chromedp.ID("a-reset")))
	status, msg := webtest.AdminClick(t, ctx, "a-reset-yes")
	if got := stub.log()[n:]; len(got) != 1 || got[0].Method != "POST" || got[0].Path != "/admin/reset" || got[0].Body != "" || status != 200 || msg != "Reset sent to every up node." {
		t.Errorf("reset sent %+v and showed %d %q", got, status, msg)
	}
	pageClean(t, ctx, console)

	// The proxy's refusal shows as an error; a field the page cannot send
	// is refused before anything is sent.
	webtest.AdminSet(t, ctx, "a-r", "5")
	status, msg = webtest.AdminClick(t, ctx, "a-replication-go")
	if status != 400 || msg != "R and W cannot exceed N." || webtest.Eval[string](t, ctx, `document.getElementById('admin-msg').className`) != "admin-msg error" {
		t.Errorf("a refused action shows %d %q", status, msg)
	}
	n = len(stub.log())
	webtest.AdminSet(t, ctx, "a-n", "three")
	if status, msg := webtest.AdminClick(t, ctx, "a-replication-go"); status != 0 || msg != "N: a whole number, please." || len(stub.log()) != n {
		t.Errorf("a bad field: %d %q, %d calls", status, msg, len(stub.log())-n)
	}
	webtest.AdminFill(t, ctx, "a-n", "3", "a-ae", "soon")
	if status, msg := webtest.AdminClick(t, ctx, "a-replication-go"); status != 0 || msg != "Anti-entropy: a duration such as 30s, or 0 for off." {
		t.Errorf("a bad interval: %d %q", status, msg)
	}
	// The R + W hint follows the fields as they are typed.
	webtest.AdminFill(t, ctx, "a-r", "2", "a-w", "2")
	webtest.WaitEqual(t, ctx, `document.getElementById('a-nrw-hint').textContent`, "R + W > N: every read meets the last write")

	// The panel speaks Russian too.
	webtest.SetLang(t, ctx, "ru")
	webtest.WaitEqual(t, ctx, `[document.querySelector('label[for="a-delay"]')?.textContent, document.querySelector('#a-placement option[value="ring"]')?.textContent, document.getElementById('a-fault-set').textContent]`,
		[]string{"Задержка, мс", "кольцо", "Включить сбой"})
	webtest.SetLang(t, ctx, "en")
	pageClean(t, ctx, console)
}

// whatIfStub answers GET /placement/whatif: a join moves join, a leave
// moves the leaving node's keys; a name with a space is refused.
type whatIfStub struct {
	join []string
	c    *testClass

	mu    sync.Mutex
	asked []string // "query|Authorization"
}

func (s *whatIfStub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.asked = append(s.asked, r.URL.RawQuery+"|"+r.Header.Get("Authorization"))
	s.mu.Unlock()
	q := r.URL.Query()
	if strings.Contains(q.Get("join"), " ") {
		kvapi.WriteError(w, kvapi.Errorf(http.StatusBadRequest, "A node's name has no spaces."))
		return
	}
	moved := s.join
	if leave := q.Get("leave"); leave != "" {
		moved = nil
		s.c.mu.Lock()
		for _, p := range s.c.node(leave).keys {
			moved = append(moved, p.key)
		}
		s.c.mu.Unlock()
	}
	kvapi.WriteValue(w, http.StatusOK, whatIfAnswerJSON(12, len(moved), 0.25, moved))
}

func (s *whatIfStub) last() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.asked[len(s.asked)-1]
}

// testWhatIf: a preview of a join or a leave highlights exactly the keys
// the endpoint lists among those the page shows, with each strategy's
// figures beside the ideal, until cleared.
func testWhatIf(t *testing.T, browser context.Context) {
	c := newTestClass(t, Snapshot{Role: "proxy", Mode: "sharding", Limit: 5}, "kv1", "kv2", "kv3")
	for i := 1; i <= 6; i++ {
		c.store("kv1", fmt.Sprintf("a%d", i), `1`)
	}
	for i := 1; i <= 3; i++ {
		c.store("kv2", fmt.Sprintf("b%d", i), `2`)
		c.store("kv3", fmt.Sprintf("c%d", i), `3`)
	}
	// a1 is not listed (kv1 lists its newest five); gone-key is nowhere.
	stub := &whatIfStub{c: c, join: []string{"a1", "a3", "a6", "b2", "c1", "c3", "gone-key"}}
	c.whatif = stub.ServeHTTP
	newAdminStub(c, adminToken)
	url := c.serve(t)
	ctx, console := openProbed(t, browser, url, 3, webtest.ViewportWidth, webtest.ViewportHeight)
	webtest.EnterAdminToken(t, ctx, adminToken)

	webtest.AdminSet(t, ctx, "a-wjoin", "kv4")
	status, msg := webtest.AdminClick(t, ctx, "a-whatif-join")
	if status != 200 || msg != "7 of 12 keys would move (58.3%); ideal 25.0%" {
		t.Errorf("preview: %d %q", status, msg)
	}
	if got := stub.last(); got != "join=kv4|" {
		t.Errorf("the preview asked %q, want join=kv4 without a token", got)
	}
	webtest.WaitEqual(t, ctx, webtest.JSMovingKeys, []string{"a3", "a6", "b2", "c1", "c3"})
	webtest.WaitEqual(t, ctx, `Array.from(document.querySelectorAll('.kv.moving .mark'), m => m.textContent)`, []string{"moves", "moves", "moves", "moves", "moves"})
	webtest.WaitEqual(t, ctx, `document.querySelector('#l-preview .pv-title')?.textContent`, "If kv4 joins")
	webtest.WaitEqual(t, ctx, `Array.from(document.querySelectorAll('#l-preview tbody tr'), tr => Array.from(tr.cells, td => td.textContent))`, [][]string{
		{"modulo", "58.3% (7)", "25.0%", "1.12"},
		{"ring", "33.3% (4)", "25.0%", "1.31"},
		{"rendezvous", "25.0% (3)", "25.0%", "1.05"},
	})
	webtest.WaitEqual(t, ctx, `document.querySelector('#l-preview tr.current')?.dataset.placement`, "modulo")
	webtest.WaitEqual(t, ctx, `Array.from(document.querySelectorAll('.card.moving'), c => [c.dataset.node, c.querySelector('.mk-moving')?.textContent])`,
		[][]string{{"kv1", "2 move"}, {"kv2", "1 moves"}, {"kv3", "2 move"}})

	// A refused name shows the proxy's error and keeps the preview.
	webtest.AdminSet(t, ctx, "a-wjoin", "new node&x=1")
	status, msg = webtest.AdminClick(t, ctx, "a-whatif-join")
	if status != 400 || msg != "Preview failed: A node's name has no spaces." || stub.last() != "join=new%20node%26x%3D1|" {
		t.Errorf("a refused preview: %d %q, asked %q", status, msg, stub.last())
	}
	webtest.WaitEqual(t, ctx, webtest.JSMovingKeys, []string{"a3", "a6", "b2", "c1", "c3"})

	// A leave marks the leaving node's keys.
	webtest.AdminSet(t, ctx, "a-wleave", "kv2")
	webtest.AdminClick(t, ctx, "a-whatif-leave")
	if got := stub.last(); got != "leave=kv2|" {
		t.Errorf("the leave preview asked %q", got)
	}
	webtest.WaitEqual(t, ctx, webtest.JSMovingKeys, []string{"b1", "b2", "b3"})
	webtest.WaitEqual(t, ctx, `document.querySelector('#l-preview .pv-title')?.textContent`, "If kv2 leaves")
	webtest.SetLang(t, ctx, "ru")
	webtest.WaitEqual(t, ctx, `[document.querySelector('#l-preview .pv-title')?.textContent, document.querySelector('#l-preview th')?.textContent, document.querySelector('#l-preview td')?.textContent]`,
		[]string{"Если уйдёт kv2", "стратегия", "по модулю"})
	webtest.SetLang(t, ctx, "en")
	webtest.WaitEqual(t, ctx, webtest.JSMovingKeys, []string{"b1", "b2", "b3"})

	// Cleared from the panel, or from the lesson's own button.
	webtest.Do(t, ctx, chromedp.Click(chromedp.ID("a-whatif-clear")))
	webtest.WaitEqual(t, ctx, webtest.JSMovingKeys, []string{})
	webtest.WaitTrue(t, ctx, `document.getElementById('l-preview').hidden && !document.querySelector('.card.moving, .mk-moving')`)
	webtest.AdminSet(t, ctx, "a-wjoin", "kv4")
	webtest.AdminClick(t, ctx, "a-whatif-join")
	webtest.WaitEqual(t, ctx, webtest.JSMovingKeys, []string{"a3", "a6", "b2", "c1", "c3"})
	webtest.Do(t, ctx, chromedp.Click(chromedp.ID("admin-close")))
	webtest.Do(t, ctx, chromedp.Click(chromedp.CSS(`#l-preview .pv-clear`)))
	webtest.WaitEqual(t, ctx, webtest.JSMovingKeys, []string{})
	pageClean(t, ctx, console)

	// The picture for docs/instructor-panel.png: a class mid-lesson, a
	// join previewed, the panel open at its faults and previews.
	c.updateClass(func(cl *Class) {
		*cl = Class{Replicas: 3, ReadQuorum: 1, WriteQuorum: 1, ReadRepair: "async", HintedHandoff: true, Misplaced: 3, Keys: 12}
	})
	c.markMisplaced("kv1", 2, "a4", "a5")
	c.markMisplaced("kv3", 1, "c2")
	c.setFault("kv2", &Fault{DelayMS: 300, Pause: true})
	now := time.Now().Unix()
	for i := int64(59); i >= 0; i-- {
		s := Second{T: now - i, OK: 30 + int(i*7%11)}
		if i >= 12 && i < 25 {
			s.OK, s.Fail, s.Faulted = 18, 11+int(i%4), []string{"kv2"}
		}
		c.second(s)
	}
	webtest.SetViewport(t, ctx, 1600, 900)
	webtest.Do(t, ctx, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Features: []*emulation.MediaFeature{
			{Name: "prefers-reduced-motion", Value: "reduce"}, {Name: "prefers-color-scheme", Value: "dark"},
		}})
		return err
	}))
	webtest.Do(t, ctx, chromedp.Click(chromedp.ID("instructor")))
	webtest.WaitTrue(t, ctx, webtest.JSAdminSignedIn)
	webtest.AdminFill(t, ctx, "a-wjoin", "kv4", "a-fnode", "kv2", "a-delay", "300", "a-pause", "true")
	webtest.AdminClick(t, ctx, "a-whatif-join")
	webtest.WaitEqual(t, ctx, webtest.JSMovingKeys, []string{"a3", "a6", "b2", "c1", "c3"})
	webtest.Eval[bool](t, ctx, `(document.getElementById('admin').scrollTop = document.getElementById('a-fnode').closest('.a-sec').offsetTop - 120, true)`)
	webtest.WaitAnimations(t, ctx)
	updateDoc(t, webtest.Screenshot(t, ctx, "instructor-panel"), "instructor-panel.png")
}

// testMisplaced: the class's misplaced count, the marks on key rows and
// the per-node counts follow the snapshot, "misplaced" and "class" events
// and a sync, through a rebalance down to 0; hints and own
// implementations show on their nodes.
func testMisplaced(t *testing.T, browser context.Context) {
	c := newTestClass(t, Snapshot{Role: "proxy", Mode: "sharding", Limit: 10,
		Class: &Class{Replicas: 1, ReadQuorum: 1, WriteQuorum: 1, Overlap: true, Misplaced: 5, Keys: 9}}, "kv1", "kv2", "kv3")
	for i := 1; i <= 9; i++ {
		c.store([]string{"kv1", "kv1", "kv1", "kv1", "kv2", "kv2", "kv2", "kv3", "kv3"}[i-1], fmt.Sprintf("k%d", i), `"v"`)
	}
	c.node("kv1").misplaced = map[string]bool{"k1": true, "k3": true}
	c.node("kv1").view.Misplaced = 2
	c.node("kv2").misplaced = map[string]bool{"k5": true, "k6": true, "k7": true}
	c.node("kv2").view.Misplaced = 3
	url := c.serve(t)
	ctx, console := openProbed(t, browser, url, 3, webtest.ViewportWidth, webtest.ViewportHeight)

	webtest.WaitEqual(t, ctx, webtest.JSMisplacedCount, 5)
	webtest.WaitEqual(t, ctx, `document.getElementById('l-misplaced').textContent`, "5 of 9 keys misplaced")
	webtest.WaitEqual(t, ctx, webtest.JSMisplacedKeys("kv1"), []string{"k1", "k3"})
	webtest.WaitEqual(t, ctx, webtest.JSMisplacedKeys("kv2"), []string{"k5", "k6", "k7"})
	webtest.WaitEqual(t, ctx, `[`+webtest.JSNodeMisplaced("kv1")+`, `+webtest.JSNodeMisplaced("kv2")+`, `+webtest.JSNodeMisplaced("kv3")+`]`, []int{2, 3, 0})
	webtest.WaitEqual(t, ctx, jsCard("kv1")+`.querySelector('.mk-misplaced')?.textContent`, "2 misplaced")
	webtest.WaitEqual(t, ctx, jsCard("kv1")+`.querySelector('.kv.misplaced .mark')?.textContent`, "misplaced")
	// One copy per key under sharding: no N/R/W lesson.
	webtest.WaitTrue(t, ctx, `document.getElementById('l-nrw').hidden && document.getElementById('l-repair').hidden`)

	// A misplaced event replaces the node's marks.
	c.markMisplaced("kv1", 1, "k3")
	webtest.WaitEqual(t, ctx, webtest.JSMisplacedKeys("kv1"), []string{"k3"})
	webtest.WaitEqual(t, ctx, webtest.JSNodeMisplaced("kv1"), 1)

	// A rebalance runs: its progress, and the down node whose keys wait.
	c.updateClass(func(cl *Class) {
		cl.Misplaced = 4
		cl.Rebalance = &Rebalance{Running: true, Moved: 1, Total: 5, Bytes: 2048, Waiting: []string{"kv3"}}
	})
	webtest.WaitEqual(t, ctx, webtest.JSMisplacedCount, 4)
	webtest.WaitEqual(t, ctx, `['.rb-state', '.rb-figs', '.rb-wait'].map(s => document.querySelector('#l-rebalance ' + s)?.textContent)`,
		[]string{"running…", "1 of 5 keys moved · 2 KiB", "Waiting for kv3 (down)"})
	webtest.WaitEqual(t, ctx, `document.querySelector('#l-rebalance .progress-fill')?.style?.getPropertyValue('--frac')`, "0.2")
	// The move itself: a put on the owner, a delete on the old holder.
	c.put("kv3", "k6", `"v"`)
	c.mu.Lock()
	c.node("kv2").keys = slices.DeleteFunc(c.node("kv2").keys, func(p testPair) bool { return p.key == "k6" })
	c.mu.Unlock()
	c.publish(Event{Type: EventDelete, Node: "kv2", Key: "k6", Count: 2})
	c.markMisplaced("kv2", 2, "k5", "k7")
	webtest.WaitEqual(t, ctx, webtest.JSMisplacedKeys("kv2"), []string{"k5", "k7"})
	webtest.WaitEqual(t, ctx, webtest.JSMisplacedKeys("kv3"), []string{})
	c.updateClass(func(cl *Class) { cl.Misplaced, cl.Rebalance.Moved, cl.Rebalance.Bytes = 2, 3, 3072 })
	webtest.WaitEqual(t, ctx, webtest.JSMisplacedCount, 2)
	webtest.WaitEqual(t, ctx, `document.querySelector('#l-rebalance .progress-fill')?.style?.getPropertyValue('--frac')`, "0.6")

	// Done: nothing is misplaced.
	c.markMisplaced("kv1", 0)
	c.markMisplaced("kv2", 0)
	c.updateClass(func(cl *Class) {
		cl.Misplaced = 0
		cl.Rebalance = &Rebalance{Moved: 5, Total: 5, Bytes: 5120}
	})
	webtest.WaitEqual(t, ctx, webtest.JSMisplacedCount, 0)
	webtest.WaitEqual(t, ctx, `document.getElementById('l-misplaced').textContent`, "All 9 keys are on their owners")
	webtest.WaitEqual(t, ctx, `[document.querySelectorAll('.kv.misplaced, .mk-misplaced, [data-misplaced]').length, document.querySelector('#l-rebalance .rb-state')?.textContent]`, []any{0, "done"})
	webtest.SetLang(t, ctx, "ru")
	webtest.WaitEqual(t, ctx, `document.getElementById('l-misplaced').textContent`, "Все ключи на своих узлах (9)")
	c.updateClass(func(cl *Class) { cl.Misplaced, cl.Keys = 73, 100 })
	webtest.WaitEqual(t, ctx, `document.getElementById('l-misplaced').textContent`, "73 из 100 ключей не на своём узле")
	webtest.SetLang(t, ctx, "en")
	webtest.WaitEqual(t, ctx, `document.getElementById('l-misplaced').textContent`, "73 of 100 keys misplaced")

	// A sync brings a node's keys with their marks.
	c.publish(Event{Type: EventNode, Node: "kv3", Change: ChangeSync, View: &NodeView{Name: "kv3", Status: "up", Count: 2, Misplaced: 1,
		Keys: []KeyView{{Key: "k8", Value: "v", Size: 1, Misplaced: true}, {Key: "k9", Value: "v", Size: 1}}}})
	webtest.WaitEqual(t, ctx, webtest.JSMisplacedKeys("kv3"), []string{"k8"})
	webtest.WaitEqual(t, ctx, webtest.JSNodeMisplaced("kv3"), 1)

	// Hints wait on a down node; an own implementation keeps its badge
	// through health changes, as text.
	own := `<img src=x onerror=window.__pwned=1>/2.3`
	c.publish(Event{Type: EventNode, Node: "kv2", Change: ChangeDown, View: &NodeView{Name: "kv2", Status: "down", Reason: "stopped", Hints: 7, Own: own}})
	webtest.WaitEqual(t, ctx, `[`+webtest.JSHints("kv2")+`, `+webtest.JSOwn("kv2")+`, `+jsCard("kv2")+`.querySelector('.mk-hints')?.textContent, `+jsCard("kv2")+`.querySelector('.mk-own')?.textContent]`,
		[]any{7, own, "7 hinted writes wait", own})
	c.publish(Event{Type: EventNode, Node: "kv2", Change: ChangeUp, View: &NodeView{Name: "kv2", Status: "up"}})
	webtest.WaitEqual(t, ctx, `[`+webtest.JSHints("kv2")+`, `+webtest.JSOwn("kv2")+`]`, []any{0, own})
	webtest.WaitEqual(t, ctx, `document.querySelectorAll('img').length`, 0)
	pageClean(t, ctx, console)
}

// testFaultOnAnotherViewer: a fault set from the instructor's panel shows
// on a second viewer's page within a second, the availability strip marks
// its period, and clearing it shows at once too.
func testFaultOnAnotherViewer(t *testing.T, browser context.Context) {
	c := newTestClass(t, Snapshot{Role: "proxy", Mode: "replication", Limit: 10,
		Class: &Class{Replicas: 3, ReadQuorum: 1, WriteQuorum: 1, ReadRepair: "async"}}, "kv1", "kv2", "kv3")
	now := time.Now().Unix()
	for i := int64(60); i > 0; i-- {
		c.snap.Seconds = append(c.snap.Seconds, Second{T: now - i, OK: 30 + int(i%7)})
	}
	newAdminStub(c, adminToken)
	url := c.serve(t)
	inst, iconsole := openProbed(t, browser, url, 3, webtest.ViewportWidth, webtest.ViewportHeight)
	webtest.EnterAdminToken(t, inst, adminToken)
	viewer, vconsole := openProbed(t, browser, url, 3, webtest.ViewportWidth, webtest.ViewportHeight)
	webtest.WaitEqual(t, viewer, `document.querySelectorAll('#strip .sec[data-t]').length`, 60)
	webtest.WaitTrue(t, viewer, `!`+webtest.JSStripHasFault(""))
	webtest.WaitTrue(t, viewer, `document.getElementById('instructor') && document.getElementById('admin').hidden`)

	// The viewer notes the moment the mark shows; the instructor the
	// moment of the click. Both tabs read one clock.
	webtest.Eval[bool](t, viewer, `(window.__faultAt = 0, new MutationObserver(() => {
	  if (!window.__faultAt && document.querySelector('.card[data-node="kv2"][data-fault]')) window.__faultAt = Date.now();
	}).observe(document.body, { subtree: true, childList: true, attributes: true }), true)`)
	webtest.AdminFill(t, inst, "a-fnode", "kv2", "a-pause", "true")
	clicked := webtest.Eval[float64](t, inst, `(() => { const t = Date.now(); document.getElementById('a-fault-set').click(); return t; })()`)
	webtest.WaitTrue(t, viewer, `window.__faultAt > 0`)
	shown := webtest.Eval[float64](t, viewer, `window.__faultAt`)
	t.Logf("the fault showed on the second viewer's page %.0f ms after the click", shown-clicked)
	if shown-clicked > 1000 {
		t.Errorf("the fault showed on the second viewer's page %.0f ms after the click, want within 1 s", shown-clicked)
	}
	webtest.WaitEqual(t, viewer, webtest.JSFault("kv2"), "paused")
	webtest.WaitEqual(t, viewer, jsCard("kv2")+`.classList.contains('faulted')`, true)

	// While it lasts the proxy's seconds name it; the strip marks them.
	for i := range int64(8) {
		c.second(Second{T: now + i, OK: 20, Fail: 15, Faulted: []string{"kv2"}})
	}
	webtest.WaitTrue(t, viewer, webtest.JSStripHasFault("kv2"))
	webtest.WaitEqual(t, viewer, webtest.JSStripFaultSeconds, 8)
	webtest.WaitEqual(t, viewer, webtest.JSStripFailures, 120)
	webtest.WaitTrue(t, viewer, `document.querySelector('#strip .sec.faulted')?.title.includes('fault: kv2')`)
	webtest.WaitEqual(t, viewer, `document.querySelector('#l-avail .avail-now')?.textContent`, "20 ok · 15 failed per s")

	// Cleared from the panel: gone from the viewer's page; the strip keeps
	// the period.
	webtest.AdminClick(t, inst, "a-fault-clear-all")
	webtest.WaitEqual(t, viewer, webtest.JSFault("kv2"), "")
	c.second(Second{T: now + 8, OK: 41})
	webtest.WaitEqual(t, viewer, `document.querySelector('#l-avail .avail-now')?.textContent`, "41 ok · 0 failed per s")
	webtest.WaitEqual(t, viewer, webtest.JSStripFaultSeconds, 8)
	webtest.CheckLessons(t, viewer)

	// A viewer who comes later gets the strip with the snapshot.
	late, lconsole := openProbed(t, browser, url, 3, webtest.ViewportWidth, webtest.ViewportHeight)
	webtest.WaitEqual(t, late, webtest.JSStripFaultSeconds, 8)
	webtest.WaitEqual(t, late, `document.querySelectorAll('#strip .sec[data-t]').length`, 69)
	webtest.SetLang(t, late, "ru")
	webtest.WaitEqual(t, late, `document.querySelector('#l-avail .lesson-title')?.textContent`, "Доступность, последние 2 мин")
	c.setFault("kv3", &Fault{Pause: true, DelayMS: 250})
	webtest.WaitEqual(t, late, webtest.JSFault("kv3"), "пауза · +250 мс")
	webtest.SetLang(t, late, "en")
	pageClean(t, inst, iconsole)
	pageClean(t, viewer, vconsole)
	pageClean(t, late, lconsole)
}

// testCheckVerdict: a check started from the panel shows its progress;
// its verdict lands big over the page with its explanation, stays in the
// class panel once closed, and a later viewer sees it without the big one.
func testCheckVerdict(t *testing.T, browser context.Context) {
	c := newTestClass(t, Snapshot{Role: "proxy", Mode: "replication", Limit: 10,
		Class: &Class{Replicas: 3, ReadQuorum: 1, WriteQuorum: 1, ReadRepair: "async"}}, "kv1", "kv2", "kv3")
	newAdminStub(c, adminToken)
	url := c.serve(t)
	ctx, console := openProbed(t, browser, url, 3, webtest.ViewportWidth, webtest.ViewportHeight)
	webtest.EnterAdminToken(t, ctx, adminToken)
	if status, msg := webtest.AdminClick(t, ctx, "a-check"); status != 200 || msg != "Check started: 10s, 4 clients, 5 keys." {
		t.Errorf("check: %d %q", status, msg)
	}
	webtest.Do(t, ctx, chromedp.Click(chromedp.ID("admin-close")))
	webtest.WaitEqual(t, ctx, `[document.getElementById('l-check').dataset.running, `+webtest.JSCheckVerdict+`]`, []string{"true", ""})
	c.updateClass(func(cl *Class) { cl.Check = &Check{Running: true, Ops: 480} })
	webtest.WaitEqual(t, ctx, `document.querySelector('#l-check .check-ops')?.textContent`, "running… 480 operations")
	if webtest.Eval[bool](t, ctx, webtest.JSVerdictShown) {
		t.Error("the big verdict shows before the verdict")
	}

	why := "stale read: GET key-1 at 7.967 s returned c0-111 from kv1, after PUT key-1=c1-157 was acknowledged at 7.944 s"
	c.updateClass(func(cl *Class) {
		cl.Check = &Check{Ops: 1204, Verdict: "NOT LINEARIZABLE", Explanation: why}
	})
	webtest.WaitTrue(t, ctx, webtest.JSVerdictShown)
	webtest.WaitEqual(t, ctx, webtest.JSCheckVerdict, "NOT LINEARIZABLE")
	webtest.WaitEqual(t, ctx, `['.verdict-word', '.verdict-why', '.verdict-ops'].map(s => document.querySelector('#verdict ' + s)?.textContent)`,
		[]string{"NOT LINEARIZABLE", why, "1,204 operations"})
	webtest.WaitEqual(t, ctx, `document.querySelector('#l-check .check-why')?.textContent`, why)
	webtest.CheckLessons(t, ctx)
	webtest.Do(t, ctx, chromedp.Click(chromedp.ID("verdict-close")))
	webtest.WaitTrue(t, ctx, `!`+webtest.JSVerdictShown+` && !document.getElementById('l-check').hidden`)
	webtest.SetLang(t, ctx, "ru")
	webtest.WaitEqual(t, ctx, `document.querySelector('#l-check .check-verdict')?.textContent`, "НЕ ЛИНЕАРИЗУЕМО")
	webtest.SetLang(t, ctx, "en")

	// The next check: running closes nothing new; its verdict lands; Escape
	// closes it.
	c.updateClass(func(cl *Class) { cl.Check = &Check{Running: true} })
	webtest.WaitEqual(t, ctx, webtest.JSCheckVerdict, "")
	c.updateClass(func(cl *Class) { cl.Check = &Check{Ops: 990, Verdict: "LINEARIZABLE"} })
	webtest.WaitTrue(t, ctx, webtest.JSVerdictShown+` && document.getElementById('verdict').classList.contains('v-ok')`)
	webtest.Do(t, ctx, chromedp.KeyEvent("\u001b"))
	webtest.WaitTrue(t, ctx, `!`+webtest.JSVerdictShown)

	// A later viewer sees the verdict in the panel, not over the page.
	later, lconsole := openProbed(t, browser, url, 3, webtest.ViewportWidth, webtest.ViewportHeight)
	webtest.WaitEqual(t, later, webtest.JSCheckVerdict, "LINEARIZABLE")
	if webtest.Eval[bool](t, later, webtest.JSVerdictShown) {
		t.Error("a snapshot's old verdict shows over the page")
	}
	pageClean(t, ctx, console)
	pageClean(t, later, lconsole)
}

// lessonsClass returns a class of 40 with every lesson on: quorums that do
// not overlap and the repairs, a rebalance with down nodes waiting, a
// check's verdict, faults, hints, own implementations, misplaced keys, two
// minutes of seconds with a fault period.
func lessonsClass(t *testing.T) (*testClass, []string) {
	c, names := bigClass(t, "replication")
	misplaced := 0
	for i, n := range c.nodes {
		if i%3 == 0 {
			n.misplaced = map[string]bool{}
			for j, p := range n.keys {
				if j%2 == 0 {
					n.misplaced[p.key] = true
				}
			}
			n.view.Misplaced = len(n.keys) / 2
			misplaced += n.view.Misplaced
		}
	}
	keys := 0
	for _, n := range c.nodes {
		keys += len(n.keys)
	}
	c.snap.Class = &Class{Replicas: 3, ReadQuorum: 1, WriteQuorum: 1, ReadRepair: "async", HintedHandoff: true, AntiEntropy: "30s",
		Divergent: 12, PinnedRead: "anya", Misplaced: misplaced, Keys: keys, Locked: true,
		Rebalance: &Rebalance{Running: true, Moved: 200, Total: misplaced + 200, Bytes: 40960, Waiting: []string{"mohammed-hassan", "yulia"}},
		Check: &Check{Ops: 1204, Verdict: "NOT LINEARIZABLE",
			Explanation: "stale read: GET key-1 at 7.967 s returned c0-111 from anya, after PUT key-1=c1-157 was acknowledged at 7.944 s (served by boris, vera)"}}
	faults := map[string]*Fault{"boris": {Pause: true}, "fatima-al-rashid": {DelayMS: 300, Drop: 0.2}, "yulia": {DelayMS: 1500}}
	hints := map[string]int{"yulia": 17, "mohammed-hassan": 3}
	own := map[string]string{"nguyen-van-an": "Flask/2.3", "li-wei": "node/20.11 express", "student_33": "<img src=x onerror=window.__pwned=1>", "alexander-novik": "own"}
	for _, n := range c.nodes {
		n.view.Fault = faults[n.view.Name]
		n.view.Hints = hints[n.view.Name]
		n.view.Own = own[n.view.Name]
	}
	now := time.Now().Unix()
	for i := int64(119); i >= 0; i-- {
		s := Second{T: now - i, OK: 40 + int(i*7%23)}
		if i >= 30 && i < 55 {
			s.OK, s.Fail, s.Faulted = 22+int(i%5), 14+int(i%9), []string{"boris"}
		}
		c.snap.Seconds = append(c.snap.Seconds, s)
	}
	return c, names
}

// lessonsFeed publishes the feed's new kinds of line.
func lessonsFeed(c *testClass) int {
	evs := []Event{
		{Op: "GET", Key: "key-1", Nodes: []string{"anya"}, Result: "stale", Status: 200, Stale: "anya stale: 41 < 44"},
		{Op: "PUT", Key: "key-1", Nodes: []string{"boris"}, Result: "late", Status: 200},
		{Op: "GET", Key: "user:42", Result: "miss", Status: 404, Misplaced: "fatima-al-rashid"},
		{Op: "GET", Key: "key-2", Nodes: []string{"anya", "boris", "vera"}, Result: "stale", Status: 200,
			Stale: "vera stale: 115939487022645248/kv2 < 115939487022710784/kv1"},
		{Op: "GET", Key: "<b>k</b>", Result: "miss", Status: 404, Misplaced: "<img src=x onerror=window.__pwned=2>"},
	}
	for _, ev := range evs {
		ev.Type = EventRequest
		c.publish(ev)
	}
	return len(evs)
}

// testLessonsProjector: a class of 40 on the 1920x1080 projector with
// every lesson on still fits (webtest.CheckProjector) in both languages,
// with the big verdict over it and with a node's keys open; the lessons
// are readable (webtest.CheckLessons); the phone's header still fits.
func testLessonsProjector(t *testing.T, browser context.Context) {
	c, names := lessonsClass(t)
	url := c.serve(t)
	ctx, console := openBig(t, browser, url, len(names))
	webtest.Do(t, ctx, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: cspProbe})
		return err
	}))
	webtest.Do(t, ctx, chromedp.Reload())
	webtest.WaitTrue(t, ctx, fmt.Sprintf(`document.querySelector('#conn.live') && document.querySelectorAll('.tile[data-node]').length === %d`, len(names)))
	feed := feedOf(c, names, "replication") + lessonsFeed(c)
	webtest.WaitEqual(t, ctx, `document.querySelectorAll('#feed li').length`, min(feed, 30))

	webtest.WaitEqual(t, ctx, webtest.JSFault("boris"), "paused")
	webtest.WaitEqual(t, ctx, webtest.JSTile("boris")+`.querySelector('.t-status')?.textContent`, "paused")
	webtest.WaitEqual(t, ctx, webtest.JSFault("yulia"), "+1,500 ms")
	webtest.WaitEqual(t, ctx, webtest.JSTile("yulia")+`.querySelector('.t-status')?.textContent`, "down")
	webtest.WaitEqual(t, ctx, `[`+webtest.JSHints("yulia")+`, `+webtest.JSOwn("student_33")+`]`, []any{17, "<img src=x onerror=window.__pwned=1>"})
	webtest.WaitTrue(t, ctx, webtest.JSStripHasFault("boris"))
	webtest.WaitEqual(t, ctx, webtest.JSStripFaultSeconds, 25)
	webtest.WaitEqual(t, ctx, webtest.JSCheckVerdict, "NOT LINEARIZABLE")
	webtest.WaitEqual(t, ctx, `Array.from(document.querySelectorAll('#feed li')).slice(0, 5).map(li => li.className.split(' ').filter(c => c.startsWith('r-')).join())`,
		[]string{"r-miss", "r-stale", "r-miss", "r-late", "r-stale"})
	webtest.WaitEqual(t, ctx, `Array.from(document.querySelectorAll('#feed li')).slice(1, 5).map(li => li.querySelector('.result')?.textContent + '|' + li.querySelector('.where')?.textContent)`,
		[]string{"vera stale: 115939487022645248/kv2 < 115939487022710784/kv1|", "miss|on fatima-al-rashid", "late|", "anya stale: 41 < 44|"})
	for _, lang := range []string{"en", "ru"} {
		webtest.SetLang(t, ctx, lang)
		webtest.CheckProjector(t, ctx, len(names))
		webtest.CheckLessons(t, ctx)
	}
	webtest.WaitEqual(t, ctx, `document.querySelector('#feed li.r-stale .result')?.textContent`, "vera устарел: 115939487022645248/kv2 < 115939487022710784/kv1")
	webtest.WaitEqual(t, ctx, webtest.JSTile("boris")+`.querySelector('.t-status')?.textContent`, "пауза")

	// A verdict lands over the class.
	webtest.SetLang(t, ctx, "en")
	c.updateClass(func(cl *Class) {
		cl.Check = &Check{Ops: 1311, Verdict: cl.Check.Verdict, Explanation: cl.Check.Explanation}
	})
	webtest.WaitTrue(t, ctx, webtest.JSVerdictShown)
	webtest.CheckProjector(t, ctx, len(names))
	webtest.CheckLessons(t, ctx)
	webtest.WaitAnimations(t, ctx)
	webtest.Screenshot(t, ctx, "projector-40-verdict")
	webtest.Do(t, ctx, chromedp.Click(chromedp.ID("verdict-close")))
	webtest.WaitTrue(t, ctx, `!`+webtest.JSVerdictShown)
	webtest.WaitAnimations(t, ctx)
	webtest.Screenshot(t, ctx, "projector-40-lessons")

	// A node's keys open in the panel, with their marks.
	target := names[0] // every third node has misplaced keys, the first among them
	webtest.Do(t, ctx, chromedp.Click(chromedp.CSS(`.tile[data-node="`+target+`"]`)))
	webtest.WaitEqual(t, ctx, `document.querySelector('#detail .card')?.dataset.node`, target)
	webtest.WaitTrue(t, ctx, `document.querySelectorAll('#detail .kv.misplaced').length > 0`)
	webtest.CheckProjector(t, ctx, len(names))
	webtest.CheckLessons(t, ctx)
	webtest.Do(t, ctx, chromedp.Click(chromedp.ID("detail-close")))
	webtest.WaitEqual(t, ctx, `document.querySelectorAll('img').length`, 0)
	pageClean(t, ctx, console)

	// A phone: the header still fits, the lessons flow under the nodes.
	phone, pconsole := openProbed(t, browser, url, len(names), webtest.PhoneWidth, webtest.PhoneHeight)
	for _, lang := range []string{"en", "ru"} {
		webtest.SetLang(t, phone, lang)
		webtest.CheckHeader(t, phone)
		webtest.CheckLessons(t, phone)
	}
	webtest.SetLang(t, phone, "en")
	pageClean(t, phone, pconsole)
}
