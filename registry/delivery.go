package registry

import (
	"io"
	"slices"
)

// signal makes a non-blocking send on a 1-buffered channel.
func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// sessionClose is a websocket to close once r.mu is released.
type sessionClose struct {
	s      *wsSession
	code   int
	reason string
}

// delivery is the outcome of one step under r.mu: changes to report and
// sessions to close, run by the caller after unlocking, in ticket order.
type delivery struct {
	changes     []Change
	listChanged bool
	closing     []sessionClose
	closers     []io.Closer // relays to close once r.mu is released
	ticket      uint64
	list        []Member
}

// closeSession detaches e's websocket and schedules it to close. Called with
// r.mu held.
func (d *delivery) closeSession(e *entry, code int, reason string) {
	if e.session != nil {
		d.closing = append(d.closing, sessionClose{e.session, code, reason})
		e.session = nil
	}
}

// update is the one way the registry changes. It runs step under r.mu with
// a fresh delivery; step changes entries and records in the delivery what
// changed and which websockets to close. update then rebuilds the list if
// anything changed, releases the lock, closes those websockets and delivers
// the changes to OnChange and Notify, in order with every other update.
//
// step runs under the registry's lock: it must not block, do I/O, or call
// anything that takes r.mu. Its error is returned as it is.
func (r *Registry) update(step func(d *delivery) error) error {
	var d delivery
	r.mu.Lock()
	err := step(&d)
	r.publish(&d)
	r.mu.Unlock()
	d.run(r)
	return err
}

// publish rebuilds the list and takes a delivery ticket when anything
// changed. Called with r.mu held.
func (r *Registry) publish(d *delivery) {
	if len(d.changes) == 0 && !d.listChanged {
		return
	}
	r.list = r.buildList()
	r.seq++
	d.ticket = r.seq
	d.list = slices.Clone(r.list)
	signal(r.wake)
}

// run closes the scheduled websockets and calls OnChange and Notify, waiting
// for earlier tickets first so callbacks see changes in order. Called without
// r.mu.
func (d *delivery) run(r *Registry) {
	for _, c := range d.closing {
		c.s.close(c.code, c.reason)
	}
	for _, c := range d.closers {
		c.Close()
	}
	if d.ticket == 0 {
		return
	}
	r.dmu.Lock()
	defer func() {
		r.delivered = d.ticket
		r.dcond.Broadcast()
		r.dmu.Unlock()
	}()
	for r.delivered+1 != d.ticket {
		r.dcond.Wait()
	}
	if r.opts.OnChange != nil {
		r.opts.OnChange(d.list)
	}
	if r.opts.Notify != nil {
		for _, c := range d.changes {
			r.opts.Notify(c)
		}
	}
}
