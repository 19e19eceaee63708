package serve

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/valyala/fasthttp"
)

// start serves h on a free port of loopback until the test ends.
func start(t *testing.T, h Handler) (*Server, string) {
	t.Helper()
	s, err := Listen("127.0.0.1:0", h, nil)
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	t.Cleanup(func() { s.Shutdown() })
	return s, s.LocalURL()
}

type answer struct {
	status int
	header http.Header
	body   string
}

func do(t *testing.T, method, url, body string, header ...string) answer {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Add(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, resp.Header, string(b)}
}

// fastEcho answers "data PATH" on fasthttp; stdEcho "std PATH" on net/http.
func fastEcho(ctx *fasthttp.RequestCtx) {
	ctx.SetContentType("text/plain")
	ctx.SetBodyString("data " + string(ctx.Path()))
}

var stdEcho = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	io.WriteString(w, "std "+r.URL.Path)
})

// TestRoutes: the data paths, spelled exactly, go to Data; everything else,
// a data path spelled another way included, to Std, which sees it as
// net/http would.
func TestRoutes(t *testing.T) {
	t.Parallel()
	_, base := start(t, Handler{Data: fastEcho, Std: stdEcho})
	for path, want := range map[string]string{
		"/get?key=a":  "data /get",
		"/put?key=a":  "data /put",
		"/delete":     "data /delete",
		"/state":      "std /state",
		"/get/":       "std /get/",
		"/g%65t?key=": "std /get",
		"/assets/x":   "std /assets/x",
	} {
		if a := do(t, "GET", base+path, ""); a.status != 200 || a.body != want {
			t.Errorf("%s: %d %q; want %q", path, a.status, a.body, want)
		}
	}
	// Without Data, Std serves everything.
	_, base = start(t, Handler{Std: stdEcho})
	if a := do(t, "GET", base+"/get?key=a", ""); a.body != "std /get" {
		t.Errorf("no Data: %q", a.body)
	}
}

// TestRequestErrors: what the server itself refuses is answered with
// kvapi's JSON errors, the body limit being the handler's MaxBody.
func TestRequestErrors(t *testing.T) {
	t.Parallel()
	_, base := start(t, Handler{Data: fastEcho, Std: stdEcho, MaxBody: 100})
	// A body announced past what the server reads (MaxBody plus the
	// slack within which the handler answers 413 itself) is refused at
	// once, on its headers, and the connection closed: a client still
	// sending it may see the close before the answer, as with net/http, so
	// the request is written here without its body.
	c, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, "POST /put?key=k HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000000\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("a body announced past the slack: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 413 || !strings.Contains(string(body), `"error":"The body is larger than 100 bytes."`) {
		t.Errorf("a body announced past the slack: %d %v %s", resp.StatusCode, resp.Header, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("a body announced past the slack: Content-Type %q", ct)
	}
	a := do(t, "GET", base+"/state", "", "X-Big", strings.Repeat("b", maxHeader))
	if a.status != 431 || !strings.Contains(a.body, `"error"`) {
		t.Errorf("headers over the limit: %d %s", a.status, a.body)
	}
	if a := do(t, "POST", base+"/put?key=k", `{"value": 1}`); a.status != 200 {
		t.Errorf("a body within the limit: %d %s", a.status, a.body)
	}
}

// TestStdRequestsAreTheirOwn: a standard handler may keep what it read
// from a request (a key, a header) after it returned, as under net/http,
// though fasthttp reuses its buffers for the connection's next request.
func TestStdRequestsAreTheirOwn(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var kept []string
	_, base := start(t, Handler{Std: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		kept = append(kept, r.URL.Query().Get("key"), r.Header.Get("X-Name"), r.Host)
		mu.Unlock()
	})})
	for _, k := range []string{"aaaa", "bbbb", "cccc"} {
		do(t, "GET", base+"/keep?key="+k, "", "X-Name", k+k)
	}
	mu.Lock()
	defer mu.Unlock()
	host := strings.TrimPrefix(base, "http://")
	want := []string{"aaaa", "aaaaaaaa", host, "bbbb", "bbbbbbbb", host, "cccc", "cccccccc", host}
	if strings.Join(kept, " ") != strings.Join(want, " ") {
		t.Errorf("kept %q; want %q", kept, want)
	}
}

// TestWebsocket: a standard handler upgrades to a websocket through
// fasthttpadaptor's Hijack, and a deadline it sets at once holds (the
// server clears its own deadlines before the handler gets the connection).
func TestWebsocket(t *testing.T) {
	t.Parallel()
	up := websocket.Upgrader{}
	timedOut := make(chan time.Duration, 100)
	_, base := start(t, Handler{Data: fastEcho, Std: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		if r.URL.Path == "/silent" {
			began := time.Now()
			c.SetReadDeadline(began.Add(50 * time.Millisecond))
			c.ReadMessage()
			timedOut <- time.Since(began)
			return
		}
		for {
			typ, msg, err := c.ReadMessage()
			if err != nil {
				return
			}
			c.WriteMessage(typ, append([]byte("echo "), msg...))
		}
	})})
	ws := "ws" + strings.TrimPrefix(base, "http")
	c, _, err := websocket.DefaultDialer.Dial(ws+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"one", "two"} {
		c.WriteMessage(websocket.TextMessage, []byte(m))
		if _, got, err := c.ReadMessage(); err != nil || string(got) != "echo "+m {
			t.Fatalf("%q: %q %v", m, got, err)
		}
	}
	c.Close()
	const n = 20
	for range n {
		c, _, err := websocket.DefaultDialer.Dial(ws+"/silent", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
	}
	for range n {
		select {
		case d := <-timedOut:
			if d > 5*time.Second {
				t.Errorf("the handler's 50 ms deadline fired after %v", d)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("a deadline set right after the upgrade was lost")
		}
	}
}

// TestForwarded: ClientAddr reads X-Forwarded-For only on requests that
// came through a listener given to Serve.
func TestForwarded(t *testing.T) {
	t.Parallel()
	addrs := make(chan string, 2)
	s, base := start(t, Handler{Std: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		addrs <- ClientAddr(r)
	})})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.Serve(ln, nil)
	do(t, "GET", base+"/", "", "X-Forwarded-For", "203.0.113.9")
	if got := <-addrs; got != "127.0.0.1" {
		t.Errorf("direct: %s", got)
	}
	do(t, "GET", "http://"+ln.Addr().String()+"/", "", "X-Forwarded-For", "198.51.100.1, 203.0.113.9")
	if got := <-addrs; got != "203.0.113.9" {
		t.Errorf("forwarded: %s", got)
	}
}

// failing is a listener whose Accept fails with err.
type failing struct {
	net.Listener
	err error
}

func (l failing) Accept() (net.Conn, error) { return nil, l.err }

// TestServeEnded: ended hears why a listener stopped serving, unless it
// was closed.
func TestServeEnded(t *testing.T) {
	t.Parallel()
	s, _ := start(t, Handler{Std: stdEcho})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ended := make(chan error, 2)
	s.Serve(failing{ln, errors.New("the tunnel is gone")}, func(err error) { ended <- err })
	select {
	case err := <-ended:
		if err.Error() != "the tunnel is gone" {
			t.Errorf("ended: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("ended was not called")
	}
	s.Serve(failing{ln, net.ErrClosed}, func(err error) { ended <- err })
	select {
	case err := <-ended:
		t.Errorf("ended on a closed listener: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
}

// TestShutdown: a spare connection that never sends a request, and a
// request still running after the grace, do not hold Shutdown up.
func TestShutdown(t *testing.T) {
	t.Parallel()
	running := make(chan struct{})
	s, err := Listen("127.0.0.1:0", Handler{Std: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(running)
		time.Sleep(3 * time.Second)
	})}, nil)
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	spare, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer spare.Close()
	busy, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	io.WriteString(busy, "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
	<-running
	began := time.Now()
	s.Shutdown()
	if d := time.Since(began); d > 2500*time.Millisecond {
		t.Errorf("Shutdown took %v", d)
	}
	for _, c := range []net.Conn{spare, busy} {
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		if _, err := bufio.NewReader(c).ReadByte(); err == nil {
			t.Error("a connection still served after Shutdown")
		} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Error("a connection left open after Shutdown")
		}
	}
	if _, err := net.DialTimeout("tcp", s.Addr().String(), time.Second); err == nil {
		t.Error("still listening after Shutdown")
	}
}

// TestPanic: a handler's panic closes its connection, and the server
// serves on.
func TestPanic(t *testing.T) {
	t.Parallel()
	_, base := start(t, Handler{
		Data: func(ctx *fasthttp.RequestCtx) { panic("data bug") },
		Std: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/panic" {
				panic("std bug")
			}
			io.WriteString(w, "fine")
		}),
	})
	for _, path := range []string{"/panic", "/get?key=k"} {
		if resp, err := http.Get(base + path); err == nil {
			resp.Body.Close()
			t.Errorf("%s: answered %d", path, resp.StatusCode)
		}
	}
	if a := do(t, "GET", base+"/ok", ""); a.status != 200 || a.body != "fine" {
		t.Errorf("after the panics: %d %q", a.status, a.body)
	}
}

// TestAsHTTP: a fasthttp handler served through net/http sees the request
// as the Server would give it, and its answer comes back whole.
func TestAsHTTP(t *testing.T) {
	t.Parallel()
	h := AsHTTP(func(ctx *fasthttp.RequestCtx) {
		ctx.Response.Header.Set("X-Seen", string(ctx.Method())+" "+string(ctx.RequestURI())+" "+string(ctx.Request.Header.Peek("X-In"))+" "+string(ctx.PostBody()))
		ctx.SetContentType("application/json")
		ctx.SetStatusCode(201)
		ctx.SetBodyString(`{"ok":true}`)
	}, 10)
	r := httptest.NewRequest("POST", "/put?key=a%26b", strings.NewReader("body"))
	r.Header.Set("X-In", "in")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != 201 || w.Header().Get("X-Seen") != "POST /put?key=a%26b in body" || w.Header().Get("Content-Type") != "application/json" || w.Body.String() != `{"ok":true}` {
		t.Errorf("%d %v %s", w.Code, w.Header(), w.Body)
	}
	w = httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("POST", "/put?key=a", strings.NewReader("more than ten bytes")))
	if w.Code != 413 || !strings.Contains(w.Body.String(), "larger than 10 bytes") {
		t.Errorf("over the limit: %d %s", w.Code, w.Body)
	}
}

// TestShutdownLeavesNoGoroutines: a server that served, websockets
// included, leaves no goroutine behind once shut down (tests that stop
// nodes count them). Not parallel: it counts the process's goroutines.
func TestShutdownLeavesNoGoroutines(t *testing.T) {
	serveOnce := func() {
		s, err := Listen("127.0.0.1:0", Handler{Data: fastEcho, Std: stdEcho}, nil)
		if err != nil {
			t.Fatal(err)
		}
		s.Start()
		client := &http.Client{Transport: &http.Transport{}}
		for _, path := range []string{"/get?key=k", "/state"} {
			resp, err := client.Get(s.LocalURL() + path)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		client.CloseIdleConnections()
		s.Shutdown()
	}
	serveOnce() // fasthttp's process-wide clock for the Date header starts once
	time.Sleep(100 * time.Millisecond)
	before := runtime.NumGoroutine()
	serveOnce()
	deadline := time.Now().Add(3 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines left after Shutdown:\n%s", runtime.NumGoroutine()-before, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}
