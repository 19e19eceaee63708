package check

import (
	"context"
	"fmt"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/anishathalye/porcupine"
)

// Verdict is the outcome of a check.
type Verdict string

// The three verdicts.
const (
	// Linearizable: one order of the operations, each taking effect
	// within its call and return, explains every read.
	Linearizable Verdict = "LINEARIZABLE"
	// NotLinearizable: no such order exists; an Anomaly says why.
	NotLinearizable Verdict = "NOT LINEARIZABLE"
	// NoVerdict: the check could not run, was interrupted, or the search
	// did not finish in time.
	NoVerdict Verdict = "NO VERDICT"
)

// DefaultCheckTimeout bounds the search for a linearization of a history.
// Checking linearizability is NP-hard; a search that does not finish in
// time gives NoVerdict instead of hanging.
const DefaultCheckTimeout = 30 * time.Second

// Result is what a check found, for the command line to print and the
// proxy's page to show. Its JSON field names are stable.
type Result struct {
	// Verdict is LINEARIZABLE, NOT LINEARIZABLE or NO VERDICT.
	Verdict Verdict `json:"verdict"`
	// Explanation says why, in one line of plain words: the earliest
	// anomaly when not linearizable, what stopped the check when there is
	// no verdict.
	Explanation string `json:"explanation"`
	// Anomalies are the earliest anomaly of each failing key, earliest
	// first; Anomalies[0] is the one explained.
	Anomalies []Anomaly `json:"anomalies,omitempty"`
	// Target is the proxy URL the history was recorded against.
	Target string `json:"target,omitempty"`
	// Duration is how long operations were recorded; CheckTime how long
	// the check of the history took.
	Duration  time.Duration `json:"duration_ns"`
	CheckTime time.Duration `json:"check_time_ns"`
	// Clients is the number of concurrent clients.
	Clients int `json:"clients"`
	// Counts counts the operations by kind and outcome.
	Counts Counts `json:"counts"`
	// Keys has one entry per key, in key order.
	Keys []KeyStats `json:"keys"`
	// Errors counts failed operations by status label ("502", "timeout").
	Errors map[string]int `json:"errors,omitempty"`
	// History is every recorded operation in call order. It is not part
	// of the JSON form (it can be long); Ops in Anomalies are.
	History []Op `json:"-"`
}

// Counts counts a history's operations.
type Counts struct {
	Ops int `json:"ops"`
	// Puts: acknowledged (PutsOK), certainly not applied (PutsFailed), and
	// of unknown outcome, checked as possibly applied (PutsUnknown).
	Puts        int `json:"puts"`
	PutsOK      int `json:"puts_ok"`
	PutsFailed  int `json:"puts_failed"`
	PutsUnknown int `json:"puts_unknown"`
	// Gets: that read a value, that found none, and that failed (left out
	// of the check).
	Gets         int `json:"gets"`
	GetsFound    int `json:"gets_found"`
	GetsNotFound int `json:"gets_not_found"`
	GetsFailed   int `json:"gets_failed"`
}

// KeyStats is one key's share of a history and its own verdict.
type KeyStats struct {
	Key string `json:"key"`
	// Ops counts its operations, Checked those that entered the check.
	Ops     int `json:"ops"`
	Checked int `json:"checked"`
	Puts    int `json:"puts"`
	Gets    int `json:"gets"`
	// Unknown counts puts of unknown outcome.
	Unknown int `json:"unknown"`
	// Nodes are the nodes that served its operations.
	Nodes []string `json:"nodes,omitempty"`
	// Verdict is this key's verdict.
	Verdict Verdict `json:"verdict"`
}

// Anomaly is one way a history breaks linearizability.
type Anomaly struct {
	// Kind is "stale read", "lost write", "phantom read", "read before
	// write" or "not linearizable" (no simpler pattern found).
	Kind string `json:"kind"`
	// Key is the key whose history breaks.
	Key string `json:"key"`
	// At is when the anomaly shows: the start of the operation that cannot
	// be explained.
	At time.Duration `json:"at_ns"`
	// Text explains it in one line.
	Text string `json:"text"`
	// Ops are the operations involved, the anomalous one last.
	Ops []Op `json:"ops"`
}

// ExitCode maps a check's outcome to kvclass check's exit code: 0
// linearizable, 1 not linearizable, 2 when the check could not run or
// reached no verdict.
func ExitCode(r Result, err error) int {
	switch {
	case err != nil:
		return 2
	case r.Verdict == Linearizable:
		return 0
	case r.Verdict == NotLinearizable:
		return 1
	default:
		return 2
	}
}

// keyCheck is one key's check.
type keyCheck struct {
	key     string
	ops     []*Op
	cops    []cop
	result  porcupine.CheckResult
	info    porcupine.LinearizationInfo
	anomaly *Anomaly
}

// CheckHistory checks whether ops, a history of puts and gets (in any
// order), is linearizable, key by key, spending at most timeout (0 means
// DefaultCheckTimeout) on Porcupine's search and a little more on
// explaining an anomaly. It needs no network: tests and the page can check
// a recorded or hand-written history. The Result's Target, Duration and
// Clients are left for the caller.
func CheckHistory(ops []Op, timeout time.Duration) Result {
	return checkHistory(context.Background(), ops, timeout)
}

// checkHistory is CheckHistory, given up when ctx ends: keys not settled by
// then have no verdict.
func checkHistory(ctx context.Context, ops []Op, timeout time.Duration) Result {
	if timeout <= 0 {
		timeout = DefaultCheckTimeout
	}
	began := time.Now()
	hist := append([]Op(nil), ops...)
	sortOps(hist)
	r := Result{History: hist, Errors: map[string]int{}}
	var end time.Duration
	byKey := map[string][]*Op{}
	clients := map[int]bool{}
	for i := range hist {
		o := &hist[i]
		end = max(end, o.Return, o.Call)
		byKey[o.Key] = append(byKey[o.Key], o)
		clients[o.Client] = true
		r.Counts.add(o)
		if o.failed() {
			r.Errors[o.label()]++
		}
	}
	r.Clients = len(clients)
	if len(r.Errors) == 0 {
		r.Errors = nil
	}

	checks := make([]*keyCheck, 0, len(byKey))
	for k, kops := range byKey {
		checks = append(checks, &keyCheck{key: k, ops: kops, cops: checkedOps(kops, end)})
	}
	sort.Slice(checks, func(i, j int) bool { return checks[i].key < checks[j].key })

	// Porcupine, one key at a time on each core, all within one deadline.
	deadline := began.Add(timeout)
	model := registerModel(ctx)
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for _, kc := range checks {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			left := time.Until(deadline)
			if left <= 0 {
				kc.result = porcupine.Unknown
				return
			}
			kc.result, kc.info = porcupine.CheckOperationsVerbose(model, porcupineOps(kc.cops), left)
			if ctx.Err() != nil {
				kc.result = porcupine.Unknown
			}
		})
	}
	wg.Wait()

	// Explain each key that failed, or that the search could not settle.
	explainUntil := time.Now().Add(max(timeout/4, time.Second))
	var unknown []string
	for _, kc := range checks {
		switch kc.result {
		case porcupine.Illegal:
			kc.anomaly = findPattern(kc.key, kc.ops, kc.cops)
			if kc.anomaly == nil {
				kc.anomaly = genericAnomaly(ctx, kc, time.Until(explainUntil))
			}
		case porcupine.Unknown:
			// The patterns are proofs on their own: one found settles the
			// key even though the exhaustive search did not finish.
			if a := findPattern(kc.key, kc.ops, kc.cops); a != nil {
				a.Text += " (found directly; the full search ran out of time)"
				kc.anomaly = a
			} else {
				unknown = append(unknown, kc.key)
			}
		}
	}

	for _, kc := range checks {
		ks := keyStats(kc)
		r.Keys = append(r.Keys, ks)
		if kc.anomaly != nil {
			r.Anomalies = append(r.Anomalies, *kc.anomaly)
		}
	}
	sort.SliceStable(r.Anomalies, func(i, j int) bool { return r.Anomalies[i].At < r.Anomalies[j].At })

	checked := 0
	for _, kc := range checks {
		checked += len(kc.cops)
	}
	switch {
	case len(r.Anomalies) > 0:
		r.Verdict = NotLinearizable
		r.Explanation = r.Anomalies[0].Text
		if n := len(r.Anomalies); n > 1 {
			r.Explanation += fmt.Sprintf(" (and anomalies on %d more key", n-1) + plural(n-1) + ")"
		}
	case ctx.Err() != nil:
		r.Verdict = NoVerdict
		r.Explanation = "interrupted while checking the history"
	case len(unknown) > 0:
		r.Verdict = NoVerdict
		r.Explanation = fmt.Sprintf("the search for a linearization of %s did not finish within %s; "+
			"record a shorter or less concurrent history (a smaller --duration or --clients, or more --keys)", joinKeys(unknown), timeout)
	case checked == 0:
		r.Verdict = NoVerdict
		r.Explanation = "no operation succeeded, so there is nothing to check"
	default:
		r.Verdict = Linearizable
		r.Explanation = fmt.Sprintf("every read is explained by one order of the %d operations on %d key%s", checked, len(checks), plural(len(checks)))
	}
	r.CheckTime = time.Since(began)
	return r
}

func (c *Counts) add(o *Op) {
	c.Ops++
	if o.Kind == OpPut {
		c.Puts++
		switch o.Outcome() {
		case Done:
			c.PutsOK++
		case NotApplied:
			c.PutsFailed++
		default:
			c.PutsUnknown++
		}
		return
	}
	c.Gets++
	switch {
	case o.Outcome() != Done:
		c.GetsFailed++
	case o.Found:
		c.GetsFound++
	default:
		c.GetsNotFound++
	}
}

func keyStats(kc *keyCheck) KeyStats {
	ks := KeyStats{Key: kc.key, Ops: len(kc.ops), Checked: len(kc.cops)}
	seen := map[string]bool{}
	for _, o := range kc.ops {
		if o.Kind == OpPut {
			ks.Puts++
			if o.Outcome() == MaybeApplied {
				ks.Unknown++
			}
		} else {
			ks.Gets++
		}
		for _, n := range o.Nodes {
			if !seen[n] {
				seen[n] = true
				ks.Nodes = append(ks.Nodes, n)
			}
		}
	}
	sort.Strings(ks.Nodes)
	switch {
	case kc.anomaly != nil:
		ks.Verdict = NotLinearizable
	case kc.result == porcupine.Ok:
		ks.Verdict = Linearizable
	default:
		ks.Verdict = NoVerdict
	}
	return ks
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// joinKeys names up to five keys: "key-1, key-2 and 3 more".
func joinKeys(keys []string) string {
	if len(keys) <= 5 {
		s := ""
		for i, k := range keys {
			switch {
			case i == 0:
			case i == len(keys)-1:
				s += " and "
			default:
				s += ", "
			}
			s += k
		}
		return s
	}
	return strings.Join(keys[:4], ", ") + fmt.Sprintf(" and %d more keys", len(keys)-4)
}
