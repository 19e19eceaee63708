package webtest

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Layout checks of the live page, shared by the web package's tests (a
// class served from a Snapshot) and the proxy's (a class of really joined
// nodes). They read the page's contract with its tests:
//
//   - body[data-layout] is "cards" or "tiles" (the projector layout);
//   - each node is a .tile[data-node=NAME] in node order, holding .t-name
//     (the name), .t-index ("#3"), .t-status, .t-count;
//   - a tile or card that just served a request has class flash-a or
//     flash-b;
//   - the header (.top) holds .brand, #role-label, #mode-name, #rule,
//     #conn, #instructor, #layout, #lang and #theme;
//   - the request feed's rows are #feed li.

// Projector sizes.
const (
	ProjectorWidth  = 1920
	ProjectorHeight = 1080
	PhoneWidth      = 390
	PhoneHeight     = 844
)

// MinProjectorFont is the smallest font size, in CSS pixels, of the names
// and key counts on the projector layout: readable from the back row.
const MinProjectorFont = 20

// SetViewport sets the tab's viewport to w x h CSS pixels at scale 1.
func SetViewport(t testing.TB, ctx context.Context, w, h int) {
	t.Helper()
	Do(t, ctx, chromedp.EmulateViewport(int64(w), int64(h)))
}

// JSTile is a JavaScript expression for the tile of the named node (or
// undefined).
func JSTile(name string) string {
	return `Array.from(document.querySelectorAll('.tile[data-node]')).find(t => t.dataset.node === ` + jsQuote(name) + `)`
}

// JSFlashed is a JavaScript expression that is true when the named node's
// tile flashes (has flash-a or flash-b).
func JSFlashed(name string) string {
	return `(t => !!t && (t.classList.contains('flash-a') || t.classList.contains('flash-b')))(` + JSTile(name) + `)`
}

// JSTileVisible is a JavaScript expression that is true when the named
// node's tile lies wholly inside the viewport and inside the tiles' box
// (not scrolled away).
func JSTileVisible(name string) string {
	return `(t => { if (!t) return false; const r = t.getBoundingClientRect(), b = document.getElementById('tiles').getBoundingClientRect();
	  return r.width > 0 && r.left >= 0 && r.top >= 0 && r.right <= innerWidth && r.bottom <= innerHeight &&
	    r.top >= b.top - 1 && r.bottom <= b.bottom + 1; })(` + JSTile(name) + `)`
}

// projectorJS returns the problems of the projector layout with nodes
// tiles, as a JSON array of strings: an empty array is a pass.
const projectorJS = `((want, minFont) => {
  const out = [];
  const vw = innerWidth, vh = innerHeight;
  const px = (el, prop) => parseFloat(getComputedStyle(el)[prop]);
  if (document.body.dataset.layout !== 'tiles') out.push('layout is ' + document.body.dataset.layout + ', want tiles');
  const tiles = Array.from(document.querySelectorAll('.tile[data-node]'));
  if (tiles.length !== want) out.push(tiles.length + ' tiles, want ' + want);
  const se = document.scrollingElement;
  if (se.scrollHeight > se.clientHeight || se.scrollWidth > se.clientWidth)
    out.push('the page scrolls: ' + se.scrollWidth + 'x' + se.scrollHeight + ' in ' + se.clientWidth + 'x' + se.clientHeight);
  const box = document.getElementById('tiles');
  if (box && box.scrollHeight > box.clientHeight) out.push('the tiles scroll: ' + box.scrollHeight + ' > ' + box.clientHeight);
  const b = box ? box.getBoundingClientRect() : null;
  tiles.forEach((t, i) => {
    const name = t.dataset.node;
    const r = t.getBoundingClientRect();
    if (r.width < 1 || r.left < 0 || r.top < 0 || r.right > vw || r.bottom > vh)
      out.push(name + ': tile at ' + [r.left, r.top, r.right, r.bottom].map(Math.round) + ' is not inside the ' + vw + 'x' + vh + ' viewport');
    else if (b && (r.top < b.top - 1 || r.bottom > b.bottom + 1)) out.push(name + ': tile is scrolled out of the tiles box');
    if (t.scrollWidth > t.clientWidth || t.scrollHeight > t.clientHeight)
      out.push(name + ': tile content overflows (' + t.scrollWidth + 'x' + t.scrollHeight + ' in ' + t.clientWidth + 'x' + t.clientHeight + ')');
    const n = t.querySelector('.t-name');
    if (!n || n.textContent !== name) out.push(name + ': name shows ' + JSON.stringify(n && n.textContent));
    else {
      if (n.scrollWidth > n.clientWidth) out.push(name + ': name is cut (' + n.scrollWidth + ' > ' + n.clientWidth + ' px)');
      if (Array.from(name).length <= 16 && px(n, 'fontSize') < minFont) out.push(name + ': name font ' + px(n, 'fontSize') + ' px < ' + minFont);
    }
    const line = t.querySelector('.t-line');
    if (line && line.scrollWidth > line.clientWidth) out.push(name + ': status line overflows (' + line.scrollWidth + ' > ' + line.clientWidth + ' px)');
    const c = t.querySelector('.t-count');
    if (!c || c.textContent === '') out.push(name + ': no key count');
    else if (px(c, 'fontSize') < minFont) out.push(name + ': count font ' + px(c, 'fontSize') + ' px < ' + minFont);
    const idx = t.querySelector('.t-index');
    if (!idx || idx.textContent !== '#' + i) out.push(name + ': position shows ' + JSON.stringify(idx && idx.textContent) + ', want #' + i);
  });
  const panel = document.querySelector('.feed-panel');
  const pr = panel && !panel.hidden ? panel.getBoundingClientRect() : null;
  if (pr && (pr.right > vw || pr.bottom > vh)) out.push('the feed panel is not inside the viewport');
  for (const li of document.querySelectorAll('#feed li')) {
    const text = li.textContent.replace(/\s+/g, ' ').trim();
    if (li.scrollWidth > li.clientWidth) out.push('feed row overflows (' + li.scrollWidth + ' > ' + li.clientWidth + ' px): ' + text);
    const r = li.getBoundingClientRect();
    if (pr && r.height > 0 && (r.left < pr.left - 1 || r.right > pr.right + 1)) out.push('feed row outside its panel: ' + text);
  }
  return out;
})`

// ProjectorProblems returns what is wrong with the projector layout of the
// page in ctx, which should show nodes tiles: a tile outside the viewport
// or scrolled away, a tile or a feed row whose content overflows its box, a
// name that is cut or smaller than MinProjectorFont (names up to 16
// characters), a count under MinProjectorFont, a position that is not the
// tile's index in the node order. Nil means none.
func ProjectorProblems(t testing.TB, ctx context.Context, nodes int) []string {
	t.Helper()
	return Eval[[]string](t, ctx, fmt.Sprintf(`%s(%d, %d)`, projectorJS, nodes, MinProjectorFont))
}

// CheckProjector waits (up to WaitTimeout: fonts load, the tiles refit)
// until the projector layout of ctx shows nodes tiles with no problem, and
// fails the test with the problems it saw last otherwise.
func CheckProjector(t testing.TB, ctx context.Context, nodes int) {
	t.Helper()
	waitNoProblems(t, ctx, "projector layout", fmt.Sprintf(`%s(%d, %d)`, projectorJS, nodes, MinProjectorFont))
}

// headerJS returns the problems of the page's header as a JSON array.
const headerJS = `(() => {
  const out = [];
  const vw = innerWidth;
  const sel = ['.top .brand', '#role-label', '#mode-name', '#rule', '#conn', '#instructor', '#layout', '#lang', '#theme'];
  const els = [];
  for (const s of sel) {
    const el = document.querySelector(s);
    if (!el || el.hidden || el.closest('[hidden]')) continue;
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    els.push([s, el, r]);
    if (r.left < 0 || r.right > vw) out.push(s + ' sticks out of the ' + vw + ' px viewport (' + Math.round(r.left) + '..' + Math.round(r.right) + ')');
    if (el.scrollWidth > el.clientWidth && getComputedStyle(el).display !== 'inline') out.push(s + ' is cut (' + el.scrollWidth + ' > ' + el.clientWidth + ' px): ' + JSON.stringify(el.textContent));
  }
  for (const need of ['.top .brand', '#mode-name', '#conn', '#lang', '#theme']) {
    if (!els.some(([s]) => s === need)) out.push(need + ' is not shown');
  }
  const rule = document.getElementById('rule');
  if (rule && rule.textContent && !rule.hidden) {
    const r = rule.getBoundingClientRect();
    if (r.width < Math.min(120, vw / 3)) out.push('#rule is shrunk to ' + Math.round(r.width) + ' px: ' + JSON.stringify(rule.textContent));
  }
  for (let i = 0; i < els.length; i++) {
    for (let j = i + 1; j < els.length; j++) {
      const [sa, ea, a] = els[i], [sb, eb, b] = els[j];
      if (ea.contains(eb) || eb.contains(ea)) continue;
      const w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
      const h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
      if (w > 0.5 && h > 0.5) out.push(sa + ' and ' + sb + ' overlap by ' + Math.round(w) + 'x' + Math.round(h) + ' px');
    }
  }
  const se = document.scrollingElement;
  if (se.scrollWidth > se.clientWidth) out.push('the page scrolls sideways: ' + se.scrollWidth + ' > ' + se.clientWidth);
  return out;
})()`

// HeaderProblems returns what is wrong with the page's header: elements
// that overlap, stick out of the viewport or are cut, a rule shrunk to
// nothing, a page that scrolls sideways. Nil means none.
func HeaderProblems(t testing.TB, ctx context.Context) []string {
	t.Helper()
	return Eval[[]string](t, ctx, headerJS)
}

// CheckHeader waits (up to WaitTimeout) until the header of ctx has no
// problem, and fails the test with the problems it saw last otherwise.
func CheckHeader(t testing.TB, ctx context.Context) {
	t.Helper()
	waitNoProblems(t, ctx, "header", headerJS)
}

// waitNoProblems waits until expr, which returns an array of problems, is
// empty, and fails the test with the last problems otherwise.
func waitNoProblems(t testing.TB, ctx context.Context, what, expr string) {
	t.Helper()
	actx, cancel := context.WithTimeout(ctx, WaitTimeout+5*time.Second)
	defer cancel()
	_, err := chromedp.Run(actx, chromedp.Poll[bool]("("+expr+").length === 0",
		chromedp.WithPollingInterval(50*time.Millisecond),
		chromedp.WithPollingTimeout(WaitTimeout)))
	if err == nil {
		return
	}
	problems := Eval[[]string](t, ctx, expr)
	where := Eval[string](t, ctx, `innerWidth + 'x' + innerHeight + ', ' + document.documentElement.lang`)
	t.Fatalf("%s (%s): %d problems (%v):\n  %s", what, where, len(problems), err, strings.Join(problems, "\n  "))
}

// SetLang switches the page to lang ("en" or "ru") with its language
// button, as a viewer would, and waits until it shows.
func SetLang(t testing.TB, ctx context.Context, lang string) {
	t.Helper()
	if Eval[string](t, ctx, `document.documentElement.lang`) != lang {
		Do(t, ctx, chromedp.Click(chromedp.ID("lang")))
	}
	WaitEqual(t, ctx, `document.documentElement.lang`, lang)
}

func jsQuote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
