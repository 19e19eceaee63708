package registry_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/kvclass/kvclass/internal/testwait"
	"github.com/kvclass/kvclass/registry"
	"github.com/kvclass/kvclass/registry/join"
)

func TestWebsocketLifecycle(t *testing.T) {
	inBubble(t, func(t *testing.T, w *world) {
		c := w.newClass(testOptions())
		n := w.newNode()
		c.join("kv1", n.url)
		s := c.join("kv2", n.url)
		m, place := c.mustMember("kv2")
		if !m.Up || m.URL != n.url || !m.Joined || m.Static {
			t.Fatalf("after join: %+v", m)
		}

		// Pings keep it up across ten lease windows (lease = 3 x 100ms):
		// not one down change, not even for an instant.
		time.Sleep(10 * lease)
		synctest.Wait()
		if m, _ := c.mustMember("kv2"); !m.Up {
			t.Fatalf("a pinging node went down: %+v", m)
		}
		for _, k := range c.kinds() {
			if strings.HasPrefix(k, "down:") {
				t.Fatalf("a pinging node had a down change: %v", c.kinds())
			}
		}

		// Leave marks it down at once, reason "stopped", in its place.
		ctx, cancel := context.WithTimeout(context.Background(), waitFor)
		defer cancel()
		left := time.Now()
		if err := s.Leave(ctx); err != nil {
			t.Fatalf("Leave: %v", err)
		}
		m, i := c.mustMember("kv2")
		if m.Up || m.Reason != "stopped" || i != place || !m.Since.Equal(left) {
			t.Fatalf("after Leave: %+v at %d, want down \"stopped\" since %v at %d", m, i, left, place)
		}
		// It stays down: the session is over, nothing pings.
		time.Sleep(10 * lease)
		synctest.Wait()
		if m, _ := c.mustMember("kv2"); m.Up || m.Reason != "stopped" || !m.Since.Equal(left) {
			t.Fatalf("ten leases after Leave: %+v", m)
		}
		if err := s.Leave(ctx); !errors.Is(err, join.ErrSessionClosed) {
			t.Fatalf("second Leave: %v, want ErrSessionClosed", err)
		}
		want := []string{"join:kv1", "join:kv2", "down:kv2"}
		if got := c.kinds(); !slices.Equal(got, want) {
			t.Fatalf("changes %v, want %v", got, want)
		}
	})
}

// TestClosedConnectionIsNotAStop: a websocket that closes without a leave (a
// network blip looks like this) leaves the node up until its lease ends:
// exactly three heartbeat intervals after its last ping, not a moment before.
func TestClosedConnectionIsNotAStop(t *testing.T) {
	inBubble(t, func(t *testing.T, w *world) {
		c := w.newClass(testOptions())
		n := w.newNode()
		joined := time.Now()
		s := c.join("kv1", n.url)
		// Ten pings, at 100ms ... 1s; the connection ends between two.
		time.Sleep(time.Second + 50*time.Millisecond)
		s.Close() // no leave
		synctest.Wait()
		if m, _ := c.mustMember("kv1"); !m.Up {
			t.Fatalf("a closed connection marked the node down at once: %+v", m)
		}
		downAt := joined.Add(time.Second + lease) // the last ping, plus the lease
		time.Sleep(time.Until(downAt) - time.Nanosecond)
		synctest.Wait()
		if m, _ := c.mustMember("kv1"); !m.Up {
			t.Fatalf("down %v before its lease ended: %+v", time.Until(downAt), m)
		}
		time.Sleep(time.Nanosecond)
		synctest.Wait()
		if m, _ := c.mustMember("kv1"); m.Up || m.Reason != "missed heartbeats" || !m.Since.Equal(downAt) {
			t.Fatalf("at the end of its lease: %+v, want down \"missed heartbeats\" since %v", m, downAt)
		}
	})
}

func TestHTTPHeartbeatsAndExpiry(t *testing.T) {
	inBubble(t, func(t *testing.T, w *world) {
		opts := testOptions()
		opts.Expiry = 300 * time.Millisecond
		c := w.newClass(opts)
		n := w.newNode()
		joined := time.Now()
		secret := c.mustJoinHTTP("kv1", n.url)

		// No heartbeats: down exactly after the lease.
		time.Sleep(lease - time.Nanosecond)
		synctest.Wait()
		if m, _ := c.mustMember("kv1"); !m.Up {
			t.Fatalf("down before its lease ended: %+v", m)
		}
		time.Sleep(time.Nanosecond)
		synctest.Wait()
		if m, _ := c.mustMember("kv1"); m.Up || m.Reason != "missed heartbeats" || !m.Since.Equal(joined.Add(lease)) {
			t.Fatalf("after the lease: %+v", m)
		}
		// A heartbeat brings it back up.
		status, body := c.post("/registry/heartbeat", map[string]string{"name": "kv1", "secret": secret})
		if status != http.StatusOK || body["heartbeat_ms"] != float64(100) {
			t.Fatalf("heartbeat: %d %v", status, body)
		}
		if m, _ := c.mustMember("kv1"); !m.Up {
			t.Fatalf("after a heartbeat: %+v", m)
		}
		// A wrong secret or an unknown name is refused and changes nothing.
		if status, _ := c.post("/registry/heartbeat", map[string]string{"name": "kv1", "secret": strings.Repeat("x", 43)}); status != http.StatusForbidden {
			t.Fatalf("heartbeat with a wrong secret: %d, want 403", status)
		}
		if status, _ := c.post("/registry/heartbeat", map[string]string{"name": "ghost", "secret": secret}); status != http.StatusNotFound {
			t.Fatalf("heartbeat of an unknown node: %d, want 404", status)
		}
		// Leave over HTTP: down "stopped" at once.
		if status, body := c.post("/registry/leave", map[string]string{"name": "kv1", "secret": secret}); status != http.StatusOK {
			t.Fatalf("leave: %d %v", status, body)
		}
		left := time.Now()
		if m, _ := c.mustMember("kv1"); m.Up || m.Reason != "stopped" {
			t.Fatalf("after leave: %+v", m)
		}
		// Down longer than the expiry: removed, exactly at the expiry.
		time.Sleep(opts.Expiry - time.Nanosecond)
		synctest.Wait()
		if m, _ := c.mustMember("kv1"); m.Up || m.Reason != "stopped" {
			t.Fatalf("just before the expiry: %+v", m)
		}
		time.Sleep(time.Nanosecond)
		synctest.Wait()
		if _, _, ok := c.member("kv1"); ok || time.Since(left) != opts.Expiry {
			t.Fatalf("%v after its leave, kv1 is still a member", time.Since(left))
		}
		want := []string{"join:kv1", "down:kv1", "up:kv1", "down:kv1", "leave:kv1"}
		if got := c.kinds(); !slices.Equal(got, want) {
			t.Fatalf("changes %v, want %v", got, want)
		}
	})
}

func TestKick(t *testing.T) {
	inBubble(t, func(t *testing.T, w *world) {
		c := w.newClass(testOptions())
		n := w.newNode()
		kicked := c.join("kv1", n.url)
		c.join("kv2", n.url)
		if err := c.reg.Kick("kv1"); err != nil {
			t.Fatalf("Kick: %v", err)
		}
		if _, _, ok := c.member("kv1"); ok {
			t.Fatal("kicked node is still a member")
		}
		// Its session notices at once and ends, saying why: a removed node
		// does not come back by itself (the node then exits).
		synctest.Wait()
		select {
		case <-kicked.Done():
		default:
			t.Fatal("the kicked session did not end")
		}
		if !errors.Is(kicked.Err(), join.ErrKicked) {
			t.Fatalf("kicked session's Err = %v, want ErrKicked", kicked.Err())
		}
		if !strings.Contains(c.logs.String(), "removed this node from the class") {
			t.Fatalf("the kicked session did not log why:\n%s", c.logs.String())
		}
		if _, _, ok := c.member("kv1"); ok {
			t.Fatal("kicked node rejoined by itself")
		}
		// Its old secret stays refused, with the instructor named.
		if status, body := c.joinHTTP("kv1", n.url, kicked.Secret()); status != http.StatusForbidden || !strings.Contains(body["error"].(string), "removed") {
			t.Fatalf("rejoin with a kicked secret: %d %v, want 403", status, body)
		}
		// A new node (a new secret) may use the name again.
		c.join("kv1", n.url)
		if err := c.reg.Kick("nobody"); !errors.Is(err, registry.ErrUnknownNode) {
			t.Fatalf("Kick of an unknown node: %v, want ErrUnknownNode", err)
		}
		want := []string{"join:kv1", "join:kv2", "kick:kv1", "join:kv1"}
		if got := c.kinds(); !slices.Equal(got, want) {
			t.Fatalf("changes %v, want %v", got, want)
		}
	})
}

func TestNameConflictsAndTakeover(t *testing.T) {
	inBubble(t, func(t *testing.T, w *world) {
		opts := testOptions()
		opts.HTTPHeartbeat = time.Minute // the HTTP-joined node stays up without heartbeats
		c := w.newClass(opts)
		a, b := w.newNode(), w.newNode()
		c.join("kv0", a.url)
		secret := c.mustJoinHTTP("kv1", a.url)
		c.join("kv2", a.url)
		_, place := c.mustMember("kv1")

		// A live name without its secret, or with a wrong one: 409.
		status, body := c.joinHTTP("kv1", b.url, "")
		if status != http.StatusConflict || !strings.Contains(body["error"].(string), "taken") {
			t.Fatalf("join of a live name: %d %v, want 409", status, body)
		}
		if status, _ := c.joinHTTP("kv1", b.url, strings.Repeat("y", 43)); status != http.StatusConflict {
			t.Fatalf("join of a live name with a wrong secret: %d, want 409", status)
		}
		// With its secret: the same node, which may move (URL change, place kept).
		if status, body := c.joinHTTP("kv1", b.url, secret); status != http.StatusOK || body["secret"] != secret {
			t.Fatalf("rejoin with the secret: %d %v", status, body)
		}
		if m, i := c.mustMember("kv1"); m.URL != b.url || i != place {
			t.Fatalf("after a URL change: %+v at %d, want %s at %d", m, i, b.url, place)
		}
		// Once it is down (a laptop asleep), the name is still its own: a
		// classmate with the class code cannot take it over.
		if status, _ := c.post("/registry/leave", map[string]string{"name": "kv1", "secret": secret}); status != http.StatusOK {
			t.Fatalf("leave: %d", status)
		}
		if status, body := c.joinHTTP("kv1", a.url, ""); status != http.StatusConflict || !strings.Contains(body["error"].(string), "-n NAME") {
			t.Fatalf("takeover of a down name: %d %v, want 409 naming -n", status, body)
		}
		if m, i := c.mustMember("kv1"); m.Up || m.URL != b.url || i != place {
			t.Fatalf("after a refused takeover: %+v at %d", m, i)
		}
		// The node itself comes back with its secret, in its place.
		if status, body := c.joinHTTP("kv1", a.url, secret); status != http.StatusOK || body["secret"] != secret {
			t.Fatalf("rejoin of the down node with its secret: %d %v", status, body)
		}
		if m, i := c.mustMember("kv1"); !m.Up || m.URL != a.url || i != place {
			t.Fatalf("after its rejoin: %+v at %d", m, i)
		}
		// After the instructor kicks it, the name is free for another node.
		if err := c.reg.Kick("kv1"); err != nil {
			t.Fatal(err)
		}
		if status, body := c.joinHTTP("kv1", b.url, ""); status != http.StatusOK || body["secret"] == secret {
			t.Fatalf("a new node under a kicked name: %d %v", status, body)
		}
		want := []string{"join:kv0", "join:kv1", "join:kv2", "url:kv1", "down:kv1", "url:kv1", "up:kv1", "kick:kv1", "join:kv1"}
		if got := c.kinds(); !slices.Equal(got, want) {
			t.Fatalf("changes %v, want %v", got, want)
		}
	})
}

func TestSetURLKeepsPlace(t *testing.T) {
	inBubble(t, func(t *testing.T, w *world) {
		c := w.newClass(testOptions())
		a, b := w.newNode(), w.newNode()
		c.join("alpha", a.url)
		s := c.join("beta", a.url)
		c.join("gamma", a.url)
		_, place := c.mustMember("beta")
		secret := s.Secret()
		// The session rejoins at once with the new URL: no time passes.
		s.SetURL(b.url)
		synctest.Wait()
		m, i := c.mustMember("beta")
		if m.URL != b.url || i != place || !m.Up {
			t.Fatalf("after SetURL: %+v at %d, want up at %s at %d", m, i, b.url, place)
		}
		if s.Secret() != secret {
			t.Fatal("the secret changed on a URL change")
		}
		got := c.kinds()
		if got[len(got)-1] != "url:beta" {
			t.Fatalf("last change %v, want url:beta", got)
		}
		// Still heartbeating on the new connection: up for ten leases, with
		// no change at all.
		time.Sleep(10 * lease)
		synctest.Wait()
		if m, _ := c.mustMember("beta"); !m.Up {
			t.Fatalf("after SetURL and ten leases: %+v", m)
		}
		if after := c.kinds(); !slices.Equal(after, got) {
			t.Fatalf("changes after SetURL: %v, want none", after[len(got):])
		}
	})
}

// TestProxyRestart: the proxy stops and starts again on the same address
// with the same class code; nodes rejoin by themselves, presenting secrets
// the new proxy has never seen, and keep their places.
func TestProxyRestart(t *testing.T) {
	inBubble(t, func(t *testing.T, w *world) {
		n, moved := w.newNode(), w.newNode()
		ln := w.listen("127.0.0.1:0")
		addr := ln.Addr().String()
		start := func(ln net.Listener) (*registry.Registry, func()) {
			opts := testOptions()
			opts.Dial = w.dial()
			reg, err := registry.New(opts)
			if err != nil {
				t.Fatal(err)
			}
			mux := http.NewServeMux()
			mux.Handle("/registry/", reg.Handler())
			stopServing := w.serveOn(ln, &http.Server{Handler: mux})
			ctx, cancel := context.WithCancel(context.Background())
			ran := make(chan struct{})
			go func() { defer close(ran); _ = reg.Run(ctx) }()
			return reg, sync.OnceFunc(func() {
				stopServing()
				cancel()
				<-ran
				reg.Close()
			})
		}
		reg1, stop1 := start(ln)
		logs := &testwait.Buffer{}
		join := func(name string) *join.Session {
			s, err := join.Join(t.Context(), join.Options{
				Proxy: "http://" + addr, Token: testCode, Name: name, URL: n.url,
				MinBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond, Logger: newLogger(logs),
				Dial: w.dial(),
			})
			if err != nil {
				t.Fatalf("join %s: %v", name, err)
			}
			t.Cleanup(s.Close)
			return s
		}
		s2 := join("kv2")
		s1 := join("kv1")
		before := names(reg1.Members())
		secret := s1.Secret()
		stop1()

		reg2, stop2 := start(w.listen(addr)) // the address is free again at once
		defer stop2()
		testwait.For(t, "both nodes back in the restarted proxy", func() bool {
			list := reg2.Members()
			return len(list) == 2 && list[0].Up && list[1].Up
		})
		if after := names(reg2.Members()); !slices.Equal(after, before) {
			t.Fatalf("order after restart %v, want %v", after, before)
		}
		if s1.Secret() != secret {
			t.Fatal("the node's secret changed across the restart")
		}
		if !strings.Contains(logs.String(), "the proxy is stopping") {
			t.Fatalf("the sessions did not log why they rejoin:\n%s", logs.String())
		}
		// The new proxy adopted the secret: a later rejoin with it still works.
		s1.SetURL(moved.url)
		testwait.For(t, "kv1 at its new URL", func() bool {
			list := reg2.Members()
			return len(list) == 2 && list[0].Name == "kv1" && list[0].URL == moved.url && list[0].Up
		})
		_ = s2
	})
}
