package registry

import (
	"context"
	"errors"
	"net/netip"
	"sync"
	"time"
)

// Bounds of the failed-join limiter's memory and waiting.
const (
	maxTrackedAddrs = 10000
	maxWaiting      = 4
	overflowAddr    = "(overflow)"
)

// limiter bounds failed joins (a bad class code) per client address without
// locking out the class: below FailLimit failures in FailWindow an address is
// free; past it, its joins are taken one at a time, and each failure holds
// the address for FailWindow/FailLimit before the next is looked at. So
// guessing runs at FailLimit per FailWindow at most, while a correct class
// code from the same address (a class behind one NAT) is still admitted.
type limiter struct {
	limit  int
	window time.Duration
	delay  time.Duration
	now    func() time.Time

	mu    sync.Mutex
	addrs map[string]*addrState
}

type addrState struct {
	fails   []time.Time   // failure times within the window, oldest first
	turn    chan struct{} // held by the attempt being looked at while throttled
	waiting int
}

func newLimiter(limit int, window time.Duration, now func() time.Time) *limiter {
	return &limiter{limit: limit, window: window, delay: window / time.Duration(limit), now: now, addrs: make(map[string]*addrState)}
}

// errThrottled means the address has too many attempts waiting.
var errThrottled = errors.New("too many failed joins")

// turn is one join attempt's pass through the limiter; done must be called
// once the class code is checked.
type turn struct {
	l       *limiter
	key     string
	a       *addrState // the throttled address's record, pinned by its held turn
	limited bool       // the address was past its limit
}

// enter admits one attempt from addr, waiting for the address's turn when it
// is throttled.
func (l *limiter) enter(ctx context.Context, addr string) (turn, error) {
	key := addrKey(addr)
	l.mu.Lock()
	a := l.addrs[key]
	if a == nil && len(l.addrs) >= maxTrackedAddrs {
		a = l.addrs[overflowAddr]
	}
	if a != nil {
		l.trim(a)
	}
	if a == nil || len(a.fails) < l.limit {
		l.mu.Unlock()
		return turn{l: l, key: key}, nil
	}
	if a.waiting >= maxWaiting {
		l.mu.Unlock()
		return turn{}, errThrottled
	}
	a.waiting++
	l.mu.Unlock()
	select {
	case a.turn <- struct{}{}:
		l.mu.Lock()
		a.waiting--
		l.mu.Unlock()
		return turn{l: l, key: key, a: a, limited: true}, nil
	case <-ctx.Done():
		l.mu.Lock()
		a.waiting--
		l.mu.Unlock()
		return turn{}, errThrottled
	}
}

// done records the attempt's outcome and gives the turn back: at once after
// a success, after the delay after a failure.
func (t turn) done(failed bool) {
	if t.l == nil {
		return
	}
	l := t.l
	if failed {
		l.mu.Lock()
		a := t.a
		if a == nil {
			a = l.state(t.key)
		}
		a.fails = append(a.fails, l.now())
		if len(a.fails) > l.limit {
			a.fails = a.fails[len(a.fails)-l.limit:]
		}
		l.mu.Unlock()
	}
	switch {
	case !t.limited:
	case failed:
		time.AfterFunc(l.delay, func() { <-t.a.turn })
	default:
		<-t.a.turn
	}
}

// state returns the record for key, creating it. Called with l.mu held.
func (l *limiter) state(key string) *addrState {
	if a, ok := l.addrs[key]; ok {
		return a
	}
	if len(l.addrs) >= maxTrackedAddrs {
		l.pruneLocked()
		if len(l.addrs) >= maxTrackedAddrs {
			key = overflowAddr // too many addresses: the rest share one record
			if a, ok := l.addrs[key]; ok {
				return a
			}
		}
	}
	a := &addrState{turn: make(chan struct{}, 1)}
	l.addrs[key] = a
	return a
}

// trim forgets failures older than the window. Called with l.mu held.
func (l *limiter) trim(a *addrState) {
	cutoff := l.now().Add(-l.window)
	i := 0
	for i < len(a.fails) && !a.fails[i].After(cutoff) {
		i++
	}
	a.fails = a.fails[i:]
}

// prune forgets addresses with no recent failures and nothing in flight.
func (l *limiter) prune() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.pruneLocked()
}

func (l *limiter) pruneLocked() {
	for key, a := range l.addrs {
		l.trim(a)
		if len(a.fails) == 0 && a.waiting == 0 && len(a.turn) == 0 {
			delete(l.addrs, key)
		}
	}
}

// addrKey groups IPv6 clients by /64, the block one subscriber usually has.
func addrKey(addr string) string {
	ip, err := netip.ParseAddr(addr)
	if err != nil || !ip.Is6() || ip.Is4In6() {
		return addr
	}
	p, err := ip.Prefix(64)
	if err != nil {
		return addr
	}
	return p.String()
}
