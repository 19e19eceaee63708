package kvapi

import (
	"net/http"
	"strconv"
	"strings"
	"unsafe"

	"github.com/valyala/fasthttp"
)

// This file is the data API on fasthttp's server (serve.Server runs /get,
// /put and /delete there, without net/http's per-request costs). Each
// function here reads or answers a request as its net/http namesake without
// "Ctx" does, with the same messages and the same bodies.

// KeyCtx checks that the request uses one of op's methods and returns its
// key, as Key does.
func (l Limits) KeyCtx(ctx *fasthttp.RequestCtx, op Op) (string, *Error) {
	if m := ctx.Method(); string(m) != op.Methods[0] && string(m) != op.Methods[1] {
		return "", op.notAllowed(string(m))
	}
	// KeyParam keeps nothing of the query it reads but the key, cloned
	// here: the key is the only copy of the request's memory, sized to it.
	query := ctx.URI().QueryString()
	key, e := l.KeyParam(unsafe.String(unsafe.SliceData(query), len(query)), op.Missing)
	return strings.Clone(key), e
}

// BodyCtx returns the request's body; one over MaxBody is a 413, as
// ReadBody's. The server has read the body already, bounded by the same
// limit (serve.Handler.MaxBody).
func (l Limits) BodyCtx(ctx *fasthttp.RequestCtx) ([]byte, *Error) {
	body := ctx.PostBody()
	if int64(len(body)) > l.MaxBody {
		return nil, l.TooLarge()
	}
	return body, nil
}

// ParseVersionHeaderCtx returns the version the request carries in
// VersionHeader, as ParseVersionHeader does.
func ParseVersionHeaderCtx(ctx *fasthttp.RequestCtx) (Version, *Error) {
	vals := ctx.Request.Header.PeekAll(VersionHeader)
	if len(vals) == 0 {
		return Version{}, nil
	}
	return parseVersionValues(len(vals), string(vals[0]))
}

// SetVersionHeaderCtx sets VersionHeader to v on the answer, as
// SetVersionHeader does.
func SetVersionHeaderCtx(ctx *fasthttp.RequestCtx, v Version) {
	if !v.IsZero() {
		var buf [64]byte
		ctx.Response.Header.SetBytesV(VersionHeader, v.append(buf[:0]))
	}
}

// WriteErrorCtx writes e as the answer, as WriteError does.
func WriteErrorCtx(ctx *fasthttp.RequestCtx, e *Error) {
	h := &ctx.Response.Header
	if e.Allow != "" {
		h.Set("Allow", e.Allow)
	}
	if len(e.Nodes) > 0 {
		h.Set(NodeHeader, Names(e.Nodes, ","))
	}
	setErrorHeaders(h)
	ctx.SetStatusCode(e.Status)
	ctx.SetBody(e.JSON())
}

// WriteConflictCtx writes c as a 409, as WriteConflict does.
func WriteConflictCtx(ctx *fasthttp.RequestCtx, c *VersionConflict) {
	SetVersionHeaderCtx(ctx, c.Stored)
	setErrorHeaders(&ctx.Response.Header)
	ctx.SetStatusCode(http.StatusConflict)
	ctx.SetBody(c.JSON())
}

func setErrorHeaders(h *fasthttp.ResponseHeader) {
	h.SetContentType(jsonContentType[0])
	h.Set("Cache-Control", noStore[0])
	h.Set("X-Content-Type-Options", nosniff[0])
}

// WriteJSONCtx writes body, already JSON, with status, as WriteJSON does.
func WriteJSONCtx(ctx *fasthttp.RequestCtx, status int, body []byte) {
	ctx.Response.Header.SetContentType(jsonContentType[0])
	ctx.SetStatusCode(status)
	ctx.SetBody(body)
}

// ParseVersionBytes parses a version's wire form from a header's bytes, as
// ParseVersion does. Its Origin is a new string unless it is one of known:
// a node's answers mostly carry its own name or the proxy's, and the proxy
// reads one on every answer.
func ParseVersionBytes(b []byte, known ...string) (Version, error) {
	v, err := ParseVersion(unsafe.String(unsafe.SliceData(b), len(b)))
	if err != nil {
		return Version{}, err
	}
	for _, k := range known {
		if v.Origin == k {
			v.Origin = k
			return v, nil
		}
	}
	v.Origin = strings.Clone(v.Origin)
	return v, nil
}

// TooLarge is the 413 for a body over MaxBody.
func (l Limits) TooLarge() *Error {
	return Errorf(http.StatusRequestEntityTooLarge, "The body is larger than "+strconv.FormatInt(l.MaxBody, 10)+" bytes.")
}
