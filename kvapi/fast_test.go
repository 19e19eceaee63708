package kvapi

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"unsafe"

	"github.com/valyala/fasthttp"
)

// ctxFor is a fasthttp request for method and uri with the given headers.
func ctxFor(method, uri string, header ...string) *fasthttp.RequestCtx {
	var req fasthttp.Request
	req.Header.SetMethod(method)
	req.SetRequestURI(uri)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Add(header[i], header[i+1])
	}
	var ctx fasthttp.RequestCtx
	ctx.Init(&req, nil, nil)
	return &ctx
}

// TestCtxMatchesNetHTTP: the fasthttp side answers as the net/http side
// does, with the same bodies.
func TestCtxMatchesNetHTTP(t *testing.T) {
	t.Parallel()
	l := Limits{MaxBody: 10, MaxKey: 8}
	for _, tc := range []struct {
		method, uri string
		header      []string
	}{
		{"GET", "/get?key=a%26b", nil},
		{"POST", "/get?key=a", nil},
		{"GET", "/get", nil},
		{"GET", "/get?key=toolongkey", nil},
		{"GET", "/get?key=%zz", nil},
		{"GET", "/get?key=k", []string{VersionHeader, "1/kv1", VersionHeader, "2/kv1"}},
		{"GET", "/get?key=k", []string{VersionHeader, "nope"}},
		{"GET", "/get?key=k", []string{VersionHeader, " 12/kv1 "}},
	} {
		r := httptest.NewRequest(tc.method, tc.uri, nil)
		for i := 0; i+1 < len(tc.header); i += 2 {
			r.Header.Add(tc.header[i], tc.header[i+1])
		}
		ctx := ctxFor(tc.method, tc.uri, tc.header...)
		key, e := l.Key(r, OpGet)
		ckey, ce := l.KeyCtx(ctx, OpGet)
		if key != ckey || (e == nil) != (ce == nil) || e != nil && string(e.JSON()) != string(ce.JSON()) {
			t.Errorf("%s %s: key %q %v; ctx %q %v", tc.method, tc.uri, key, e, ckey, ce)
		}
		v, e := ParseVersionHeader(r.Header)
		cv, ce := ParseVersionHeaderCtx(ctx)
		if v != cv || (e == nil) != (ce == nil) || e != nil && string(e.JSON()) != string(ce.JSON()) {
			t.Errorf("%v: version %v %v; ctx %v %v", tc.header, v, e, cv, ce)
		}
	}

	e := MethodNotAllowed("POST", "GET")
	e.Nodes = map[string]string{"kv2": "down", "kv1": "x"}
	w := httptest.NewRecorder()
	WriteError(w, e)
	ctx := ctxFor("POST", "/get")
	WriteErrorCtx(ctx, e)
	for _, h := range []string{"Allow", NodeHeader, "Content-Type", "Cache-Control", "X-Content-Type-Options"} {
		if got := string(ctx.Response.Header.Peek(h)); got != w.Header().Get(h) {
			t.Errorf("%s: %q, net/http %q", h, got, w.Header().Get(h))
		}
	}
	if ctx.Response.StatusCode() != w.Code || string(ctx.Response.Body()) != w.Body.String() {
		t.Errorf("%d %s; net/http %d %s", ctx.Response.StatusCode(), ctx.Response.Body(), w.Code, w.Body)
	}

	ctx = ctxFor("POST", "/put?key=k")
	ctx.Request.SetBodyString("more than ten bytes")
	if _, e := l.BodyCtx(ctx); e == nil || e.Status != http.StatusRequestEntityTooLarge || e.Message != l.TooLarge().Message {
		t.Errorf("a body over the limit: %v", e)
	}
	ctx = ctxFor("POST", "/put?key=k")
	WriteConflictCtx(ctx, Stale(Version{44, "kv2"}, true))
	if ctx.Response.StatusCode() != 409 || string(ctx.Response.Header.Peek(VersionHeader)) != "44/kv2" || string(ctx.Response.Body()) != string(Stale(Version{44, "kv2"}, true).JSON()) {
		t.Errorf("conflict: %s", ctx.Response.String())
	}
}

// TestParseVersionBytes: a known origin is returned as the known string
// itself; another one is a copy, not the header's memory.
func TestParseVersionBytes(t *testing.T) {
	t.Parallel()
	const kv1 = "kv1"
	v, err := ParseVersionBytes([]byte("0042/kv1"), "proxy", kv1)
	if err != nil || v != (Version{42, "kv1"}) || unsafe.StringData(v.Origin) != unsafe.StringData(kv1) {
		t.Errorf("known: %v %v", v, err)
	}
	raw := []byte("7/kv9")
	v, err = ParseVersionBytes(raw, "kv1")
	raw[2] = 'X'
	if err != nil || v != (Version{7, "kv9"}) {
		t.Errorf("unknown: %v %v", v, err)
	}
	if _, err := ParseVersionBytes([]byte("x/kv1")); err == nil {
		t.Error("a malformed version parsed")
	}
}
