package registry_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gorilla/websocket"
)

// dialWS opens a raw websocket to the class's registry.
func (c *class) dialWS(header http.Header) (*websocket.Conn, *http.Response, error) {
	c.t.Helper()
	d := websocket.Dialer{HandshakeTimeout: 2 * time.Second, NetDialContext: c.w.dial()}
	conn, resp, err := d.Dial("ws"+strings.TrimPrefix(c.url, "http")+"/registry/ws", header)
	if err == nil {
		c.t.Cleanup(func() { conn.Close() })
	}
	return conn, resp, err
}

func (c *class) mustDialWS() *websocket.Conn {
	c.t.Helper()
	conn, _, err := c.dialWS(nil)
	if err != nil {
		c.t.Fatalf("dial: %v", err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(waitFor))
	return conn
}

// readAnswer reads one JSON object.
func readAnswer(t *testing.T, conn *websocket.Conn) map[string]any {
	t.Helper()
	_, data, err := conn.ReadMessage()
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	var out map[string]any
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatalf("answer %q is not JSON", data)
	}
	return out
}

// wantClosed reads until the connection ends and returns the close error.
func wantClosed(t *testing.T, conn *websocket.Conn) error {
	t.Helper()
	for {
		if _, _, err := conn.ReadMessage(); err != nil {
			return err
		}
	}
}

func TestWebsocketRefusals(t *testing.T) {
	inBubble(t, func(t *testing.T, w *world) {
		opts := testOptions()
		opts.HandshakeTimeout = 200 * time.Millisecond
		c := w.newClass(opts)
		n := w.newNode()
		for _, tc := range []struct {
			typ    int
			msg    string
			status float64
		}{
			{websocket.TextMessage, `not json`, 400},
			{websocket.TextMessage, `[1,2]`, 400},
			{websocket.BinaryMessage, `{"name":"kv1"}`, 400},
			{websocket.TextMessage, `{"name":"kv1","url":"` + n.url + `","token":"nope"}`, 401},
			{websocket.TextMessage, `{"name":"kv 1","url":"` + n.url + `","token":"` + testCode + `"}`, 400},
			{websocket.TextMessage, `{"name":"kv1","url":"http://169.254.169.254","token":"` + testCode + `"}`, 403},
		} {
			conn := c.mustDialWS()
			if err := conn.WriteMessage(tc.typ, []byte(tc.msg)); err != nil {
				t.Fatal(err)
			}
			ans := readAnswer(t, conn)
			if ans["status"] != tc.status || ans["error"] == "" {
				t.Errorf("join %q: answer %v, want status %v", tc.msg, ans, tc.status)
			}
			if err := wantClosed(t, conn); !websocket.IsCloseError(err, websocket.ClosePolicyViolation) {
				t.Errorf("join %q: closed with %v, want a policy-violation close", tc.msg, err)
			}
		}

		// An oversized first message ends the connection without an answer.
		conn := c.mustDialWS()
		_ = conn.WriteMessage(websocket.TextMessage, []byte(`{"name":"`+strings.Repeat("a", 8<<10)+`"}`))
		if err := wantClosed(t, conn); !websocket.IsCloseError(err, websocket.CloseMessageTooBig) {
			t.Errorf("oversized join: %v, want a message-too-big close", err)
		}

		// A connection that never sends its join is closed exactly after the
		// handshake timeout.
		conn = c.mustDialWS()
		start := time.Now()
		_ = wantClosed(t, conn)
		if d := time.Since(start); d != opts.HandshakeTimeout {
			t.Errorf("a silent connection lived %v, want %v", d, opts.HandshakeTimeout)
		}

		// A browser page from another site cannot open it (cross-site
		// websocket hijacking).
		_, resp, err := c.dialWS(http.Header{"Origin": {"http://evil.example"}})
		if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
			t.Errorf("cross-origin websocket: %v, want 403", err)
		}
		if len(c.reg.Members()) != 0 {
			t.Fatalf("members after refusals: %v", names(c.reg.Members()))
		}
	})
}

// TestWebsocketProtocol speaks the protocol by hand, as a node written in
// another language would.
func TestWebsocketProtocol(t *testing.T) {
	inBubble(t, func(t *testing.T, w *world) {
		c := w.newClass(testOptions())
		n := w.newNode()
		conn := c.mustDialWS()
		join := map[string]string{"name": "py1", "url": n.url, "token": testCode}
		if err := conn.WriteJSON(join); err != nil {
			t.Fatal(err)
		}
		ans := readAnswer(t, conn)
		secret, _ := ans["secret"].(string)
		if ans["name"] != "py1" || len(secret) < 16 || ans["heartbeat_ms"] != float64(100) {
			t.Fatalf("join answer %v", ans)
		}
		_ = conn.SetReadDeadline(time.Time{}) // the test's pace is its own from here
		var pongs atomic.Int32
		conn.SetPongHandler(func(string) error { pongs.Add(1); return nil })
		readErr := make(chan error, 1)
		go func() { readErr <- wantClosed(t, conn) }()

		// Pings keep it up, and are answered: one every 40ms for ten
		// leases, not one down change.
		beats := int(10 * lease / (40 * time.Millisecond))
		for range beats {
			if err := conn.WriteControl(websocket.PingMessage, []byte("hb"), time.Now().Add(time.Second)); err != nil {
				t.Fatal(err)
			}
			time.Sleep(40 * time.Millisecond)
		}
		synctest.Wait()
		if got := pongs.Load(); got != int32(beats) {
			t.Fatalf("%d pongs to %d pings", got, beats)
		}
		if m, _ := c.mustMember("py1"); !m.Up || c.hadDown("py1", 0) {
			t.Fatalf("pinging node: %+v, changes %v", m, c.kinds())
		}
		// Any message counts as a heartbeat too.
		for range beats {
			_ = conn.WriteMessage(websocket.TextMessage, []byte(`{"type":"heartbeat"}`))
			time.Sleep(40 * time.Millisecond)
		}
		synctest.Wait()
		if m, _ := c.mustMember("py1"); !m.Up || c.hadDown("py1", 0) {
			t.Fatalf("node sending messages: %+v, changes %v", m, c.kinds())
		}
		// The leave: down "stopped" at once, and a goodbye close.
		if err := conn.WriteMessage(websocket.TextMessage, []byte(`{"type":"leave"}`)); err != nil {
			t.Fatal(err)
		}
		if err := <-readErr; !websocket.IsCloseError(err, websocket.CloseNormalClosure) {
			t.Fatalf("after leave: %v, want a normal close", err)
		}
		if m, _ := c.mustMember("py1"); m.Up || m.Reason != "stopped" {
			t.Fatalf("after leave: %+v", m)
		}
		// The secret still works over HTTP, to come back.
		if status, body := c.joinHTTP("py1", n.url, secret); status != http.StatusOK {
			t.Fatalf("rejoin: %d %v", status, body)
		}
	})
}
