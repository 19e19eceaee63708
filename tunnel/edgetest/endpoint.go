package edgetest

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"golang.ngrok.com/muxado/v2"
)

// endpoint is one bound endpoint: a loopback port whose connections go to the
// agent session that serves it.
type endpoint struct {
	id       string
	tunnelID string
	token    string // the account it belongs to
	url      string // http://127.0.0.1:PORT
	ngrokURL string // normalised URL ngrok would show: the requested URL or the dev domain
	ln       net.Listener

	// Guarded by Edge.mu.
	requested    string   // normalised URL the agent asked for at its last bind, or ""
	description  string   // the description of its last bind
	sess         *session // nil while offline; a lost session while held
	offlineSince time.Time
}

// newEndpointLocked opens the loopback port of a new endpoint and starts
// serving it. Call with e.mu held.
func (e *Edge) newEndpointLocked(id, token, ngrokURL string) (*endpoint, error) {
	e.evictLocked()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("edgetest: open endpoint port: %w", err)
	}
	ep := &endpoint{
		id:       id,
		tunnelID: randomID("tn_"),
		token:    token,
		url:      "http://" + ln.Addr().String(),
		ngrokURL: ngrokURL,
		ln:       ln,
	}
	e.endpoints[id] = ep
	e.byURL[ngrokURL] = ep
	e.wg.Add(1)
	go e.serveEndpoint(ep)
	return ep, nil
}

// serveEndpoint accepts public connections on ep's port until it closes.
func (e *Edge) serveEndpoint(ep *endpoint) {
	e.acceptLoop(ep.ln, ep.url, func(conn net.Conn) { e.forward(ep, conn) })
}

// forward carries one public connection to the agent as a proxy stream, or
// answers ERR_NGROK_3200 when no agent serves the endpoint.
func (e *Edge) forward(ep *endpoint, conn net.Conn) {
	e.mu.Lock()
	s := ep.sess
	if s != nil && s.lost {
		s = nil // the edge has not noticed yet; the stream cannot open
	}
	e.mu.Unlock()
	if s == nil {
		answerOffline(ep, conn)
		return
	}
	stream, err := s.mux.OpenTypedStream(streamProxy)
	if err != nil {
		answerOffline(ep, conn)
		return
	}
	defer stream.Close()
	hdr, err := json.Marshal(proxyHeader{ID: ep.id, ClientAddr: conn.RemoteAddr().String(), Proto: "http"})
	if err != nil {
		return
	}
	_ = stream.SetWriteDeadline(time.Now().Add(rpcTimeout))
	if err := binary.Write(stream, binary.LittleEndian, int64(len(hdr))); err != nil {
		answerOffline(ep, conn)
		return
	}
	if _, err := stream.Write(hdr); err != nil {
		answerOffline(ep, conn)
		return
	}
	_ = stream.SetWriteDeadline(time.Time{})
	pipe(conn, stream)
}

// pipe copies both ways between a public connection and a proxy stream,
// passing half-closes on, until both directions end or either side fails.
func pipe(conn net.Conn, stream muxado.Stream) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		if _, err := io.Copy(stream, conn); err != nil {
			_ = conn.Close()
			_ = stream.Close()
			return
		}
		_ = stream.CloseWrite()
	}()
	if _, err := io.Copy(conn, stream); err != nil {
		_ = conn.Close()
		_ = stream.Close()
	} else if cw, ok := conn.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
	}
	<-done
}

// answerOffline reads the request on conn and answers what ngrok's edge
// answers for an endpoint with no agent: 404 with Ngrok-Error-Code.
func answerOffline(ep *endpoint, conn net.Conn) {
	_ = conn.SetDeadline(time.Now().Add(offlineTimeout))
	req, err := http.ReadRequest(bufio.NewReader(conn))
	if err != nil {
		return
	}
	// Read what is left of a small body, so closing does not reset the
	// connection under the answer.
	_, _ = io.Copy(io.Discard, io.LimitReader(req.Body, 64<<10))
	_ = req.Body.Close()

	body := fmt.Sprintf("The endpoint %s is offline.\n\n%s\n", ep.ngrokURL, codeEndpointOffline)
	resp := &http.Response{
		StatusCode:    http.StatusNotFound,
		ProtoMajor:    1,
		ProtoMinor:    1,
		Request:       req,
		Header:        http.Header{},
		ContentLength: int64(len(body)),
		Body:          io.NopCloser(strings.NewReader(body)),
		Close:         true,
	}
	resp.Header.Set("Ngrok-Error-Code", codeEndpointOffline)
	resp.Header.Set("Content-Type", "text/plain; charset=utf-8")
	if err := resp.Write(conn); err != nil {
		return
	}
	if cw, ok := conn.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
	}
	// Wait briefly for the client to close its side first.
	_, _ = io.Copy(io.Discard, io.LimitReader(conn, 64<<10))
}
