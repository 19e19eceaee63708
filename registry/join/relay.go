package join

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/kvclass/kvclass/kvapi"
	"github.com/kvclass/kvclass/relay"
	"github.com/kvclass/kvclass/serve"
)

// relayLoop keeps the node's relay to the proxy connected for as long as the
// session runs: it opens /registry/relay, proves the node with its secret,
// and serves Options.Handler over the relay until it drops, then connects
// again with backoff (the proxy may be restarting; a refusal is retried too,
// since the node may be rejoining at the same time).
func (s *Session) relayLoop() {
	defer close(s.relayDone)
	backoff := s.opts.MinBackoff
	for s.ctx.Err() == nil {
		start := time.Now()
		err := s.serveRelay()
		if s.ctx.Err() != nil {
			return
		}
		if time.Since(start) > 10*time.Second {
			backoff = s.opts.MinBackoff
		}
		wait := jitter(backoff)
		backoff = min(2*backoff, s.opts.MaxBackoff)
		var refused *Error
		if errors.As(err, &refused) && refused.Status == http.StatusUnprocessableEntity {
			// The node fails the contract: say so loudly, and keep trying,
			// so a student who fixes the server needs not restart this.
			s.log.Error("the proxy refused this node: fix your server and it connects again by itself", "why", refused.Message, "in", wait.Round(time.Millisecond).String())
		} else {
			s.log.Warn("the relay to the proxy dropped; connecting again", "why", err.Error(), "in", wait.Round(time.Millisecond).String())
		}
		select {
		case <-s.ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

// serveRelay is one relay connection: it returns why it ended.
func (s *Session) serveRelay() error {
	dialCtx, cancel := context.WithTimeout(s.ctx, s.opts.DialTimeout)
	ws, resp, err := s.dialer.DialContext(dialCtx, s.relayURL, s.header)
	cancel()
	if err != nil {
		if resp != nil {
			return responseError(resp, s.relayURL)
		}
		return fmt.Errorf("cannot reach the proxy's relay: %w", err)
	}
	stop := context.AfterFunc(s.ctx, func() { ws.Close() })
	defer stop()
	ws.SetReadLimit(64 << 10)
	_ = ws.SetWriteDeadline(time.Now().Add(s.opts.ReplyTimeout))
	if err := ws.WriteJSON(kvapi.RelayHello{Name: s.opts.Name, Secret: s.Secret()}); err != nil {
		ws.Close()
		return fmt.Errorf("cannot send the relay's hello: %w", err)
	}
	_ = ws.SetReadDeadline(time.Now().Add(s.opts.ReplyTimeout))
	var ans joinAnswer
	if err := ws.ReadJSON(&ans); err != nil {
		ws.Close()
		return fmt.Errorf("no answer to the relay's hello: %w", err)
	}
	if ans.Error != "" {
		ws.Close()
		return &Error{Status: ans.Status, Message: cleanMessage(ans.Error)}
	}
	_ = ws.SetReadDeadline(time.Time{})
	_ = ws.SetWriteDeadline(time.Time{})
	// The proxy checks the node over the relay, and closes it with
	// CloseRefused and the failing case when the node fails the contract.
	var refused atomic.Pointer[Error]
	ws.SetCloseHandler(func(code int, text string) error {
		if code == kvapi.CloseRefused {
			refused.Store(&Error{Status: http.StatusUnprocessableEntity, Message: cleanMessage(text)})
		}
		_ = ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, ""), time.Now().Add(time.Second))
		return nil
	})
	ln, err := relay.NewListener(ws, s.log)
	if err != nil {
		ws.Close()
		return err
	}
	s.log.Info("relay connected: the proxy reaches this node through it", "node", s.opts.Name)
	srv := serve.HTTPServer(s.opts.Handler, s.log)
	err = srv.Serve(ln)
	srv.Close()
	if r := refused.Load(); r != nil {
		return r
	}
	if errors.Is(err, http.ErrServerClosed) || s.ctx.Err() != nil {
		return errors.New("closed")
	}
	return fmt.Errorf("the relay ended: %w", err)
}
