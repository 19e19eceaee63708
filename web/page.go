package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/kvclass/kvclass/kvapi"
)

//go:embed assets
var assets embed.FS

// ContentSecurityPolicy is the CSP of the page and its assets: scripts,
// styles, images and connections only from the page's own origin (which
// covers its websocket), no inline script or style, no framing.
const ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; " +
	"img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// SetSecurityHeaders sets the headers that the page and its assets carry:
// the CSP, no MIME sniffing, no referrer, no framing.
func SetSecurityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", ContentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
}

// ServePage answers GET /state with the HTML shell of the live page; the
// node and the proxy route /state here unless the request asks for
// ?format=json. The page loads /assets/app.js, which opens /ws.
func ServePage(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		kvapi.WriteError(w, kvapi.Errorf(http.StatusMethodNotAllowed, "use GET"))
		return
	}
	page, err := assets.ReadFile("assets/index.html")
	if err != nil {
		kvapi.WriteError(w, kvapi.Errorf(http.StatusInternalServerError, "page missing from the build"))
		return
	}
	h := w.Header()
	SetSecurityHeaders(h)
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	http.ServeContent(w, r, "index.html", time.Time{}, bytes.NewReader(page))
}

// assetServer serves the embedded assets. It holds nothing, so Assets is
// cheap to call per request.
type assetServer struct{}

// Assets returns the handler of the page's static files (script, styles,
// icon), to mount at "/assets/". Files carry an ETag and revalidate on every
// load, so a new binary's page is never mixed with an old cached script.
func Assets() http.Handler { return assetServer{} }

// ServeHTTP serves /assets/NAME.
func (assetServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		kvapi.WriteError(w, kvapi.Errorf(http.StatusMethodNotAllowed, "use GET"))
		return
	}
	name := strings.TrimPrefix(strings.TrimPrefix(r.URL.Path, "/assets"), "/")
	if name == "" || strings.Contains(name, "/") || !fs.ValidPath(name) {
		kvapi.WriteError(w, kvapi.Errorf(http.StatusNotFound, "no such asset"))
		return
	}
	data, err := assets.ReadFile("assets/" + name)
	if err != nil {
		kvapi.WriteError(w, kvapi.Errorf(http.StatusNotFound, "no such asset"))
		return
	}
	sum := sha256.Sum256(data)
	ctype := mime.TypeByExtension(path.Ext(name))
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	h := w.Header()
	SetSecurityHeaders(h)
	h.Set("Content-Type", ctype)
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", `"`+hex.EncodeToString(sum[:8])+`"`)
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(data))
}
