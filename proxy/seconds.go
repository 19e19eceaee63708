package proxy

import (
	"sync"
	"time"

	"github.com/kvclass/kvclass/web"
)

// The availability strip: the proxy's answers to clients per second, over
// the last secondsKept seconds, with the faulted nodes of each second.

// secondsKept is how many seconds the page's strip shows.
const secondsKept = 180

// seconds counts answers in the current second and keeps the past ones.
type seconds struct {
	mu   sync.Mutex
	cur  web.Second
	past []web.Second // oldest first, at most secondsKept
}

// count records one answer with status (0: no answer was sent, ignored).
func (s *seconds) count(status int) {
	if status == 0 {
		return
	}
	now := time.Now().Unix()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cur.T != now {
		s.rollLocked(now)
	}
	if status >= 500 {
		s.cur.Fail++
	} else {
		s.cur.OK++
	}
}

// rollLocked closes the current second and starts the second now.
func (s *seconds) rollLocked(now int64) {
	if s.cur.T != 0 {
		s.pushLocked(s.cur)
	}
	s.cur = web.Second{T: now}
}

// pushLocked keeps a closed second.
func (s *seconds) pushLocked(sec web.Second) {
	s.past = append(s.past, sec)
	if len(s.past) > secondsKept {
		s.past = s.past[len(s.past)-secondsKept:]
	}
}

// tick closes the second that just ended (the one before now's), marks
// its faulted nodes, and returns it; ok is false when the proxy answered
// nothing and nothing was faulted (the strip shows a gap).
func (s *seconds) tick(now time.Time, faulted []string) (done web.Second, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := now.Unix()
	switch {
	case s.cur.T == t-1: // the usual case
		s.cur.Faulted = faulted
		done = s.cur
		s.rollLocked(t)
	case s.cur.T == t && len(s.past) > 0 && s.past[len(s.past)-1].T == t-1:
		// An answer of the new second came first and closed it.
		s.past[len(s.past)-1].Faulted = faulted
		done = s.past[len(s.past)-1]
	default: // no answer in the second that ended
		done = web.Second{T: t - 1, Faulted: faulted}
		if s.cur.T != t {
			if s.cur.T != 0 {
				s.pushLocked(s.cur) // an older second no tick closed
			}
			s.cur = web.Second{T: t}
		}
		s.pushLocked(done)
	}
	return done, done.OK+done.Fail > 0 || len(faulted) > 0
}

// last returns the past seconds, oldest first, for a snapshot.
func (s *seconds) last() []web.Second {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]web.Second(nil), s.past...)
}

// runSeconds publishes each second to the page until done is closed.
func (p *Proxy) runSeconds(done <-chan struct{}) {
	next := time.Now().Truncate(time.Second).Add(time.Second)
	timer := time.NewTimer(time.Until(next))
	defer timer.Stop()
	for {
		select {
		case <-done:
			return
		case <-timer.C:
		}
		sec, any := p.seconds.tick(next, p.faults.names())
		if any && p.hub.Clients() > 0 {
			p.hub.Publish(web.Event{Type: web.EventSecond, Second: &sec})
		}
		next = next.Add(time.Second)
		timer.Reset(time.Until(next))
	}
}
