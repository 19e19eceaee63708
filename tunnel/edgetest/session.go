package edgetest

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/url"
	"slices"
	"sync"
	"time"

	"golang.ngrok.com/muxado/v2"
)

// session is one connected agent.
type session struct {
	mux       *muxado.Heartbeat
	remote    string
	closeOnce sync.Once
	timer     *time.Timer // cuts a session that does not authenticate in time

	// Guarded by Edge.mu.
	authed   bool
	clientID string
}

// close cuts the session; the agent sees its connection drop.
func (s *session) close() {
	s.closeOnce.Do(func() {
		s.timer.Stop()
		_ = s.mux.Close()
	})
}

// serveAgent runs one agent connection: TLS, then a muxado server session
// whose streams are RPCs until the connection ends.
func (e *Edge) serveAgent(raw net.Conn) {
	conn := tls.Server(raw, e.tls)
	ctx, cancel := context.WithTimeout(context.Background(), handshakeTimeout)
	err := conn.HandshakeContext(ctx)
	cancel()
	if err != nil {
		e.log.Debug("edgetest agent TLS handshake failed", "remote", raw.RemoteAddr().String(), "err", err)
		return
	}

	// Wrapping the session in muxado's heartbeat type echoes the agent's
	// heartbeats (stream type 0xFFFFFFFF); without the echo the agent
	// reconnects every heartbeat interval plus tolerance. The edge does not
	// send heartbeats of its own, so Start is not called.
	mux := muxado.NewHeartbeat(muxado.NewTypedStreamSession(muxado.Server(conn, nil)), func(time.Duration, bool) {}, nil)
	s := &session{mux: mux, remote: raw.RemoteAddr().String()}
	s.timer = time.AfterFunc(authTimeout, s.close)
	if !e.addSession(s) {
		s.close()
		return
	}
	defer func() {
		s.close()
		e.removeSession(s)
	}()

	for {
		stream, err := mux.AcceptTypedStream()
		if err != nil {
			e.log.Debug("edgetest agent session ended", "remote", s.remote, "err", err)
			return
		}
		e.wg.Add(1)
		go func() {
			defer e.wg.Done()
			defer stream.Close()
			e.serveRPC(s, stream)
		}()
	}
}

// addSession records s; it reports false once the edge is closed.
func (e *Edge) addSession(s *session) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return false
	}
	e.sessions[s] = struct{}{}
	return true
}

// removeSession forgets s and takes its endpoints offline.
func (e *Edge) removeSession(s *session) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.detachLocked(s)
}

// detachLocked forgets s and takes its endpoints offline. Call with e.mu held.
func (e *Edge) detachLocked(s *session) {
	if _, ok := e.sessions[s]; !ok {
		return
	}
	delete(e.sessions, s)
	for _, ep := range e.endpoints {
		if ep.sess == s {
			ep.sess = nil
			ep.offlineSince = time.Now()
			e.log.Info("edgetest endpoint offline", "url", ep.url, "id", ep.id)
		}
	}
}

// serveRPC answers one RPC stream.
func (e *Edge) serveRPC(s *session, stream muxado.TypedStream) {
	_ = stream.SetDeadline(time.Now().Add(rpcTimeout))
	dec := json.NewDecoder(io.LimitReader(stream, maxRPCBytes))
	var resp any
	switch stream.StreamType() {
	case streamAuth:
		var req authReq
		if err := dec.Decode(&req); err != nil {
			resp = authResp{Error: malformed(err)}
			break
		}
		resp = e.auth(s, req)
	case streamSrvInfo:
		resp = srvInfoResp{Region: "local"}
	case streamBind:
		var req bindReq
		if err := dec.Decode(&req); err != nil {
			resp = bindResp{Error: malformed(err)}
			break
		}
		resp = e.bind(s, req)
	case streamUnbind:
		var req unbindReq
		if err := dec.Decode(&req); err != nil {
			resp = errorResp{Error: malformed(err)}
			break
		}
		resp = e.unbind(s, req)
	case streamPatchTunnelState:
		var req json.RawMessage
		if err := dec.Decode(&req); err != nil {
			resp = errorResp{Error: malformed(err)}
			break
		}
		resp = errorResp{}
	default:
		// Streams this edge does not offer (agent metrics, labels): the
		// agent only opens them when the edge advertised them.
		return
	}
	if err := json.NewEncoder(stream).Encode(resp); err != nil {
		e.log.Debug("edgetest RPC answer failed", "remote", s.remote, "err", err)
	}
}

// malformed is the error text for a request that is not valid JSON.
func malformed(err error) string {
	return "Failed to deserialize request payload: " + err.Error()
}

// auth checks the agent's authtoken and the session limit.
func (e *Edge) auth(s *session, req authReq) authResp {
	version := ""
	for _, v := range req.Version {
		if v == "3" || v == "2" {
			version = v
			break
		}
	}
	reject := func(msg string) authResp {
		// The agent closes a rejected session itself; cut it soon anyway.
		s.timer.Reset(authFailedLinger)
		e.log.Info("edgetest rejected agent", "remote", s.remote, "reason", msg)
		return authResp{Version: version, Error: msg}
	}
	switch {
	case version == "":
		return reject(fmt.Sprintf("unsupported protocol versions %q", req.Version))
	case req.Extra.Authtoken == "":
		return reject(ngrokError(codeAuthtokenRequired,
			"Usage of ngrok requires a verified account and authtoken.\nSign up for an account: https://dashboard.ngrok.com/signup\nInstall your authtoken: https://dashboard.ngrok.com/get-started/your-authtoken"))
	case !e.tokenAccepted(req.Extra.Authtoken):
		return reject(ngrokError(codeAuthtokenInvalid,
			"The authtoken you specified is properly formed, but it is invalid.\nGo to your ngrok dashboard and double check that your authtoken is correct: https://dashboard.ngrok.com/get-started/your-authtoken"))
	}

	e.mu.Lock()
	defer e.mu.Unlock()
	if _, live := e.sessions[s]; !live {
		return authResp{Version: version, Error: "session closed"}
	}
	if !s.authed && e.opts.MaxSessions > 0 && e.authedLocked() >= e.opts.MaxSessions {
		s.timer.Reset(authFailedLinger)
		e.log.Info("edgetest rejected agent", "remote", s.remote, "reason", "agent limit")
		return authResp{Version: version, Error: ngrokError(codeAgentLimit,
			"Your account is limited to %d simultaneous ngrok agent sessions.\nYou can view your current agent sessions in the dashboard: https://dashboard.ngrok.com/agents", e.opts.MaxSessions)}
	}
	s.timer.Stop()
	s.authed = true
	s.clientID = req.ClientID
	if s.clientID == "" {
		s.clientID = randomID("")
	}
	e.log.Info("edgetest agent authenticated", "remote", s.remote, "client_id", s.clientID)
	return authResp{
		Version:  version,
		ClientID: s.clientID,
		Extra: authRespExtra{
			Version:        "edgetest",
			Region:         "local",
			AccountName:    "edgetest",
			PlanName:       "Free",
			AgentSessionID: randomID("ts_"),
		},
	}
}

// authedLocked counts authenticated sessions. Call with e.mu held.
func (e *Edge) authedLocked() int {
	n := 0
	for s := range e.sessions {
		if s.authed {
			n++
		}
	}
	return n
}

// onlineLocked counts endpoints served by a session. Call with e.mu held.
func (e *Edge) onlineLocked() int {
	n := 0
	for _, ep := range e.endpoints {
		if ep.sess != nil {
			n++
		}
	}
	return n
}

// bind creates an endpoint, or attaches an existing one to s when the agent
// re-binds it by Id after a reconnect.
func (e *Edge) bind(s *session, req bindReq) bindResp {
	fail := func(msg string) bindResp {
		e.log.Info("edgetest refused bind", "remote", s.remote, "url", req.Opts.URL, "reason", msg)
		return bindResp{Error: msg}
	}
	if req.Proto != "http" && req.Proto != "https" {
		return fail(fmt.Sprintf("edgetest serves http and https endpoints only, not %q", req.Proto))
	}
	requested, err := normalizeURL(req.Opts.URL)
	if err != nil {
		return fail(err.Error())
	}
	if requested != "" {
		u, _ := url.Parse(requested)
		if e.foreignDomain(u.Hostname()) {
			return fail(ngrokError(codeDomainForeign,
				"This domain is reserved for another account.\nFailed to create an endpoint with the domain %s for the account edgetest.\nReserve a name on your dashboard: https://dashboard.ngrok.com/domains/new", u.Hostname()))
		}
	}

	e.mu.Lock()
	defer e.mu.Unlock()
	if !s.authed {
		return fail("the session is not authenticated")
	}
	if _, live := e.sessions[s]; !live {
		return fail("session closed")
	}

	var ep *endpoint
	if req.ID != "" {
		ep = e.endpoints[req.ID]
	}
	if ep == nil && requested != "" {
		if held := e.byURL[requested]; held != nil {
			if held.sess != nil {
				return fail(ngrokError(codeEndpointOnline,
					"The endpoint '%s' is already online. Either\n1. stop your existing endpoint first, or\n2. start both endpoints with `--pooling-enabled` to load balance between them.", req.Opts.URL))
			}
			ep = held
		}
	}
	if ep == nil || ep.sess == nil {
		if e.opts.MaxEndpoints > 0 && e.onlineLocked() >= e.opts.MaxEndpoints {
			return fail(ngrokError(codeEndpointLimit,
				"You have exceeded the maximum number of concurrent endpoints allowed for this account (%d).\nLog into https://dashboard.ngrok.com/billing to review your usage.", e.opts.MaxEndpoints))
		}
	}
	if ep == nil {
		id := req.ID
		if id == "" {
			id = randomID("")
		}
		ep, err = e.newEndpointLocked(id, requested)
		if err != nil {
			return fail(err.Error())
		}
	}
	// A re-bind after a reconnect may reach the edge before it noticed the
	// old session die; the newest session of the agent wins.
	ep.sess = s
	e.log.Info("edgetest endpoint online", "url", ep.url, "id", ep.id, "requested", req.Opts.URL)
	return bindResp{
		ID:    ep.id,
		URL:   ep.url,
		Proto: req.Proto,
		Opts:  bindRespOpts{URL: ep.url},
		Extra: bindRespExtra{TunnelID: ep.tunnelID},
	}
}

// unbind takes the endpoint with the given Id offline.
func (e *Edge) unbind(s *session, req unbindReq) errorResp {
	e.mu.Lock()
	defer e.mu.Unlock()
	ep := e.endpoints[req.ID]
	if ep == nil || ep.sess != s {
		return errorResp{Error: fmt.Sprintf("no endpoint with Id %q on this session", req.ID)}
	}
	ep.sess = nil
	ep.offlineSince = time.Now()
	e.log.Info("edgetest endpoint unbound", "url", ep.url, "id", ep.id)
	return errorResp{}
}

// evictLocked closes the longest-offline endpoints beyond maxEndpointsKept,
// so a long rehearsal with many restarts holds a bounded number of ports.
// Call with e.mu held.
func (e *Edge) evictLocked() {
	if len(e.endpoints) < maxEndpointsKept {
		return
	}
	offline := make([]*endpoint, 0, len(e.endpoints))
	for _, ep := range e.endpoints {
		if ep.sess == nil {
			offline = append(offline, ep)
		}
	}
	slices.SortFunc(offline, func(a, b *endpoint) int { return a.offlineSince.Compare(b.offlineSince) })
	for _, ep := range offline {
		if len(e.endpoints) < maxEndpointsKept {
			return
		}
		delete(e.endpoints, ep.id)
		if ep.requested != "" && e.byURL[ep.requested] == ep {
			delete(e.byURL, ep.requested)
		}
		_ = ep.ln.Close()
	}
}
