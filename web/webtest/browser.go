// Package webtest drives headless Chromium for kvclass's browser tests: it
// starts a browser per test (skipping when none is installed, unless
// KVCLASS_REQUIRE_BROWSER=1), records the page's console, waits for
// conditions in the page, and saves screenshots for review.
//
// A typical test:
//
//	ctx := webtest.NewBrowser(t)
//	console := webtest.RecordConsole(t, ctx)
//	webtest.Do(t, ctx, chromedp.Navigate(srv.URL+"/state"))
//	webtest.WaitTrue(t, ctx, `document.querySelectorAll(".card").length === 3`)
//	if p := console.Problems(); len(p) > 0 {
//		t.Errorf("console: %q", p)
//	}
package webtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Environment variables the helpers read.
const (
	// EnvRequireBrowser set to 1 makes a missing browser a test failure
	// instead of a skip; CI sets it so browser tests never skip silently.
	EnvRequireBrowser = "KVCLASS_REQUIRE_BROWSER"
	// EnvScreenshotDir names a folder for screenshots; without it they go
	// to the test's temporary folder.
	EnvScreenshotDir = "KVCLASS_SCREENSHOT_DIR"
	// EnvChrome names the browser binary, overriding the search in PATH.
	EnvChrome = "KVCLASS_CHROME"
)

// Viewport is the window size of the browser: a classroom projector.
const (
	ViewportWidth  = 1280
	ViewportHeight = 720
)

// ActionTimeout bounds each action that Do, Run and Screenshot run.
const ActionTimeout = 20 * time.Second

// WaitTimeout is how long WaitTrue waits by default: generous, so a loaded CI
// machine does not fail a test that waits for a live update.
const WaitTimeout = 10 * time.Second

// browserNames are the binaries tried, in order, when EnvChrome is not set.
func browserNames() []string {
	return []string{"chromium", "chromium-browser", "google-chrome-stable", "google-chrome", "headless-shell"}
}

// FindBrowser returns the path of a Chromium-based browser, or "" when none
// is installed.
func FindBrowser() string {
	if p := os.Getenv(EnvChrome); p != "" {
		if found, err := exec.LookPath(p); err == nil {
			return found
		}
		return ""
	}
	for _, name := range browserNames() {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// NewBrowser starts headless Chromium with a fresh profile and a 1280x720
// window, and returns the chromedp context of its first tab. The browser
// stops when the test ends. When no browser is installed the test is
// skipped, or fails when KVCLASS_REQUIRE_BROWSER=1. A browser that is
// installed but does not start fails the test.
func NewBrowser(t testing.TB) context.Context {
	t.Helper()
	path := FindBrowser()
	if path == "" {
		if os.Getenv(EnvRequireBrowser) == "1" {
			t.Fatalf("no Chromium found (tried $%s and %v) and %s=1", EnvChrome, browserNames(), EnvRequireBrowser)
		}
		t.Skip("skipping browser test: no Chromium installed (apt-get install chromium)")
	}
	profile := t.TempDir() // removed after the browser stops: cleanups run last-in first-out
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(ViewportWidth, ViewportHeight),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("lang", "en-US"),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	// The first Run starts the browser; it must not carry a timeout, which
	// would end the browser with it. A start that hangs is caught by the
	// test's own deadline.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start %s: %v", path, err)
	}
	Do(t, ctx, chromedp.EmulateViewport(ViewportWidth, ViewportHeight))
	return ctx
}

// Do runs steps in the tab, each run bounded by ActionTimeout, and fails the
// test on an error.
func Do(t testing.TB, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	actx, cancel := context.WithTimeout(ctx, ActionTimeout)
	defer cancel()
	if err := chromedp.Do(actx, steps...); err != nil {
		t.Fatalf("browser: %v", err)
	}
}

// Run runs one action in the tab, bounded by ActionTimeout, and returns its
// value; it fails the test on an error.
func Run[T any](t testing.TB, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	actx, cancel := context.WithTimeout(ctx, ActionTimeout)
	defer cancel()
	v, err := chromedp.Run(actx, a)
	if err != nil {
		t.Fatalf("browser: %v", err)
	}
	return v
}

// Eval evaluates a JavaScript expression in the page and returns its value.
func Eval[T any](t testing.TB, ctx context.Context, expr string) T {
	t.Helper()
	return Run(t, ctx, chromedp.Evaluate[T](expr))
}

// WaitTrue waits up to WaitTimeout until the JavaScript expression is truthy
// in the page, and fails the test if it never is.
func WaitTrue(t testing.TB, ctx context.Context, expr string) {
	t.Helper()
	WaitTrueFor(t, ctx, expr, WaitTimeout)
}

// WaitTrueFor is WaitTrue with its own timeout.
func WaitTrueFor(t testing.TB, ctx context.Context, expr string, timeout time.Duration) {
	t.Helper()
	actx, cancel := context.WithTimeout(ctx, timeout+5*time.Second)
	defer cancel()
	_, err := chromedp.Run(actx, chromedp.Poll[bool]("!!("+expr+")",
		chromedp.WithPollingInterval(50*time.Millisecond),
		chromedp.WithPollingTimeout(timeout)))
	if err != nil {
		if errors.Is(err, chromedp.ErrPollingTimeout) {
			t.Fatalf("page: still not true after %v: %s", timeout, expr)
		}
		t.Fatalf("page: waiting for %s: %v", expr, err)
	}
}

// WaitEqual waits up to WaitTimeout until the JavaScript expression's value,
// as JSON, equals want marshalled to JSON; on failure it reports the value
// it saw last.
func WaitEqual(t testing.TB, ctx context.Context, expr string, want any) {
	t.Helper()
	w, err := marshal(want)
	if err != nil {
		t.Fatalf("WaitEqual: %v", err)
	}
	lit, _ := marshal(string(w))
	got := "JSON.stringify(" + expr + ")"
	actx, cancel := context.WithTimeout(ctx, WaitTimeout+5*time.Second)
	defer cancel()
	_, err = chromedp.Run(actx, chromedp.Poll[bool](got+" === "+string(lit),
		chromedp.WithPollingInterval(50*time.Millisecond),
		chromedp.WithPollingTimeout(WaitTimeout)))
	if err == nil {
		return
	}
	last, lerr := chromedp.Run(actx, chromedp.Evaluate[string]("String("+got+")"))
	if lerr != nil {
		last = "(" + lerr.Error() + ")"
	}
	t.Fatalf("page: %s\n got %s\nwant %s\n(%v)", expr, last, w, err)
}

// marshal is json.Marshal without escaping <, > and &, as JSON.stringify.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// WaitAnimations waits until the page runs no finite CSS animation or
// transition (a flash, a fade), so a screenshot shows the settled page.
func WaitAnimations(t testing.TB, ctx context.Context) {
	t.Helper()
	WaitTrue(t, ctx, `document.getAnimations().every(a => a.effect.getComputedTiming().iterations === Infinity)`)
}

// Screenshot saves a PNG of the viewport as NAME.png in $KVCLASS_SCREENSHOT_DIR,
// or in the test's temporary folder, and returns its path.
func Screenshot(t testing.TB, ctx context.Context, name string) string {
	t.Helper()
	png := Run(t, ctx, chromedp.CaptureScreenshot())
	dir := os.Getenv(EnvScreenshotDir)
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("screenshot folder: %v", err)
	}
	path := filepath.Join(dir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatalf("save screenshot: %v", err)
	}
	t.Logf("screenshot: %s", path)
	return path
}

// NewTab opens another tab in the browser of ctx (a context from
// NewBrowser), with a 1280x720 viewport, and closes it when the test ends. Tabs of one browser run in
// parallel, and each test server has its own origin, so tabs share no
// storage.
func NewTab(t testing.TB, ctx context.Context) context.Context {
	t.Helper()
	tab, cancel := chromedp.NewContext(ctx)
	t.Cleanup(cancel)
	if err := chromedp.Do(tab, chromedp.EmulateViewport(ViewportWidth, ViewportHeight)); err != nil {
		t.Fatalf("open a tab: %v", err)
	}
	return tab
}
