package web

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func get(t *testing.T, h http.Handler, method, path string, header http.Header) (*http.Response, string) {
	t.Helper()
	r := httptest.NewRequest(method, path, nil)
	for k, v := range header {
		r.Header[k] = v
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	resp := w.Result()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

func checkSecurityHeaders(t *testing.T, path string, h http.Header) {
	t.Helper()
	csp := h.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'self'", "script-src 'self'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("%s: CSP %q lacks %q", path, csp, want)
		}
	}
	if strings.Contains(csp, "unsafe") {
		t.Errorf("%s: CSP %q allows unsafe sources", path, csp)
	}
	if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") != "no-referrer" {
		t.Errorf("%s: nosniff %q, referrer policy %q", path, h.Get("X-Content-Type-Options"), h.Get("Referrer-Policy"))
	}
}

func TestServePage(t *testing.T) {
	resp, body := get(t, http.HandlerFunc(ServePage), "GET", "/state", nil)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /state: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	checkSecurityHeaders(t, "/state", resp.Header)
	// Nothing inline that the CSP would block: scripts come from /assets,
	// no inline handlers or styles.
	if regexp.MustCompile(`<script(\s[^>]*)?>\s*[^<\s]`).MatchString(body) {
		t.Error("the page has an inline script")
	}
	if regexp.MustCompile(`(?i)\s(on\w+|style)\s*=`).MatchString(body) {
		t.Error("the page has an inline event handler or style attribute")
	}
	// Every asset the page links to is served.
	refs := regexp.MustCompile(`(?:src|href)="(/assets/[^"]+)"`).FindAllStringSubmatch(body, -1)
	if len(refs) < 3 {
		t.Fatalf("the page links %d assets, want the script, the styles and the icon", len(refs))
	}
	for _, ref := range refs {
		if resp, _ := get(t, Assets(), "GET", ref[1], nil); resp.StatusCode != 200 {
			t.Errorf("GET %s: %d", ref[1], resp.StatusCode)
		}
	}

	resp, _ = get(t, http.HandlerFunc(ServePage), "POST", "/state", nil)
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("POST /state: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}

func TestAssets(t *testing.T) {
	for path, ctype := range map[string]string{
		"/assets/app.js":      "javascript",
		"/assets/style.css":   "text/css",
		"/assets/favicon.svg": "image/svg+xml",
	} {
		resp, body := get(t, Assets(), "GET", path, nil)
		if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Type"), ctype) || body == "" {
			t.Errorf("GET %s: %d %q, %d bytes", path, resp.StatusCode, resp.Header.Get("Content-Type"), len(body))
			continue
		}
		checkSecurityHeaders(t, path, resp.Header)
		etag := resp.Header.Get("ETag")
		if etag == "" {
			t.Errorf("GET %s: no ETag", path)
			continue
		}
		resp, _ = get(t, Assets(), "GET", path, http.Header{"If-None-Match": {etag}})
		if resp.StatusCode != http.StatusNotModified {
			t.Errorf("GET %s with its ETag: %d, want 304", path, resp.StatusCode)
		}
	}
	for _, path := range []string{"/assets/", "/assets/nope.js", "/assets/../page.go", "/assets/assets/app.js", "/assets/%2e%2e/page.go"} {
		resp, body := get(t, Assets(), "GET", path, nil)
		if resp.StatusCode != http.StatusNotFound || !strings.Contains(body, `"error"`) {
			t.Errorf("GET %s: %d %q, want a JSON 404", path, resp.StatusCode, body)
		}
	}
	if resp, _ := get(t, Assets(), "DELETE", "/assets/app.js", nil); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("DELETE an asset: %d, want 405", resp.StatusCode)
	}
}
