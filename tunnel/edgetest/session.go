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
	raw       net.Conn // the TCP connection, to cut it without a clean close
	remote    string
	closeOnce sync.Once
	timer     *time.Timer // cuts a session that does not authenticate in time

	// Guarded by Edge.mu.
	authed    bool
	token     string
	clientID  string
	sessionID string
	// lost: the session ended without a clean close (or crashed); it keeps
	// counting and holding its endpoints until hold fires.
	lost bool
	hold *time.Timer
	// what the agent told about itself at auth
	clientType, version, userAgent, metadata               string
	heartbeat                                              time.Duration // interval + tolerance it announced
	stopUnsupported, restartUnsupported, updateUnsupported *string
}

// close cuts the session cleanly; the agent sees its session end.
func (s *session) close() {
	s.closeOnce.Do(func() {
		s.timer.Stop()
		_ = s.mux.Close()
	})
}

// cut drops the TCP connection without a clean close, as a crash or a dead
// network does.
func (s *session) cut() {
	s.closeOnce.Do(func() {
		s.timer.Stop()
		_ = s.raw.Close()
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
	s := &session{mux: mux, raw: raw, remote: raw.RemoteAddr().String()}
	s.timer = time.AfterFunc(authTimeout, s.close)
	if !e.addSession(s) {
		s.close()
		return
	}
	defer func() {
		s.close()
		// The agent's own clean close sends a GoAway frame first, which
		// muxado reports as the remote's error.
		_, remoteErr, _ := mux.Wait()
		e.endSession(s, remoteErr != nil)
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

// endSession handles the end of s's connection: a clean close (or a session
// that never authenticated) releases its endpoints at once; any other end
// leaves them held for the heartbeat tolerance.
func (e *Edge) endSession(s *session, clean bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, ok := e.sessions[s]; !ok || s.lost {
		return
	}
	if clean || !s.authed || e.closed {
		e.detachLocked(s)
		return
	}
	e.log.Info("edgetest agent lost without a clean close", "remote", s.remote, "client_id", s.clientID)
	e.loseLocked(s)
	e.changedLocked()
}

// loseLocked marks s lost: it keeps counting and holding its endpoints
// until its heartbeat tolerance runs out. Call with e.mu held.
func (e *Edge) loseLocked(s *session) {
	s.lost = true
	hold := e.opts.HeartbeatTolerance
	if hold <= 0 {
		hold = s.heartbeat
	}
	if hold <= 0 {
		hold = defaultHold
	}
	s.hold = time.AfterFunc(hold, func() {
		e.mu.Lock()
		defer e.mu.Unlock()
		if _, ok := e.sessions[s]; ok {
			e.log.Info("edgetest lost agent released", "client_id", s.clientID)
			e.detachLocked(s)
		}
	})
}

// detachLocked forgets s and takes its endpoints offline. Call with e.mu
// held.
func (e *Edge) detachLocked(s *session) {
	if _, ok := e.sessions[s]; !ok {
		return
	}
	delete(e.sessions, s)
	if s.hold != nil {
		s.hold.Stop()
	}
	for _, ep := range e.endpoints {
		if ep.sess == s {
			ep.sess = nil
			ep.offlineSince = time.Now()
			e.log.Info("edgetest endpoint offline", "url", ep.url, "id", ep.id)
		}
	}
	e.changedLocked()
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

// auth checks the agent's authtoken and its account's agent limit.
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
	token := req.Extra.Authtoken
	switch {
	case version == "":
		return reject(fmt.Sprintf("unsupported protocol versions %q", req.Version))
	case token == "":
		return reject(ngrokError(codeAuthtokenRequired,
			"Usage of ngrok requires a verified account and authtoken.\nSign up for an account: https://dashboard.ngrok.com/signup\nInstall your authtoken: https://dashboard.ngrok.com/get-started/your-authtoken"))
	case !e.tokenAccepted(token):
		return reject(ngrokError(codeAuthtokenInvalid,
			"The authtoken you specified is properly formed, but it is invalid.\nGo to your ngrok dashboard and double check that your authtoken is correct: https://dashboard.ngrok.com/get-started/your-authtoken"))
	}

	e.mu.Lock()
	if _, live := e.sessions[s]; !live {
		e.mu.Unlock()
		return authResp{Version: version, Error: "session closed"}
	}
	if req.ClientID != "" && e.crashed[req.ClientID] {
		e.mu.Unlock()
		return reject("edgetest: this agent crashed (Edge.CrashAgents); a crashed process does not reconnect")
	}
	// An agent that reconnects with its client id replaces its old session,
	// which may not have been noticed dead yet; its endpoints wait for the
	// re-bind by Id.
	var superseded []*session
	if req.ClientID != "" {
		for old := range e.sessions {
			if old != s && old.authed && old.token == token && old.clientID == req.ClientID {
				superseded = append(superseded, old)
				e.detachLocked(old)
			}
		}
	}
	if max := e.maxAgents(); !s.authed && max > 0 && e.agentsLocked(token, s) >= max {
		e.mu.Unlock()
		for _, old := range superseded {
			old.close()
		}
		return reject(ngrokError(codeAgentLimit, msgAgentLimit, max))
	}
	s.timer.Stop()
	s.authed = true
	s.token = token
	s.clientID = req.ClientID
	if s.clientID == "" {
		s.clientID = randomID("")
	}
	s.sessionID = randomID("ts_")
	x := req.Extra
	s.clientType, s.version, s.userAgent, s.metadata = x.ClientType, x.Version, x.UserAgent, x.Metadata
	s.heartbeat = time.Duration(x.HeartbeatInterval + x.HeartbeatTolerance)
	s.stopUnsupported, s.restartUnsupported, s.updateUnsupported = x.StopUnsupportedError, x.RestartUnsupportedError, x.UpdateUnsupportedError
	e.stats.Auths++
	e.changedLocked()
	e.mu.Unlock()
	for _, old := range superseded {
		old.close()
	}
	e.log.Info("edgetest agent authenticated", "remote", s.remote, "client_id", s.clientID, "client", x.UserAgent)
	return authResp{
		Version:  version,
		ClientID: s.clientID,
		Extra: authRespExtra{
			Version:        "edgetest",
			Region:         "local",
			AccountName:    "edgetest",
			PlanName:       "Free",
			AgentSessionID: s.sessionID,
		},
	}
}

// agentsLocked counts the authenticated sessions of token other than s,
// lost ones included. Call with e.mu held.
func (e *Edge) agentsLocked(token string, s *session) int {
	n := 0
	for o := range e.sessions {
		if o != s && o.authed && o.token == token {
			n++
		}
	}
	return n
}

// endpointsLocked counts the endpoints of token that a session serves or
// holds. Call with e.mu held.
func (e *Edge) endpointsLocked(token string) int {
	n := 0
	for _, ep := range e.endpoints {
		if ep.sess != nil && ep.token == token {
			n++
		}
	}
	return n
}

// bind creates an endpoint, or attaches an existing one to s: the same URL
// bound again after it went offline, or the same Id re-bound by an agent
// after a reconnect.
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
			return fail(ngrokError(codeDomainForeign, msgDomainForeign, u.Hostname()))
		}
	}

	e.mu.Lock()
	defer e.mu.Unlock()
	if !s.authed {
		return fail("the session is not authenticated")
	}
	if _, live := e.sessions[s]; !live || s.lost {
		return fail("session closed")
	}
	if refusal := e.refusals[s.token]; refusal != "" {
		return fail(refusal)
	}
	ngrokURL := requested
	if ngrokURL == "" {
		ngrokURL = DevDomain(s.token) // free plan: a bind without a URL gets the dev domain
	}

	var ep *endpoint
	if req.ID != "" {
		if byID := e.endpoints[req.ID]; byID != nil && byID.token == s.token {
			ep = byID
		}
	}
	if ep == nil {
		if held := e.byURL[ngrokURL]; held != nil {
			if held.token != s.token {
				u, _ := url.Parse(ngrokURL)
				return fail(ngrokError(codeDomainForeign, msgDomainForeign, u.Hostname()))
			}
			if held.sess != nil {
				return fail(ngrokError(codeEndpointOnline, msgEndpointOnline, ngrokURL))
			}
			ep = held
		}
	}
	if ep == nil || ep.sess == nil {
		if max := e.maxEndpoints(); max > 0 && e.endpointsLocked(s.token) >= max {
			return fail(ngrokError(codeEndpointLimit, msgEndpointLimit))
		}
	}
	if ep == nil {
		id := req.ID
		if id == "" || e.endpoints[id] != nil {
			id = randomID("")
		}
		ep, err = e.newEndpointLocked(id, s.token, ngrokURL)
		if err != nil {
			return fail(err.Error())
		}
	}
	// A re-bind after a reconnect may reach the edge before it noticed the
	// old session die; the newest session of the agent wins.
	ep.sess = s
	ep.requested = requested
	ep.description = req.Extra.Description
	e.stats.Binds++
	e.changedLocked()
	e.log.Info("edgetest endpoint online", "url", ep.url, "ngrok_url", ep.ngrokURL, "id", ep.id)
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
	e.changedLocked()
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
		if e.byURL[ep.ngrokURL] == ep {
			delete(e.byURL, ep.ngrokURL)
		}
		_ = ep.ln.Close()
	}
}
