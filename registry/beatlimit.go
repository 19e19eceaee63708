package registry

import (
	"errors"
	"time"
)

// errPingFlood ends a session that keeps sending heartbeats far faster than
// it was told to.
var errPingFlood = errors.New("too many heartbeats")

// beatLimit is a token bucket over one session's heartbeats (pings, pongs
// and messages). A node sends one per heartbeat interval; the bucket allows
// four per interval with a burst of beatBurst, so a node that catches up
// after a stall is never refused. Beats beyond it are dropped; once
// floodAfter beats in a row were dropped the session is flooding.
type beatLimit struct {
	every   time.Duration // one token per every
	tokens  float64
	last    time.Time
	dropped int
}

const (
	beatBurst  = 16
	floodAfter = 256
)

// Outcomes of beatLimit.take.
const (
	beatOK = iota
	beatDropped
	beatFlood
)

func newBeatLimit(heartbeat time.Duration) *beatLimit {
	return &beatLimit{every: max(heartbeat/4, time.Millisecond), tokens: beatBurst}
}

// take accounts one beat at now.
func (l *beatLimit) take(now time.Time) int {
	if !l.last.IsZero() {
		l.tokens = min(beatBurst, l.tokens+float64(now.Sub(l.last))/float64(l.every))
	}
	l.last = now
	if l.tokens >= 1 {
		l.tokens--
		l.dropped = 0
		return beatOK
	}
	l.dropped++
	if l.dropped >= floodAfter {
		return beatFlood
	}
	return beatDropped
}
