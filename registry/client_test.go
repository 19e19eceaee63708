package registry_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/kvclass/kvclass/internal/testwait"
	"github.com/kvclass/kvclass/registry/join"
)

func TestFirstJoinRefused(t *testing.T) {
	inBubble(t, func(t *testing.T, w *world) {
		c := w.newClass(testOptions())
		n := w.newNode()
		opts := c.joinOpts("kv1", n.url)
		opts.Token = "wrong-code"
		_, err := join.Join(t.Context(), opts)
		var je *join.Error
		if !errors.As(err, &je) || je.Status != http.StatusUnauthorized {
			t.Fatalf("Join with a bad code: %v, want a 401 JoinError", err)
		}
		if got, want := err.Error(), "proxy refused the join: bad class code (401)"; got != want {
			t.Fatalf("error line %q, want %q", got, want)
		}

		c.join("kv1", n.url)
		_, err = join.Join(t.Context(), c.joinOpts("kv1", n.url))
		if !errors.As(err, &je) || je.Status != http.StatusConflict || strings.Contains(err.Error(), "\n") {
			t.Fatalf("Join under a live name: %v, want a one-line 409 JoinError", err)
		}
		_, err = join.Join(t.Context(), c.joinOpts("kv2", w.deadURL()))
		if !errors.As(err, &je) || je.Status != http.StatusUnprocessableEntity {
			t.Fatalf("Join of an unreachable node: %v, want a 422 JoinError", err)
		}
	})
}

func TestJoinErrorsBeforeAdmission(t *testing.T) {
	inBubble(t, func(t *testing.T, w *world) {
		n := w.newNode()
		base := join.Options{Proxy: w.deadURL(), Token: testCode, Name: "kv1", URL: n.url, DialTimeout: time.Second, Dial: w.dial()}

		// Nothing listens at the proxy's address: a plain error, not a refusal.
		_, err := join.Join(t.Context(), base)
		var je *join.Error
		if err == nil || errors.As(err, &je) || !strings.Contains(err.Error(), "cannot reach the proxy") {
			t.Fatalf("Join of a dead proxy: %v", err)
		}
		// A URL that is not a kvclass proxy.
		opts := base
		opts.Proxy = n.url
		_, err = join.Join(t.Context(), opts)
		if !errors.As(err, &je) || je.Status != http.StatusServiceUnavailable && je.Status != http.StatusNotFound {
			t.Fatalf("Join of a non-proxy: %v, want a JoinError", err)
		}
		// Bad options fail before any network.
		for _, change := range []func(*join.Options){
			func(o *join.Options) { o.Token = "" },
			func(o *join.Options) { o.Name = "bad name" },
			func(o *join.Options) { o.URL = "ftp://x" },
			func(o *join.Options) { o.Proxy = "192.168.1.5:5003" },
			func(o *join.Options) { o.Proxy = "ws://h:1" },
			func(o *join.Options) { o.Secret = "short" },
		} {
			opts := base
			change(&opts)
			if _, err := join.Join(t.Context(), opts); err == nil || errors.As(err, &je) {
				t.Errorf("Join(%+v): %v, want an options error", opts, err)
			}
		}
		// The context bounds the first join.
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if _, err := join.Join(ctx, base); err == nil {
			t.Fatal("Join with a cancelled context succeeded")
		}
	})
}

// TestHostileProxyMessages: text from the proxy reaches the student's
// terminal only without control characters (no escape sequences).
func TestHostileProxyMessages(t *testing.T) {
	inBubble(t, func(t *testing.T, w *world) {
		n := w.newNode()
		upgrader := websocket.Upgrader{}
		proxy := w.serve(&http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			conn, err := upgrader.Upgrade(w, r, nil)
			if err != nil {
				return
			}
			defer conn.Close()
			_, _, _ = conn.ReadMessage()
			_ = conn.WriteJSON(map[string]any{"error": "\x1b[2J\x1b[31mpwned\r\nline two\a", "status": 418})
		})})
		_, err := join.Join(t.Context(), join.Options{Proxy: proxy, Token: testCode, Name: "kv1", URL: n.url, Dial: w.dial()})
		var je *join.Error
		if !errors.As(err, &je) || je.Status != 418 {
			t.Fatalf("Join: %v", err)
		}
		if strings.ContainsAny(err.Error(), "\x1b\r\n\a") {
			t.Fatalf("control characters reached the error line: %q", err.Error())
		}
	})
}

// TestLeaveFallsBackToHTTP: when the websocket is gone and rejoins fail, a
// stopping node still tells the proxy over POST /registry/leave.
func TestLeaveFallsBackToHTTP(t *testing.T) {
	inBubble(t, func(t *testing.T, w *world) {
		c := w.newClass(testOptions())
		var mu sync.Mutex
		var hijacked []net.Conn
		blockWS := false
		front := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			blocked := blockWS && r.URL.Path == "/registry/ws"
			mu.Unlock()
			if blocked {
				http.Error(w, `{"error":"down for maintenance"}`, http.StatusServiceUnavailable)
				return
			}
			c.reg.Handler().ServeHTTP(w, r)
		})}
		front.ConnState = func(conn net.Conn, state http.ConnState) {
			if state == http.StateHijacked {
				mu.Lock()
				hijacked = append(hijacked, conn)
				mu.Unlock()
			}
		}
		frontURL := w.serve(front)

		n := w.newNode()
		opts := c.joinOpts("kv1", n.url)
		opts.Proxy = frontURL
		s, err := join.Join(t.Context(), opts)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		// Cut the websocket and refuse new ones.
		mu.Lock()
		blockWS = true
		for _, conn := range hijacked {
			conn.Close()
		}
		mu.Unlock()
		testwait.For(t, "the session to fail a rejoin", func() bool {
			return strings.Contains(c.logs.String(), "down for maintenance")
		})
		ctx, cancel := context.WithTimeout(context.Background(), waitFor)
		defer cancel()
		if err := s.Leave(ctx); err != nil {
			t.Fatalf("Leave: %v", err)
		}
		if m, _ := c.mustMember("kv1"); m.Up || m.Reason != "stopped" {
			t.Fatalf("after Leave over HTTP: %+v", m)
		}
	})
}

func TestLeaveIsBoundedByContext(t *testing.T) {
	inBubble(t, func(t *testing.T, w *world) {
		c := w.newClass(testOptions())
		n := w.newNode()
		s := c.join("kv1", n.url)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		start := time.Now()
		if err := s.Leave(ctx); !errors.Is(err, context.Canceled) {
			t.Fatalf("Leave with a cancelled context: %v", err)
		}
		if time.Since(start) != 0 {
			t.Fatal("Leave ignored its context")
		}
	})
}
