package serve

import (
	"testing"
	"time"
)

// TestCoarse: a deadline in place is kept while it is at most slack later
// than the one asked; an extension is set with slack, a shortening and a
// clearing as asked. The deadline in place is never earlier than asked.
func TestCoarse(t *testing.T) {
	t.Parallel()
	const slack = time.Second
	base := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	var d coarse
	var applied []time.Time
	apply := func(at time.Time) error { applied = append(applied, at); return nil }
	steps := []struct {
		ask  time.Time
		sets bool
		want time.Time // the deadline in place afterwards
	}{
		{base.Add(30 * time.Second), true, base.Add(31 * time.Second)}, // first: extended, with slack
		{base.Add(30*time.Second + time.Millisecond), false, base.Add(31 * time.Second)},
		{base.Add(30*time.Second + 999*time.Millisecond), false, base.Add(31 * time.Second)},
		{base.Add(31*time.Second + time.Nanosecond), true, base.Add(32*time.Second + time.Nanosecond)}, // past it: extended
		{base.Add(10 * time.Second), true, base.Add(10 * time.Second)},                                 // shorter: as asked
		{base, true, base},                // an interrupt: as asked
		{time.Time{}, true, time.Time{}},  // cleared
		{time.Time{}, false, time.Time{}}, // already clear
		{base.Add(5 * time.Second), true, base.Add(6 * time.Second)},
	}
	for i, s := range steps {
		n := len(applied)
		d.set(s.ask, slack, apply)
		if set := len(applied) > n; set != s.sets || !d.at.Equal(s.want) {
			t.Fatalf("step %d: ask %v: set %v, in place %v; want set %v, %v", i, s.ask, set, d.at, s.sets, s.want)
		}
		if !s.ask.IsZero() && (d.at.Before(s.ask) || d.at.After(s.ask.Add(slack))) {
			t.Fatalf("step %d: %v in place for %v", i, d.at, s.ask)
		}
	}
}
