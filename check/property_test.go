package check

import (
	"context"
	"math/rand/v2"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
)

// randomHistory simulates clients on one register: every operation takes
// effect at a random point inside its interval, in that order. With stale
// set, some gets return an older value instead, which may or may not break
// linearizability. Some puts fail: 400 (never applied), or 502 and timeout
// (applied or not, at random).
func randomHistory(rng *rand.Rand, n int, stale bool) []Op {
	type ev struct {
		at time.Duration
		i  int
	}
	ops := make([]Op, n)
	applied := make([]bool, n)
	var evs []ev
	clientFree := make([]time.Duration, 4)
	for i := range ops {
		c := rng.IntN(4)
		call := clientFree[c] + time.Duration(rng.IntN(20))*time.Millisecond
		ret := call + time.Duration(1+rng.IntN(30))*time.Millisecond
		clientFree[c] = ret
		o := Op{Client: c, Key: "k", Call: call, Return: ret, Status: 200, Nodes: []string{"kv" + strconv.Itoa(1+rng.IntN(3))}}
		if rng.IntN(2) == 0 {
			o.Kind, o.Value = OpPut, "c"+strconv.Itoa(c)+"-"+strconv.Itoa(i)
			applied[i] = true
			switch rng.IntN(10) {
			case 0:
				o.Status = 400
				applied[i] = false
			case 1:
				o.Status = 502
				applied[i] = rng.IntN(2) == 0
			case 2:
				o.Status, o.Timeout = 0, true
				applied[i] = rng.IntN(2) == 0
			}
		} else {
			o.Kind = OpGet
		}
		ops[i] = o
		evs = append(evs, ev{call + time.Duration(rng.Int64N(int64(ret-call)+1)), i})
	}
	sort.Slice(evs, func(a, b int) bool { return evs[a].at < evs[b].at })
	var history []string // values in the order they took effect
	for _, e := range evs {
		o := &ops[e.i]
		if o.Kind == OpPut {
			if applied[e.i] {
				history = append(history, o.Value)
			}
			continue
		}
		k := len(history)
		if stale && k > 0 && rng.IntN(4) == 0 {
			k = rng.IntN(k + 1)
		}
		if k == 0 {
			o.Status = 404
		} else {
			o.Value, o.Found = history[k-1], true
		}
	}
	return ops
}

// TestPatternsAreSound checks the explanations against Porcupine on many
// small random histories: a pattern is reported only for a history
// Porcupine finds illegal, and CheckHistory's verdict is Porcupine's.
func TestPatternsAreSound(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	model := registerModel(context.Background())
	illegal, patterns := 0, 0
	for round := range 400 {
		h := randomHistory(rng, 5+rng.IntN(30), round%2 == 1)
		var end time.Duration
		ptrs := make([]*Op, len(h))
		for i := range h {
			end = max(end, h[i].Return)
			ptrs[i] = &h[i]
		}
		cops := checkedOps(ptrs, end)
		ok := porcupine.CheckOperations(model, porcupineOps(cops))
		a := findPattern("k", ptrs, cops)
		if ok && a != nil {
			t.Fatalf("round %d: pattern %q on a linearizable history:\n%s", round, a.Text, dump(h))
		}
		if round%2 == 0 && !ok {
			t.Fatalf("round %d: a simulated register is not linearizable:\n%s", round, dump(h))
		}
		r := CheckHistory(h, 10*time.Second)
		if want := map[bool]Verdict{true: Linearizable, false: NotLinearizable}[ok]; r.Verdict != want {
			t.Fatalf("round %d: verdict %s, Porcupine says %s:\n%s", round, r.Verdict, want, dump(h))
		}
		if !ok {
			illegal++
			if a != nil {
				patterns++
			}
			if r.Explanation == "" || len(r.Anomalies[0].Ops) == 0 {
				t.Fatalf("round %d: no explanation", round)
			}
		}
	}
	t.Logf("%d illegal histories, %d explained by a pattern", illegal, patterns)
	if illegal < 20 {
		t.Errorf("only %d illegal histories: the generator is too tame", illegal)
	}
}

// TestGenericAnomalyIsAProof checks that a generic explanation's operations
// are, on their own, not linearizable.
func TestGenericAnomalyIsAProof(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	model := registerModel(context.Background())
	n := 0
	for round := 0; round < 2000 && n < 30; round++ {
		h := randomHistory(rng, 10+rng.IntN(30), true)
		r := CheckHistory(h, 10*time.Second)
		if r.Verdict != NotLinearizable {
			continue
		}
		kc := &keyCheck{key: "k"}
		var end time.Duration
		for i := range h {
			end = max(end, h[i].Return)
			kc.ops = append(kc.ops, &r.History[i])
		}
		kc.cops = checkedOps(kc.ops, end)
		a := genericAnomaly(context.Background(), kc, 10*time.Second)
		if a.Kind != "not linearizable" {
			t.Fatalf("round %d: fell back to %q", round, a.Text)
		}
		var sub []Op
		sub = append(sub, a.Ops...)
		ptrs := make([]*Op, len(sub))
		for i := range sub {
			ptrs[i] = &sub[i]
		}
		// Unacknowledged puts keep the whole history's end.
		cs := checkedOps(ptrs, end)
		if porcupine.CheckOperations(model, porcupineOps(cs)) {
			t.Fatalf("round %d: the %d operations of %q are linearizable", round, len(sub), a.Text)
		}
		if len(sub) > len(kc.cops) {
			t.Fatalf("round %d: more operations than the history", round)
		}
		n++
	}
	if n < 10 {
		t.Errorf("only %d illegal histories", n)
	}
}

func dump(h []Op) string {
	s := ""
	for _, o := range h {
		s += o.describe() + "\n"
	}
	return s
}
