package join

// This file holds one join over the websocket and the HTTP leave.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/gorilla/websocket"

	"github.com/kvclass/kvclass/kvapi"
	"github.com/kvclass/kvclass/tunnel"
)

// joinAnswer is either a kvapi.JoinReply or an kvapi.RegistryError.
type joinAnswer struct {
	kvapi.JoinReply
	Error  string `json:"error"`
	Status int    `json:"status"`
}

// dialJoin opens the websocket and sends the join; it returns the admitted
// connection and the heartbeat interval to ping at.
func (s *Session) dialJoin(ctx context.Context) (*websocket.Conn, time.Duration, error) {
	s.mu.Lock()
	req := kvapi.JoinRequest{Name: s.opts.Name, URL: s.url, Token: s.opts.Token, Secret: s.secret, Relay: s.opts.Relay, Own: s.opts.Own}
	s.mu.Unlock()
	dialCtx, cancel := context.WithTimeout(ctx, s.opts.DialTimeout)
	conn, resp, err := s.dialer.DialContext(dialCtx, s.wsURL, s.header)
	cancel()
	if err != nil {
		if resp != nil {
			return nil, 0, responseError(resp, s.wsURL)
		}
		return nil, 0, fmt.Errorf("cannot reach the proxy at %s: %w", s.opts.Proxy, err)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	fail := func(err error) (*websocket.Conn, time.Duration, error) {
		stop()
		_ = conn.Close()
		if ctx.Err() != nil {
			return nil, 0, ctx.Err()
		}
		return nil, 0, err
	}
	conn.SetReadLimit(64 << 10)
	deadline := time.Now().Add(s.opts.ReplyTimeout)
	_ = conn.SetWriteDeadline(deadline)
	if err := conn.WriteJSON(req); err != nil {
		return fail(fmt.Errorf("cannot send the join: %w", err))
	}
	_ = conn.SetReadDeadline(deadline)
	_, data, err := conn.ReadMessage()
	if err != nil {
		if websocket.IsCloseError(err, kvapi.CloseKicked) {
			return fail(ErrKicked)
		}
		return fail(fmt.Errorf("no answer to the join: %w", err))
	}
	var ans joinAnswer
	if err := json.Unmarshal(data, &ans); err != nil {
		return fail(errors.New("the proxy answered the join with something that is not JSON: is this a kvclass proxy?"))
	}
	if ans.Error != "" {
		status := ans.Status
		if status == 0 {
			status = http.StatusBadRequest
		}
		return fail(&Error{Status: status, Message: cleanMessage(ans.Error)})
	}
	if ans.Name != req.Name || !kvapi.ValidSecret(ans.Secret) {
		return fail(errors.New("the proxy's answer to the join is malformed"))
	}
	if !stop() {
		_ = conn.Close()
		return nil, 0, ctx.Err()
	}
	_ = conn.SetReadDeadline(time.Time{})
	_ = conn.SetWriteDeadline(time.Time{})
	s.mu.Lock()
	s.secret = ans.Secret
	s.mu.Unlock()
	hb := time.Duration(ans.HeartbeatMS) * time.Millisecond
	if hb <= 0 {
		hb = fallbackHeartbeat
	}
	return conn, min(max(hb, 10*time.Millisecond), 10*time.Minute), nil
}

// responseError turns a refused websocket handshake into a *Error.
func responseError(resp *http.Response, wsURL string) error {
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	var e kvapi.RegistryError
	msg := ""
	switch {
	case json.Unmarshal(body, &e) == nil && e.Error != "":
		msg = e.Error
	case resp.Header.Get(tunnel.ErrorCodeHeader) != "":
		msg = tunnel.ExplainEdgeCode(resp.Header.Get(tunnel.ErrorCodeHeader), wsURL)
	case resp.StatusCode == http.StatusNotFound:
		msg = "no kvclass registry at " + wsURL + ": is --join the proxy's URL?"
	default:
		msg = http.StatusText(resp.StatusCode)
		if msg == "" {
			msg = "unexpected answer"
		}
	}
	refused := &Error{Status: resp.StatusCode, Message: cleanMessage(msg)}
	if secs, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && secs > 0 {
		refused.RetryAfter = min(time.Duration(secs)*time.Second, time.Minute)
	}
	return refused
}

// leaveOn sends the leave over conn and waits for the proxy's goodbye,
// falling back to POST /registry/leave.
func (s *Session) leaveOn(ctx context.Context, conn *websocket.Conn, readerDone <-chan error) error {
	deadline := time.Now().Add(writeWait)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	_ = conn.SetWriteDeadline(deadline)
	err := conn.WriteJSON(kvapi.Leave{Type: kvapi.LeaveType, Reason: s.reason()})
	if err == nil {
		select {
		case rerr := <-readerDone:
			_ = conn.Close()
			if websocket.IsCloseError(rerr, websocket.CloseNormalClosure) {
				s.log.Info("left the proxy", "node", s.opts.Name)
				return nil
			}
			err = describeClose(rerr, 0)
		case <-ctx.Done():
			_ = conn.Close()
			<-readerDone
			return fmt.Errorf("leave: %w", ctx.Err())
		}
	} else {
		_ = conn.Close()
		<-readerDone
	}
	s.log.Warn("leaving over the websocket failed; trying HTTP", "why", err.Error())
	return s.postLeave(ctx)
}

// reason is why the node leaves, "" for its owner's Ctrl-C.
func (s *Session) reason() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return kvapi.Truncate(s.leaveReason, kvapi.MaxReasonLen)
}

// postLeave is POST /registry/leave.
func (s *Session) postLeave(ctx context.Context) error {
	body, _ := json.Marshal(kvapi.NodeRequest{Name: s.opts.Name, Secret: s.Secret(), Reason: s.reason()})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.leaveURL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("leave: %w", err)
	}
	req.Header = s.header.Clone()
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("leave: cannot reach the proxy: %w", err)
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
		s.log.Info("left the proxy", "node", s.opts.Name)
		return nil
	case http.StatusNotFound:
		s.log.Info("the proxy does not know this node; nothing to leave", "node", s.opts.Name)
		return nil
	}
	return fmt.Errorf("leave: %w", responseError(resp, s.leaveURL))
}

// maxMessage bounds the text from the proxy that a node prints: room for a
// contract refusal, which quotes the failing request and its answer.
const maxMessage = 600

// cleanMessage makes text from the proxy safe for a terminal: no control
// characters (escape sequences), at most maxMessage bytes.
func cleanMessage(msg string) string {
	msg = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == unicode.ReplacementChar {
			return ' '
		}
		return r
	}, msg)
	return kvapi.Truncate(strings.TrimSpace(msg), maxMessage)
}

// jitter returns a wait between d/2 and d.
func jitter(d time.Duration) time.Duration {
	if d <= 1 {
		return d
	}
	return d/2 + time.Duration(mrand.Int64N(int64(d/2)+1))
}
