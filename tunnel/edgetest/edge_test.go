package edgetest

import (
	"bufio"
	"crypto/tls"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.ngrok.com/muxado/v2"

	"github.com/kvclass/kvclass/internal/testwait"
)

// rawAgent speaks the wire protocol by hand, to check the edge without the
// SDK's retries and to send what the SDK never would.
type rawAgent struct {
	t    *testing.T
	conn net.Conn
	mux  muxado.TypedStreamSession
}

func dialAgent(t *testing.T, e *Edge) *rawAgent {
	t.Helper()
	conn, err := tls.Dial("tcp", e.ConnectAddr(), &tls.Config{RootCAs: e.CAs(), ServerName: "127.0.0.1"})
	if err != nil {
		t.Fatalf("dial edge: %v", err)
	}
	a := &rawAgent{t: t, conn: conn, mux: muxado.NewTypedStreamSession(muxado.Client(conn, nil))}
	t.Cleanup(func() { _ = a.mux.Close() })
	return a
}

// call sends req (a value, or raw bytes) on a new stream of type typ and
// decodes the answer into resp. It returns an error (io.EOF or a stream
// reset) when the edge closed the stream without answering.
func (a *rawAgent) call(typ muxado.StreamType, req, resp any) error {
	a.t.Helper()
	stream, err := a.mux.OpenTypedStream(typ)
	if err != nil {
		return err
	}
	defer stream.Close()
	_ = stream.SetDeadline(time.Now().Add(5 * time.Second))
	body, ok := req.([]byte)
	if !ok {
		if body, err = json.Marshal(req); err != nil {
			return err
		}
	}
	if _, err := stream.Write(body); err != nil {
		return err
	}
	return json.NewDecoder(stream).Decode(resp)
}

func (a *rawAgent) auth(token string) authResp {
	a.t.Helper()
	return a.authAs(token, "")
}

// authAs authenticates with a client id, as a reconnecting agent does.
func (a *rawAgent) authAs(token, clientID string) authResp {
	a.t.Helper()
	var req authReq
	req.ClientID = clientID
	req.Version = []string{"3", "2"}
	req.Extra.Authtoken = token
	var resp authResp
	if err := a.call(streamAuth, req, &resp); err != nil {
		a.t.Fatalf("auth: %v", err)
	}
	return resp
}

func (a *rawAgent) bind(id, url string) bindResp {
	a.t.Helper()
	req := bindReq{ID: id, Proto: "https"}
	req.Opts.URL = url
	var resp bindResp
	if err := a.call(streamBind, req, &resp); err != nil {
		a.t.Fatalf("bind: %v", err)
	}
	return resp
}

func startEdge(t *testing.T, opts Options) *Edge {
	t.Helper()
	e, err := Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close() })
	return e
}

func TestRejectsWhatTheSDKNeverSends(t *testing.T) {
	e := startEdge(t, Options{Authtokens: []string{"good"}})
	a := dialAgent(t, e)

	var bind bindResp
	if err := a.call(streamBind, bindReq{Proto: "https"}, &bind); err != nil || bind.Error == "" {
		t.Errorf("bind before auth = %+v, %v; want an error answer", bind, err)
	}
	var auth authResp
	if err := a.call(streamAuth, []byte("{not json"), &auth); err != nil || !strings.Contains(auth.Error, "deserialize") {
		t.Errorf("malformed auth = %+v, %v", auth, err)
	}
	auth = authResp{}
	if err := a.call(streamAuth, authReq{Version: []string{"9"}}, &auth); err != nil || auth.Error == "" {
		t.Errorf("auth with an unknown version = %+v, %v", auth, err)
	}
	var none errorResp
	if err := a.call(42, []byte("{}"), &none); err == nil {
		t.Errorf("unknown stream type answered %+v, %v; want the stream closed", none, err)
	}
	var info srvInfoResp
	if err := a.call(streamSrvInfo, struct{}{}, &info); err != nil || info.Region != "local" {
		t.Errorf("SrvInfo = %+v, %v", info, err)
	}
	if resp := a.auth("bad"); !strings.Contains(resp.Error, codeAuthtokenInvalid) {
		t.Errorf("bad token: %+v", resp)
	}
	if resp := a.auth(""); !strings.Contains(resp.Error, codeAuthtokenRequired) {
		t.Errorf("empty token: %+v", resp)
	}

	// A well-behaved agent is still served.
	b := dialAgent(t, e)
	if resp := b.auth("good"); resp.Error != "" || resp.ClientID == "" || resp.Version != "3" {
		t.Fatalf("auth = %+v", resp)
	}
	req := bindReq{Proto: "tcp"}
	var tcp bindResp
	if err := b.call(streamBind, req, &tcp); err != nil || tcp.Error == "" {
		t.Errorf("tcp bind = %+v, %v; want refused", tcp, err)
	}
	if resp := b.bind("", ""); resp.Error != "" || resp.ID == "" || !strings.HasPrefix(resp.URL, "http://127.0.0.1:") {
		t.Errorf("bind = %+v", resp)
	}
	if e.Sessions() != 1 {
		t.Errorf("Sessions = %d, want 1", e.Sessions())
	}
}

func TestGarbageOnThePortsDoesNotHurt(t *testing.T) {
	e := startEdge(t, Options{})
	// Not TLS at all.
	c, err := net.Dial("tcp", e.ConnectAddr())
	if err != nil {
		t.Fatal(err)
	}
	_, _ = c.Write([]byte("GET / HTTP/1.1\r\n\r\n"))
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, _ = io.Copy(io.Discard, c)
	c.Close()

	// Not HTTP on an offline endpoint's port.
	a := dialAgent(t, e)
	a.auth("x")
	ep := a.bind("", "")
	_ = a.mux.Close()
	testwait.For(t, "the sessions to end", func() bool { return e.Sessions() == 0 })
	c, err = net.Dial("tcp", strings.TrimPrefix(ep.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	_, _ = c.Write([]byte("\x00\x01garbage\r\n\r\n"))
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, _ := io.Copy(io.Discard, c); n != 0 {
		t.Errorf("garbage got %d bytes of answer", n)
	}
	c.Close()

	// The edge still works.
	b := dialAgent(t, e)
	if resp := b.auth("x"); resp.Error != "" {
		t.Fatalf("auth after garbage: %+v", resp)
	}
}

func TestProxiesConnectionsOverTheWire(t *testing.T) {
	e := startEdge(t, Options{})
	a := dialAgent(t, e)
	a.auth("x")
	ep := a.bind("", "")

	// The agent side: accept the proxy stream, check its header, answer.
	served := make(chan error, 1)
	go func() {
		stream, err := a.mux.AcceptTypedStream()
		if err != nil {
			served <- err
			return
		}
		defer stream.Close()
		if stream.StreamType() != streamProxy {
			served <- errors.New("not a proxy stream")
			return
		}
		var size int64
		if err := binary.Read(stream, binary.LittleEndian, &size); err != nil {
			served <- err
			return
		}
		var hdr proxyHeader
		if err := json.NewDecoder(io.LimitReader(stream, size)).Decode(&hdr); err != nil {
			served <- err
			return
		}
		if hdr.ID != ep.ID || !strings.HasPrefix(hdr.ClientAddr, "127.0.0.1:") {
			served <- errors.New("bad proxy header")
			return
		}
		req, err := http.ReadRequest(bufio.NewReader(stream))
		if err != nil {
			served <- err
			return
		}
		_, err = io.WriteString(stream, "HTTP/1.1 200 OK\r\nContent-Length: "+strconv.Itoa(len(req.URL.Path))+"\r\nConnection: close\r\n\r\n"+req.URL.Path)
		served <- err
	}()

	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(ep.URL + "/hello")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "/hello" {
		t.Errorf("body = %q", body)
	}
	if err := <-served; err != nil {
		t.Errorf("agent side: %v", err)
	}
}

func TestRequestedURLKeepsItsPort(t *testing.T) {
	e := startEdge(t, Options{})
	const want = "https://My-Name.ngrok-free.dev"
	a := dialAgent(t, e)
	a.auth("x")
	first := a.bind("", want)
	if first.Error != "" {
		t.Fatalf("bind: %+v", first)
	}
	if got, ok := e.EndpointURL("https://my-name.ngrok-free.dev/"); !ok || got != first.URL {
		t.Errorf("EndpointURL = %q, %v; want %q", got, ok, first.URL)
	}

	var unbind errorResp
	if err := a.call(streamUnbind, unbindReq{ID: first.ID}, &unbind); err != nil || unbind.Error != "" {
		t.Fatalf("unbind = %+v, %v", unbind, err)
	}
	infos := e.Endpoints()
	if len(infos) != 1 || infos[0].Online {
		t.Errorf("after unbind Endpoints = %+v, want one offline", infos)
	}

	b := dialAgent(t, e)
	b.auth("x")
	again := b.bind("", want)
	if again.Error != "" || again.URL != first.URL {
		t.Errorf("bound again at %+v, want %s", again, first.URL)
	}
	if resp := a.bind("", want); !strings.Contains(resp.Error, codeEndpointOnline) {
		t.Errorf("second agent on the same URL: %+v", resp)
	}
}

func TestCloseEndsEverything(t *testing.T) {
	before := runtime.NumGoroutine()
	e, err := Start(Options{})
	if err != nil {
		t.Fatal(err)
	}
	a := dialAgent(t, e)
	a.auth("x")
	ep := a.bind("", "")
	// A public connection held open over a proxy stream.
	c, err := net.Dial("tcp", strings.TrimPrefix(ep.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := a.mux.AcceptTypedStream(); err != nil {
		t.Fatal(err)
	}

	if err := e.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := e.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	_ = a.mux.Close()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err == nil {
		t.Error("public connection still open after Close")
	}
	testwait.For(t, "the edge's goroutines to end", func() bool { return runtime.NumGoroutine() <= before })
}
