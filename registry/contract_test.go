package registry_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kvclass/kvclass/conform"
	kvnode "github.com/kvclass/kvclass/node"
	"github.com/kvclass/kvclass/registry"
	"github.com/kvclass/kvclass/registry/join"
)

// TestJoinChecksTheContract: a node that answers /health but loses its
// puts is refused with 422 naming the failing case, over HTTP and over the
// websocket; kvclass's node is admitted, and the check's key is gone from
// it afterwards.
func TestJoinChecksTheContract(t *testing.T) {
	w := loopback(t)
	c := w.newClass(testOptions())
	lossy := w.newNode()
	lossy.lossy.Store(true)

	status, body := c.joinHTTP("lossy", lossy.url, "")
	msg, _ := body["error"].(string)
	if status != http.StatusUnprocessableEntity || !strings.HasPrefix(msg, "your node fails the contract: core/put-get: GET /get?key="+conform.KeyPrefix) ||
		!strings.Contains(msg, `run "kvclass conform `+lossy.url+`" for every case`) {
		t.Fatalf("HTTP join of a node that loses puts: %d %q", status, msg)
	}
	t.Logf("refusal: %s", msg)

	_, err := join.Join(t.Context(), c.joinOpts("lossy", lossy.url))
	var refused *join.Error
	if !errors.As(err, &refused) || refused.Status != http.StatusUnprocessableEntity || !strings.Contains(refused.Message, "core/put-get") ||
		!strings.Contains(refused.Message, "expected 200") || !strings.Contains(refused.Message, "kvclass conform") {
		t.Fatalf("websocket join of a node that loses puts: %v", err)
	}
	if _, _, ok := c.member("lossy"); ok {
		t.Fatal("a refused node is a member")
	}

	// kvclass's own node passes, and keeps none of the check's keys.
	n, err := kvnode.New(kvnode.Config{Name: "kv1"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	if err := n.Start(ctx); err != nil { // on a port of its own; the test serves its handler
		t.Fatal(err)
	}
	t.Cleanup(func() { stop(); n.Wait() })
	var checkPuts atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/put" && strings.HasPrefix(r.URL.Query().Get("key"), conform.KeyPrefix) {
			checkPuts.Add(1)
		}
		n.Handler().ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	c.join("kv1", srv.URL)
	if m, _ := c.mustMember("kv1"); !m.Up || m.Own != "" {
		t.Fatalf("kvclass's node after its join: %+v", m)
	}
	if got := checkPuts.Load(); got != 1 {
		t.Errorf("the check put %d keys; want 1", got)
	}
	if left := n.Store().Len(); left != 0 {
		t.Errorf("%d keys left on the node after the check", left)
	}
}

// TestContractCheckCanBeSkipped: with SkipContractCheck a node is only
// probed at /health, as before the check existed.
func TestContractCheckCanBeSkipped(t *testing.T) {
	inBubble(t, func(t *testing.T, w *world) {
		opts := testOptions()
		opts.SkipContractCheck = true
		c := w.newClass(opts)
		lossy := w.newNode()
		lossy.lossy.Store(true)
		c.join("lossy", lossy.url)
		if lossy.puts.Load() != 0 {
			t.Errorf("the node got %d puts with the check off", lossy.puts.Load())
		}
	})
}

// TestRelayedNodeMustPassTheContract: a relayed node is checked when its
// relay connects; one that fails is admitted but stays down with the
// failing case, its relay closed with a message naming it, which the
// node logs loudly; it keeps connecting, and once its server is fixed, it
// is up.
func TestRelayedNodeMustPassTheContract(t *testing.T) {
	inBubble(t, func(t *testing.T, w *world) {
		c := w.newClass(testOptions())
		n := w.newNode()
		n.lossy.Store(true)
		opts := c.joinOpts("relayed", "")
		opts.Relay, opts.Handler = true, http.HandlerFunc(n.serve)
		s, err := join.Join(t.Context(), opts)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.Close)
		c.waitDown("relayed", "fails the contract at core/put-get")
		waitLog(t, c, "the proxy refused this node", "your node fails the contract at core/put-get")

		n.lossy.Store(false) // the student fixes the server
		c.waitUp("relayed")
	})
}

// TestNodeReportsItsStatus: a node's {"type": "status"} marks it down with
// its reason, which heartbeats do not undo and which survives a rejoin,
// and up again.
func TestNodeReportsItsStatus(t *testing.T) {
	inBubble(t, func(t *testing.T, w *world) {
		c := w.newClass(testOptions())
		n, other := w.newNode(), w.newNode()
		opts := c.joinOpts("side", n.url)
		opts.Own = "Werkzeug/3.0.1 Python/3.11.2"
		s, err := join.Join(t.Context(), opts)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.Close)
		if m, _ := c.mustMember("side"); m.Own != "Werkzeug/3.0.1" || !m.Up {
			t.Fatalf("after the join: %+v", m)
		}

		s.SetStatus(false, "upstream: connection refused")
		c.waitDown("side", "upstream: connection refused")
		// A heartbeat does not undo what the node said.
		if status, body := c.post("/registry/heartbeat", map[string]string{"name": "side", "secret": s.Secret()}); status != http.StatusOK {
			t.Fatalf("heartbeat: %d %v", status, body)
		}
		if m, _ := c.mustMember("side"); m.Up || m.Reason != "upstream: connection refused" {
			t.Fatalf("after a heartbeat: %+v", m)
		}

		s.SetStatus(true, "")
		c.waitUp("side")

		// Control characters do not reach the page; the reason is sent again
		// after a rejoin, which starts the node up.
		s.SetStatus(false, "upstream: \x1b[31mno answer\x1b[0m within 2s")
		c.waitDown("side", "upstream:  [31mno answer [0m within 2s")
		s.SetURL(other.url)
		c.waitMember("side", "side rejoined at its new URL, down", func(m registry.Member, ok bool) bool {
			return ok && m.URL == other.url && !m.Up && strings.HasPrefix(m.Reason, "upstream:")
		})
		s.SetStatus(true, "")
		c.waitUp("side")
	})
}

// waitLog waits until the class's logs hold every text in wants.
func waitLog(t *testing.T, c *class, wants ...string) {
	t.Helper()
	c.waitMember("", "the logs to say "+strings.Join(wants, " ... "), func(registry.Member, bool) bool {
		logs := c.logs.String()
		for _, w := range wants {
			if !strings.Contains(logs, w) {
				return false
			}
		}
		return true
	})
}

// TestReportedDownKeepsItsPlace: a node down by its own report but still
// heartbeating is not removed at the expiry (its owner is fixing the
// server behind it), while a silent node down as long is.
func TestReportedDownKeepsItsPlace(t *testing.T) {
	inBubble(t, func(t *testing.T, w *world) {
		opts := testOptions()
		opts.Expiry = 300 * time.Millisecond
		c := w.newClass(opts)
		n := w.newNode()
		side := c.join("side", n.url)
		side.SetStatus(false, "upstream: connection refused")
		c.waitDown("side", "upstream: connection refused")
		silent := c.join("silent", n.url)
		silent.Close() // no leave, no heartbeats: down, then expired
		c.waitGone("silent")
		if m, _ := c.mustMember("side"); m.Up || m.Reason != "upstream: connection refused" {
			t.Fatalf("after the expiry: %+v", m)
		}
		// Silent itself, it is down for missed heartbeats, and then expires.
		side.Close()
		c.waitGone("side")
	})
}
