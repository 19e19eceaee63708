// Package relay carries a node's HTTP server to the proxy over one
// websocket that the node opens, so a node needs no public address and no
// ngrok account: the proxy opens a stream of a yamux session over that
// websocket for every connection it makes to the node, and the node serves
// HTTP on the streams it accepts. One websocket through the proxy's tunnel
// is one long-lived connection, however many calls it carries.
//
// Conn adapts a websocket to a net.Conn (binary messages carry the byte
// stream); Dialer is the proxy's end, Listener the node's.
package relay

import (
	"errors"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/hashicorp/yamux"
)

// MaxMessage bounds one websocket message of the relay: yamux frames are at
// most its stream window (256 KiB) plus a header.
const MaxMessage = 1 << 20

// Conn is a websocket as a net.Conn: each Write is one binary message, and
// Read reads the messages' bytes in order. It is safe for one reader and
// concurrent writers.
type Conn struct {
	ws  *websocket.Conn
	rmu sync.Mutex
	r   io.Reader // the message being read
	wmu sync.Mutex
}

// NewConn wraps ws, which the caller no longer uses directly.
func NewConn(ws *websocket.Conn) *Conn {
	ws.SetReadLimit(MaxMessage)
	return &Conn{ws: ws}
}

// Read reads the stream's next bytes.
func (c *Conn) Read(p []byte) (int, error) {
	c.rmu.Lock()
	defer c.rmu.Unlock()
	for {
		if c.r == nil {
			typ, r, err := c.ws.NextReader()
			if err != nil {
				return 0, err
			}
			if typ != websocket.BinaryMessage {
				return 0, errors.New("relay: a text message in the byte stream")
			}
			c.r = r
		}
		n, err := c.r.Read(p)
		if errors.Is(err, io.EOF) {
			c.r = nil
			if n > 0 {
				return n, nil
			}
			continue
		}
		return n, err
	}
}

// Write sends p as one binary message.
func (c *Conn) Write(p []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if err := c.ws.WriteMessage(websocket.BinaryMessage, p); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Close closes the websocket.
func (c *Conn) Close() error { return c.ws.Close() }

// LocalAddr returns the websocket's local address.
func (c *Conn) LocalAddr() net.Addr { return c.ws.LocalAddr() }

// RemoteAddr returns the websocket's remote address.
func (c *Conn) RemoteAddr() net.Addr { return c.ws.RemoteAddr() }

// SetDeadline sets both deadlines.
func (c *Conn) SetDeadline(t time.Time) error {
	if err := c.ws.SetReadDeadline(t); err != nil {
		return err
	}
	return c.ws.SetWriteDeadline(t)
}

// SetReadDeadline sets the read deadline.
func (c *Conn) SetReadDeadline(t time.Time) error { return c.ws.SetReadDeadline(t) }

// SetWriteDeadline sets the write deadline.
func (c *Conn) SetWriteDeadline(t time.Time) error { return c.ws.SetWriteDeadline(t) }

// config is the yamux configuration of both ends: a keepalive that notices a
// dead relay within a minute, a bound on opening a stream, and logs to log
// at debug level.
func config(log *slog.Logger) *yamux.Config {
	c := yamux.DefaultConfig()
	c.KeepAliveInterval = 15 * time.Second
	c.ConnectionWriteTimeout = 10 * time.Second
	c.StreamOpenTimeout = 10 * time.Second
	c.StreamCloseTimeout = time.Minute
	c.LogOutput = nil
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c.Logger = slog.NewLogLogger(log.Handler(), slog.LevelDebug)
	return c
}

// Dialer is the proxy's end of a relay: Dial opens a connection to the
// node's HTTP server. It is safe for concurrent use.
type Dialer struct {
	sess *yamux.Session
}

// NewDialer starts the proxy's end of a relay over ws.
func NewDialer(ws *websocket.Conn, log *slog.Logger) (*Dialer, error) {
	sess, err := yamux.Client(NewConn(ws), config(log))
	if err != nil {
		return nil, err
	}
	return &Dialer{sess: sess}, nil
}

// Dial opens a connection to the node's HTTP server.
func (d *Dialer) Dial() (net.Conn, error) {
	c, err := d.sess.OpenStream()
	if err != nil {
		return nil, err
	}
	return c, nil
}

// Done is closed when the relay has ended.
func (d *Dialer) Done() <-chan struct{} { return d.sess.CloseChan() }

// Streams returns how many connections are open over the relay.
func (d *Dialer) Streams() int { return d.sess.NumStreams() }

// Close ends the relay and every connection over it.
func (d *Dialer) Close() error { return d.sess.Close() }

// NewListener starts the node's end of a relay over ws: a net.Listener
// whose connections are the proxy's, for an http.Server to Serve.
func NewListener(ws *websocket.Conn, log *slog.Logger) (net.Listener, error) {
	sess, err := yamux.Server(NewConn(ws), config(log))
	if err != nil {
		return nil, err
	}
	return sess, nil
}
