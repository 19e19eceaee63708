// Package testwait is the one way kvclass's tests wait for something to
// happen: poll a condition until it holds, and fail the test with what was
// awaited (and what was last seen) when patience runs out. Tests wait for
// events this way, never for a fixed time.
package testwait

import (
	"testing"
	"time"
)

// Patience is how long For waits. It is generous on purpose: a loaded CI
// machine must not fail a test that passes on a quiet one; latency goals are
// measured by benchmarks, not asserted here.
const Patience = 10 * time.Second

// pollEvery is how often a condition is checked.
const pollEvery = 5 * time.Millisecond

// For polls cond until it returns true, failing the test after Patience with
// "timed out waiting for WHAT".
func For(t testing.TB, what string, cond func() bool) {
	t.Helper()
	Within(t, Patience, what, cond)
}

// Within is For with its own patience.
func Within(t testing.TB, patience time.Duration, what string, cond func() bool) {
	t.Helper()
	Seen(t, patience, what, func() (bool, string) { return cond(), "" })
}

// Seen polls cond, which also describes what it saw, until it holds; on
// timeout, or when the test ends first, the failure says what was last seen.
// The poll interval grows to a quarter second for long waits, so slow
// conditions (a container's health) are not asked too often.
func Seen(t testing.TB, patience time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(patience)
	every := pollEvery
	if patience > time.Minute {
		every = 250 * time.Millisecond
	}
	timer := time.NewTimer(every)
	defer timer.Stop()
	for {
		ok, saw := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			if saw != "" {
				t.Fatalf("timed out after %s waiting for %s; last saw: %s", patience, what, saw)
			}
			t.Fatalf("timed out after %s waiting for %s", patience, what)
		}
		select {
		case <-t.Context().Done():
			t.Fatalf("gave up waiting for %s: the test is ending", what)
		case <-timer.C:
			timer.Reset(every)
		}
	}
}
