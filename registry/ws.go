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
	if r.pendingWS.Add(1) > int64(2*r.opts.MaxNodes) {
		r.pendingWS.Add(-1)
		writeError(w, http.StatusServiceUnavailable, "too many nodes are joining at once; try again")
		return
	}
	pendingDone := sync.OnceFunc(func() { r.pendingWS.Add(-1) })
	defer pendingDone()
	addr := r.opts.ClientAddr(req)

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
		ctx, cancel := context.WithTimeout(r.closeCtx, r.opts.HandshakeTimeout+r.opts.ProbeTimeout)
		reply, err = r.join(ctx, jr, addr, s, r.opts.Heartbeat)
		cancel()
	}
	pendingDone()
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

// serveSession reads heartbeats until the connection ends or the node leaves.
func (r *Registry) serveSession(s *wsSession, name string) {
	conn := s.conn
	window := (kvapi.MissedBeats + 1) * r.opts.Heartbeat
	alive := func() {
		r.sessionBeat(name, s)
		_ = conn.SetReadDeadline(time.Now().Add(window))
	}
	_ = conn.SetReadDeadline(time.Now().Add(window))
	conn.SetPingHandler(func(data string) error {
		alive()
		err := conn.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(writeWait))
		var netErr net.Error
		if err == nil || errors.Is(err, websocket.ErrCloseSent) || errors.As(err, &netErr) && netErr.Timeout() {
			return nil
		}
		return err
	})
	conn.SetPongHandler(func(string) error { alive(); return nil })
	for {
		typ, data, err := conn.ReadMessage()
		if err != nil {
			r.log.Debug("node websocket closed", "node", name, "err", err)
			return
		}
		alive()
		var msg struct {
			Type string `json:"type"`
		}
		if typ == websocket.TextMessage && json.Unmarshal(data, &msg) == nil && msg.Type == kvapi.LeaveType {
			r.sessionLeave(name, s)
			s.close(websocket.CloseNormalClosure, "bye")
			return
		}
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
func (r *Registry) sessionLeave(name string, s *wsSession) {
	left := false
	r.update(func(d *delivery) error {
		if e := r.byName[name]; e != nil && e.session == s {
			e.session = nil
			r.markDown(e, reasonStopped, d)
			left = true
		}
		return nil
	})
	if left {
		r.log.Info("node left", "node", name)
	}
}
