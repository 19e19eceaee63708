package registry

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/websocket"

	"github.com/kvclass/kvclass/kvapi"
	"github.com/kvclass/kvclass/relay"
)

// ErrNoRelay is DialRelay's error while a relayed node's relay is not
// connected.
var ErrNoRelay = errors.New("the node's relay is not connected")

// DialRelay opens a connection to the HTTP server of the relayed node name,
// through its relay. The proxy's client of that node dials with it.
func (r *Registry) DialRelay(name string) (net.Conn, error) {
	r.mu.Lock()
	var d *relay.Dialer
	if e := r.byName[name]; e != nil && e.relay {
		d = e.dialer
	}
	r.mu.Unlock()
	if d == nil {
		return nil, ErrNoRelay
	}
	return d.Dial()
}

// RelayStreams returns how many connections are open over each relay, for
// the benchmarks and the page.
func (r *Registry) RelayStreams() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]int{}
	for name, e := range r.byName {
		if e.dialer != nil {
			out[name] = e.dialer.Streams()
		}
	}
	return out
}

// serveRelay runs one relayed node's relay: GET /registry/relay, a
// websocket whose first message proves the node (its name and join secret)
// and which then carries a yamux session over which the proxy dials the
// node's HTTP server. The node is up while its relay is connected and
// answers GET /health through it.
func (r *Registry) serveRelay(w http.ResponseWriter, req *http.Request) {
	addr := r.opts.ClientAddr(req)
	pendingDone, err := r.enterPending(addr)
	if err != nil {
		w.Header().Set("Retry-After", "1")
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

	ws, err := r.upgrader.Upgrade(w, req, nil)
	if err != nil {
		return // the upgrader answered
	}
	ws.SetReadLimit(maxBody)
	_ = ws.SetReadDeadline(time.Now().Add(r.opts.HandshakeTimeout))
	var hello kvapi.RelayHello
	err = ws.ReadJSON(&hello)
	pendingDone()
	if err == nil {
		err = r.relayAuth(hello)
	}
	_ = ws.SetWriteDeadline(time.Now().Add(writeWait))
	if err != nil {
		ref := asRefusal(err)
		if ref.Status == http.StatusInternalServerError {
			ref = refuse(http.StatusBadRequest, "the first message must be {\"name\", \"secret\"}")
		}
		_ = ws.WriteJSON(kvapi.RegistryError{Error: ref.Message, Status: ref.Status})
		_ = ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.ClosePolicyViolation, kvapi.Truncate(ref.Message, 120)), time.Now().Add(time.Second))
		ws.Close()
		return
	}
	if err := ws.WriteJSON(kvapi.JoinReply{Name: hello.Name}); err != nil {
		ws.Close()
		return
	}
	_ = ws.SetReadDeadline(time.Time{})
	_ = ws.SetWriteDeadline(time.Time{})
	d, err := relay.NewDialer(ws, r.log)
	if err != nil {
		ws.Close()
		return
	}
	// The node serves HTTP over the relay now: it must answer its health
	// check, as a node at a URL must at its join.
	probe := relayProbe(d, r.opts.JoinProbeTimeout)
	base := "http://" + relayName(hello.Name)
	ctx, cancel := context.WithTimeout(r.closeCtx, r.opts.JoinProbeTimeout)
	err = getHealth(ctx, probe, base, r.opts.UserAgent)
	cancel()
	if err != nil {
		r.log.Info("relay refused: the node does not answer through it", "node", hello.Name, "err", err)
		d.Close()
		return
	}
	// And pass the contract's cheap check, as a node at a URL must at its
	// join: a half-finished implementation gets none of the class's keys.
	ctx, cancel = context.WithTimeout(r.closeCtx, r.opts.JoinProbeTimeout+time.Second)
	err = r.checkContract(ctx, probe, base)
	cancel()
	if err != nil {
		r.refuseRelay(ws, d, hello, err)
		return
	}
	if !r.attachRelay(hello, d) {
		d.Close()
		return
	}
	r.log.Info("relay connected", "node", hello.Name, "addr", addr)
	select {
	case <-d.Done():
	case <-r.closeCtx.Done():
		d.Close()
	}
	r.detachRelay(hello.Name, d)
}

// refuseRelay ends a relay whose node failed the contract check (err): it
// marks the node down with the failing case, which the page shows, and
// closes the relay with kvapi.CloseRefused and a short text naming the case,
// which the node prints. The node connects again with backoff, so a
// student who fixes the server needs not restart the sidecar.
func (r *Registry) refuseRelay(ws *websocket.Conn, d *relay.Dialer, hello kvapi.RelayHello, err error) {
	ref := contractRefusal(err, `run "kvclass conform" against your server for every case`)
	r.log.Info("relay refused: the node fails the contract", "node", hello.Name, "why", ref.Message)
	short := reasonContract
	if id := contractCase(err); id != "" {
		short += " at " + id
	}
	r.update(func(dl *delivery) error {
		if e, err := r.nodeAuth(hello.Name, hello.Secret); err == nil && e.relay && e.dialer == nil {
			r.markDown(e, short+`: run "kvclass conform" against it`, dl)
		}
		return nil
	})
	text := "your node " + short + `: run "kvclass conform" against your server`
	_ = ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(kvapi.CloseRefused, kvapi.Truncate(text, 120)), time.Now().Add(time.Second))
	d.Close()
}

// relayAuth checks a relay's hello: a joined node that joined for the relay,
// with its secret.
func (r *Registry) relayAuth(hello kvapi.RelayHello) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, err := r.nodeAuth(hello.Name, hello.Secret)
	if err != nil {
		return err
	}
	if !e.relay {
		return refuse(http.StatusConflict, "node %q joined at a URL, not for the relay; join with --relay", hello.Name)
	}
	return nil
}

// attachRelay makes d the relay of the node, replacing an older one, and
// marks the node up when it heartbeats. It reports false when the node is no
// longer a relayed member with that secret.
func (r *Registry) attachRelay(hello kvapi.RelayHello, d *relay.Dialer) bool {
	ok := false
	r.update(func(dl *delivery) error {
		e, err := r.nodeAuth(hello.Name, hello.Secret)
		if err != nil || !e.relay {
			return nil
		}
		if e.dialer != nil {
			dl.closers = append(dl.closers, e.dialer)
		}
		e.dialer, ok = d, true
		e.relayGen++
		dl.listChanged = true
		if !e.up && (e.reason == reasonRelayWaiting || e.reason == reasonRelayLost || strings.HasPrefix(e.reason, reasonContract)) {
			r.beat(e, dl)
		}
		return nil
	})
	return ok
}

// detachRelay forgets d when it is still the node's relay, and marks the
// node down unless it already is (it left).
func (r *Registry) detachRelay(name string, d *relay.Dialer) {
	r.update(func(dl *delivery) error {
		e := r.byName[name]
		if e == nil || e.dialer != d {
			return nil
		}
		e.dialer = nil
		if e.up {
			r.markDown(e, reasonRelayLost, dl)
		}
		return nil
	})
	r.log.Info("relay disconnected", "node", name)
}

// relayProbe is an HTTP client that reaches a node through its relay.
func relayProbe(d *relay.Dialer, timeout time.Duration) *http.Client {
	return &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			DialContext:           func(context.Context, string, string) (net.Conn, error) { return d.Dial() },
			ResponseHeaderTimeout: timeout,
			DisableKeepAlives:     true,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// relayName is the host a relayed node is called by in requests.
func relayName(name string) string { return fmt.Sprintf("%s.relay", name) }
