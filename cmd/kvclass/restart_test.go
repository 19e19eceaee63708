package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kvclass/kvclass/internal/testwait"
)

// TestProxyRestartLosesNoAcknowledgedWrite: three nodes joined live, a
// writer and a reader running, the proxy killed (SIGKILL) and restarted
// twice. Every acknowledged write is readable afterwards with its latest
// value, and no read during the run returned an older value than one
// already acknowledged, or 404 for a key already written.
func TestProxyRestartLosesNoAcknowledgedWrite(t *testing.T) {
	for _, mode := range []string{"sharding", "replication"} {
		t.Run(mode, func(t *testing.T) { proxyRestartRun(t, mode) })
	}
}

func proxyRestartRun(t *testing.T, mode string) {
	base := cliPorts(t, 4)
	dir := t.TempDir()
	proxyURL := "http://127.0.0.1:" + strconv.Itoa(base+3)
	proxyArgs := []string{"proxy", "-p", strconv.Itoa(base + 3), "--state", filepath.Join(dir, "proxy.json"),
		"--token", "restart-class", "--allow-private", "--heartbeat", "200ms", "--mode", mode}
	if mode == "replication" {
		// Reads ask one replica (R = 1): only a write quorum of every node
		// (W = 3, R + W > N) rules out a stale read by a slow replica that a
		// write did not wait for, restarts or not.
		proxyArgs = append(proxyArgs, "--write-quorum", "3")
	}
	proxy := startProc(t, proxyArgs...)
	proxy.waitFor("students run")
	for i := range 3 {
		startProc(t, "node", "-n", "kv"+strconv.Itoa(i+1), "-p", strconv.Itoa(base+i), "--join", proxyURL,
			"--token", "restart-class", "--state", filepath.Join(dir, "nodes"))
	}
	waitUp(t, proxyURL, 3)

	const keys = 20
	hc := &http.Client{Timeout: 5 * time.Second}
	var mu sync.Mutex
	acked := map[string]int{} // key → latest acknowledged value
	var ackCount atomic.Int64
	var violations []string
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() { // the writer: values grow, so an older one is recognisable
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			key := "k" + strconv.Itoa(i%keys)
			resp, err := hc.Post(proxyURL+"/put?key="+key, "application/json", strings.NewReader(`{"value": `+strconv.Itoa(i)+`}`))
			if err != nil {
				time.Sleep(5 * time.Millisecond) // the proxy is down: do not spin
				continue
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				mu.Lock()
				acked[key] = i
				mu.Unlock()
				ackCount.Add(1)
			}
		}
	})
	wg.Go(func() { // the reader
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			key := "k" + strconv.Itoa(i%keys)
			mu.Lock()
			before, written := acked[key]
			mu.Unlock()
			status, value := getValue(hc, proxyURL, key)
			switch {
			case status == http.StatusOK && value < before:
				mu.Lock()
				violations = append(violations, key+": read "+strconv.Itoa(value)+" after "+strconv.Itoa(before)+" was acknowledged")
				mu.Unlock()
			case status == http.StatusNotFound && written:
				mu.Lock()
				violations = append(violations, key+": 404 after "+strconv.Itoa(before)+" was acknowledged")
				mu.Unlock()
			case status == 0:
				time.Sleep(5 * time.Millisecond)
			}
		}
	})
	waitAcked := func(n int64) {
		t.Helper()
		target := ackCount.Load() + n
		testwait.For(t, strconv.FormatInt(n, 10)+" more acknowledged writes", func() bool { return ackCount.Load() >= target })
	}
	waitAcked(100)
	for round := range 2 {
		proxy.kill()
		proxy = startProc(t, proxyArgs...)
		waitAcked(100)
		t.Logf("restart %d: %d writes acknowledged so far", round+1, ackCount.Load())
	}
	close(stop)
	wg.Wait()
	waitUp(t, proxyURL, 3)
	for key, want := range acked {
		// A write whose answer the killed proxy never sent may have been
		// stored: a later value of the same key is fine, an older one is not.
		if status, got := getValue(hc, proxyURL, key); status != http.StatusOK || got < want || "k"+strconv.Itoa(got%keys) != key {
			violations = append(violations, key+": after the restarts read "+strconv.Itoa(status)+" "+strconv.Itoa(got)+", want "+strconv.Itoa(want)+" or a later write")
		}
	}
	if len(violations) > 0 {
		t.Fatalf("%d of %d acknowledged writes were lost or read stale, e.g. %s", len(violations), ackCount.Load(), strings.Join(violations[:min(5, len(violations))], "; "))
	}
	if !strings.Contains(proxy.out.String(), "restored the class") {
		t.Errorf("the restarted proxy did not say it restored the class:\n%s", proxy.out.String())
	}
}

// getValue reads an integer value through the proxy: the status (0 when
// the request failed) and the value.
func getValue(hc *http.Client, proxyURL, key string) (int, int) {
	resp, err := hc.Get(proxyURL + "/get?key=" + url.QueryEscape(key))
	if err != nil {
		return 0, 0
	}
	defer resp.Body.Close()
	var body struct{ Value int }
	json.NewDecoder(io.LimitReader(resp.Body, 1<<16)).Decode(&body)
	return resp.StatusCode, body.Value
}

// waitUp waits until the proxy lists n nodes, all up.
func waitUp(t *testing.T, proxyURL string, n int) {
	t.Helper()
	testwait.Seen(t, testwait.Patience, strconv.Itoa(n)+" nodes up", func() (bool, string) {
		_, body := cliGet(proxyURL + "/state?format=json")
		return strings.Count(body, `"status":"up"`) == n && strings.Count(body, `"status":"down"`) == 0, body
	})
}

// TestCrashedNodeRejoinsAtOnce: a node killed (a laptop that crashed) and
// started again with the same command rejoins in its place at once, with the
// secret it kept; a second process under the same name on the same machine
// is told which process holds it.
func TestCrashedNodeRejoinsAtOnce(t *testing.T) {
	base := cliPorts(t, 3)
	dir := t.TempDir()
	proxyURL := "http://127.0.0.1:" + strconv.Itoa(base+2)
	startProc(t, "proxy", "-p", strconv.Itoa(base+2), "--state", filepath.Join(dir, "proxy.json"),
		"--token", "crash-class", "--allow-private", "--heartbeat", "5s").waitFor("students run")
	nodeArgs := []string{"node", "-n", "ada", "-p", strconv.Itoa(base), "--join", proxyURL, "--token", "crash-class", "--state", filepath.Join(dir, "nodes")}
	n := startProc(t, nodeArgs...)
	n.waitFor("serving at") // its secret is saved before it says so
	waitUp(t, proxyURL, 1)

	// The same name again on this machine, while the first runs.
	twin := startProc(t, "node", "-n", "ada", "-p", strconv.Itoa(base+1), "--join", proxyURL, "--token", "crash-class", "--state", filepath.Join(dir, "nodes"))
	code, ok := twin.exited(10 * time.Second)
	if !ok || code != 2 || !strings.Contains(twin.out.String(), "another kvclass node named \"ada\" runs on this machine (process "+strconv.Itoa(n.cmd.Process.Pid)) {
		t.Fatalf("a second node under the same name: exit %d (ended %v):\n%s", code, ok, twin.out.String())
	}

	// The crash: the proxy still thinks "ada" is up (heartbeats every 5s),
	// and the restarted process proves it is the same node.
	n.kill()
	start := time.Now()
	again := startProc(t, nodeArgs...)
	testwait.For(t, "the restarted node to rejoin", func() bool { return strings.Contains(again.out.String(), "joined the proxy") })
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the restarted node took %v to rejoin", d)
	}
	if strings.Contains(again.out.String(), "409") {
		t.Fatalf("the restarted node was refused:\n%s", again.out.String())
	}
	waitUp(t, proxyURL, 1)
}

// TestKickedNodeExitsSayingWhy: the instructor kicks a node; the student's
// kvclass says it was removed and exits non-zero instead of retrying, and a
// node stopped with Ctrl-C shows as stopped on the proxy.
func TestKickedNodeExitsSayingWhy(t *testing.T) {
	base := cliPorts(t, 3)
	dir := t.TempDir()
	proxyURL := "http://127.0.0.1:" + strconv.Itoa(base+2)
	const admin = "kick-test-admin-token"
	startProc(t, "proxy", "-p", strconv.Itoa(base+2), "--state", filepath.Join(dir, "proxy.json"),
		"--token", "kick-class", "--admin-token", admin, "--allow-private").waitFor("students run")
	nodeArgs := func(name string, port int) []string {
		return []string{"node", "-n", name, "-p", strconv.Itoa(port), "--join", proxyURL, "--token", "kick-class", "--state", filepath.Join(dir, "nodes")}
	}
	troll := startProc(t, nodeArgs("troll", base)...)
	ada := startProc(t, nodeArgs("ada", base+1)...)
	waitUp(t, proxyURL, 2)
	troll.waitFor("joined the proxy")

	req, _ := http.NewRequest("POST", proxyURL+"/admin/kick", strings.NewReader(`{"name": "troll"}`))
	req.Header.Set("Authorization", "Bearer "+admin)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("kick: %v %v", resp, err)
	}
	resp.Body.Close()
	code, ok := troll.exited(testwait.Patience)
	if !ok || code != 1 || !strings.Contains(troll.out.String(), "kvclass: the instructor removed this node from the class") {
		t.Fatalf("kicked node: exit %d (ended %v):\n%s", code, ok, troll.out.String())
	}

	ada.interrupt()
	testwait.For(t, "ada down, stopped", func() bool {
		_, body := cliGet(proxyURL + "/state?format=json")
		return strings.Contains(body, `"name":"ada"`) && strings.Contains(body, `"reason":"stopped"`)
	})
}
