package serve

import (
	"errors"
	"net"
	"sync"
	"time"
)

// Coarse deadlines. fasthttp sets a connection's read and write deadlines
// on every request it serves and every call it makes (now + a timeout),
// and each setting moves a runtime timer: a few of them per request are a
// measurable share of a proxy's CPU. A deadline asked a few microseconds
// after the last one need not move the timer: coarse keeps the deadline in
// place while it is at most slack later than the one asked, and otherwise
// sets the one asked, plus slack when it extends the deadline (so that the
// next requests need nothing). A deadline may so fire up to slack late,
// never early; a shorter one (an interrupt, a smaller timeout) is set as
// asked.

// coarse is one direction's deadline of a connection.
type coarse struct {
	mu sync.Mutex
	at time.Time // the deadline in place; zero: none
}

// set asks for deadline t, which apply sets on the connection when the one
// in place does not do.
func (d *coarse) set(t time.Time, slack time.Duration, apply func(time.Time) error) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	switch {
	case t.IsZero():
		if d.at.IsZero() {
			return nil
		}
	case !d.at.IsZero() && !d.at.Before(t) && !d.at.After(t.Add(slack)):
		return nil
	case d.at.IsZero() || t.After(d.at):
		t = t.Add(slack)
	}
	if err := apply(t); err != nil {
		return err
	}
	d.at = t
	return nil
}

// CoarseDeadlines returns c with coarse deadlines, which fire up to slack
// late: for a connection that gets a new deadline on every request, such
// as a proxy's keep-alive connection to a node.
func CoarseDeadlines(c net.Conn, slack time.Duration) net.Conn {
	return &coarseConn{Conn: c, slack: slack}
}

type coarseConn struct {
	net.Conn
	slack  time.Duration
	rd, wd coarse
}

// SetReadDeadline sets the read deadline, coarsely.
func (c *coarseConn) SetReadDeadline(t time.Time) error {
	return c.rd.set(t, c.slack, c.Conn.SetReadDeadline)
}

// SetWriteDeadline sets the write deadline, coarsely.
func (c *coarseConn) SetWriteDeadline(t time.Time) error {
	return c.wd.set(t, c.slack, c.Conn.SetWriteDeadline)
}

// SetDeadline sets both deadlines, coarsely.
func (c *coarseConn) SetDeadline(t time.Time) error {
	return errors.Join(c.SetReadDeadline(t), c.SetWriteDeadline(t))
}
