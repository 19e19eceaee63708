package web

import (
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/kvclass/kvclass/kvapi"
)

const (
	// closeResync is the close text of a client dropped for being too slow:
	// the page reconnects and resyncs from a fresh snapshot.
	closeResync = "resync"
	// closeGrace bounds the close handshake with a client.
	closeGrace = time.Second
	// maxReadBytes bounds a message from a client; clients send nothing
	// but control frames, so anything larger ends the connection.
	maxReadBytes = 4096
)

// client is one connected page.
type client struct {
	conn   *websocket.Conn
	remote string
	send   chan *websocket.PreparedMessage // bounded queue of outgoing messages
	quit   chan struct{}                   // closed by stop
	once   sync.Once
	code   int    // close code sent when quit closes; 0 sends none
	text   string // close text
}

// stop tells the client's writer to send a close frame with code and text
// after the write in progress, drop the rest of its queue, and end the
// connection. Only the first call counts.
func (c *client) stop(code int, text string) {
	c.once.Do(func() {
		c.code, c.text = code, text
		close(c.quit)
	})
}

// ServeHTTP is the /ws endpoint: it upgrades the request to a websocket
// after checking the Origin and the client cap, sends a snapshot, then
// streams batches of events until the client goes, falls behind, or the hub
// closes. Every refusal is a JSON error.
func (h *Hub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !websocket.IsWebSocketUpgrade(r) {
		kvapi.WriteError(w, kvapi.Errorf(http.StatusBadRequest, "this is the websocket of the live page; open /state in a browser"))
		return
	}
	addr := h.opts.ClientAddr(r)
	h.mu.Lock()
	switch {
	case h.closed:
		h.mu.Unlock()
		kvapi.WriteError(w, kvapi.Errorf(http.StatusServiceUnavailable, "server is shutting down"))
		return
	case h.admitted >= h.opts.MaxClients:
		h.mu.Unlock()
		h.log.Warn("ws: viewer refused: too many viewers", "max", h.opts.MaxClients, "remote", r.RemoteAddr)
		kvapi.WriteError(w, kvapi.Errorf(http.StatusServiceUnavailable, "too many viewers; try again later"))
		return
	case h.perAddr[addr] >= h.opts.MaxPerAddr:
		h.mu.Unlock()
		h.log.Warn("ws: viewer refused: too many viewers from one address", "max", h.opts.MaxPerAddr, "addr", addr)
		kvapi.WriteError(w, kvapi.Errorf(http.StatusTooManyRequests, "too many viewers from your address; close some pages"))
		return
	}
	h.admitted++
	h.perAddr[addr]++
	h.wg.Add(1)
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		h.admitted--
		if h.perAddr[addr]--; h.perAddr[addr] <= 0 {
			delete(h.perAddr, addr)
		}
		h.mu.Unlock()
		h.wg.Done()
	}()

	conn, err := h.upgrader.Upgrade(w, r, nil)
	if err != nil {
		h.log.Debug("ws: upgrade refused", "remote", r.RemoteAddr, "err", err)
		return // the upgrader has answered
	}
	c := &client{
		conn:   conn,
		remote: r.RemoteAddr,
		send:   make(chan *websocket.PreparedMessage, h.opts.QueueLen),
		quit:   make(chan struct{}),
	}
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		c.stop(websocket.CloseGoingAway, "server closing")
		h.sendClose(c)
		conn.Close()
		return
	}
	h.clients[c] = struct{}{}
	h.nclients.Store(int32(len(h.clients)))
	h.live[c] = struct{}{}
	h.mu.Unlock()
	h.log.Debug("ws: viewer connected", "remote", c.remote)

	// The snapshot is built after the client is registered, so an event
	// published meanwhile is queued for it rather than lost.
	first, err := h.marshalSnapshot()
	if err != nil {
		h.log.Error("ws: cannot send the snapshot", "err", err)
		c.stop(websocket.CloseInternalServerErr, "snapshot failed")
	}
	readerDone := make(chan struct{})
	go h.readLoop(c, readerDone)
	if h.writeLoop(c, first) {
		// Give the peer a moment to answer the close frame.
		wait := time.NewTimer(closeGrace)
		select {
		case <-readerDone:
		case <-wait.C:
		}
		wait.Stop()
	}
	h.remove(c, websocket.CloseNormalClosure, "")
	conn.Close()
	<-readerDone
	h.mu.Lock()
	delete(h.live, c)
	h.mu.Unlock()
	h.log.Debug("ws: viewer disconnected", "remote", c.remote)
}

// readLoop reads the client's frames, which answers its pongs and its close
// frame, and removes the client when the connection fails or no pong came
// for two ping intervals. It closes done when it returns.
func (h *Hub) readLoop(c *client, done chan<- struct{}) {
	defer close(done)
	wait := 2 * h.opts.PingInterval
	c.conn.SetReadLimit(maxReadBytes)
	_ = c.conn.SetReadDeadline(time.Now().Add(wait))
	c.conn.SetPongHandler(func(string) error {
		return c.conn.SetReadDeadline(time.Now().Add(wait))
	})
	for {
		if _, _, err := c.conn.NextReader(); err != nil {
			h.remove(c, websocket.CloseNormalClosure, "")
			return
		}
	}
}

// writeLoop writes first (when not nil), then the queued messages and the
// pings, until the client is stopped or a write fails. When stopped, it
// sends the close frame, and reports whether it did.
func (h *Hub) writeLoop(c *client, first []byte) (closeSent bool) {
	ping := time.NewTicker(h.opts.PingInterval)
	defer ping.Stop()
	if first != nil {
		_ = c.conn.SetWriteDeadline(time.Now().Add(h.opts.WriteTimeout))
		if err := c.conn.WriteMessage(websocket.TextMessage, first); err != nil {
			h.remove(c, 0, "")
			return false
		}
	}
	for {
		select {
		case <-c.quit:
			return h.sendClose(c)
		default:
		}
		select {
		case <-c.quit:
			return h.sendClose(c)
		case msg := <-c.send:
			_ = c.conn.SetWriteDeadline(time.Now().Add(h.opts.WriteTimeout))
			if err := c.conn.WritePreparedMessage(msg); err != nil {
				h.log.Debug("ws: write failed", "remote", c.remote, "err", err)
				h.remove(c, 0, "")
				return false
			}
		case <-ping.C:
			if err := c.conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(h.opts.WriteTimeout)); err != nil {
				h.remove(c, 0, "")
				return false
			}
		}
	}
}

// sendClose writes the close frame that stop asked for, if any, and reports
// whether it went out. When the hub is going away, the messages already
// queued for the client go out first, so a client sees every event
// published before Close.
func (h *Hub) sendClose(c *client) bool {
	if c.code == 0 {
		return false
	}
	if c.code == websocket.CloseGoingAway {
		for drained := false; !drained; {
			select {
			case msg := <-c.send:
				_ = c.conn.SetWriteDeadline(time.Now().Add(closeGrace))
				if c.conn.WritePreparedMessage(msg) != nil {
					return false
				}
			default:
				drained = true
			}
		}
	}
	msg := websocket.FormatCloseMessage(c.code, c.text)
	return c.conn.WriteControl(websocket.CloseMessage, msg, time.Now().Add(closeGrace)) == nil
}
