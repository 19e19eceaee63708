package registry_test

import (
	"errors"
	"net/http"
	"slices"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/kvclass/kvclass/internal/testwait"
	"github.com/kvclass/kvclass/registry"
)

func TestOrderConfigThenNamesNumbersAware(t *testing.T) {
	inBubble(t, func(t *testing.T, w *world) {
		zeta := w.newNode()
		opts := testOptions()
		opts.HTTPHeartbeat = time.Minute
		opts.Static = []registry.Static{{Name: "zeta", URL: zeta.url}, {Name: "alpha", URL: w.deadURL()}}
		c := w.newClass(opts)
		n := w.newNode()
		for _, name := range []string{"kv10", "kv2", "abc", "kv1", "kv02b"} {
			c.mustJoinHTTP(name, n.url)
		}
		want := []string{"zeta", "alpha", "abc", "kv1", "kv2", "kv02b", "kv10"}
		if got := names(c.reg.Members()); !slices.Equal(got, want) {
			t.Fatalf("order %v, want %v", got, want)
		}
		// A joined node under a config name takes that config place.
		c.waitDown("alpha", "health check: ")
		c.join("alpha", n.url)
		if got := names(c.reg.Members()); !slices.Equal(got, want) {
			t.Fatalf("order after alpha joined %v, want %v", got, want)
		}
		m, _ := c.mustMember("alpha")
		if !m.Static || !m.Joined || !m.Up || m.URL != n.url {
			t.Fatalf("alpha after a node joined under its name: %+v", m)
		}
	})
}

func TestConfigNodesHealthChecked(t *testing.T) {
	inBubble(t, func(t *testing.T, w *world) {
		zeta := w.newNode()
		dead := w.deadURL()
		opts := testOptions()
		opts.Static = []registry.Static{{Name: "zeta", URL: zeta.url + "/"}, {Name: "alpha", URL: dead}}
		c := w.newClass(opts)

		// Up from the start (the seed's proxy never checked); the first check
		// decides.
		down := c.waitDown("alpha", "health check: ")
		if down.Reason == "health check: " || down.URL != dead {
			t.Fatalf("alpha: %+v", down)
		}
		if m, _ := c.mustMember("zeta"); !m.Up || m.URL != zeta.url || m.Joined {
			t.Fatalf("zeta: %+v", m)
		}
		zeta.failing.Store(true)
		if m := c.waitDown("zeta", "health check: GET /health answered HTTP 503"); m.URL != zeta.url {
			t.Fatalf("zeta: %+v", m)
		}
		zeta.failing.Store(false)
		c.waitUp("zeta")

		// A config node that is up keeps its name, unless the joining node is
		// the same one (same URL).
		other := w.newNode()
		if status, body := c.joinHTTP("zeta", other.url, ""); status != http.StatusConflict {
			t.Fatalf("join under a live config node's name: %d %v, want 409", status, body)
		}
		if status, body := c.joinHTTP("zeta", zeta.url, ""); status != http.StatusOK {
			t.Fatalf("join of the config node itself: %d %v", status, body)
		}

		// A down config place is taken; health checks stop for it: ten
		// check intervals later, its dead config URL has not marked it down.
		s := c.join("alpha", other.url)
		from := len(c.kinds())
		time.Sleep(10 * opts.HealthInterval)
		synctest.Wait()
		if m, _ := c.mustMember("alpha"); !m.Up || m.URL != other.url || c.hadDown("alpha", from) {
			t.Fatalf("alpha held by a joined node: %+v, changes %v", m, c.kinds()[from:])
		}
		// Kicking the joined node gives the place back to the config node,
		// which its health check then marks down again.
		if err := c.reg.Kick("alpha"); err != nil {
			t.Fatalf("Kick: %v", err)
		}
		if m, i := c.mustMember("alpha"); m.URL != dead || m.Joined || i != 1 {
			t.Fatalf("alpha after kick: %+v at %d", m, i)
		}
		c.waitDown("alpha", "health check: ")
		_ = s
		if err := c.reg.Kick("alpha"); !errors.Is(err, registry.ErrStaticNode) {
			t.Fatalf("Kick of a config node: %v, want ErrStaticNode", err)
		}
	})
}

// TestExpiredJoinedNodeGivesConfigPlaceBack: a joined node holding a config
// place that stops heartbeating is down after its lease, and gives the place
// back to the config node exactly the expiry after that.
func TestExpiredJoinedNodeGivesConfigPlaceBack(t *testing.T) {
	inBubble(t, func(t *testing.T, w *world) {
		opts := testOptions()
		opts.Expiry = 200 * time.Millisecond
		dead := w.deadURL()
		opts.Static = []registry.Static{{Name: "kv1", URL: dead}}
		c := w.newClass(opts)
		c.waitDown("kv1", "health check: ")
		n := w.newNode()
		s := c.join("kv1", n.url)
		s.Close()
		time.Sleep(lease + opts.Expiry - time.Nanosecond)
		synctest.Wait()
		if m, _ := c.mustMember("kv1"); !m.Joined || m.URL != n.url || m.Up {
			t.Fatalf("kv1 just before its expiry: %+v, want the joined node, down", m)
		}
		time.Sleep(time.Nanosecond)
		synctest.Wait()
		if m, _ := c.mustMember("kv1"); m.Joined || m.URL != dead {
			t.Fatalf("kv1 at its expiry: %+v, want back at its config URL", m)
		}
		if len(c.reg.Members()) != 1 {
			t.Fatalf("members %v", names(c.reg.Members()))
		}
	})
}

// TestCallbacksSeeEveryChangeInOrder checks that OnChange calls never
// overlap, that each Notify comes after the list that reflects it, and that
// the changes tell the whole story.
func TestCallbacksSeeEveryChangeInOrder(t *testing.T) {
	inBubble(t, func(t *testing.T, w *world) {
		var inside atomic.Int32
		var latest atomic.Pointer[[]registry.Member]
		var bad atomic.Value
		opts := testOptions()
		opts.Expiry = 300 * time.Millisecond
		opts.HTTPHeartbeat = time.Minute
		opts.OnChange = func(list []registry.Member) {
			if inside.Add(1) != 1 {
				bad.Store("OnChange calls overlap")
			}
			// Widen the window for overlaps: in the bubble every other
			// goroutine runs until it blocks before this returns.
			time.Sleep(time.Millisecond)
			latest.Store(&list)
			inside.Add(-1)
		}
		opts.Notify = func(ch registry.Change) {
			list := *latest.Load()
			i := slices.IndexFunc(list, func(m registry.Member) bool { return m.Name == ch.Member.Name })
			switch ch.Kind {
			case registry.ChangeLeave, registry.ChangeKick:
				if i >= 0 {
					bad.Store("list still holds a removed node: " + ch.Kind)
				}
			default:
				if i < 0 || list[i] != ch.Member {
					bad.Store("list does not reflect " + string(ch.Kind) + " " + ch.Member.Name)
				}
			}
		}
		c := w.newClass(opts)
		n, moved := w.newNode(), w.newNode()
		s := c.join("a", n.url)
		secret := c.mustJoinHTTP("b", n.url)
		c.join("c", n.url)
		s.SetURL(moved.url)
		c.waitMember("a", "a moved", func(m registry.Member, ok bool) bool { return ok && m.URL == moved.url })
		c.post("/registry/leave", map[string]string{"name": "b", "secret": secret})
		c.post("/registry/heartbeat", map[string]string{"name": "b", "secret": secret})
		if err := c.reg.Kick("c"); err != nil {
			t.Fatal(err)
		}
		s.Close()
		testwait.For(t, "a to expire", func() bool { return len(c.kinds()) == 9 })
		if v := bad.Load(); v != nil {
			t.Fatal(v)
		}
		want := []string{"join:a", "join:b", "join:c", "url:a", "down:b", "up:b", "kick:c", "down:a", "leave:a"}
		if got := c.kinds(); !slices.Equal(got, want) {
			t.Fatalf("changes %v, want %v", got, want)
		}
		if got := *latest.Load(); !slices.Equal(got, c.reg.Members()) {
			t.Fatalf("last OnChange list %v differs from Members %v", got, c.reg.Members())
		}
	})
}
