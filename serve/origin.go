package web

import (
	"net"
	"net/http"
	"net/url"
	"strings"
)

// originPolicy decides which pages may open the websocket. A browser sends
// the page's origin with every websocket request, and nothing else stops a
// foreign site that a viewer opens from reading the live stream (cross-site
// websocket hijacking).
type originPolicy struct {
	any   bool            // "*" was listed
	allow map[string]bool // normalised scheme://host[:port]
}

// newOriginPolicy returns the policy that allows the listed origins besides
// the request's own host.
func newOriginPolicy(origins []string) originPolicy {
	p := originPolicy{allow: make(map[string]bool, len(origins))}
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

// allowed reports whether r may upgrade: it has no Origin (not a browser),
// its Origin has the request's host, or its Origin is listed.
func (p originPolicy) allowed(r *http.Request) bool {
	values := r.Header.Values("Origin")
	if len(values) == 0 {
		return true
	}
	if p.any {
		return true
	}
	u, err := url.Parse(values[0])
	if err != nil || u.Host == "" {
		return false
	}
	if sameHost(u, r.Host) {
		return true
	}
	n, ok := normalizeOrigin(values[0])
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
