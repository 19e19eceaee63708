package proxy

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/kvclass/kvclass/kvapi"
	"github.com/kvclass/kvclass/tunnel"
)

// TestNodeCallHeaders: a call to a node carries the key escaped, the
// version, and the header that lets it through ngrok's free-plan warning,
// whatever the case fasthttp writes their names in.
func TestNodeCallHeaders(t *testing.T) {
	t.Parallel()
	seen := make(chan *http.Request, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen <- r
		w.Header().Set(kvapi.VersionHeader, "7/kv1")
		w.Write([]byte(`{"value":1}`))
	}))
	defer srv.Close()
	c, err := newNodeClient(srv.URL, nil, "kvclass/test", 2*time.Second, kvapi.DefaultMaxBody)
	if err != nil {
		t.Fatal(err)
	}
	defer c.close()
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseResponse(resp)
	if err := c.send(nodeCall{method: "POST", path: "/put", key: "a b&c", body: []byte(`{"value":1}`), version: "5/proxy"}, resp); err != nil {
		t.Fatal(err)
	}
	r := <-seen
	if r.URL.RawQuery != "key=a+b%26c" || r.Header.Get(tunnel.SkipWarningHeader) != "1" || r.Header.Get(kvapi.VersionHeader) != "5/proxy" || r.Header.Get("User-Agent") != "kvclass/test" {
		t.Errorf("the node saw %s %v", r.URL, r.Header)
	}
	if v := answerVersion(resp, "kv1"); v != (kvapi.Version{HLC: 7, Origin: "kv1"}) {
		t.Errorf("answer version %v", v)
	}
}
