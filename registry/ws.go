package registry

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/kvclass/kvclass/kvapi"
)

// writeWait bounds each websocket write.
const writeWait = 2 * time.Second

// wsSession is one node's websocket on the proxy side.
type wsSession struct {
	conn *websocket.Conn
	once sync.Once
}

// close sends a close frame and closes the connection, once. It may be
// called from any goroutine.
func (s *wsSession) close(code int, reason string) {
	s.once.Do(func() {
		msg := websocket.FormatCloseMessage(code, kvapi.Truncate(reason, 120))
		_ = s.conn.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
		_ = s.conn.Close()
	})
}

// serveWS runs one node's websocket: the join message and its answer, then
// heartbeats (pings, pongs or any message) until the node leaves or the
// connection ends. A connection that ends without a leave does not mark the
// node down: its lease does, three heartbeat intervals after the last beat.
func (r *Registry) serveWS(w http.ResponseWriter, req *http.Request) {
	addr := r.opts.ClientAddr(req)
	pendingDone, err := r.enterPending(addr)
	if err != nil {
		w.Header().Set("Retry-After", "1") // a node's join client asks again
		writeRefusal(w, err)
		return
	}
	defer pendingDone()

	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		writeError(w, http.StatusServiceUnavailable, "the proxy is stopping; try again in a moment")
		return
	}
	r.handlers.Add(1)
	r.mu.Unlock()
	defer r.handlers.Done()

	conn, err := r.upgrader.Upgrade(w, req, nil)
	if err != nil {
		return // the upgrader answered
	}
	s := &wsSession{conn: conn}
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		s.close(websocket.CloseGoingAway, "the proxy is stopping")
		return
	}
	r.sessions[s] = struct{}{}
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		delete(r.sessions, s)
		r.mu.Unlock()
		s.close(websocket.CloseNormalClosure, "")
	}()

	conn.SetReadLimit(maxBody)
	_ = conn.SetReadDeadline(time.Now().Add(r.opts.HandshakeTimeout))
	typ, data, err := conn.ReadMessage()
	pendingDone() // it spoke: no longer an idle connection holding a place
	if err != nil {
		r.log.Debug("websocket closed before its join", "addr", addr, "err", err)
		return
	}
	var jr kvapi.JoinRequest
	err = nil
	if typ != websocket.TextMessage {
		err = refuse(http.StatusBadRequest, "the first message must be the join, as JSON text")
	} else {
		err = decodeObject(data, &jr)
	}
	var reply kvapi.JoinReply
	if err == nil {
		ctx, cancel := context.WithTimeout(r.closeCtx, r.joinTimeout())
		reply, err = r.join(ctx, jr, addr, s, r.opts.Heartbeat)
		cancel()
	}
	_ = conn.SetWriteDeadline(time.Now().Add(writeWait))
	if err != nil {
		ref := asRefusal(err)
		_ = conn.WriteJSON(kvapi.RegistryError{Error: ref.Message, Status: ref.Status})
		s.close(websocket.ClosePolicyViolation, ref.Message)
		return
	}
	if err := conn.WriteJSON(reply); err != nil {
		r.log.Debug("cannot answer a join", "node", reply.Name, "err", err)
		return
	}
	r.serveSession(s, reply.Name)
}

// enterPending counts a websocket that has not sent its join yet, per
// address and in all, and returns the function that uncounts it (once). An
// address may hold MaxPendingPerAddr such websockets, so a few hundred idle
// connections from one machine cannot keep the class from joining; all
// addresses together may hold 4 × MaxNodes.
func (r *Registry) enterPending(addr string) (func(), error) {
	key := addrKey(addr)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.pending[key] >= r.opts.MaxPendingPerAddr {
		return nil, refuse(http.StatusServiceUnavailable, "too many joins in progress from your address; try again in a moment")
	}
	if r.pendingWS >= 4*r.opts.MaxNodes {
		return nil, refuse(http.StatusServiceUnavailable, "too many nodes are joining at once; try again")
	}
	r.pending[key]++
	r.pendingWS++
	return sync.OnceFunc(func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.pendingWS--
		if r.pending[key]--; r.pending[key] <= 0 {
			delete(r.pending, key)
		}
	}), nil
}

// serveSession reads heartbeats until the connection ends or the node leaves.
// A node pings once per heartbeat interval; pings beyond a generous allowance
// are not answered or counted, and a session that keeps flooding is closed,
// so a misbehaving client cannot spend the proxy's CPU on its lock.
func (r *Registry) serveSession(s *wsSession, name string) {
	conn := s.conn
	window := (kvapi.MissedBeats + 1) * r.opts.Heartbeat
	limit := newBeatLimit(r.opts.Heartbeat)
	alive := func() error {
		switch limit.take(time.Now()) {
		case beatFlood:
			return errPingFlood
		case beatDropped:
			return nil
		}
		r.sessionBeat(name, s)
		_ = conn.SetReadDeadline(time.Now().Add(window))
		return nil
	}
	_ = conn.SetReadDeadline(time.Now().Add(window))
	conn.SetPingHandler(func(data string) error {
		if err := alive(); err != nil {
			return err
		}
		err := conn.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(writeWait))
		var netErr net.Error
		if err == nil || errors.Is(err, websocket.ErrCloseSent) || errors.As(err, &netErr) && netErr.Timeout() {
			return nil
		}
		return err
	})
	conn.SetPongHandler(func(string) error { return alive() })
	for {
		typ, data, err := conn.ReadMessage()
		if err == nil {
			err = alive()
		}
		if errors.Is(err, errPingFlood) {
			r.log.Warn("closing a node websocket that floods the proxy with heartbeats", "node", name)
			s.close(websocket.ClosePolicyViolation, "too many heartbeats")
			return
		}
		if err != nil {
			r.log.Debug("node websocket closed", "node", name, "err", err)
			return
		}
		var msg nodeMessage
		if typ != websocket.TextMessage || json.Unmarshal(data, &msg) != nil {
			continue
		}
		switch msg.Type {
		case kvapi.LeaveType:
			r.sessionLeave(name, s, msg.Reason)
			s.close(websocket.CloseNormalClosure, "bye")
			return
		case kvapi.StatusType:
			r.sessionStatus(name, s, msg.Up, msg.Reason)
		}
	}
}

// nodeMessage is any message a node sends after its join: a kvapi.Leave or
// a kvapi.Status.
type nodeMessage struct {
	Type   string `json:"type"`
	Up     bool   `json:"up"`
	Reason string `json:"reason"`
}

// joinTimeout bounds a websocket join: the join message, the /health
// probe, and the contract check.
func (r *Registry) joinTimeout() time.Duration {
	d := r.opts.HandshakeTimeout + r.opts.JoinProbeTimeout
	if !r.opts.SkipContractCheck {
		d += r.opts.JoinProbeTimeout
	}
	return d
}

// sessionStatus applies a node's report of its own health (kvapi.Status)
// when the websocket s speaks for name: down with the node's reason, which
// heartbeats do not undo, or up again.
func (r *Registry) sessionStatus(name string, s *wsSession, up bool, why string) {
	var changes []Change
	r.update(func(d *delivery) error {
		e := r.byName[name]
		if e == nil || e.session != s {
			return nil
		}
		switch {
		case !up:
			e.nodeDown = true
			reason := cleanReason(why)
			if reason == "" {
				reason = reasonReported
			}
			r.markDown(e, reason, d)
		case e.nodeDown:
			e.nodeDown = false
			if e.relay && e.dialer == nil {
				r.markDown(e, reasonRelayWaiting, d)
			} else {
				r.beat(e, d)
			}
		}
		changes = d.changes
		return nil
	})
	for _, c := range changes {
		r.log.Info("node reports "+string(c.Kind), "node", name, "reason", c.Member.Reason)
	}
}

// sessionBeat records a heartbeat from the websocket s, if s still speaks for
// name.
func (r *Registry) sessionBeat(name string, s *wsSession) {
	r.update(func(d *delivery) error {
		if e := r.byName[name]; e != nil && e.session == s {
			r.beat(e, d)
		}
		return nil
	})
}

// sessionLeave marks name stopped when the websocket s speaks for it.
func (r *Registry) sessionLeave(name string, s *wsSession, why string) {
	left := false
	r.update(func(d *delivery) error {
		if e := r.byName[name]; e != nil && e.session == s {
			e.session = nil
			r.markDown(e, stoppedReason(why), d)
			left = true
		}
		return nil
	})
	if left {
		r.log.Info("node left", "node", name)
	}
}
