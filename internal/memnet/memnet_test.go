package memnet_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/kvclass/kvclass/internal/memnet"
)

func TestListenAndDialByAddress(t *testing.T) {
	n := memnet.New()
	if _, err := n.Dial(t.Context(), "tcp", "127.0.0.1:80"); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("dial of nothing: %v, want connection refused", err)
	}
	l, err := n.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if !strings.HasPrefix(addr, "127.0.0.1:") || strings.HasSuffix(addr, ":0") {
		t.Fatalf("listener address %q", addr)
	}
	if _, err := n.Listen("tcp", addr); !errors.Is(err, syscall.EADDRINUSE) {
		t.Fatalf("second listen on %s: %v, want address in use", addr, err)
	}
	if _, err := n.Listen("udp", "127.0.0.1:0"); err == nil {
		t.Fatal("listen on udp succeeded")
	}
	c, err := n.Dial(t.Context(), "tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	s, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	if c.RemoteAddr().String() != addr || s.LocalAddr().String() != addr || s.RemoteAddr() != c.LocalAddr() {
		t.Fatalf("addresses: client %v->%v, server %v->%v", c.LocalAddr(), c.RemoteAddr(), s.LocalAddr(), s.RemoteAddr())
	}
	if host, _, _ := net.SplitHostPort(c.LocalAddr().String()); host != "127.0.0.1" {
		t.Fatalf("client address %v, want on the dialed host", c.LocalAddr())
	}
	c.Close()
	s.Close()

	// Closing frees the address; a dial is refused until someone listens again.
	l.Close()
	if _, err := l.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Accept after Close: %v", err)
	}
	if _, err := n.Dial(t.Context(), "tcp", addr); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("dial after Close: %v, want connection refused", err)
	}
	l2, err := n.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listen again on %s: %v", addr, err)
	}
	defer l2.Close()
	if _, err := l2.Dial(t.Context()); err != nil {
		t.Fatal(err)
	}
}

func TestStreamCloseAndEOF(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := memnet.New()
		l, _ := n.Listen("tcp", "10.0.0.1:7")
		defer l.Close()
		c, _ := n.Dial(t.Context(), "tcp", "10.0.0.1:7")
		s, _ := l.Accept()

		// A write does not wait for the reader (up to BufferSize).
		big := bytes.Repeat([]byte("x"), memnet.BufferSize)
		if n, err := c.Write(big); n != len(big) || err != nil {
			t.Fatalf("write: %d %v", n, err)
		}
		// One byte more waits until the reader makes room.
		wrote := make(chan error, 1)
		go func() { _, err := c.Write([]byte("!")); wrote <- err }()
		synctest.Wait()
		select {
		case err := <-wrote:
			t.Fatalf("a write past the buffer returned at once: %v", err)
		default:
		}
		got := make([]byte, 10)
		if n, err := io.ReadFull(s, got); n != 10 || err != nil {
			t.Fatal(n, err)
		}
		if err := <-wrote; err != nil {
			t.Fatal(err)
		}
		// Closing the writer: the reader gets everything, then io.EOF.
		c.Close()
		rest, err := io.ReadAll(s)
		if err != nil || len(rest) != len(big)-10+1 || rest[len(rest)-1] != '!' {
			t.Fatalf("after the peer closed: %d bytes, %v", len(rest), err)
		}
		// Writing to a closed peer fails; using a closed end fails.
		if _, err := s.Write([]byte("x")); !errors.Is(err, syscall.EPIPE) {
			t.Fatalf("write to a closed peer: %v", err)
		}
		if _, err := c.Read(got); !errors.Is(err, net.ErrClosed) {
			t.Fatalf("read of a closed end: %v", err)
		}
		if err := c.Close(); err == nil {
			t.Fatal("second Close succeeded")
		}
		s.Close()
	})
}

func TestDeadlinesRunOnFakeTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := memnet.New()
		l, _ := n.Listen("tcp", "127.0.0.1:1")
		defer l.Close()
		c, _ := l.Dial(t.Context())
		s, _ := l.Accept()
		defer c.Close()
		defer s.Close()

		start := time.Now()
		c.SetReadDeadline(start.Add(time.Second))
		_, err := c.Read(make([]byte, 1))
		var netErr net.Error
		if !errors.Is(err, os.ErrDeadlineExceeded) || !errors.As(err, &netErr) || !netErr.Timeout() {
			t.Fatalf("read past its deadline: %v", err)
		}
		if d := time.Since(start); d != time.Second {
			t.Fatalf("the read timed out after %v, want exactly 1s", d)
		}
		// A deadline moved away while a read waits: the read goes on.
		c.SetReadDeadline(time.Now().Add(time.Second))
		read := make(chan error, 1)
		go func() { _, err := c.Read(make([]byte, 1)); read <- err }()
		synctest.Wait()
		c.SetReadDeadline(time.Time{})
		time.Sleep(time.Hour)
		s.Write([]byte("y"))
		if err := <-read; err != nil {
			t.Fatalf("read after the deadline was cleared: %v", err)
		}
		// A write deadline bounds a write that waits for a full buffer.
		s.SetWriteDeadline(time.Now().Add(time.Minute))
		start = time.Now()
		_, err = s.Write(make([]byte, memnet.BufferSize+1))
		if !errors.Is(err, os.ErrDeadlineExceeded) || time.Since(start) != time.Minute {
			t.Fatalf("write: %v after %v", err, time.Since(start))
		}
	})
}

func TestHTTPInABubble(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := memnet.New()
		l, err := n.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			time.Sleep(3 * time.Second) // fake time: returns at once
			io.WriteString(w, "hi from "+r.RemoteAddr)
		})}
		served := make(chan error, 1)
		go func() { served <- srv.Serve(l) }()
		t.Cleanup(func() { srv.Close() })
		client := &http.Client{Transport: &http.Transport{DialContext: n.Dial}}
		start := time.Now()
		resp, err := client.Get("http://" + l.Addr().String() + "/")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.HasPrefix(string(body), "hi from 127.0.0.1:") || time.Since(start) != 3*time.Second {
			t.Fatalf("answer %q after %v", body, time.Since(start))
		}
		// A client timeout fires on fake time too.
		client.Timeout = time.Second
		start = time.Now()
		_, err = client.Get("http://" + l.Addr().String() + "/")
		if netErr, ok := err.(net.Error); !ok || !netErr.Timeout() || time.Since(start) != time.Second {
			t.Fatalf("a slow answer with a 1s client timeout: %v after %v", err, time.Since(start))
		}
		time.Sleep(3 * time.Second) // the handler finishes: time stops when the test returns
		client.CloseIdleConnections()
		srv.Close()
		if err := <-served; !errors.Is(err, http.ErrServerClosed) {
			t.Fatalf("Serve: %v", err)
		}
		if _, err := client.Get("http://" + l.Addr().String() + "/"); !errors.Is(err, syscall.ECONNREFUSED) {
			t.Fatalf("after the server closed: %v", err)
		}
	})
}

func TestCloseDropsUnacceptedConns(t *testing.T) {
	n := memnet.New()
	l, _ := n.Listen("tcp", "h:1")
	c, err := n.Dial(context.Background(), "tcp4", "h:1")
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	if _, err := c.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("read on a connection its listener dropped: %v, want io.EOF", err)
	}
	if _, err := n.Dial(context.Background(), "tcp", "h:1"); err == nil {
		t.Fatal("dial after Close succeeded")
	}
}

// TestWriteDoneBeforePeerCloses: a write whose bytes all went into the
// buffer succeeds, even when the reader takes them and closes before the
// writer returns (a websocket server that reads the join, answers and hangs
// up).
func TestWriteDoneBeforePeerCloses(t *testing.T) {
	n := memnet.New()
	l, _ := n.Listen("tcp", "127.0.0.1:0")
	defer l.Close()
	for range 1000 {
		c, _ := l.Dial(t.Context())
		s, _ := l.Accept()
		go func() {
			io.ReadFull(s, make([]byte, 10))
			s.Close()
		}()
		if _, err := c.Write(make([]byte, 10)); err != nil {
			t.Fatalf("a write the reader took: %v", err)
		}
		c.Close()
	}
}
