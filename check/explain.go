package check

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/anishathalye/porcupine"
)

// This file finds, in one key's history, the anomaly to show a class: the
// earliest read that no order of the operations can explain, with the
// fewest operations that prove it.
//
// Every value a check writes is unique, and nothing deletes, so a few facts
// hold in any linearization:
//
//   - once some value is stored, the key is never absent again;
//   - the write of x took effect before its put returned, and before any
//     read of x returned (when x was written once);
//   - after the write of y took effect, x is never read again if the write
//     of x took effect before the write of y.
//
// A read of x that starts after evidence of y (an acknowledged put of y, or
// a completed read of y) is therefore impossible when x is absent, or when
// x's write certainly took effect before that evidence began. Such a pair
// proves the history is not linearizable, so it is reported even when
// Porcupine's exhaustive search ran out of time. When no such pattern
// exists but Porcupine found the history illegal, genericAnomaly narrows
// the history down to the shortest prefix that is already illegal and
// names the operations around its last one.

// findPattern returns the earliest read of key that a simple pattern proves
// impossible, or nil. ops are all of the key's operations (for the puts
// that were refused), cops those checked.
func findPattern(key string, ops []*Op, cops []cop) *Anomaly {
	writes := map[string][]*cop{}
	reads := map[string][]*cop{}
	var acked []*cop // acknowledged puts, by return
	for i := range cops {
		c := &cops[i]
		switch {
		case c.put:
			writes[c.value] = append(writes[c.value], c)
			if c.acked {
				acked = append(acked, c)
			}
		case c.found:
			reads[c.value] = append(reads[c.value], c)
		}
	}
	// settled[x]: a time by which x's write certainly took effect, and the
	// operation that proves it.
	type fact struct {
		at time.Duration
		by *cop
	}
	settled := map[string]fact{}
	for x, ws := range writes {
		if len(ws) == 1 {
			f := fact{ws[0].ret, ws[0]}
			for _, r := range reads[x] {
				if r.ret < f.at {
					f = fact{r.ret, r}
				}
			}
			settled[x] = f
			continue
		}
		// Written more than once: only "every write of x is over" counts.
		f := fact{ws[0].ret, ws[0]}
		for _, w := range ws[1:] {
			if w.ret > f.at {
				f = fact{w.ret, w}
			}
		}
		settled[x] = f
	}
	var evidence []*cop // completed reads of a written value, by return
	for x, rs := range reads {
		if len(writes[x]) > 0 {
			evidence = append(evidence, rs...)
		}
	}
	byReturn := func(s []*cop) {
		sort.Slice(s, func(i, j int) bool { return s[i].ret < s[j].ret })
	}
	byReturn(acked)
	byReturn(evidence)

	for i := range cops {
		g := &cops[i]
		if g.put {
			continue
		}
		if g.found {
			ws := writes[g.value]
			if len(ws) == 0 {
				return phantomRead(key, g, ops)
			}
			first := ws[0]
			for _, w := range ws[1:] {
				if w.call < first.call {
					first = w
				}
			}
			if first.call > g.ret {
				return &Anomaly{
					Kind: "read before write", Key: key, At: g.call,
					Text: fmt.Sprintf("read before write: GET %s at %s returned %s%s, before PUT %s=%s began at %s",
						key, seconds(g.call), show(g.value), from(g.op), key, show(g.value), seconds(first.call)),
					Ops: opsOf(g, first),
				}
			}
		}
		// impossible reports whether reading g's value is impossible after
		// evidence e of another value.
		impossible := func(e *cop) bool {
			if e.value == g.value && g.found {
				return false
			}
			return !g.found || settled[g.value].at < e.call
		}
		// Evidence that returned before x was settled cannot have begun
		// after it: the scans stop there, which keeps them short.
		floor := time.Duration(-1)
		if g.found {
			floor = settled[g.value].at
		}
		for j := sort.Search(len(acked), func(j int) bool { return acked[j].ret >= g.call }) - 1; j >= 0 && acked[j].ret > floor; j-- {
			p := acked[j]
			if !impossible(p) {
				continue
			}
			if !g.found {
				return &Anomaly{
					Kind: "lost write", Key: key, At: g.call,
					Text: fmt.Sprintf("lost write: PUT %s=%s was acknowledged at %s%s, but GET %s at %s%s found no value",
						key, show(p.value), seconds(p.ret), by(p.op), key, seconds(g.call), paren(g.op)),
					Ops: opsOf(p, g),
				}
			}
			return &Anomaly{
				Kind: "stale read", Key: key, At: g.call,
				Text: fmt.Sprintf("stale read: GET %s at %s returned %s%s, after PUT %s=%s was acknowledged at %s%s",
					key, seconds(g.call), show(g.value), from(g.op), key, show(p.value), seconds(p.ret), parenBy(p.op)),
				Ops: opsOf(settled[g.value].by, p, g),
			}
		}
		for j := sort.Search(len(evidence), func(j int) bool { return evidence[j].ret >= g.call }) - 1; j >= 0 && evidence[j].ret > floor; j-- {
			e := evidence[j]
			if !impossible(e) {
				continue
			}
			if !g.found {
				return &Anomaly{
					Kind: "stale read", Key: key, At: g.call,
					Text: fmt.Sprintf("stale read: GET %s at %s found no value%s, after GET %s at %s had returned %s%s",
						key, seconds(g.call), paren(g.op), key, seconds(e.call), show(e.value), parenFrom(e.op)),
					Ops: opsOf(e, g),
				}
			}
			return &Anomaly{
				Kind: "stale read", Key: key, At: g.call,
				Text: fmt.Sprintf("stale read: GET %s at %s returned %s%s, after GET %s at %s had returned the newer %s%s",
					key, seconds(g.call), show(g.value), from(g.op), key, seconds(e.call), show(e.value), parenFrom(e.op)),
				Ops: opsOf(settled[g.value].by, e, g),
			}
		}
	}
	return nil
}

// phantomRead explains a read of a value that no checked put wrote.
func phantomRead(key string, g *cop, ops []*Op) *Anomaly {
	a := &Anomaly{Kind: "phantom read", Key: key, At: g.call}
	for _, o := range ops {
		if o.Kind == OpPut && o.Value == g.value {
			a.Text = fmt.Sprintf("phantom read: GET %s at %s returned %s%s, but PUT %s=%s had been refused (%s: %s), so it should not have been stored",
				key, seconds(g.call), show(g.value), from(g.op), key, show(g.value), o.failure(), clip(o.Error, 80))
			a.Ops = []Op{*o, *g.op}
			return a
		}
	}
	a.Text = fmt.Sprintf("phantom read: GET %s at %s returned %s%s, a value no client of this check wrote",
		key, seconds(g.call), show(g.value), from(g.op))
	a.Ops = []Op{*g.op}
	return a
}

// genericAnomaly explains an illegal key's history with no simple pattern.
// It first finds the shortest prefix of the history that is already illegal
// (a binary search over return times: linearizability is prefix-closed, so
// the first failing prefix ends at the return that broke it), then shrinks
// that prefix by removing operations while it stays illegal. Only removals
// that cannot turn a linearizable history illegal are tried: a get, or a put
// whose value no remaining get read. What remains is a small set of
// operations that on its own has no valid order: a proof, not a guess.
// Without time for this it falls back to Porcupine's partial
// linearizations.
func genericAnomaly(ctx context.Context, kc *keyCheck, budget time.Duration) *Anomaly {
	deadline := time.Now().Add(budget)
	model := registerModel(ctx)
	// illegal reports whether cops is illegal, and whether that was decided
	// in time.
	illegal := func(cops []cop) (bool, bool) {
		left := time.Until(deadline)
		if left <= 0 || ctx.Err() != nil {
			return false, false
		}
		res := porcupine.CheckOperationsTimeout(model, porcupineOps(cops), left)
		if ctx.Err() != nil {
			return false, false
		}
		switch res {
		case porcupine.Illegal:
			return true, true
		case porcupine.Ok:
			return false, true
		}
		return false, false
	}
	var cuts []time.Duration
	for _, c := range kc.cops {
		if !c.put || c.acked {
			cuts = append(cuts, c.ret)
		}
	}
	sort.Slice(cuts, func(i, j int) bool { return cuts[i] < cuts[j] })
	cuts = compactDurations(cuts)
	if len(cuts) == 0 {
		return partialAnomaly(kc)
	}
	lo, hi := 0, len(cuts)-1 // the whole history (the last cut) is illegal
	for lo < hi {
		mid := (lo + hi) / 2
		bad, ok := illegal(prefixAt(kc.cops, cuts[mid]))
		if !ok {
			return partialAnomaly(kc)
		}
		if bad {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	cut := cuts[lo]
	set := prefixAt(kc.cops, cut)
	if bad, ok := illegal(set); !ok || !bad {
		return partialAnomaly(kc)
	}
	var culprit *Op
	for _, c := range set {
		if c.ret == cut && (!c.put || c.acked) && (culprit == nil || culprit.Kind == OpPut) {
			culprit = c.op
		}
	}
	set = shrink(set, illegal)
	at := time.Duration(-1)
	for _, c := range set {
		if c.op == culprit {
			at = c.call
		}
	}
	if at < 0 {
		for _, c := range set {
			at = max(at, c.call)
		}
	}
	return setAnomaly(kc.key, set, at)
}

// shrink removes operations from an illegal history while it stays
// illegal: first in large chunks, then one at a time, for as long as
// illegal answers in time. It only removes gets, and puts whose value no
// remaining get read, so the result is illegal only if the input was.
func shrink(set []cop, illegal func([]cop) (bool, bool)) []cop {
	for chunk := max(len(set)/2, 1); ; {
		changed := false
		for i := 0; i < len(set); {
			trial, removed := without(set, i, i+chunk)
			if removed == 0 {
				i += chunk
				continue
			}
			bad, ok := illegal(trial)
			if !ok {
				return set
			}
			if bad {
				set, changed = trial, true
			} else {
				i += chunk
			}
		}
		switch {
		case chunk > 1:
			chunk /= 2
		case !changed:
			// One at a time, until a pass removes nothing: removing a
			// read can make the put it read removable.
			return set
		}
	}
}

// without returns set less the removable operations among set[from:to]: its
// gets, and its puts whose value no get left in the result read.
func without(set []cop, from, to int) ([]cop, int) {
	to = min(to, len(set))
	drop := make([]bool, len(set))
	for i := from; i < to; i++ {
		drop[i] = !set[i].put
	}
	read := map[string]bool{}
	for i, c := range set {
		if !c.put && c.found && !drop[i] {
			read[c.value] = true
		}
	}
	n := 0
	for i := from; i < to; i++ {
		if set[i].put && !read[set[i].value] {
			drop[i] = true
		}
		if drop[i] {
			n++
		}
	}
	if n == 0 {
		return set, 0
	}
	out := make([]cop, 0, len(set)-n)
	for i, c := range set {
		if !drop[i] {
			out = append(out, c)
		}
	}
	return out, n
}

// setAnomaly words a generic anomaly: the operations that have no valid
// order, the closest to at when there are many.
func setAnomaly(key string, set []cop, at time.Duration) *Anomaly {
	shown := set
	if len(shown) > maxWindow {
		shown = append([]cop(nil), set...)
		sort.SliceStable(shown, func(i, j int) bool {
			return absDur(shown[i].call-at) < absDur(shown[j].call-at)
		})
		shown = shown[:maxWindow]
		sort.SliceStable(shown, func(i, j int) bool { return shown[i].call < shown[j].call })
	}
	descs := make([]string, len(shown))
	for i, c := range shown {
		descs[i] = c.op.describe()
	}
	ops := make([]Op, len(set))
	for i, c := range set {
		ops[i] = *c.op
	}
	list := strings.Join(descs, "; ")
	if more := len(set) - len(shown); more > 0 {
		list += fmt.Sprintf("; and %d more", more)
	}
	return &Anomaly{
		Kind: "not linearizable", Key: key, At: at,
		Text: fmt.Sprintf("not linearizable: %s: no single order of these %d operations explains what the reads returned: %s",
			key, len(set), list),
		Ops: ops,
	}
}

// partialAnomaly explains an illegal key's history from Porcupine's longest
// partial linearization: the first completed operation it could not place,
// and the operations around it.
func partialAnomaly(kc *keyCheck) *Anomaly {
	parts := kc.info.PartialLinearizations()
	var longest []int
	if len(parts) > 0 {
		for _, l := range parts[0] {
			if len(l) > len(longest) {
				longest = l
			}
		}
	}
	placed := make(map[int]bool, len(longest))
	for _, id := range longest {
		placed[id] = true
	}
	var culprit *cop
	for i := range kc.cops {
		c := &kc.cops[i]
		if placed[i] || (c.put && !c.acked) {
			continue
		}
		if culprit == nil || c.ret < culprit.ret {
			culprit = c
		}
	}
	if culprit == nil {
		return &Anomaly{Kind: "not linearizable", Key: kc.key,
			Text: fmt.Sprintf("not linearizable: no order of the %d operations on %s explains what its reads returned", len(kc.cops), kc.key)}
	}
	var window []*cop
	for i := range kc.cops {
		c := &kc.cops[i]
		if c.ret >= culprit.call && c.call <= culprit.ret {
			window = append(window, c)
		}
	}
	return windowAnomaly(kc.key, culprit, window, fmt.Sprintf("at most %d of its %d operations fit one order, and %s at %s does not",
		len(longest), len(kc.cops), short(culprit.op), seconds(culprit.call)))
}

// maxWindow bounds the operations an explanation lists.
const maxWindow = 8

// windowAnomaly words a generic anomaly: what went wrong and the operations
// around the culprit, the closest ones when there are many.
func windowAnomaly(key string, culprit *cop, window []*cop, what string) *Anomaly {
	if len(window) > maxWindow {
		sort.SliceStable(window, func(i, j int) bool {
			return absDur(window[i].ret-culprit.ret) < absDur(window[j].ret-culprit.ret)
		})
		window = window[:maxWindow]
	}
	sort.SliceStable(window, func(i, j int) bool { return window[i].call < window[j].call })
	lo, hi := culprit.call, culprit.ret
	descs := make([]string, len(window))
	ops := make([]Op, 0, len(window))
	for i, c := range window {
		lo, hi = min(lo, c.call), max(hi, c.op.Return)
		descs[i] = c.op.describe()
		if c != culprit {
			ops = append(ops, *c.op)
		}
	}
	ops = append(ops, *culprit.op)
	return &Anomaly{
		Kind: "not linearizable", Key: key, At: culprit.call,
		Text: fmt.Sprintf("not linearizable: %s: %s; the operations around it, between %s and %s: %s",
			key, what, seconds(lo), seconds(hi), strings.Join(descs, "; ")),
		Ops: ops,
	}
}

// prefixAt is the history as known at time t: operations called by t, those
// still running at t left pending (a pending put may take effect later or
// never; a pending get has no answer yet and is left out).
func prefixAt(cops []cop, t time.Duration) []cop {
	var out []cop
	for _, c := range cops {
		if c.call > t || (!c.put && c.ret > t) {
			continue
		}
		out = append(out, c)
	}
	return out
}

func compactDurations(s []time.Duration) []time.Duration {
	out := s[:0]
	for i, d := range s {
		if i == 0 || d != s[i-1] {
			out = append(out, d)
		}
	}
	return out
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// opsOf copies the operations behind cops, skipping nils and repeats.
func opsOf(cs ...*cop) []Op {
	var out []Op
	seen := map[*Op]bool{}
	for _, c := range cs {
		if c == nil || seen[c.op] {
			continue
		}
		seen[c.op] = true
		out = append(out, *c.op)
	}
	return out
}

// short names an operation in a sentence: "GET key-1 → c0-4 (kv1)".
func short(o *Op) string {
	s := ""
	if o.Kind == OpPut {
		s = fmt.Sprintf("PUT %s=%s", o.Key, show(o.Value))
	} else if o.Found {
		s = fmt.Sprintf("GET %s → %s", o.Key, show(o.Value))
	} else {
		s = fmt.Sprintf("GET %s → not found", o.Key)
	}
	return s + paren(o)
}

// show writes a value for a sentence: as it is when it is a plain word
// (c0-111), quoted otherwise, and cut when long.
func show(v string) string {
	plain := v != ""
	for _, r := range v {
		if !(r == '-' || r == '_' || r == '.' || r == ':' || r == '/' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			plain = false
			break
		}
	}
	if plain && len(v) <= 40 {
		return v
	}
	return strconv.Quote(clip(v, 40))
}

// from is " from kv1", or nothing when the node is unknown.
func from(o *Op) string {
	if len(o.Nodes) == 0 {
		return ""
	}
	return " from " + nodeList(o.Nodes)
}

// by is " by kv1", or nothing when the node is unknown.
func by(o *Op) string {
	if len(o.Nodes) == 0 {
		return ""
	}
	return " by " + nodeList(o.Nodes)
}

// paren is " (kv1)", or nothing when the node is unknown.
func paren(o *Op) string {
	if len(o.Nodes) == 0 {
		return ""
	}
	return " (" + nodeList(o.Nodes) + ")"
}

// parenBy is " (by kv2,kv3)", or nothing when the node is unknown.
func parenBy(o *Op) string {
	if len(o.Nodes) == 0 {
		return ""
	}
	return " (by " + nodeList(o.Nodes) + ")"
}

// parenFrom is " (from kv2)", or nothing when the node is unknown.
func parenFrom(o *Op) string {
	if len(o.Nodes) == 0 {
		return ""
	}
	return " (from " + nodeList(o.Nodes) + ")"
}
