package check

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"
)

// ms is a time of a crafted history, in milliseconds since its start.
func ms(n float64) time.Duration { return time.Duration(n * float64(time.Millisecond)) }

func put(client int, key, value string, call, ret float64, status int, nodes ...string) Op {
	return Op{Client: client, Kind: OpPut, Key: key, Value: value, Call: ms(call), Return: ms(ret), Status: status, Nodes: nodes}
}

func get(client int, key, value string, call, ret float64, nodes ...string) Op {
	return Op{Client: client, Kind: OpGet, Key: key, Value: value, Found: true, Call: ms(call), Return: ms(ret), Status: 200, Nodes: nodes}
}

func getAbsent(client int, key string, call, ret float64, nodes ...string) Op {
	return Op{Client: client, Kind: OpGet, Key: key, Call: ms(call), Return: ms(ret), Status: 404, Nodes: nodes}
}

func TestLinearizableHistoryPasses(t *testing.T) {
	h := []Op{
		getAbsent(0, "key-1", 0, 5, "kv1"),
		put(0, "key-1", "c0-1", 10, 20, 200, "kv1"),
		get(1, "key-1", "c0-1", 25, 30, "kv1"),
		put(1, "key-1", "c1-1", 28, 40, 200, "kv2"),
		get(0, "key-1", "c1-1", 35, 45, "kv2"), // overlaps the put: may see it
		get(2, "key-1", "c1-1", 50, 60, "kv3"),
		put(2, "key-2", "c2-1", 0, 100, 200, "kv1"),
		getAbsent(0, "key-2", 10, 20, "kv1"), // the put had not taken effect yet
		get(1, "key-2", "c2-1", 30, 40, "kv1"),
	}
	r := CheckHistory(h, time.Second)
	if r.Verdict != Linearizable {
		t.Fatalf("verdict %s: %s", r.Verdict, r.Explanation)
	}
	if len(r.Keys) != 2 || r.Keys[0].Key != "key-1" || r.Keys[0].Verdict != Linearizable || r.Keys[0].Ops != 6 {
		t.Errorf("keys: %+v", r.Keys)
	}
	if r.Counts.Ops != 9 || r.Counts.PutsOK != 3 || r.Counts.GetsFound != 4 || r.Counts.GetsNotFound != 2 {
		t.Errorf("counts: %+v", r.Counts)
	}
	if ExitCode(r, nil) != 0 {
		t.Errorf("exit code %d, want 0", ExitCode(r, nil))
	}
}

func TestLostWriteFails(t *testing.T) {
	h := []Op{
		put(3, "key-2", "c3-20", 1900, 2100, 200, "kv1"),
		getAbsent(0, "key-2", 2500, 2510, "kv1"),
	}
	r := CheckHistory(h, time.Second)
	if r.Verdict != NotLinearizable {
		t.Fatalf("verdict %s: %s", r.Verdict, r.Explanation)
	}
	want := "lost write: PUT key-2=c3-20 was acknowledged at 2.100 s by kv1, but GET key-2 at 2.500 s (kv1) found no value"
	if r.Explanation != want {
		t.Errorf("explanation\n got %q\nwant %q", r.Explanation, want)
	}
	if a := r.Anomalies[0]; a.Kind != "lost write" || a.Key != "key-2" || len(a.Ops) != 2 || a.At != ms(2500) {
		t.Errorf("anomaly: %+v", a)
	}
	if ExitCode(r, nil) != 1 {
		t.Errorf("exit code %d, want 1", ExitCode(r, nil))
	}
}

func TestStaleReadFails(t *testing.T) {
	h := []Op{
		put(0, "key-1", "c0-111", 7000, 7100, 200, "kv1", "kv2", "kv3"),
		put(1, "key-1", "c1-157", 7900, 7944, 200, "kv2", "kv3"),
		get(0, "key-1", "c0-111", 7967, 7990, "kv1"),
		get(2, "key-1", "c1-157", 7995, 8000, "kv2"),
	}
	r := CheckHistory(h, time.Second)
	if r.Verdict != NotLinearizable {
		t.Fatalf("verdict %s: %s", r.Verdict, r.Explanation)
	}
	want := "stale read: GET key-1 at 7.967 s returned c0-111 from kv1, after PUT key-1=c1-157 was acknowledged at 7.944 s (by kv2,kv3)"
	if r.Explanation != want {
		t.Errorf("explanation\n got %q\nwant %q", r.Explanation, want)
	}
	a := r.Anomalies[0]
	if a.Kind != "stale read" || len(a.Ops) != 3 || a.Ops[2].Value != "c0-111" || a.Ops[1].Value != "c1-157" {
		t.Errorf("anomaly ops: %+v", a.Ops)
	}
	if r.Keys[0].Verdict != NotLinearizable {
		t.Errorf("key verdict %s", r.Keys[0].Verdict)
	}
}

func TestStaleReadAfterNewerRead(t *testing.T) {
	// Reads go backwards: c1-2 was read, then the older c0-1 again.
	h := []Op{
		put(0, "k", "c0-1", 0, 10, 200, "kv1"),
		put(1, "k", "c1-2", 20, 100, 502), // outcome unknown: not evidence itself
		get(2, "k", "c1-2", 30, 40, "kv2"),
		get(3, "k", "c0-1", 50, 60, "kv3"),
	}
	r := CheckHistory(h, time.Second)
	want := "stale read: GET k at 0.050 s returned c0-1 from kv3, after GET k at 0.030 s had returned the newer c1-2 (from kv2)"
	if r.Verdict != NotLinearizable || r.Explanation != want {
		t.Fatalf("%s: %q\nwant %q", r.Verdict, r.Explanation, want)
	}
}

func TestEarliestAnomalyIsExplained(t *testing.T) {
	h := []Op{
		put(0, "b", "c0-1", 0, 10, 200, "kv1"),
		put(0, "b", "c0-2", 20, 30, 200, "kv1"),
		get(1, "b", "c0-1", 900, 910, "kv2"), // stale, late
		put(0, "a", "c0-3", 40, 50, 200, "kv1"),
		getAbsent(1, "a", 300, 310, "kv2"), // lost, earlier
	}
	r := CheckHistory(h, time.Second)
	if r.Verdict != NotLinearizable || len(r.Anomalies) != 2 {
		t.Fatalf("%s, %d anomalies: %s", r.Verdict, len(r.Anomalies), r.Explanation)
	}
	if !strings.HasPrefix(r.Explanation, "lost write: PUT a=c0-3") || !strings.HasSuffix(r.Explanation, "(and anomalies on 1 more key)") {
		t.Errorf("explanation %q", r.Explanation)
	}
}

func TestIndeterminatePutKeepsLinearizable(t *testing.T) {
	for _, status := range []int{0, 502, 503, 504} {
		for _, read := range []string{"c0-1", "c0-2"} {
			p := put(0, "k", "c0-2", 20, 30, status, "kv1")
			if status == 0 {
				p.Timeout, p.Error = true, "timeout"
			}
			if status == 503 {
				p.Error = "Write quorum not reached: stored on 1 of 3 nodes, quorum is 2."
			}
			h := []Op{
				put(0, "k", "c0-1", 0, 10, 200, "kv1"),
				p,
				get(1, "k", read, 40, 50, "kv1"),
				get(1, "k", read, 60, 70, "kv1"),
			}
			r := CheckHistory(h, time.Second)
			if r.Verdict != Linearizable {
				t.Errorf("status %d, read %s: %s: %s", status, read, r.Verdict, r.Explanation)
			}
			if r.Counts.PutsUnknown != 1 || r.Keys[0].Unknown != 1 {
				t.Errorf("status %d: counts %+v", status, r.Counts)
			}
		}
	}
}

func TestRefusedPutMustNotBeRead(t *testing.T) {
	for _, tc := range []struct {
		status int
		msg    string
	}{
		{400, "Please provide key and value."},
		{503, "Node kv1 is down (stopped)."},
	} {
		h := []Op{
			put(0, "k", "c0-1", 0, 10, 200, "kv1"),
			put(0, "k", "c0-2", 20, 30, tc.status, "kv1"),
			get(1, "k", "c0-2", 40, 50, "kv1"),
		}
		h[1].Error = tc.msg
		r := CheckHistory(h, time.Second)
		if r.Verdict != NotLinearizable || !strings.HasPrefix(r.Explanation, "phantom read: GET k at 0.040 s returned c0-2 from kv1, but PUT k=c0-2 had been refused") {
			t.Errorf("status %d: %s: %s", tc.status, r.Verdict, r.Explanation)
		}
	}
}

func TestGenericAnomaly(t *testing.T) {
	// Two writes in flight; one reader sees a then b, the other b then a.
	// No pair of operations proves it: the generic explanation does.
	h := []Op{
		put(0, "k", "a", 0, 100, 200, "kv1"),
		put(1, "k", "b", 0, 100, 200, "kv2"),
		get(2, "k", "a", 10, 20, "kv1"),
		get(2, "k", "b", 30, 40, "kv2"),
		get(3, "k", "b", 10, 20, "kv2"),
		get(3, "k", "a", 30, 40, "kv1"),
	}
	r := CheckHistory(h, time.Second)
	if r.Verdict != NotLinearizable {
		t.Fatalf("verdict %s: %s", r.Verdict, r.Explanation)
	}
	a := r.Anomalies[0]
	if a.Kind != "not linearizable" || a.Key != "k" || !strings.HasPrefix(a.Text, "not linearizable: k: ") ||
		!strings.Contains(a.Text, "GET k → a [0.030–0.040 s, kv1]") || a.At != ms(30) {
		t.Errorf("anomaly %+v", a)
	}
}

func TestFailedGetsAreDropped(t *testing.T) {
	h := []Op{
		put(0, "k", "c0-1", 0, 10, 200, "kv1"),
		{Client: 1, Kind: OpGet, Key: "k", Call: ms(20), Return: ms(30), Status: 502, Error: "Node kv1 failed."},
		{Client: 1, Kind: OpGet, Key: "k", Call: ms(40), Return: ms(50), Status: 404, Edge: "ERR_NGROK_3200"},
	}
	r := CheckHistory(h, time.Second)
	if r.Verdict != Linearizable || r.Counts.GetsFailed != 2 || r.Keys[0].Checked != 1 {
		t.Fatalf("%s %+v %+v", r.Verdict, r.Counts, r.Keys)
	}
	if FormatErrors(r.Errors) != "502×1 ERR_NGROK_3200×1" {
		t.Errorf("errors %v", r.Errors)
	}
}

func TestBoundedSearchGivesNoVerdict(t *testing.T) {
	// 24 concurrent puts, then a read of the first one: linearizable only
	// with c0-0 written last, which Porcupine's search reaches only after
	// trying the other orders. A tiny bound must stop it.
	var h []Op
	for i := range 24 {
		h = append(h, put(i, "k", "c"+itoa(i)+"-0", float64(i), 1000+float64(i), 200, "kv1"))
	}
	h = append(h, get(24, "k", "c0-0", 2000, 2001, "kv1"))
	began := time.Now()
	r := CheckHistory(h, 50*time.Millisecond)
	if took := time.Since(began); took > 5*time.Second {
		t.Errorf("took %s", took)
	}
	if r.Verdict != NoVerdict || !strings.Contains(r.Explanation, "did not finish within 50ms") {
		t.Fatalf("verdict %s: %s", r.Verdict, r.Explanation)
	}
	if ExitCode(r, nil) != 2 || r.Keys[0].Verdict != NoVerdict {
		t.Errorf("exit code %d, key verdict %s", ExitCode(r, nil), r.Keys[0].Verdict)
	}
}

func TestPatternSettlesTimedOutKey(t *testing.T) {
	// The same expensive history, plus a lost write on the same key after
	// it: the search cannot finish, but the pattern proves the anomaly.
	var h []Op
	for i := range 24 {
		h = append(h, put(i, "k", "c"+itoa(i)+"-0", float64(i), 1000+float64(i), 200, "kv1"))
	}
	h = append(h, get(24, "k", "c0-0", 2000, 2001, "kv1"), getAbsent(24, "k", 3000, 3001, "kv2"))
	r := CheckHistory(h, 50*time.Millisecond)
	if r.Verdict != NotLinearizable || !strings.HasPrefix(r.Explanation, "lost write: ") ||
		!strings.Contains(r.Explanation, "the full search ran out of time") {
		t.Fatalf("verdict %s: %s", r.Verdict, r.Explanation)
	}
}

func TestResultJSON(t *testing.T) {
	r := CheckHistory([]Op{
		put(3, "key-2", "c3-20", 1900, 2100, 200, "kv1"),
		getAbsent(0, "key-2", 2500, 2510, "kv1"),
	}, time.Second)
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	json.Unmarshal(b, &m)
	for _, f := range []string{"verdict", "explanation", "anomalies", "counts", "keys", "duration_ns", "check_time_ns", "clients"} {
		if _, ok := m[f]; !ok {
			t.Errorf("JSON has no %q: %s", f, b)
		}
	}
	if _, ok := m["History"]; ok {
		t.Errorf("JSON carries the history: %s", b)
	}
	if m["verdict"] != "NOT LINEARIZABLE" {
		t.Errorf("verdict %v", m["verdict"])
	}
}

func TestExitCode(t *testing.T) {
	for _, tc := range []struct {
		v    Verdict
		err  error
		want int
	}{
		{Linearizable, nil, 0},
		{NotLinearizable, nil, 1},
		{NoVerdict, nil, 2},
		{Linearizable, errors.New("x"), 2},
	} {
		if got := ExitCode(Result{Verdict: tc.v}, tc.err); got != tc.want {
			t.Errorf("%s, %v: %d, want %d", tc.v, tc.err, got, tc.want)
		}
	}
}

func TestOutcome(t *testing.T) {
	for _, tc := range []struct {
		op   Op
		want Outcome
	}{
		{Op{Kind: OpPut, Status: 200}, Done},
		{Op{Kind: OpPut, Status: 400}, NotApplied},
		{Op{Kind: OpPut, Status: 409}, NotApplied},
		{Op{Kind: OpPut, Status: 507}, NotApplied},
		{Op{Kind: OpPut, Status: 503, Error: "Node kv2 is down (missed heartbeats)."}, NotApplied},
		{Op{Kind: OpPut, Status: 503, Error: "No nodes: the proxy has no node to call yet."}, NotApplied},
		{Op{Kind: OpPut, Status: 503, Error: "Write quorum not reached: stored on 1 of 3 nodes, quorum is 2. Failed: kv2 (is down)."}, MaybeApplied},
		{Op{Kind: OpPut, Status: 503}, MaybeApplied},
		{Op{Kind: OpPut, Status: 502}, MaybeApplied},
		{Op{Kind: OpPut, Status: 0, Timeout: true}, MaybeApplied},
		{Op{Kind: OpPut, Status: 0, NotSent: true}, NotApplied},
		{Op{Kind: OpPut, Status: 429, Edge: "ERR_NGROK_734"}, NotApplied},
		{Op{Kind: OpPut, Status: 502, Edge: "ERR_NGROK_8012"}, MaybeApplied},
		{Op{Kind: OpPut, Status: 200, Edge: "ERR_NGROK_3004"}, MaybeApplied},
		{Op{Kind: OpGet, Status: 200, Found: true}, Done},
		{Op{Kind: OpGet, Status: 200}, NotApplied},
		{Op{Kind: OpGet, Status: 404}, Done},
		{Op{Kind: OpGet, Status: 404, Edge: "ERR_NGROK_3200"}, NotApplied},
		{Op{Kind: OpGet, Status: 502}, NotApplied},
	} {
		if got := tc.op.Outcome(); got != tc.want {
			t.Errorf("%+v: %s, want %s", tc.op, got, tc.want)
		}
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
