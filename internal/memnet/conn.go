package memnet

import (
	"bytes"
	"io"
	"net"
	"os"
	"sync"
	"syscall"
	"time"
)

// pipe is one direction of a connection: bytes one end wrote and the other
// has not read yet.
type pipe struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	eof     bool // the writing end closed: reads drain buf, then io.EOF
	broken  bool // the reading end closed: writes fail
	changed signal
}

// conn is one end of a memnet connection; it implements net.Conn.
type conn struct {
	in, out       *pipe
	local, remote Addr
	once          sync.Once
	closed        chan struct{} // closed by Close
	rd, wd        *deadline
}

// newPair returns the two ends of a new connection from client to server.
func newPair(client, server Addr) (*conn, *conn) {
	up, down := &pipe{}, &pipe{}
	c := &conn{in: down, out: up, local: client, remote: server, closed: make(chan struct{}), rd: newDeadline(), wd: newDeadline()}
	s := &conn{in: up, out: down, local: server, remote: client, closed: make(chan struct{}), rd: newDeadline(), wd: newDeadline()}
	return c, s
}

func (c *conn) opError(op string, err error) error {
	return &net.OpError{Op: op, Net: "tcp", Source: c.local, Addr: c.remote, Err: err}
}

// Read reads what the other end wrote; io.EOF once it closed and all was read.
func (c *conn) Read(b []byte) (int, error) {
	p := c.in
	for {
		if isClosed(c.closed) {
			return 0, c.opError("read", net.ErrClosed)
		}
		if isClosed(c.rd.wait()) {
			return 0, c.opError("read", os.ErrDeadlineExceeded)
		}
		p.mu.Lock()
		if p.buf.Len() > 0 {
			n, _ := p.buf.Read(b)
			p.changed.broadcast()
			p.mu.Unlock()
			return n, nil
		}
		if p.eof {
			p.mu.Unlock()
			return 0, io.EOF
		}
		if len(b) == 0 {
			p.mu.Unlock()
			return 0, nil
		}
		wait := p.changed.wait()
		p.mu.Unlock()
		select {
		case <-wait:
		case <-c.closed:
		case <-c.rd.wait():
		}
	}
}

// Write buffers b for the other end, waiting while the buffer is full.
func (c *conn) Write(b []byte) (int, error) {
	p := c.out
	n := 0
	for {
		if isClosed(c.closed) {
			return n, c.opError("write", net.ErrClosed)
		}
		if isClosed(c.wd.wait()) {
			return n, c.opError("write", os.ErrDeadlineExceeded)
		}
		p.mu.Lock()
		if p.broken {
			p.mu.Unlock()
			return n, c.opError("write", os.NewSyscallError("write", syscall.EPIPE))
		}
		if space := BufferSize - p.buf.Len(); space > 0 || len(b) == 0 {
			k := min(space, len(b))
			p.buf.Write(b[:k])
			b, n = b[k:], n+k
			p.changed.broadcast()
			p.mu.Unlock()
			if len(b) == 0 {
				return n, nil // written: what the reader does next is no longer this write's business
			}
			continue
		}
		wait := p.changed.wait()
		p.mu.Unlock()
		select {
		case <-wait:
		case <-c.closed:
		case <-c.wd.wait():
		}
	}
}

// Close closes this end: the other end reads what was already sent, then
// io.EOF, and its writes fail. Unread bytes sent to this end are dropped.
func (c *conn) Close() error {
	first := false
	c.once.Do(func() {
		first = true
		close(c.closed)
		c.out.mu.Lock()
		c.out.eof = true
		c.out.changed.broadcast()
		c.out.mu.Unlock()
		c.in.mu.Lock()
		c.in.broken = true
		c.in.buf.Reset()
		c.in.changed.broadcast()
		c.in.mu.Unlock()
	})
	if !first {
		return c.opError("close", net.ErrClosed)
	}
	return nil
}

// LocalAddr returns this end's address.
func (c *conn) LocalAddr() net.Addr { return c.local }

// RemoteAddr returns the other end's address.
func (c *conn) RemoteAddr() net.Addr { return c.remote }

// SetDeadline sets the read and write deadlines.
func (c *conn) SetDeadline(t time.Time) error {
	if isClosed(c.closed) {
		return c.opError("set", net.ErrClosed)
	}
	c.rd.set(t)
	c.wd.set(t)
	return nil
}

// SetReadDeadline makes pending and later reads fail once t has passed.
func (c *conn) SetReadDeadline(t time.Time) error {
	if isClosed(c.closed) {
		return c.opError("set", net.ErrClosed)
	}
	c.rd.set(t)
	return nil
}

// SetWriteDeadline makes pending and later writes fail once t has passed.
func (c *conn) SetWriteDeadline(t time.Time) error {
	if isClosed(c.closed) {
		return c.opError("set", net.ErrClosed)
	}
	c.wd.set(t)
	return nil
}

// deadline is a read or write deadline: a channel closed when it passes,
// by a timer (as net.Pipe's deadlines work, so fake time drives them inside
// a synctest bubble).
type deadline struct {
	mu     sync.Mutex
	timer  *time.Timer
	cancel chan struct{} // closed when the deadline passed; never nil
}

func newDeadline() *deadline { return &deadline{cancel: make(chan struct{})} }

// set moves the deadline to t; the zero t means none.
func (d *deadline) set(t time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.timer != nil && !d.timer.Stop() {
		<-d.cancel // the timer fired: wait until its function closed cancel
	}
	d.timer = nil
	closed := isClosed(d.cancel)
	if t.IsZero() {
		if closed {
			d.cancel = make(chan struct{})
		}
		return
	}
	if dur := time.Until(t); dur > 0 {
		if closed {
			d.cancel = make(chan struct{})
		}
		ch := d.cancel
		d.timer = time.AfterFunc(dur, func() { close(ch) })
		return
	}
	if !closed {
		close(d.cancel)
	}
}

// wait returns a channel closed once the deadline has passed.
func (d *deadline) wait() <-chan struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.cancel
}

func isClosed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}
