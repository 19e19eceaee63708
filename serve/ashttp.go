package serve

import (
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"

	"github.com/valyala/fasthttp"

	"github.com/kvclass/kvclass/kvapi"
)

// AsHTTP returns the fasthttp handler h as an http.Handler, for the data
// API's requests that reach a node or the proxy through net/http rather
// than through a Server: a relayed node's streams, a test's httptest
// server. It is fasthttpadaptor's converse, and slower than a Server: h is
// written once, for the Server. A body over maxBody is the 413 a Server
// answers.
func AsHTTP(h fasthttp.RequestHandler, maxBody int64) http.Handler {
	limits := kvapi.Limits{MaxBody: maxBody}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > maxBody {
			kvapi.WriteError(w, limits.TooLarge())
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
		if err != nil {
			kvapi.WriteError(w, kvapi.Errorf(http.StatusBadRequest, "Could not read the body: "+err.Error()))
			return
		}
		if int64(len(body)) > maxBody {
			kvapi.WriteError(w, limits.TooLarge())
			return
		}
		var req fasthttp.Request
		req.Header.SetMethod(r.Method)
		// The path as net/http decoded it, so that a Data handler may
		// route on the raw path as a Server lets it ("/g%65t" is "/get").
		target := url.URL{Path: r.URL.Path, RawQuery: r.URL.RawQuery}
		req.SetRequestURI(target.RequestURI())
		req.Header.SetHost(r.Host)
		for k, vv := range r.Header {
			if k == "Host" || k == "Content-Length" || k == "Transfer-Encoding" {
				continue
			}
			for _, v := range vv {
				req.Header.Add(k, v)
			}
		}
		req.SetBodyRaw(body)
		var ctx fasthttp.RequestCtx
		ctx.Init(&req, remoteAddr(r.RemoteAddr), nil)
		ctx.Response.Header.SetNoDefaultContentType(true)
		if via, _ := r.Context().Value(viaForwarder{}).(bool); via {
			ctx.SetUserValue(viaForwarder{}, true)
		}
		h(&ctx)

		out := w.Header()
		for k, v := range ctx.Response.Header.All() {
			switch string(k) {
			case fasthttp.HeaderContentLength, fasthttp.HeaderConnection, fasthttp.HeaderDate, fasthttp.HeaderServer:
				continue
			}
			out.Add(string(k), string(v))
		}
		w.WriteHeader(ctx.Response.StatusCode())
		w.Write(ctx.Response.Body())
	})
}

// remoteAddr parses a net/http RemoteAddr; nil when it is not IP:port.
func remoteAddr(s string) net.Addr {
	ap, err := netip.ParseAddrPort(s)
	if err != nil {
		return nil
	}
	return net.TCPAddrFromAddrPort(ap)
}
