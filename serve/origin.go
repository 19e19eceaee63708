package serve

import (
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/valyala/fasthttp"
)

// Origins decides which web pages may talk to a node or the proxy from a
// browser. A browser sends the page's origin with every websocket request
// and every state-changing request, and nothing else stops a foreign site
// that a viewer opens from reading the live stream (cross-site websocket
// hijacking) or from writing to, or wiping, a student's node on loopback.
// A request without an Origin (curl, a program) is not a browser's and is
// allowed.
type Origins struct {
	any   bool            // "*" was listed
	allow map[string]bool // normalised scheme://host[:port]
}

// NewOrigins returns the policy that allows the listed origins
// (scheme://host[:port], the --origin flags) besides the request's own host.
// "*" lets any page open the websocket, never write.
func NewOrigins(origins []string) Origins {
	p := Origins{allow: make(map[string]bool, len(origins))}
	for _, o := range origins {
		o = strings.TrimSpace(o)
		if o == "*" {
			p.any = true
			continue
		}
		if n, ok := normalizeOrigin(o); ok {
			p.allow[n] = true
		}
	}
	return p
}

// AllowRead reports whether r may open the websocket: it has no Origin (not
// a browser), its Origin has the request's host, or its Origin is listed (or
// "*" is). It is a websocket.Upgrader's CheckOrigin.
func (p Origins) AllowRead(r *http.Request) bool {
	origins := r.Header.Values("Origin")
	if len(origins) == 0 || p.any {
		return true
	}
	return p.listedOrSame(origins[0], r.Host)
}

// AllowWrite reports whether r may change state (a put, a delete, a reset,
// an admin action): it has no Origin and is not marked cross-site by the
// browser (Sec-Fetch-Site), or its Origin has the request's host or is
// listed. "*" does not open writes.
func (p Origins) AllowWrite(r *http.Request) bool {
	origins := r.Header.Values("Origin")
	if len(origins) == 0 {
		return r.Header.Get("Sec-Fetch-Site") != "cross-site"
	}
	return p.listedOrSame(origins[0], r.Host)
}

// AllowWriteCtx is AllowWrite for a request on fasthttp's server (the data
// API's).
func (p Origins) AllowWriteCtx(ctx *fasthttp.RequestCtx) bool {
	h := &ctx.Request.Header
	origins := h.PeekAll("Origin")
	if len(origins) == 0 {
		return string(h.Peek("Sec-Fetch-Site")) != "cross-site"
	}
	return p.listedOrSame(string(origins[0]), string(h.Host()))
}

// listedOrSame reports whether origin has the request's host, or is listed.
func (p Origins) listedOrSame(origin, requestHost string) bool {
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false
	}
	if sameHost(u, requestHost) {
		return true
	}
	n, ok := normalizeOrigin(origin)
	return ok && p.allow[n]
}

// normalizeOrigin returns origin as lower-case scheme://host[:port] with the
// scheme's default port dropped.
func normalizeOrigin(origin string) (string, bool) {
	u, err := url.Parse(strings.TrimRight(origin, "/"))
	if err != nil || u.Scheme == "" || u.Host == "" {
		return "", false
	}
	scheme := strings.ToLower(u.Scheme)
	return scheme + "://" + hostPort(scheme, u.Host), true
}

// sameHost reports whether the origin u names the host that the request was
// sent to (its Host header), ignoring case and default ports. The scheme is
// not compared: behind a TLS-terminating tunnel the page is https while the
// request reaches the server as plain http.
func sameHost(u *url.URL, requestHost string) bool {
	scheme := strings.ToLower(u.Scheme)
	return hostPort(scheme, u.Host) == hostPort(scheme, requestHost)
}

// hostPort lower-cases host and drops the default port of scheme.
func hostPort(scheme, host string) string {
	host = strings.ToLower(host)
	h, port, err := net.SplitHostPort(host)
	if err != nil {
		return host
	}
	if (port == "80" && (scheme == "http" || scheme == "ws")) ||
		(port == "443" && (scheme == "https" || scheme == "wss")) {
		if strings.Contains(h, ":") {
			return "[" + h + "]"
		}
		return h
	}
	return host
}
