package webtest

import (
	"context"
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"
)

// Helpers for the instructor's panel and the class's lessons, shared by
// the web package's tests (a stub admin API) and the proxy's (the real
// one). They read the page's contract with its tests:
//
//   - #instructor (the header's button, on the proxy's page only) opens
//     the drawer #admin; it shows #admin-login (the field #admin-token)
//     until a token is kept in sessionStorage under AdminTokenKey, then
//     #admin-body with the actions;
//   - #admin-msg shows the proxy's last answer ("message" or "error");
//     its data-seq counts finished actions and data-status holds the
//     answer's HTTP status (0 when the page refused before sending);
//   - the actions are buttons and fields by id: a-mode-sharding,
//     a-mode-replication; a-placement, a-vnodes, a-preplicas,
//     a-placement-go; a-n, a-r, a-w, a-repair, a-hints, a-ae, a-pin,
//     a-replication-go; a-fnode, a-delay, a-drop (a percentage), a-pause,
//     a-fault-set, a-fault-clear, a-fault-clear-all; a-wjoin,
//     a-whatif-join, a-wleave, a-whatif-leave, a-whatif-clear, a-rebalance;
//     a-cdur, a-cclients, a-ckeys, a-check; a-lock, a-unlock; a-kick-node,
//     a-kick; a-reset, then a-reset-yes or a-reset-no; admin-signout;
//   - a node's .card[data-node] and .tile[data-node] carry data-fault (the
//     fault in words), data-hints, data-misplaced and data-own, and the
//     class faulted or moving (a what-if moves some of its listed keys);
//   - a key row .kv[data-key] has the class misplaced, or moving;
//   - #l-misplaced[data-count] is the class's misplaced keys; #l-check
//     [data-verdict][data-ops] the check; #verdict, when shown, the verdict
//     that just landed;
//   - #strip holds one .sec per second, oldest first, with data-t, data-ok,
//     data-fail and data-faulted (node names, space-separated).

// AdminTokenKey is the sessionStorage key of the admin token.
const AdminTokenKey = "kvclass.admin-token"

// JSAdminOpen is true when the instructor's drawer is open.
const JSAdminOpen = `!document.getElementById('admin').hidden`

// JSAdminSignedIn is true when the drawer shows the actions (a token is
// kept).
const JSAdminSignedIn = `!document.getElementById('admin').hidden && !document.getElementById('admin-body').hidden && document.getElementById('admin-login').hidden`

// JSAdminMessage is the text of the panel's last answer.
const JSAdminMessage = `document.getElementById('admin-msg').textContent`

// JSAdminToken is the token the tab keeps ("" when none).
const JSAdminToken = `(sessionStorage.getItem('` + AdminTokenKey + `') || '')`

// EnterAdminToken opens the instructor's panel, enters token as the
// instructor types it, and waits until the panel shows its actions.
func EnterAdminToken(t testing.TB, ctx context.Context, token string) {
	t.Helper()
	if !Eval[bool](t, ctx, JSAdminOpen) {
		Do(t, ctx, chromedp.Click(chromedp.ID("instructor")))
	}
	WaitTrue(t, ctx, `!document.getElementById('admin-login').hidden`)
	Do(t, ctx, chromedp.SendKeys(chromedp.ID("admin-token"), token))
	Do(t, ctx, chromedp.Click(chromedp.ID("admin-signin")))
	WaitTrue(t, ctx, JSAdminSignedIn)
}

// AdminSet sets a field of the panel (an input, a select, or a checkbox
// with "true" or "false") as the instructor would, and fails the test when
// the field is missing or a select has no such choice.
func AdminSet(t testing.TB, ctx context.Context, id, value string) {
	t.Helper()
	AdminFill(t, ctx, id, value)
}

// AdminFill sets several fields at once: AdminFill(t, ctx, "a-fnode",
// "kv2", "a-pause", "true").
func AdminFill(t testing.TB, ctx context.Context, idValue ...string) {
	t.Helper()
	if len(idValue)%2 != 0 {
		t.Fatalf("AdminFill: an id without a value in %q", idValue)
	}
	pairs := make([][2]string, 0, len(idValue)/2)
	for i := 0; i < len(idValue); i += 2 {
		pairs = append(pairs, [2]string{idValue[i], idValue[i+1]})
	}
	b, _ := marshal(pairs)
	bad := Eval[string](t, ctx, `((pairs) => {
	  for (const [id, v] of pairs) {
	    const el = document.getElementById(id);
	    if (!el) return id + ': no such field';
	    if (el.type === 'checkbox') el.checked = v === 'true'; else el.value = v;
	    if (el.tagName === 'SELECT' && el.value !== v) return id + ': no choice ' + JSON.stringify(v);
	    el.dispatchEvent(new Event('input', { bubbles: true }));
	    el.dispatchEvent(new Event('change', { bubbles: true }));
	  }
	  return '';
	})(`+string(b)+`)`)
	if bad != "" {
		t.Fatalf("admin panel: cannot set %s", bad)
	}
}

// clickJS clicks the element with the given id as a pointer would: it
// scrolls it into view and clicks it only when it is shown, enabled and
// on top at its centre; otherwise it returns why not.
const clickJS = `((id) => {
  const el = document.getElementById(id);
  if (!el) return 'no element #' + id;
  if (el.disabled) return '#' + id + ' is disabled';
  el.scrollIntoView({ block: 'center' });
  const r = el.getBoundingClientRect();
  if (r.width === 0 || r.height === 0) return '#' + id + ' is not shown';
  const top = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
  if (!top || !el.contains(top)) return '#' + id + ' is covered by ' + (top ? top.outerHTML.slice(0, 80) : 'nothing');
  el.click();
  return '';
})`

// adminAnswer is what the panel shows of an answer.
type adminAnswer struct {
	Status  int    `json:"status"`
	Message string `json:"message"`
}

// AdminClick clicks the panel's button id, waits until the action has its
// answer, and returns the answer's HTTP status and the text the panel
// shows. A 401 has the page forget the token and ask for it again.
func AdminClick(t testing.TB, ctx context.Context, id string) (status int, message string) {
	t.Helper()
	seq := Eval[string](t, ctx, `document.getElementById('admin-msg').dataset.seq`)
	if why := Eval[string](t, ctx, clickJS+`(`+jsQuote(id)+`)`); why != "" {
		t.Fatalf("admin panel: cannot click: %s", why)
	}
	WaitTrue(t, ctx, `document.getElementById('admin-msg').dataset.seq !== `+jsQuote(seq))
	answer := Eval[adminAnswer](t, ctx, `({ status: Number(document.getElementById('admin-msg').dataset.status), message: `+JSAdminMessage+` })`)
	return answer.Status, answer.Message
}

// JSNode is a JavaScript expression for the named node's tile when the
// page shows tiles, else its card (or undefined).
func JSNode(name string) string {
	return `(document.body.dataset.layout === 'tiles' ? ` + JSTile(name) + ` : Array.from(document.querySelectorAll('.card[data-node]')).find(c => c.dataset.node === ` + jsQuote(name) + `))`
}

// JSFault is the fault the page shows on the named node, in words ("" when
// none).
func JSFault(name string) string {
	return `(` + JSNode(name) + `?.dataset.fault ?? '')`
}

// JSHints is the count of hinted writes the page shows on the named node.
func JSHints(name string) string {
	return `Number(` + JSNode(name) + `?.dataset.hints ?? 0)`
}

// JSOwn is the implementation the page shows on the named node ("" for
// kvclass's own node).
func JSOwn(name string) string {
	return `(` + JSNode(name) + `?.dataset.own ?? '')`
}

// JSNodeMisplaced is the misplaced-key count the page shows on the named
// node.
func JSNodeMisplaced(name string) string {
	return `Number(` + JSNode(name) + `?.dataset.misplaced ?? 0)`
}

// JSMisplacedCount is the class's misplaced-key count the page shows ("73
// of 100 keys misplaced"): 0 when none.
const JSMisplacedCount = `Number(document.getElementById('l-misplaced')?.dataset.count ?? 0)`

// JSMisplacedKeys is the sorted keys marked misplaced on the named node's
// card (in the tiles layout: its card in the panel, when open).
func JSMisplacedKeys(name string) string {
	return `Array.from(document.querySelectorAll('.card[data-node]')).filter(c => c.dataset.node === ` + jsQuote(name) +
		`).flatMap(c => Array.from(c.querySelectorAll('.kv.misplaced'), r => r.dataset.key)).sort()`
}

// JSMovingKeys is the sorted keys a what-if preview highlights, over every
// card.
const JSMovingKeys = `Array.from(document.querySelectorAll('.card[data-node] .kv.moving'), r => r.dataset.key).sort()`

// JSStripHasFault is true when the availability strip marks a second with
// a fault on the named node (any node when name is "").
func JSStripHasFault(name string) string {
	return `Array.from(document.querySelectorAll('#strip .sec.faulted')).some(s => ` + jsQuote(name) +
		` === '' || s.dataset.faulted.split(' ').includes(` + jsQuote(name) + `))`
}

// JSStripFaultSeconds is how many seconds the strip marks with a fault.
const JSStripFaultSeconds = `document.querySelectorAll('#strip .sec.faulted').length`

// JSStripFailures is the failed answers the strip shows, over its seconds.
const JSStripFailures = `Array.from(document.querySelectorAll('#strip .sec[data-fail]')).reduce((a, s) => a + Number(s.dataset.fail), 0)`

// JSCheckVerdict is the verdict the page shows for the class's check, as
// the proxy words it ("LINEARIZABLE", "NOT LINEARIZABLE", "NO VERDICT"),
// or "" while none.
const JSCheckVerdict = `(document.getElementById('l-check').hidden ? '' : document.getElementById('l-check').dataset.verdict ?? '')`

// JSVerdictShown is true while the big verdict shows over the page.
const JSVerdictShown = `!document.getElementById('verdict').hidden`

// lessonsJS returns the problems of the class's lessons as a JSON array.
const lessonsJS = `((minFont) => {
  const out = [];
  const vw = innerWidth, vh = innerHeight;
  const se = document.scrollingElement;
  const flows = se.scrollHeight > se.clientHeight; // a phone: the page scrolls
  const px = (el, prop) => parseFloat(getComputedStyle(el)[prop]);
  const shown = (el) => el && !el.hidden && !el.closest('[hidden]') && el.getBoundingClientRect().width > 0;
  const panel = document.getElementById('class');
  if (shown(panel)) {
    const r = panel.getBoundingClientRect();
    if (r.left < 0 || r.right > vw + 0.5 || (!flows && r.bottom > vh + 0.5)) out.push('the class panel is not inside the ' + vw + 'x' + vh + ' viewport');
    if (panel.scrollWidth > panel.clientWidth) out.push('the class panel overflows sideways (' + panel.scrollWidth + ' > ' + panel.clientWidth + ')');
    if (!flows && panel.scrollHeight > panel.clientHeight + 1) out.push('the class panel scrolls: ' + panel.scrollHeight + ' > ' + panel.clientHeight);
    for (const l of panel.querySelectorAll('.lesson')) {
      if (!shown(l)) continue;
      if (l.scrollWidth > l.clientWidth + 0.5) out.push(l.id + ' overflows (' + l.scrollWidth + ' > ' + l.clientWidth + ' px): ' + JSON.stringify(l.textContent.trim().slice(0, 80)));
      for (const el of l.querySelectorAll('*')) {
        if (!shown(el) || !el.childElementCount && el.textContent.trim() === '') continue;
        if (!el.childElementCount && px(el, 'fontSize') < minFont) out.push(l.id + ': text at ' + px(el, 'fontSize') + ' px < ' + minFont + ': ' + JSON.stringify(el.textContent.trim().slice(0, 40)));
      }
    }
    for (const head of panel.querySelectorAll('.lesson-head')) {
      const parts = Array.from(head.children).filter(shown).map((el) => [el, el.getBoundingClientRect()]);
      for (let i = 0; i < parts.length; i++) {
        for (let j = i + 1; j < parts.length; j++) {
          const a = parts[i][1], b = parts[j][1];
          if (Math.min(a.right, b.right) - Math.max(a.left, b.left) > 0.5 && Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top) > 0.5)
            out.push(head.parentElement.id + ': ' + JSON.stringify(parts[i][0].textContent) + ' and ' + JSON.stringify(parts[j][0].textContent) + ' overlap');
        }
        if (parts[i][0].scrollWidth > parts[i][0].clientWidth + 0.5 && getComputedStyle(parts[i][0]).display !== 'inline')
          out.push(head.parentElement.id + ': ' + JSON.stringify(parts[i][0].textContent) + ' is cut');
      }
    }
    const big = [['.nrw-figs', 24], ['#l-misplaced', 18], ['.check-verdict', 24]];
    for (const [sel, min] of big) {
      const el = panel.querySelector(sel);
      if (shown(el) && px(el, 'fontSize') < min) out.push(sel + ' at ' + px(el, 'fontSize') + ' px < ' + min);
    }
    const strip = document.getElementById('strip');
    if (shown(strip)) {
      const s = strip.getBoundingClientRect();
      if (s.width < 240 || s.height < 40) out.push('the strip is only ' + Math.round(s.width) + 'x' + Math.round(s.height) + ' px');
      if (strip.children.length !== 120) out.push('the strip has ' + strip.children.length + ' seconds, want 120');
    }
  }
  const v = document.getElementById('verdict');
  if (shown(v)) {
    const box = v.querySelector('.verdict-box').getBoundingClientRect();
    if (box.left < 0 || box.top < 0 || box.right > vw || box.bottom > vh) out.push('the verdict is not inside the viewport');
    const w = v.querySelector('.verdict-word');
    if (px(w, 'fontSize') < 38) out.push('the verdict is at ' + px(w, 'fontSize') + ' px < 38');
    if (w.scrollWidth > w.clientWidth) out.push('the verdict is cut: ' + JSON.stringify(w.textContent));
  }
  if (se.scrollWidth > se.clientWidth) out.push('the page scrolls sideways: ' + se.scrollWidth + ' > ' + se.clientWidth);
  return out;
})`

// MinLessonFont is the smallest text, in CSS pixels, of the class's
// lessons.
const MinLessonFont = 12

// LessonsProblems returns what is wrong with the class's lessons in ctx:
// the class panel outside the viewport, overflowing or (on a screen that
// does not scroll) scrolling; a lesson's heading whose parts overlap or are
// cut; text under MinLessonFont; the N/R/W figures,
// the misplaced count and a verdict smaller than their sizes; a strip too
// small or without its 120 seconds; the big verdict outside the viewport
// or cut. Nil means none.
func LessonsProblems(t testing.TB, ctx context.Context) []string {
	t.Helper()
	return Eval[[]string](t, ctx, fmt.Sprintf(`%s(%d)`, lessonsJS, MinLessonFont))
}

// CheckLessons waits (up to WaitTimeout) until the class's lessons in ctx
// have no problem, and fails the test with the problems it saw last
// otherwise.
func CheckLessons(t testing.TB, ctx context.Context) {
	t.Helper()
	waitNoProblems(t, ctx, "class lessons", fmt.Sprintf(`%s(%d)`, lessonsJS, MinLessonFont))
}
