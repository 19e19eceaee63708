package tunnel

import (
	"sync"

	"golang.ngrok.com/ngrok/v2"
)

// onEvent receives the SDK's agent events for session s. The SDK calls it
// from its session goroutine, so it never blocks.
func (t *Tunnel) onEvent(s *session, ev ngrok.Event) {
	switch ev := ev.(type) {
	case *ngrok.EventAgentDisconnected:
		t.onDisconnect(s, ev.Error)
	case *ngrok.EventAgentConnectSucceeded:
		t.onConnect(s)
	}
}

// onDisconnect handles a failure of session s: while it starts, the failure
// goes to connect; once its endpoint is bound, it is reported as
// reconnecting. A nil error means the SDK gave the session up for good
// (closed, or stopped or restarted from the dashboard).
func (t *Tunnel) onDisconnect(s *session, err error) {
	if err == nil {
		s.dead.Store(true)
		return
	}
	if !s.bound.Load() {
		select {
		case s.errs <- err:
		default: // connect has enough to go on
		}
		return
	}
	t.mu.Lock()
	current := t.sess == s && !t.closing && !t.stopped && !s.dead.Load()
	if current && t.down == nil {
		t.down = make(chan struct{})
	}
	url := t.url
	t.mu.Unlock()
	if current {
		t.report(State{State: StateReconnecting, URL: url, Err: explain(err, t.target)})
	}
}

// onConnect handles a (re)connect of session s. Its first connect happens
// before the endpoint is bound, and Listen or a re-bind reports it; a later
// one means the SDK has reconnected and bound the endpoint again.
func (t *Tunnel) onConnect(s *session) {
	if !s.bound.Load() {
		return
	}
	t.mu.Lock()
	if t.sess != s || t.closing || t.ln == nil {
		t.mu.Unlock()
		return
	}
	// The SDK v2.4.0 re-binds with the endpoint's Id and keeps the URL of
	// the first bind, so this does not change today; it is read again in
	// case a later SDK reports a new URL.
	url := t.ln.URL().String()
	previous := t.url
	t.url = url
	if t.down != nil {
		close(t.down)
		t.down = nil
	}
	t.mu.Unlock()
	if url != previous {
		t.log.Warn("ngrok endpoint URL changed", "old", previous, "url", url)
	}
	t.report(State{State: StateOnline, URL: url})
}

// report logs s and sends it to OnState, unless it repeats the last report
// (the SDK reports every failed reconnect attempt).
func (t *Tunnel) report(s State) {
	key := s.State + "\x00" + s.URL
	if s.Err != nil {
		key += "\x00" + s.Err.Error()
	}
	t.mu.Lock()
	if key == t.reported {
		t.mu.Unlock()
		return
	}
	t.reported = key
	t.mu.Unlock()
	switch s.State {
	case StateOnline:
		t.log.Info("ngrok endpoint back online", "url", s.URL)
	case StateReconnecting:
		t.log.Warn("ngrok endpoint offline, bringing it back", "url", s.URL, "err", Explain(s.Err))
	default:
		t.log.Warn("ngrok endpoint stopped", "url", s.URL, "err", Explain(s.Err))
	}
	t.states.send(s)
}

// notifierQueue is how many states wait for a slow OnState before the
// oldest is dropped.
const notifierQueue = 16

// notifier delivers states to a callback in order from its own goroutine, so
// the SDK's goroutines never wait on the callback.
type notifier struct {
	fn     func(State)
	mu     sync.Mutex
	closed bool
	queue  chan State
}

// newNotifier starts delivering to fn; a nil fn makes a notifier that drops
// everything.
func newNotifier(fn func(State)) *notifier {
	n := &notifier{fn: fn}
	if fn == nil {
		return n
	}
	n.queue = make(chan State, notifierQueue)
	go func() {
		for s := range n.queue {
			n.fn(s)
		}
	}()
	return n
}

// send queues s without blocking; when the queue is full the oldest state
// is dropped to make room.
func (n *notifier) send(s State) {
	if n.queue == nil {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return
	}
	select {
	case n.queue <- s:
		return
	default:
	}
	select {
	case <-n.queue:
	default:
	}
	// Only senders fill the queue and they hold n.mu, so there is room now.
	select {
	case n.queue <- s:
	default:
	}
}

// close stops the notifier after the queued states are delivered.
func (n *notifier) close() {
	if n.queue == nil {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if !n.closed {
		n.closed = true
		close(n.queue)
	}
}
