package web

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/kvclass/kvclass/web/webtest"
)

// testJoinPage opens /join as a student's phone and the projector would:
// the QR code loads, the join lines and downloads show as text (markup in a
// file name included), the links download the files, the page speaks
// Russian too.
func testJoinPage(t *testing.T, browser context.Context) {
	dir, files := releaseDir(t)
	evil := `kvclass_<script>window.__pwned=1;<script>_linux_arm64.tar.gz`
	if err := os.WriteFile(filepath.Join(dir, evil), []byte("evil bytes"), 0o644); err != nil {
		t.Fatal(err)
	}
	files[evil] = "evil bytes"
	lines := []JoinLine{
		{Kind: JoinRelay, Line: "kvclass node --relay --join https://kvclass-demo.ngrok-free.dev --token 4711"},
		{Kind: JoinNgrok, Line: "kvclass node --ngrok --join https://kvclass-demo.ngrok-free.dev --token 4711"},
	}
	srv := joinServer(t, NewJoinPage(JoinOptions{Downloads: dir, Info: func() JoinInfo {
		return JoinInfo{URL: "https://kvclass-demo.ngrok-free.dev", Lines: lines}
	}}))

	ctx := webtest.NewTab(t, browser)
	console := webtest.RecordConsole(t, ctx)
	webtest.SetViewport(t, ctx, webtest.ProjectorWidth, webtest.ProjectorHeight)
	webtest.Do(t, ctx, chromedp.Navigate(srv.URL+JoinPath))
	webtest.WaitTrue(t, ctx, `document.getElementById('qr').complete && document.getElementById('qr').naturalWidth > 0`)
	webtest.WaitEqual(t, ctx, `Array.from(document.querySelectorAll('.join-cmd'), e => e.textContent)`, []string{lines[0].Line, lines[1].Line})
	webtest.WaitEqual(t, ctx, `document.getElementById('page-url').textContent`, "https://kvclass-demo.ngrok-free.dev/join")
	webtest.WaitEqual(t, ctx, `document.getElementById('go-install').textContent`, GoInstall)
	webtest.WaitEqual(t, ctx, `document.querySelectorAll('.download').length`, len(files))
	webtest.WaitTrue(t, ctx, `Array.from(document.querySelectorAll('.dl-name'), e => e.textContent).includes(`+jsString(evil)+`)`)
	// The visitor's system (headless Chromium on Linux) is marked.
	webtest.WaitTrue(t, ctx, `Array.from(document.querySelectorAll('.download.mine')).every(e => e.dataset.os === 'linux') && document.querySelectorAll('.download.mine').length > 0`)
	webtest.Screenshot(t, ctx, "join")

	// Every link downloads its file's bytes.
	for name, body := range files {
		href := webtest.Eval[string](t, ctx, `Array.from(document.querySelectorAll('.download')).find(li => li.querySelector('.dl-name').textContent === `+jsString(name)+`).querySelector('a').href`)
		got := webtest.Run(t, ctx, chromedp.Evaluate[string](`fetch(`+jsString(href)+`).then(r => r.ok ? r.text() : 'HTTP ' + r.status)`, chromedp.EvalAwaitPromise))
		if got != body {
			t.Errorf("%s via %s: %q, want %q", name, href, got, body)
		}
	}

	webtest.SetLang(t, ctx, "ru")
	webtest.WaitEqual(t, ctx, `document.querySelector('.line-label').textContent`, "Нет аккаунта ngrok? Вставьте эту строку:")
	webtest.WaitEqual(t, ctx, `document.querySelector('.dl-size').textContent`, "19 Б")
	webtest.WaitEqual(t, ctx, `document.getElementById('qr').alt`, "QR-код адреса этой страницы")
	webtest.Screenshot(t, ctx, "join-ru")
	webtest.SetLang(t, ctx, "en")

	// Give a smuggled script time to run; there is none.
	webtest.Do(t, ctx, chromedp.Sleep(200*time.Millisecond))
	webtest.WaitEqual(t, ctx, `[typeof window.__pwned, document.querySelectorAll('script:not([src])').length]`, []any{"undefined", 0})
	noConsoleProblems(t, console)

	// On a phone: nothing sticks out.
	webtest.SetViewport(t, ctx, webtest.PhoneWidth, webtest.PhoneHeight)
	webtest.WaitTrue(t, ctx, `document.scrollingElement.scrollWidth <= innerWidth`)
	webtest.WaitTrue(t, ctx, `Array.from(document.querySelectorAll('.cmd, .download, .top > *')).every(e => e.getBoundingClientRect().right <= innerWidth)`)
	webtest.Screenshot(t, ctx, "join-phone")

	// Hidden lines: ask the instructor.
	hidden := joinServer(t, NewJoinPage(JoinOptions{Info: func() JoinInfo { return JoinInfo{Lines: lines, Hidden: true} }}))
	webtest.Do(t, ctx, chromedp.Navigate(hidden.URL+JoinPath))
	webtest.WaitEqual(t, ctx, `document.getElementById('ask')?.textContent`, "Ask the instructor for the join line: it holds the class code.")
	webtest.WaitEqual(t, ctx, `[document.querySelectorAll('.join-cmd').length, document.querySelectorAll('.download').length, document.body.textContent.includes('4711')]`, []any{0, 0, false})
	webtest.WaitTrue(t, ctx, `document.getElementById('qr').complete && document.getElementById('qr').naturalWidth > 0`)
	noConsoleProblems(t, console)
}
