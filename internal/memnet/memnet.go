// Package memnet is an in-memory network for tests: listeners addressed by
// host:port strings and connections that never touch a socket, so one test
// can host several HTTP servers (a proxy's registry, stand-ins of nodes) and
// dial them by URL, all inside a testing/synctest bubble.
//
// Every blocking operation (Accept, Read, Write, a deadline) waits on
// channels and timers only, which synctest counts as durably blocking: fake
// time advances while goroutines wait on a memnet connection, as it cannot
// while they wait on a real socket. Outside a bubble it works on real time.
//
// A connection buffers up to BufferSize bytes in each direction, as a TCP
// socket does, so a writer does not wait for its reader until the buffer is
// full. Closing one end gives the other end io.EOF once it has read what was
// sent, and makes its writes fail ("broken pipe"). A dial to an address
// nothing listens on is refused at once ("connection refused"). There is no
// latency, loss or reordering.
package memnet

import (
	"context"
	"fmt"
	"net"
	"os"
	"strconv"
	"sync"
	"syscall"
)

// BufferSize is how many bytes a connection holds in each direction before
// a Write waits for the reader.
const BufferSize = 256 << 10

// Addr is the address of a memnet listener or connection end: "host:port",
// as the listener was asked for (or with the port it was given for port 0).
type Addr string

// Network returns "memnet".
func (a Addr) Network() string { return "memnet" }

// String returns the address, "host:port".
func (a Addr) String() string { return string(a) }

// Network is one in-memory network: a set of listeners by address. The zero
// value is not usable; create one with New. A Network is safe for
// concurrent use.
type Network struct {
	mu        sync.Mutex
	listeners map[string]*Listener
	nextPort  int // the next port tried for a listen on port 0
	nextEphem int // the next port a dialing end is given
}

// First ports handed out for listens on port 0 and for dialing ends.
const (
	firstListenPort = 20000
	firstEphemPort  = 50000
)

// New returns an empty network.
func New() *Network {
	return &Network{listeners: make(map[string]*Listener), nextPort: firstListenPort, nextEphem: firstEphemPort}
}

// Listen listens at address, "host:port", on network "tcp", "tcp4" or
// "tcp6" (the network is not otherwise used). The host is any string and is
// kept as given: dials must name it the same way (use an IP literal, such as
// 127.0.0.1, where a URL policy wants one). Port 0 picks a free port. An
// address already listened on is refused ("address already in use") until
// its listener is closed.
func (n *Network) Listen(network, address string) (*Listener, error) {
	if err := checkNetwork(network); err != nil {
		return nil, &net.OpError{Op: "listen", Net: network, Err: err}
	}
	host, port, err := splitAddr(address)
	if err != nil {
		return nil, &net.OpError{Op: "listen", Net: network, Err: err}
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if port == 0 {
		for {
			port = n.nextPort
			n.nextPort++
			if n.nextPort > 65535 {
				n.nextPort = firstListenPort
			}
			if _, taken := n.listeners[joinAddr(host, port)]; !taken {
				break
			}
		}
	}
	addr := joinAddr(host, port)
	if _, taken := n.listeners[addr]; taken {
		return nil, &net.OpError{Op: "listen", Net: network, Addr: Addr(addr), Err: os.NewSyscallError("bind", syscall.EADDRINUSE)}
	}
	l := &Listener{network: n, addr: Addr(addr)}
	n.listeners[addr] = l
	return l, nil
}

// Dial connects to the listener at address ("host:port", exactly as it
// listens) over network "tcp", "tcp4" or "tcp6". It has the signature of
// net.Dialer.DialContext, so it can stand in for it in an http.Transport or
// a websocket.Dialer. The connection's local address is the dialed host with
// a port of its own, as over loopback. A dial to an address nothing listens
// on is refused at once.
func (n *Network) Dial(ctx context.Context, network, address string) (net.Conn, error) {
	if err := checkNetwork(network); err != nil {
		return nil, &net.OpError{Op: "dial", Net: network, Err: err}
	}
	if err := ctx.Err(); err != nil {
		return nil, &net.OpError{Op: "dial", Net: network, Addr: Addr(address), Err: err}
	}
	n.mu.Lock()
	l := n.listeners[address]
	n.mu.Unlock()
	if l == nil {
		return nil, &net.OpError{Op: "dial", Net: network, Addr: Addr(address), Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	}
	return l.dial(ctx, network)
}

// ephemeral returns a local address for a dialing end, on host.
func (n *Network) ephemeral(host string) Addr {
	n.mu.Lock()
	defer n.mu.Unlock()
	port := n.nextEphem
	n.nextEphem++
	if n.nextEphem > 65535 {
		n.nextEphem = firstEphemPort
	}
	return Addr(joinAddr(host, port))
}

// forget removes l from the network, freeing its address.
func (n *Network) forget(l *Listener) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.listeners[string(l.addr)] == l {
		delete(n.listeners, string(l.addr))
	}
}

// Listener is a memnet listener; it implements net.Listener.
type Listener struct {
	network *Network
	addr    Addr

	mu      sync.Mutex
	backlog []*conn // accepted ends of dialed connections, waiting for Accept
	closed  bool
	changed signal
}

// Accept waits for the next connection dialed to the listener and returns
// its listening end. After Close it returns an error wrapping net.ErrClosed.
func (l *Listener) Accept() (net.Conn, error) {
	for {
		l.mu.Lock()
		if len(l.backlog) > 0 {
			c := l.backlog[0]
			l.backlog[0] = nil
			l.backlog = l.backlog[1:]
			l.mu.Unlock()
			return c, nil
		}
		if l.closed {
			l.mu.Unlock()
			return nil, &net.OpError{Op: "accept", Net: "tcp", Addr: l.addr, Err: net.ErrClosed}
		}
		wait := l.changed.wait()
		l.mu.Unlock()
		<-wait
	}
}

// Close stops the listener and frees its address: later dials to it are
// refused, and connections dialed but not yet accepted are closed (their
// dialers read io.EOF). Connections already accepted stay open.
func (l *Listener) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return &net.OpError{Op: "close", Net: "tcp", Addr: l.addr, Err: net.ErrClosed}
	}
	l.closed = true
	pending := l.backlog
	l.backlog = nil
	l.changed.broadcast()
	l.mu.Unlock()
	l.network.forget(l)
	for _, c := range pending {
		c.Close()
	}
	return nil
}

// Addr returns the listener's address, an Addr.
func (l *Listener) Addr() net.Addr { return l.addr }

// Dial connects to this listener, as Network.Dial does to its address.
func (l *Listener) Dial(ctx context.Context) (net.Conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, &net.OpError{Op: "dial", Net: "tcp", Addr: l.addr, Err: err}
	}
	return l.dial(ctx, "tcp")
}

func (l *Listener) dial(_ context.Context, network string) (net.Conn, error) {
	host, _, _ := net.SplitHostPort(string(l.addr))
	client, server := newPair(l.network.ephemeral(host), l.addr)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil, &net.OpError{Op: "dial", Net: network, Addr: l.addr, Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	}
	l.backlog = append(l.backlog, server)
	l.changed.broadcast()
	return client, nil
}

// signal wakes every goroutine waiting for a change of the state it belongs
// to. Both methods are called with that state's lock held.
type signal struct{ ch chan struct{} }

// wait returns a channel closed at the next broadcast.
func (s *signal) wait() <-chan struct{} {
	if s.ch == nil {
		s.ch = make(chan struct{})
	}
	return s.ch
}

// broadcast wakes the waiters.
func (s *signal) broadcast() {
	if s.ch != nil {
		close(s.ch)
		s.ch = nil
	}
}

func checkNetwork(network string) error {
	switch network {
	case "tcp", "tcp4", "tcp6":
		return nil
	}
	return net.UnknownNetworkError(network)
}

// splitAddr splits "host:port" and parses the port.
func splitAddr(address string) (string, int, error) {
	host, portText, err := net.SplitHostPort(address)
	if err != nil {
		return "", 0, err
	}
	port, err := strconv.Atoi(portText)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("memnet: bad port in %q", address)
	}
	return host, port, nil
}

func joinAddr(host string, port int) string { return net.JoinHostPort(host, strconv.Itoa(port)) }
