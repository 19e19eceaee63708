package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gorilla/websocket"

	"github.com/kvclass/kvclass/internal/memnet"
	"github.com/kvclass/kvclass/internal/testwait"
)

// wait is how long a test waits for something that should happen at once:
// generous, so a loaded machine does not fail it.
const wait = 5 * time.Second

// message is any message of the /ws stream.
type message struct {
	Type   string     `json:"type"`
	Role   string     `json:"role"`
	Nodes  []NodeView `json:"nodes"`
	Events []Event    `json:"events"`
}

// startHub serves a new hub at /ws of a test server. The hub closes, then
// the server, when the test ends.
func startHub(t testing.TB, opts HubOptions) (*Hub, *httptest.Server) {
	t.Helper()
	hub := NewHub(opts)
	mux := http.NewServeMux()
	mux.Handle("/ws", hub)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	t.Cleanup(hub.Close)
	return hub, srv
}

func wsURL(srv *httptest.Server) string {
	return "ws" + strings.TrimPrefix(srv.URL, "http") + "/ws"
}

// dial opens a websocket to the hub of srv; it is closed when the test ends.
func dial(t testing.TB, srv *httptest.Server, header http.Header) *websocket.Conn {
	t.Helper()
	conn, resp, err := dialErr(srv, header)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("dial: %v (status %d)", err, status)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func dialErr(srv *httptest.Server, header http.Header) (*websocket.Conn, *http.Response, error) {
	d := websocket.Dialer{HandshakeTimeout: wait}
	return d.Dial(wsURL(srv), header)
}

// read reads one message, waiting at most wait.
func read(t testing.TB, conn *websocket.Conn) message {
	t.Helper()
	m, err := readErr(conn)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return m
}

func readErr(conn *websocket.Conn) (message, error) {
	var m message
	_ = conn.SetReadDeadline(time.Now().Add(wait))
	_, data, err := conn.ReadMessage()
	if err != nil {
		return m, err
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return m, fmt.Errorf("decode %q: %w", data, err)
	}
	return m, nil
}

// readKeys reads event batches until it has n events, and returns their
// keys in order and the number of messages they came in.
func readKeys(t testing.TB, conn *websocket.Conn, n int) (keys []string, messages int) {
	t.Helper()
	for len(keys) < n {
		m := read(t, conn)
		if m.Type != TypeEvents {
			t.Fatalf("got a %q message, want events", m.Type)
		}
		messages++
		for _, ev := range m.Events {
			keys = append(keys, ev.Key)
		}
	}
	return keys, messages
}

func seq(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%d", prefix, i)
	}
	return out
}

func publishKeys(h *Hub, keys []string) {
	for _, k := range keys {
		h.Publish(Event{Type: EventPut, Node: "kv1", Key: k})
	}
}

func TestHubSnapshotFirstThenEventsInOrder(t *testing.T) {
	var snapshots atomic.Int32
	hub, srv := startHub(t, HubOptions{Snapshot: func() Snapshot {
		snapshots.Add(1)
		return Snapshot{Role: "proxy", Limit: 10, Nodes: []NodeView{{Name: "kv1", Status: "up"}}}
	}})
	const viewers = 8
	conns := make([]*websocket.Conn, viewers)
	for i := range conns {
		conns[i] = dial(t, srv, nil)
		m := read(t, conns[i])
		if m.Type != TypeSnapshot || m.Role != "proxy" || len(m.Nodes) != 1 || m.Nodes[0].Name != "kv1" {
			t.Fatalf("first message = %+v, want the snapshot", m)
		}
	}
	if got := snapshots.Load(); got != viewers {
		t.Errorf("Snapshot called %d times for %d viewers", got, viewers)
	}
	if got := hub.Clients(); got != viewers {
		t.Errorf("Clients() = %d, want %d", got, viewers)
	}
	want := seq("k", 500)
	before := time.Now().UnixMilli()
	publishKeys(hub, want)
	var wg sync.WaitGroup
	for _, conn := range conns {
		wg.Go(func() {
			got, _ := readKeys(t, conn, len(want))
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("a viewer got %d events out of order or with gaps", len(got))
			}
		})
	}
	wg.Wait()

	// Publish stamps events that have no time, and keeps a time it is given.
	hub.Publish(Event{Type: EventMode, Mode: "replication"})
	hub.Publish(Event{Type: EventMode, Mode: "sharding", Time: 42})
	var events []Event
	for len(events) < 2 {
		events = append(events, read(t, conns[0]).Events...)
	}
	if events[0].Time < before || events[1].Time != 42 {
		t.Errorf("event times = %d, %d; want >= %d, then 42", events[0].Time, events[1].Time, before)
	}
}

func TestHubCoalescesBursts(t *testing.T) {
	hub, srv := startHub(t, HubOptions{FlushInterval: 100 * time.Millisecond})
	conn := dial(t, srv, nil)
	read(t, conn) // snapshot
	want := seq("burst-", 300)
	publishKeys(hub, want)
	got, messages := readKeys(t, conn, len(want))
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("burst arrived out of order or with gaps")
	}
	// The first event goes out at once, the rest within one window.
	if messages > 3 {
		t.Errorf("%d events arrived in %d messages; want them coalesced into at most 3", len(want), messages)
	}
}

func TestHubLoneEventIsNotDelayed(t *testing.T) {
	hub, srv := startHub(t, HubOptions{FlushInterval: 2 * time.Second})
	conn := dial(t, srv, nil)
	read(t, conn)
	start := time.Now()
	hub.Publish(Event{Type: EventPut, Key: "alone"})
	readKeys(t, conn, 1)
	if d := time.Since(start); d > time.Second {
		t.Errorf("an event after a quiet spell took %v; want it sent at once, not after the window", d)
	}
}

// smallBuffers wraps a listener so that the accepted connection number
// small (counting from 1) has a tiny send buffer: when that viewer stops
// reading, the server's writes block after a few kilobytes rather than
// megabytes.
type smallBuffers struct {
	net.Listener
	small    int32
	accepted atomic.Int32
}

func (l *smallBuffers) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok && l.accepted.Add(1) == l.small {
		_ = tc.SetWriteBuffer(4 << 10)
	}
	return c, err
}

// dialSmall dials like dial, with a tiny receive buffer.
func dialSmall(t testing.TB, srv *httptest.Server) *websocket.Conn {
	t.Helper()
	d := websocket.Dialer{
		HandshakeTimeout: wait,
		NetDialContext: (&net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
			return c.Control(func(fd uintptr) {
				_ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4<<10)
			})
		}}).DialContext,
	}
	conn, _, err := d.Dial(wsURL(srv), nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func TestHubDropsSlowClient(t *testing.T) {
	hub := NewHub(HubOptions{QueueLen: 16, FlushInterval: time.Millisecond})
	srv := httptest.NewUnstartedServer(hub)
	srv.Listener = &smallBuffers{Listener: srv.Listener, small: 2}
	srv.Start()
	t.Cleanup(srv.Close)
	t.Cleanup(hub.Close)

	fast := dial(t, srv, nil)
	read(t, fast)
	slow := dialSmall(t, srv) // never reads until it has been dropped
	read(t, slow)

	// The fast viewer reads everything, concurrently.
	const events = 1000
	got := make(chan []string, 1)
	go func() {
		keys := make([]string, 0, events)
		for len(keys) < events {
			m, err := readErr(fast)
			if err != nil {
				break
			}
			for _, ev := range m.Events {
				keys = append(keys, ev.Key)
			}
		}
		got <- keys
	}()

	// The events fill the slow viewer's socket buffers, then its queue.
	filler := strings.Repeat("x", 2<<10)
	var slowest time.Duration
	for i := range events {
		start := time.Now()
		hub.Publish(Event{Type: EventPut, Key: fmt.Sprint(i), Value: filler})
		slowest = max(slowest, time.Since(start))
		if i%4 == 3 {
			time.Sleep(time.Millisecond) // let flushes happen between publishes
		}
	}
	testwait.For(t, "the slow viewer to be dropped", func() bool { return hub.Clients() == 1 })
	if slowest > 50*time.Millisecond {
		t.Errorf("the slowest Publish took %v while a viewer stalled; Publish must not block", slowest)
	}

	var keys []string
	select {
	case keys = <-got:
	case <-time.After(2 * wait):
		t.Fatal("the fast viewer stopped receiving")
	}
	if strings.Join(keys, ",") != strings.Join(seq("", events), ",") {
		t.Errorf("the fast viewer got %d of %d events, or out of order", len(keys), events)
	}

	// The slow viewer, reading at last, finds a close frame asking it to
	// resync after what was already on its way.
	var err error
	for err == nil {
		_, err = readErr(slow)
	}
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.CloseTryAgainLater || ce.Text != "resync" {
		t.Errorf("slow viewer's connection ended with %v; want close 1013 \"resync\"", err)
	}
}

func TestHubResync(t *testing.T) {
	var mu sync.Mutex
	nodes := []NodeView{{Name: "kv1", Status: "up"}}
	hub, srv := startHub(t, HubOptions{
		FlushInterval: 200 * time.Millisecond,
		MaxPending:    4,
		Snapshot: func() Snapshot {
			mu.Lock()
			defer mu.Unlock()
			return Snapshot{Role: "proxy", Nodes: append([]NodeView(nil), nodes...)}
		},
	})

	// A reconnecting page gets a fresh snapshot with the current state.
	conn := dial(t, srv, nil)
	if m := read(t, conn); len(m.Nodes) != 1 {
		t.Fatalf("snapshot has %d nodes, want 1", len(m.Nodes))
	}
	conn.Close()
	mu.Lock()
	nodes = append(nodes, NodeView{Name: "kv2", Status: "down", Reason: "stopped"})
	mu.Unlock()
	conn = dial(t, srv, nil)
	if m := read(t, conn); len(m.Nodes) != 2 || m.Nodes[1].Reason != "stopped" {
		t.Fatalf("snapshot after reconnect = %+v, want both nodes", m.Nodes)
	}

	// More events than MaxPending within one window: they are dropped and
	// the viewer gets a fresh snapshot in their place.
	hub.Publish(Event{Type: EventPut, Key: "first"}) // flushed at once, opens a window
	readKeys(t, conn, 1)
	mu.Lock()
	nodes = append(nodes, NodeView{Name: "kv3", Status: "up"})
	mu.Unlock()
	publishKeys(hub, seq("lost-", 10))
	m := read(t, conn)
	if m.Type != TypeSnapshot || len(m.Nodes) != 3 {
		t.Fatalf("after an overflow got %+v, want a snapshot of 3 nodes", m)
	}
	// And the stream goes on.
	hub.Publish(Event{Type: EventPut, Key: "after"})
	if keys, _ := readKeys(t, conn, 1); keys[0] != "after" {
		t.Errorf("after the resync got %q, want \"after\"", keys)
	}
}

func TestHubOrigin(t *testing.T) {
	_, srv := startHub(t, HubOptions{Origins: []string{"https://class.example.org/"}})
	_, anyOrigin := startHub(t, HubOptions{Origins: []string{"*"}})
	host := strings.TrimPrefix(srv.URL, "http://")
	for _, tc := range []struct {
		srv    *httptest.Server
		origin string
		ok     bool
	}{
		{srv, "", true}, // not a browser
		{srv, "http://" + host, true},
		{srv, "https://" + strings.ToUpper(host), true}, // same host behind a TLS tunnel
		{srv, "https://class.example.org", true},
		{srv, "HTTPS://Class.Example.Org:443", true},
		{srv, "http://class.example.org", false},
		{srv, "https://evil.example", false},
		{srv, "https://class.example.org.evil.example", false},
		{srv, "null", false},
		{anyOrigin, "https://evil.example", true},
	} {
		h := http.Header{}
		if tc.origin != "" {
			h.Set("Origin", tc.origin)
		}
		conn, resp, err := dialErr(tc.srv, h)
		if tc.ok {
			if err != nil {
				t.Errorf("Origin %q refused: %v", tc.origin, err)
				continue
			}
			conn.Close()
			continue
		}
		if err == nil {
			conn.Close()
			t.Errorf("Origin %q allowed; want it refused", tc.origin)
			continue
		}
		if resp == nil || resp.StatusCode != http.StatusForbidden {
			t.Errorf("Origin %q: %v; want 403", tc.origin, err)
			continue
		}
		checkJSONError(t, resp)
	}
}

func checkJSONError(t *testing.T, resp *http.Response) {
	t.Helper()
	body, _ := io.ReadAll(resp.Body)
	var e struct {
		Error string `json:"error"`
	}
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") || json.Unmarshal(body, &e) != nil || e.Error == "" {
		t.Errorf("status %d body %q (%s); want a JSON error", resp.StatusCode, body, resp.Header.Get("Content-Type"))
	}
}

func TestHubMaxClients(t *testing.T) {
	hub, srv := startHub(t, HubOptions{MaxClients: 2})
	a := dial(t, srv, nil)
	dial(t, srv, nil)
	_, resp, err := dialErr(srv, nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("third viewer: %v; want 503", err)
	}
	checkJSONError(t, resp)
	a.Close()
	testwait.For(t, "a viewer to leave", func() bool { return hub.Clients() == 1 })
	// Its place frees once its connection has wound down (the close
	// handshake may take a moment).
	testwait.For(t, "a place to free up", func() bool {
		conn, _, err := dialErr(srv, nil)
		if err == nil {
			conn.Close()
		}
		return err == nil
	})
}

func TestHubRefusesPlainHTTP(t *testing.T) {
	_, srv := startHub(t, HubOptions{})
	resp, err := http.Get(srv.URL + "/ws")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("GET /ws without upgrade: %d, want 400", resp.StatusCode)
	}
	checkJSONError(t, resp)
}

// TestHubPings runs on fake time over an in-memory network: a viewer that
// reads answers pings and stays through many intervals; one that never
// reads answers none and is dropped after two intervals, not before.
func TestHubPings(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const interval = 50 * time.Millisecond
		network := memnet.New()
		ln, err := network.Listen("tcp", "page:80")
		if err != nil {
			t.Fatal(err)
		}
		hub := NewHub(HubOptions{PingInterval: interval})
		srv := &http.Server{Handler: hub}
		go srv.Serve(ln)
		defer func() { srv.Close(); hub.Close() }()
		d := websocket.Dialer{NetDialContext: network.Dial, HandshakeTimeout: wait}
		alive, _, err := d.Dial("ws://page:80/ws", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer alive.Close()
		read(t, alive) // the snapshot
		done := make(chan struct{})
		go func() {
			defer close(done)
			for {
				if _, err := readErr(alive); err != nil {
					return
				}
			}
		}()
		silent, _, err := d.Dial("ws://page:80/ws", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer silent.Close()
		synctest.Wait()
		if n := hub.Clients(); n != 2 {
			t.Fatalf("%d viewers, want 2", n)
		}
		time.Sleep(2*interval - time.Millisecond)
		synctest.Wait()
		if n := hub.Clients(); n != 2 {
			t.Fatalf("the silent viewer was dropped before two intervals: %d viewers", n)
		}
		time.Sleep(interval)
		synctest.Wait()
		if n := hub.Clients(); n != 1 {
			t.Fatalf("%d viewers after three intervals, want the silent one dropped", n)
		}
		time.Sleep(20 * interval)
		synctest.Wait()
		if n := hub.Clients(); n != 1 {
			t.Errorf("the answering viewer was dropped")
		}
		alive.Close()
		<-done
	})
}

func TestHubDropsTalkativeClient(t *testing.T) {
	hub, srv := startHub(t, HubOptions{})
	conn := dial(t, srv, nil)
	read(t, conn)
	// The write may fail midway: the hub hangs up once the limit is passed.
	_ = conn.WriteMessage(websocket.TextMessage, make([]byte, 64<<10))
	testwait.For(t, "the viewer that sent too much to be dropped", func() bool { return hub.Clients() == 0 })
}

func TestHubPublishWithoutViewersKeepsNothing(t *testing.T) {
	hub := NewHub(HubOptions{})
	defer hub.Close()
	for i := range 100_000 {
		hub.Publish(Event{Type: EventPut, Key: fmt.Sprint(i)})
	}
	hub.mu.Lock()
	pending := len(hub.pending)
	hub.mu.Unlock()
	if pending != 0 {
		t.Errorf("%d events pending with no viewer", pending)
	}
}

func TestHubCloseLeavesNoGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	hub := NewHub(HubOptions{})
	srv := httptest.NewServer(hub)
	var readers sync.WaitGroup
	closes := make(chan error, 5)
	for range 5 {
		conn, _, err := dialErr(srv, nil)
		if err != nil {
			t.Fatal(err)
		}
		readers.Go(func() {
			defer conn.Close()
			for {
				if _, err := readErr(conn); err != nil {
					closes <- err
					return
				}
			}
		})
	}
	testwait.For(t, "five viewers", func() bool { return hub.Clients() == 5 })
	publishKeys(hub, seq("k", 100))

	start := time.Now()
	hub.Close()
	hub.Close() // idempotent
	if d := time.Since(start); d > 3*closeGrace {
		t.Errorf("Close took %v", d)
	}
	hub.Publish(Event{Type: EventPut, Key: "after close"}) // neither blocks nor panics
	readers.Wait()
	close(closes)
	for err := range closes {
		if !websocket.IsCloseError(err, websocket.CloseGoingAway) {
			t.Errorf("viewer saw %v; want close 1001", err)
		}
	}
	if n := hub.Clients(); n != 0 {
		t.Errorf("Clients() = %d after Close", n)
	}
	// A late viewer is refused.
	_, resp, err := dialErr(srv, nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("dial after Close: %v; want 503", err)
	}
	srv.Close()
	testwait.For(t, "goroutines to end", func() bool { return runtime.NumGoroutine() <= before })
}

// TestHubCloseDeliversPendingEvents: events published just before Close (a
// node's last puts before Ctrl-C) still reach every viewer, before the
// "going away" close frame.
func TestHubCloseDeliversPendingEvents(t *testing.T) {
	hub, srv := startHub(t, HubOptions{FlushInterval: time.Hour})
	conn := dial(t, srv, nil)
	read(t, conn)                       // the snapshot
	publishKeys(hub, []string{"first"}) // a quiet-spell event goes out at once
	if keys, _ := readKeys(t, conn, 1); keys[0] != "first" {
		t.Fatalf("got %v", keys)
	}
	publishKeys(hub, seq("last-", 3)) // held back by the hour-long interval
	hub.Close()
	keys, _ := readKeys(t, conn, 3)
	if strings.Join(keys, ",") != "last-0,last-1,last-2" {
		t.Fatalf("after Close the viewer got %v", keys)
	}
	_, err := readErr(conn)
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.CloseGoingAway {
		t.Fatalf("then %v, want a going-away close", err)
	}
}
