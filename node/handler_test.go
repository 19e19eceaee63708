package node

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kvclass/kvclass/kvapi"
	"github.com/kvclass/kvclass/serve"
)

// startNode starts a real node on an ephemeral loopback port and stops it
// when the test ends.
func startNode(t testing.TB, cfg Config) *Node {
	t.Helper()
	n, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := n.Start(ctx); err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		n.Wait()
	})
	return n
}

type reply struct {
	status int
	header http.Header
	body   string
}

func do(t testing.TB, method, u, body string) reply {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	c := &http.Client{Timeout: 5 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return reply{resp.StatusCode, resp.Header, string(b)}
}

// jsonEq reports whether two JSON texts are the same value.
func jsonEq(t testing.TB, got, want string) bool {
	t.Helper()
	var g, w any
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		t.Errorf("not JSON: %q: %v", got, err)
		return false
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad want %q: %v", want, err)
	}
	gb, _ := json.Marshal(g)
	wb, _ := json.Marshal(w)
	return bytes.Equal(gb, wb)
}

func TestSeedWalkthroughOnANode(t *testing.T) {
	n := startNode(t, Config{Name: "kv-store"})
	base := n.LocalURL()
	r := do(t, "POST", base+"/put?key=kek", `{"value": "my value"}`)
	if r.status != 200 || !jsonEq(t, r.body, `{"message": "Key-value pair stored successfully."}`) {
		t.Fatalf("put: %d %s", r.status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("put Content-Type = %q", ct)
	}
	r = do(t, "GET", base+"/get?key=kek", "")
	if r.status != 200 || !jsonEq(t, r.body, `{"value": "my value"}`) {
		t.Fatalf("get: %d %s", r.status, r.body)
	}
	r = do(t, "GET", base+"/get?key=nope", "")
	if r.status != 404 || !jsonEq(t, r.body, `{"error": "Key not found.", "key": "nope"}`) {
		t.Fatalf("get missing: %d %s", r.status, r.body)
	}
	r = do(t, "GET", base+"/health", "")
	if r.status != 200 || r.body != "Hi from kv-store" {
		t.Fatalf("health: %d %q", r.status, r.body)
	}
	r = do(t, "GET", base+"/state?format=json", "")
	if r.status != 200 || !jsonEq(t, r.body, `{"name": "kv-store", "data": {"kek": "my value"}}`) {
		t.Fatalf("state: %d %s", r.status, r.body)
	}
	r = do(t, "DELETE", base+"/delete?key=kek", "")
	if r.status != 200 || !jsonEq(t, r.body, `{"message": "Key deleted."}`) {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	if r = do(t, "DELETE", base+"/delete?key=kek", ""); r.status != 404 {
		t.Fatalf("second delete: %d %s", r.status, r.body)
	}
}

func TestValuesKeepTheirJSONType(t *testing.T) {
	n := startNode(t, Config{})
	for _, v := range []string{`42`, `-1.5e3`, `true`, `false`, `"текст"`, `[1, "a", null]`, `{"a": {"b": [1, 2]}}`, `""`, `0`, `"<script>alert(1)</script>"`} {
		r := do(t, "POST", n.LocalURL()+"/put?key=k", `{"value": `+v+`}`)
		if r.status != 200 {
			t.Fatalf("put %s: %d %s", v, r.status, r.body)
		}
		r = do(t, "GET", n.LocalURL()+"/get?key=k", "")
		if !jsonEq(t, r.body, `{"value": `+v+`}`) {
			t.Errorf("value %s came back as %s", v, r.body)
		}
	}
}

func TestKeysWithAwkwardCharacters(t *testing.T) {
	n := startNode(t, Config{})
	keys := []string{"a&b", "a#b", "a+b", "100%", "a/b", "a b", "ключ", "日本", "?key=x", "=", "a=b&key=c"}
	for _, k := range keys {
		q := url.QueryEscape(k)
		if r := do(t, "POST", n.LocalURL()+"/put?key="+q, `{"value": "`+q+`"}`); r.status != 200 {
			t.Fatalf("put %q: %d %s", k, r.status, r.body)
		}
		if r := do(t, "GET", n.LocalURL()+"/get?key="+q, ""); r.status != 200 || !jsonEq(t, r.body, `{"value": "`+q+`"}`) {
			t.Fatalf("get %q: %d %s", k, r.status, r.body)
		}
	}
	if n.Store().Len() != len(keys) {
		t.Fatalf("%d keys stored, want %d", n.Store().Len(), len(keys))
	}
	// "+" in a raw query is a space, as in any form value.
	if r := do(t, "GET", n.LocalURL()+"/get?key=a+b", ""); r.status != 200 || !jsonEq(t, r.body, `{"value": "a+b"}`) {
		t.Fatalf("get a+b (the key %q): %d %s", "a b", r.status, r.body)
	}
}

// badInputs are requests a client may send by mistake or on purpose; each
// must get a JSON 4xx and change nothing.
var badInputs = []struct {
	name, method, path, body string
	status                   int
	msg                      string // the error message, or a part of it
}{
	{"put without key", "POST", "/put", `{"value": 1}`, 400, kvapi.MsgNeedKeyVal},
	{"put with empty key", "POST", "/put?key=", `{"value": 1}`, 400, kvapi.MsgNeedKeyVal},
	{"put without value", "POST", "/put?key=k", `{}`, 400, kvapi.MsgNeedKeyVal},
	{"put with null value", "POST", "/put?key=k", `{"value": null}`, 400, kvapi.MsgNeedKeyVal},
	{"put with other fields only", "POST", "/put?key=k", `{"Value": 1}`, 400, kvapi.MsgNeedKeyVal},
	{"put malformed JSON", "POST", "/put?key=k", `{"value": `, 400, "Malformed body"},
	{"put garbage", "POST", "/put?key=k", `value=1`, 400, "Malformed body"},
	{"put empty body", "POST", "/put?key=k", ``, 400, "Malformed body"},
	{"put an array", "POST", "/put?key=k", `[{"value": 1}]`, 400, "JSON object"},
	{"put a string", "POST", "/put?key=k", `"value"`, 400, "JSON object"},
	{"put null", "POST", "/put?key=k", `null`, 400, "JSON object"},
	{"put trailing garbage", "POST", "/put?key=k", `{"value": 1} x`, 400, "Malformed body"},
	{"put invalid UTF-8", "POST", "/put?key=k", "{\"value\": \"\xff\xfe\"}", 400, "not valid UTF-8"},
	{"put deep nesting", "POST", "/put?key=k", `{"value": ` + strings.Repeat("[", 100000) + strings.Repeat("]", 100000) + `}`, 413, "larger than"},
	{"put body over limit", "POST", "/put?key=k", `{"value": "` + strings.Repeat("x", 300) + `"}`, 413, "larger than 256 bytes"},
	{"put key over limit", "POST", "/put?key=" + strings.Repeat("k", 65), `{"value": 1}`, 400, "longer than 64 bytes"},
	{"put key bad escape", "POST", "/put?key=%zz", `{"value": 1}`, 400, "URL-encoded"},
	{"put key not UTF-8", "POST", "/put?key=%ff%fe", `{"value": 1}`, 400, "UTF-8"},
	{"put by GET", "GET", "/put?key=k", ``, 405, "use POST"},
	{"get without key", "GET", "/get", ``, 400, kvapi.MsgNeedKey},
	{"get by POST", "POST", "/get?key=k", `{}`, 405, "use GET"},
	{"delete without key", "DELETE", "/delete", ``, 400, kvapi.MsgNeedKey},
	{"delete by GET", "GET", "/delete?key=k", ``, 405, "use DELETE"},
	{"delete missing key", "DELETE", "/delete?key=nope", ``, 404, kvapi.MsgNotFound},
	{"reset by GET", "GET", "/reset", ``, 405, "use POST"},
	{"state by POST", "POST", "/state", ``, 405, "use GET"},
	{"unknown path", "GET", "/nope", ``, 404, "No such endpoint"},
}

func TestBadInputChangesNothing(t *testing.T) {
	n := startNode(t, Config{MaxBody: 256, MaxKey: 64})
	if r := do(t, "POST", n.LocalURL()+"/put?key=k", `{"value": "kept"}`); r.status != 200 {
		t.Fatal(r.body)
	}
	for _, tc := range badInputs {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, tc.method, n.LocalURL()+tc.path, tc.body)
			if r.status != tc.status {
				t.Errorf("status %d, want %d (%s)", r.status, tc.status, r.body)
			}
			var body struct{ Error string }
			if err := json.Unmarshal([]byte(r.body), &body); err != nil || !strings.Contains(body.Error, tc.msg) {
				t.Errorf("body %q, want a JSON error containing %q", r.body, tc.msg)
			}
			if ct := r.header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			if tc.status == 405 && r.header.Get("Allow") == "" {
				t.Error("405 without Allow")
			}
			if v, ok := n.Store().Get("k"); !ok || v != `"kept"` || n.Store().Len() != 1 {
				t.Errorf("store changed: %q %v, %d keys", v, ok, n.Store().Len())
			}
		})
	}
}

func TestNodeFull(t *testing.T) {
	n := startNode(t, Config{MaxBytes: EntryOverhead + 20})
	if r := do(t, "POST", n.LocalURL()+"/put?key=a", `{"value": 1}`); r.status != 200 {
		t.Fatal(r.body)
	}
	r := do(t, "POST", n.LocalURL()+"/put?key=b", `{"value": 2}`)
	if r.status != 507 || !strings.Contains(r.body, "full") {
		t.Fatalf("%d %s", r.status, r.body)
	}
	if _, ok := n.Store().Get("b"); ok {
		t.Fatal("a refused put was stored")
	}
}

func TestStateFilterAndReset(t *testing.T) {
	n := startNode(t, Config{Name: "kv1"})
	for _, k := range []string{"apple", "banana", "apricot", "cherry"} {
		do(t, "POST", n.LocalURL()+"/put?key="+k, `{"value": "`+k+`"}`)
	}
	r := do(t, "GET", n.LocalURL()+"/state?format=json&q=ap", "")
	if r.body != `{"name":"kv1","count":2,"data":{"apricot":"apricot","apple":"apple"}}`+"\n" {
		t.Fatalf("filtered state: %s", r.body)
	}
	r = do(t, "GET", n.LocalURL()+"/state?format=json&limit=1", "")
	if r.body != `{"name":"kv1","count":4,"data":{"cherry":"cherry"}}`+"\n" {
		t.Fatalf("limited state: %s", r.body)
	}
	if r = do(t, "POST", n.LocalURL()+"/reset", ""); r.status != 200 || n.Store().Len() != 0 {
		t.Fatalf("reset: %d %s, %d keys left", r.status, r.body, n.Store().Len())
	}
}

// TestStatePageHeaders checks what protects the page before its script
// runs: its content type and the CSP that forbids inline script. That stored
// markup stays text is checked in a real browser (web and proxy tests).
func TestStatePageHeaders(t *testing.T) {
	n := startNode(t, Config{})
	r := do(t, "GET", n.LocalURL()+"/state", "")
	if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
		t.Fatalf("page: %d %s", r.status, r.header.Get("Content-Type"))
	}
	if csp := r.header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("CSP = %q", csp)
	}
	if r = do(t, "GET", n.LocalURL()+"/", ""); r.status != http.StatusFound || r.header.Get("Location") != "/state" {
		t.Errorf("/ = %d %s", r.status, r.header.Get("Location"))
	}
}

// TestTakenPort: a second node on a taken port fails with a message naming
// the port, and its Wait returns.
func TestTakenPort(t *testing.T) {
	a := startNode(t, Config{})
	_, port, _ := strings.Cut(strings.TrimPrefix(a.LocalURL(), "http://"), ":")
	p, _ := strconv.Atoi(port)
	b, err := New(Config{Port: p})
	if err != nil {
		t.Fatal(err)
	}
	err = b.Start(context.Background())
	var le *serve.ListenError
	if !errors.As(err, &le) || err.Error() != "port "+port+" is already in use" {
		t.Fatalf("second node on port %s: %v", port, err)
	}
	done := make(chan struct{})
	go func() { b.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Wait hangs after a failed Start")
	}
}

// FuzzPut sends arbitrary keys and bodies to /put and checks that the node
// never fails with a 5xx, that a 200 stores exactly the value's compact JSON,
// and that anything else leaves the store as it was.
func FuzzPut(f *testing.F) {
	for _, tc := range badInputs {
		f.Add(tc.path, tc.body)
	}
	f.Add("/put?key=k", `{"value": {"a": [1, 2.5, "x"]}}`)
	f.Add("/put?key=%E2%9C%93", `{"value": "\u2713", "extra": 1}`)
	f.Add("/put?key=a&key=b", `{"value": 1, "value": 2}`)
	n, err := New(Config{Name: "fuzz", MaxBody: 1024, MaxKey: 64})
	if err != nil {
		f.Fatal(err)
	}
	n.handler.name = "fuzz"
	h := n.Handler()
	f.Fuzz(func(t *testing.T, target, body string) {
		if !strings.HasPrefix(target, "/") || strings.ContainsAny(target, " \r\n\t#") {
			return
		}
		req, err := http.NewRequest("POST", "http://node"+target, strings.NewReader(body))
		if err != nil {
			return
		}
		n.Store().Reset()
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code >= 500 {
			t.Fatalf("%s %q: %d %s", target, body, w.Code, w.Body)
		}
		if !json.Valid(w.Body.Bytes()) && w.Code != http.StatusFound {
			t.Fatalf("%s %q: body is not JSON: %q", target, body, w.Body)
		}
		if req.URL.Path != "/put" {
			return
		}
		if w.Code != 200 {
			if n.Store().Len() != 0 {
				t.Fatalf("a %d stored something", w.Code)
			}
			return
		}
		var in map[string]json.RawMessage // exact member names; the last wins
		json.Unmarshal([]byte(body), &in)
		pairs := n.Store().All()
		if len(pairs) != 1 {
			t.Fatalf("200 but %d keys stored", len(pairs))
		}
		var compact bytes.Buffer
		json.Compact(&compact, in["value"])
		if !jsonEq(t, pairs[0].Value, compact.String()) {
			t.Fatalf("stored %s for body %q", pairs[0].Value, body)
		}
	})
}
