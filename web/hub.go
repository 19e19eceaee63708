package web

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/kvclass/kvclass/kvapi"
	"github.com/kvclass/kvclass/serve"
)

// Defaults of HubOptions.
const (
	DefaultQueueLen      = 64
	DefaultMaxClients    = 256
	DefaultMaxPerAddr    = 64
	DefaultMaxPending    = 1024
	DefaultFlushInterval = 25 * time.Millisecond
	DefaultPingInterval  = 20 * time.Second
	DefaultWriteTimeout  = 10 * time.Second
)

// HubOptions configures a Hub. The zero value of every field means its
// default.
type HubOptions struct {
	// Snapshot builds the current view. The hub calls it once for every new
	// client, after the client is registered, so that no event published
	// between the snapshot and the stream is lost (events are idempotent, so
	// an event that the snapshot already reflects does no harm). It also
	// calls it to resync every client after the pending events overflowed.
	Snapshot func() Snapshot

	// QueueLen bounds each client's queue of outgoing messages. A client
	// whose queue is full is dropped with a close frame saying "resync", and
	// the page reconnects and starts again from a fresh snapshot. Default 64.
	QueueLen int

	// MaxClients caps the number of connected viewers; over it an upgrade is
	// answered 503 with a JSON error. Default 256.
	MaxClients int

	// MaxPerAddr caps the viewers from one address, so one machine cannot
	// take every place and keep the projector out; a class behind one NAT
	// shares an address, so the default is well above a class: 64.
	MaxPerAddr int

	// ClientAddr names who is asking, for MaxPerAddr. Default: the host of
	// r.RemoteAddr (serve.ClientAddr reads a tunnel's forwarded address).
	ClientAddr func(*http.Request) string

	// MaxPending caps the events that wait for the next flush. When more are
	// published within one flush interval, they are dropped and every client
	// gets a fresh snapshot instead. Default 1024.
	MaxPending int

	// Origins lists extra allowed values of the Origin header, as
	// scheme://host[:port]. A page from the same host as the request is
	// always allowed, and so is a client that sends no Origin (not a
	// browser). "*" allows any origin.
	Origins []string

	// FlushInterval is the coalescing window: events published within it go
	// out as one Batch message. Default 25ms.
	FlushInterval time.Duration

	// PingInterval is how often a client is pinged; a client that answers no
	// pong within two intervals is dropped. Default 20s.
	PingInterval time.Duration

	// WriteTimeout bounds the write of one message to a client. Default 10s.
	WriteTimeout time.Duration

	// Logger receives connection and drop logs; nil discards them.
	Logger *slog.Logger
}

// Hub is the /ws endpoint of a node or the proxy: it streams a Snapshot and
// then Batch messages of published events to every connected page. Publish
// never blocks; one goroutine coalesces events into batches, marshals each
// batch once and offers it to every client's bounded queue. Create it with
// NewHub and stop it with Close.
type Hub struct {
	opts     HubOptions
	log      *slog.Logger
	origins  serve.Origins
	upgrader websocket.Upgrader

	wake    chan struct{} // has a token when pending became non-empty
	done    chan struct{} // closed by Close
	flushed chan struct{} // closed when flushLoop has sent its last batch
	wg      sync.WaitGroup

	mu       sync.Mutex
	pending  []Event
	spare    []Event              // the other pending buffer, reused between flushes
	overflow bool                 // events were dropped: send a snapshot instead
	clients  map[*client]struct{} // receive published events
	nclients atomic.Int32         // len(clients), read without the lock
	live     map[*client]struct{} // connections whose goroutines still run
	admitted int                  // clients registered or being upgraded, for MaxClients
	perAddr  map[string]int       // admitted clients per address, for MaxPerAddr
	closed   bool

	closeOnce sync.Once
}

// NewHub returns a running Hub. Stop it with Close.
func NewHub(opts HubOptions) *Hub {
	if opts.QueueLen <= 0 {
		opts.QueueLen = DefaultQueueLen
	}
	if opts.MaxClients <= 0 {
		opts.MaxClients = DefaultMaxClients
	}
	if opts.MaxPerAddr <= 0 {
		opts.MaxPerAddr = DefaultMaxPerAddr
	}
	if opts.ClientAddr == nil {
		opts.ClientAddr = serve.ClientAddr
	}
	if opts.MaxPending <= 0 {
		opts.MaxPending = DefaultMaxPending
	}
	if opts.FlushInterval <= 0 {
		opts.FlushInterval = DefaultFlushInterval
	}
	if opts.PingInterval <= 0 {
		opts.PingInterval = DefaultPingInterval
	}
	if opts.WriteTimeout <= 0 {
		opts.WriteTimeout = DefaultWriteTimeout
	}
	if opts.Snapshot == nil {
		opts.Snapshot = func() Snapshot { return Snapshot{} }
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h := &Hub{
		opts:    opts,
		log:     log,
		origins: serve.NewOrigins(opts.Origins),
		wake:    make(chan struct{}, 1),
		done:    make(chan struct{}),
		flushed: make(chan struct{}),
		clients: make(map[*client]struct{}),
		live:    make(map[*client]struct{}),
		perAddr: make(map[string]int),
	}
	h.upgrader = websocket.Upgrader{
		HandshakeTimeout:  opts.WriteTimeout,
		EnableCompression: true,
		CheckOrigin:       h.origins.AllowRead,
		Error: func(w http.ResponseWriter, _ *http.Request, status int, reason error) {
			kvapi.WriteError(w, kvapi.Errorf(status, reason.Error()))
		},
	}
	h.wg.Add(1)
	go h.flushLoop()
	return h
}

// Publish queues ev for every connected client and returns at once: it never
// waits for a client or the network, so it is safe on the request path of a
// busy store. It sets ev.Time to now when it is zero. The hub keeps ev, so
// the caller must not change what its pointers reach afterwards. Events
// published while no client is connected are discarded: a client that
// connects later starts from a snapshot. Publish is safe for concurrent use.
func (h *Hub) Publish(ev Event) {
	if ev.Time == 0 {
		ev.Time = time.Now().UnixMilli()
	}
	h.mu.Lock()
	if h.closed || len(h.clients) == 0 || h.overflow {
		h.mu.Unlock()
		return
	}
	if len(h.pending) >= h.opts.MaxPending {
		clear(h.pending)
		h.pending = h.pending[:0]
		h.overflow = true
		h.mu.Unlock()
		return
	}
	h.pending = append(h.pending, ev)
	first := len(h.pending) == 1
	h.mu.Unlock()
	if first {
		select {
		case h.wake <- struct{}{}:
		default:
		}
	}
}

// Clients returns the number of connected clients. It takes no lock, so
// the node and the proxy call it on every request to skip building events
// nobody would see.
func (h *Hub) Clients() int { return int(h.nclients.Load()) }

// Close sends the events still pending, then disconnects every client with
// a "going away" close frame, stops the hub's goroutines and waits for them.
// Later upgrades and publishes are refused. Close is idempotent.
func (h *Hub) Close() {
	h.closeOnce.Do(func() {
		h.mu.Lock()
		h.closed = true // no new clients or events from here on
		h.mu.Unlock()
		close(h.done)
		<-h.flushed // the last batch is in the clients' queues
		h.mu.Lock()
		clients := make([]*client, 0, len(h.live))
		for c := range h.live {
			clients = append(clients, c)
		}
		clear(h.clients)
		h.nclients.Store(0)
		h.pending = nil
		h.mu.Unlock()
		for _, c := range clients {
			c.stop(websocket.CloseGoingAway, "server closing")
		}
		waited := make(chan struct{})
		go func() {
			h.wg.Wait()
			close(waited)
		}()
		select {
		case <-waited:
		case <-time.After(closeGrace):
			// A writer blocked on a client that stopped reading must not
			// hold Close for the whole write timeout.
			for _, c := range clients {
				c.conn.Close()
			}
			<-waited
		}
	})
}

// flushLoop sends pending events to the clients. It sleeps until an event is
// published, flushes at once, then holds off for FlushInterval so that the
// events published meanwhile go out together as one batch.
func (h *Hub) flushLoop() {
	defer h.wg.Done()
	defer close(h.flushed)
	hold := time.NewTimer(h.opts.FlushInterval)
	hold.Stop()
	var fanout []*client
	for {
		select {
		case <-h.wake:
		case <-h.done:
			h.flush(fanout[:0]) // the last events go out before the close
			return
		}
		fanout = h.flush(fanout[:0])
		hold.Reset(h.opts.FlushInterval)
		select {
		case <-hold.C:
		case <-h.done:
			hold.Stop()
			h.flush(fanout[:0])
			return
		}
	}
}

// flush takes the pending events, marshals them once, and offers the message
// to every client without blocking. A client whose queue is full is dropped.
// fanout is a reusable buffer for the client list, returned for reuse.
func (h *Hub) flush(fanout []*client) []*client {
	h.mu.Lock()
	events, resync := h.pending, h.overflow
	h.pending, h.spare = h.spare[:0], nil
	h.overflow = false
	for c := range h.clients {
		fanout = append(fanout, c)
	}
	h.mu.Unlock()

	var data []byte
	var err error
	switch {
	case len(fanout) == 0:
		// Nobody to send to; a viewer that connects gets a snapshot.
	case resync:
		data, err = h.marshalSnapshot()
	case len(events) > 0:
		data, err = json.Marshal(Batch{Type: TypeEvents, Events: events})
	}
	clear(events)
	h.mu.Lock()
	if h.spare == nil && !h.closed {
		h.spare = events[:0]
	}
	h.mu.Unlock()
	if err != nil {
		h.log.Error("ws: cannot encode a message", "err", err)
		return fanout[:0]
	}
	if data == nil {
		return fanout[:0]
	}
	msg, err := websocket.NewPreparedMessage(websocket.TextMessage, data)
	if err != nil {
		h.log.Error("ws: cannot prepare a message", "err", err)
		return fanout[:0]
	}
	if resync {
		h.log.Warn("ws: events overflowed; clients resync from a snapshot", "clients", len(fanout))
	}
	for i, c := range fanout {
		select {
		case c.send <- msg:
		default:
			h.log.Warn("ws: client too slow; dropped to resync", "remote", c.remote)
			h.remove(c, websocket.CloseTryAgainLater, closeResync)
		}
		fanout[i] = nil
	}
	return fanout[:0]
}

// marshalSnapshot builds and encodes the current snapshot.
func (h *Hub) marshalSnapshot() ([]byte, error) {
	s := h.opts.Snapshot()
	s.Type = TypeSnapshot
	if s.Nodes == nil {
		s.Nodes = []NodeView{}
	}
	data, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("encode snapshot: %w", err)
	}
	return data, nil
}

// remove unregisters c and tells its goroutines to close the connection
// with the given close code and text.
func (h *Hub) remove(c *client, code int, text string) {
	h.mu.Lock()
	if _, ok := h.clients[c]; ok {
		delete(h.clients, c)
		h.nclients.Store(int32(len(h.clients)))
	}
	h.mu.Unlock()
	c.stop(code, text)
}
