package check

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kvclass/kvclass/internal/testwait"
)

func TestCheckLinearizableServer(t *testing.T) {
	t.Parallel()
	kv, srv := newKVServer(t, false, nil)
	html := filepath.Join(t.TempDir(), "history.html")
	prefix := "k &#+%/ключ-" // survives the query string
	var out testwait.Buffer
	r, err := RunCheck(context.Background(), CheckConfig{
		Proxy: srv.URL, Duration: time.Second, Clients: 4, Keys: 3, Rate: 400,
		KeyPrefix: prefix, HTML: html, ProgressEvery: 200 * time.Millisecond,
	}, &out)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s", out.String())
	if r.Verdict != Linearizable || ExitCode(r, err) != 0 {
		t.Fatalf("%s: %s", r.Verdict, r.Explanation)
	}
	if r.Counts.Ops < 100 || r.Counts.PutsOK == 0 || r.Counts.GetsFound == 0 || len(r.Keys) != 3 || r.Clients != 4 {
		t.Errorf("counts %+v keys %d clients %d", r.Counts, len(r.Keys), r.Clients)
	}
	for _, k := range kv.seenKeys() {
		if !strings.HasPrefix(k, prefix) {
			t.Errorf("the server saw key %q, not under %q", k, prefix)
		}
	}
	for _, o := range r.History {
		if o.Call < 0 || o.Return < o.Call || o.Client < 0 || o.Client >= 4 {
			t.Fatalf("bad op %+v", o)
		}
		if o.Status == 200 && (len(o.Nodes) != 1 || o.Nodes[0] != "kv1" || !strings.HasSuffix(o.Version, "/kv1")) {
			t.Fatalf("node or version not recorded: %+v", o)
		}
	}
	for _, w := range []string{"Checking " + srv.URL, "This run sends about 400 requests", " ops  ", "LINEARIZABLE: every read", "key  ", "kv1"} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("output lacks %q", w)
		}
	}
	b, err := os.ReadFile(html)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte("@kv1")) || !bytes.Contains(b, []byte("<html")) {
		t.Errorf("the visualization has no node names (%d bytes)", len(b))
	}
}

func TestCheckLaggingReplicaIsStale(t *testing.T) {
	t.Parallel()
	_, srv := newKVServer(t, true, nil)
	var out testwait.Buffer
	r, err := RunCheck(context.Background(), CheckConfig{
		Proxy: srv.URL, Duration: time.Second, Clients: 4, Keys: 2, Rate: 400,
	}, &out)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s", out.String())
	if r.Verdict != NotLinearizable || ExitCode(r, err) != 1 {
		t.Fatalf("%s: %s", r.Verdict, r.Explanation)
	}
	a := r.Anomalies[0]
	if a.Kind != "stale read" || !strings.HasPrefix(r.Explanation, "stale read: GET check-") ||
		!strings.Contains(r.Explanation, " from kv2, after PUT check-") || !strings.Contains(r.Explanation, "was acknowledged at") ||
		!strings.Contains(r.Explanation, "(by kv1)") {
		t.Errorf("explanation %q", r.Explanation)
	}
	if last := a.Ops[len(a.Ops)-1]; last.Kind != OpGet || last.Nodes[0] != "kv2" || a.At != last.Call {
		t.Errorf("anomaly ops %+v", a.Ops)
	}
	if !strings.Contains(out.String(), "NOT LINEARIZABLE: stale read: ") || !strings.Contains(out.String(), "Operations involved:") {
		t.Errorf("output:\n%s", out.String())
	}
}

func TestCheckCancelReturnsHistory(t *testing.T) {
	_, srv := newKVServer(t, false, nil)
	ctx, cancel := context.WithCancel(context.Background())
	r, err := Check(ctx, CheckConfig{
		Proxy: srv.URL, Duration: time.Minute, Rate: 200, ProgressEvery: 20 * time.Millisecond,
		Progress: func(p CheckProgress) {
			if p.Ops > 0 {
				cancel()
			}
		},
	})
	if err != context.Canceled || r.Verdict != NoVerdict || len(r.History) == 0 || r.Counts.Ops != len(r.History) {
		t.Fatalf("err %v verdict %s history %d counts %+v", err, r.Verdict, len(r.History), r.Counts)
	}
	if ExitCode(r, err) != 2 {
		t.Errorf("exit code %d", ExitCode(r, err))
	}
}

func TestCheckCannotRun(t *testing.T) {
	// A port nothing listens on: every request is refused.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	var out bytes.Buffer
	r, err := RunCheck(context.Background(), CheckConfig{
		Proxy: "http://" + addr, Duration: 300 * time.Millisecond, Rate: 100,
	}, &out)
	if err == nil || r.Verdict != NoVerdict || ExitCode(r, err) != 2 {
		t.Fatalf("err %v verdict %s", err, r.Verdict)
	}
	if !strings.Contains(err.Error(), "could not run: none of the") || !strings.Contains(err.Error(), "conn×") ||
		!strings.Contains(err.Error(), "is the proxy running") {
		t.Errorf("error %v", err)
	}
}

func TestCheckConfigErrors(t *testing.T) {
	for _, c := range []CheckConfig{
		{},
		{Proxy: "127.0.0.1:5003"},
		{Proxy: "http://x", Clients: -1},
		{Proxy: "http://x", Keys: -2},
		{Proxy: "http://x", Duration: -time.Second},
	} {
		r, err := Check(context.Background(), c)
		if err == nil || ExitCode(r, err) != 2 {
			t.Errorf("%+v accepted", c)
		} else if !strings.Contains(err.Error(), "pass") {
			t.Errorf("%+v: error does not say what to do: %v", c, err)
		}
	}
}
