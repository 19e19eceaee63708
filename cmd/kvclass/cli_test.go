package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kvclass/kvclass/internal/testwait"
	"github.com/kvclass/kvclass/tunnel/edgetest"
)

// cliResult is what one kvclass invocation printed and returned.
type cliResult struct {
	stdout, stderr string
	err            error
}

// code is the process exit code main would use.
func (r cliResult) code() int {
	var ee *exitError
	switch {
	case r.err == nil:
		return 0
	case errors.As(r.err, &ee):
		return ee.code
	}
	return 1
}

// cliRun runs kvclass with args until it returns (startup errors) or ctx ends.
func cliRun(ctx context.Context, args ...string) cliResult {
	var out, errOut testwait.Buffer
	err := run(ctx, args, &out, &errOut)
	return cliResult{out.String(), errOut.String(), err}
}

// cliStart runs a long-lived kvclass command in the background; stop ends it
// as Ctrl-C would and returns what it printed.
func cliStart(t *testing.T, args ...string) (stdout *testwait.Buffer, stop func() cliResult) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut testwait.Buffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, args, &out, &errOut) }()
	var once sync.Once
	var res cliResult
	stop = func() cliResult {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				res = cliResult{out.String(), errOut.String(), err}
			case <-time.After(10 * time.Second):
				t.Errorf("kvclass %s did not stop within 10s of Ctrl-C", args[0])
			}
		})
		return res
	}
	t.Cleanup(func() { stop() })
	return &out, stop
}

// cliPorts returns n consecutive free loopback ports.
func cliPorts(t *testing.T, n int) int {
	t.Helper()
	for try := 0; try < 50; try++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		base := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		ok := true
		for p := base; p < base+n && ok; p++ {
			l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
			if err != nil {
				ok = false
				continue
			}
			l.Close()
		}
		if ok && base+n < 65535 {
			return base
		}
	}
	t.Fatal("no run of free ports")
	return 0
}

func cliGet(u string) (int, string) {
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(u)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestDemoRunsTheSeedWalkthrough(t *testing.T) {
	base := cliPorts(t, 4)
	state := filepath.Join(t.TempDir(), "state.json")
	out, stop := cliStart(t, "demo", "--base-port", strconv.Itoa(base), "--state", state)
	proxyURL := "http://localhost:" + strconv.Itoa(base+3)
	testwait.For(t, "the demo's banner", func() bool { return strings.Contains(out.String(), "Ctrl-C stops everything") })
	text := out.String()
	for _, want := range []string{
		"kv1    http://localhost:" + strconv.Itoa(base),
		"proxy  " + proxyURL,
		proxyURL + "/state",
		"for i in {0..20}; do",
		"curl '" + proxyURL + "/put?key=key-'$i''",
		"kvclass node --join http://127.0.0.1:" + strconv.Itoa(base+3) + " --token ",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the demo does not print %q:\n%s", want, text)
		}
	}
	// The printed loop, as the class runs it.
	c := &http.Client{Timeout: 5 * time.Second}
	for i := 0; i <= 20; i++ {
		resp, err := c.Post(proxyURL+"/put?key=key-"+strconv.Itoa(i), "application/json", strings.NewReader(`{"value": "value-`+strconv.Itoa(i)+`"}`))
		if err != nil {
			t.Fatal(err)
		}
		node := resp.Header.Get("X-Kvclass-Node")
		resp.Body.Close()
		if want := "kv" + strconv.Itoa(seedOwners[i]+1); resp.StatusCode != 200 || node != want {
			t.Fatalf("key-%d: %d on %q, the seed puts it on %s", i, resp.StatusCode, node, want)
		}
	}
	if code, body := cliGet("http://localhost:" + strconv.Itoa(base+seedOwners[7]) + "/get?key=key-7"); code != 200 || body != `{"value":"value-7"}`+"\n" {
		t.Fatalf("key-7 on its node: %d %s", code, body)
	}
	// The join line the demo printed works as pasted on the demo's own
	// machine, where its nodes hold ports (without -p a taken port moves
	// the node on).
	line := text[strings.Index(text, "kvclass node --join "):]
	line = line[:strings.IndexByte(line, '\n')]
	_, stopStudent := cliStart(t, strings.Fields(line)[1:]...)
	testwait.For(t, "the pasted line's node to join the demo", func() bool {
		_, body := cliGet(proxyURL + "/state?format=json")
		return strings.Count(body, `"status":"up"`) == 4
	})
	stopStudent()
	res := stop()
	if res.err != nil || !strings.Contains(res.stdout, "stopping") {
		t.Fatalf("Ctrl-C: %v\n%s", res.err, res.stdout)
	}
	if code, _ := cliGet(proxyURL + "/health"); code != 0 {
		t.Fatal("the proxy still answers after Ctrl-C")
	}
	// The state file keeps the class code and is private.
	if fi, err := os.Stat(state); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("state file: %v %v", fi, err)
	}
}

func TestDemoNamesTheFlagForATakenPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	res := cliRun(context.Background(), "demo", "--base-port", strconv.Itoa(port), "--state", filepath.Join(t.TempDir(), "s.json"))
	if res.code() != 2 || !strings.Contains(res.err.Error(), "port "+strconv.Itoa(port)+" is already in use") || !strings.Contains(res.err.Error(), "--base-port") || strings.Contains(res.err.Error(), "\n") {
		t.Fatalf("exit %d: %v", res.code(), res.err)
	}
}

func TestStartupErrorsAreOneLineAndExitCode2(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(text), 0o644)
		return p
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	taken := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	state := filepath.Join(dir, "state.json")
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"proxy", "--state", state, "-c", write("unknown.yml", "mode: sharding\nmdoe: x\n")}, `unknown.yml:2: unknown field "mdoe"`},
		{[]string{"proxy", "--state", state, "-c", write("dup.yml", "nodes:\n  - {name: a, url: 'http://x:1'}\n  - {name: a, url: 'http://y:1'}\n")}, `dup.yml:3: node name "a" is used twice`},
		{[]string{"proxy", "--state", state, "-c", write("url.yml", "nodes:\n  - {name: a, url: 'gopher://x'}\n")}, `url.yml:2: bad node URL: "gopher://x": only http:// and https:// URLs are accepted`},
		{[]string{"proxy", "--state", state, "-c", write("mode.yml", "mode: consistent-hashing\n")}, `mode.yml:1: unknown mode "consistent-hashing"`},
		{[]string{"proxy", "--state", state, "-c", filepath.Join(dir, "missing.yml")}, `missing.yml`},
		{[]string{"proxy", "--state", state, "--mode", "chaos"}, `unknown --mode "chaos"`},
		{[]string{"proxy", "--state", state, "-p", taken}, "port " + taken + " is already in use: move the proxy with -p/--port"},
		{[]string{"node", "-p", taken}, "port " + taken + " is already in use: move the node with -p/--port"},
		{[]string{"node", "-n", "bad name!"}, "bad node name"},
		{[]string{"node", "--join", "http://127.0.0.1:1"}, "--join needs --token"},
		{[]string{"node", "--ngrok-url", "https://x.ngrok.dev"}, "need --ngrok"},
		{[]string{"node", "--no-such-flag"}, "flag provided but not defined"},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
	}
	for _, tc := range cases {
		res := cliRun(context.Background(), tc.args...)
		if res.code() != 2 || res.err == nil || !strings.Contains(res.err.Error(), tc.want) || strings.Contains(res.err.Error(), "\n") {
			t.Errorf("kvclass %s: exit %d, %v; want exit 2 and one line containing %q", strings.Join(tc.args, " "), res.code(), res.err, tc.want)
		}
	}
}

func TestNodeJoinsAProxyAndLeavesOnCtrlC(t *testing.T) {
	base := cliPorts(t, 2)
	state := filepath.Join(t.TempDir(), "state.json")
	proxyOut, stopProxy := cliStart(t, "proxy", "-p", strconv.Itoa(base+1), "--allow-private", "--token", "room-101", "--state", state)
	testwait.For(t, "the proxy's banner", func() bool { return strings.Contains(proxyOut.String(), "students run") })
	banner := proxyOut.String()
	if !strings.Contains(banner, "kvclass node --join http://127.0.0.1:"+strconv.Itoa(base+1)+" --token room-101") {
		t.Errorf("the proxy does not print the join line:\n%s", banner)
	}
	// The terminal is on the projector: the admin token is never shown.
	var secrets struct {
		AdminToken string `json:"admin_token"`
	}
	data, _ := os.ReadFile(state)
	if err := json.Unmarshal(data, &secrets); err != nil || len(secrets.AdminToken) < 16 {
		t.Fatalf("state file %s: %v", data, err)
	}
	if strings.Contains(banner, secrets.AdminToken) || strings.Contains(proxyOut.String(), secrets.AdminToken) {
		t.Fatal("the proxy printed its admin token")
	}
	proxyURL := "http://127.0.0.1:" + strconv.Itoa(base+1)

	// A wrong class code is one line and a non-zero exit.
	res := cliRun(context.Background(), "node", "-n", "kv1", "-p", strconv.Itoa(base), "--join", proxyURL, "--token", "wrong")
	if res.code() == 0 || !strings.Contains(res.err.Error(), "401") || strings.Contains(res.err.Error(), "\n") {
		t.Fatalf("wrong token: exit %d, %v", res.code(), res.err)
	}
	nodeOut, stopNode := cliStart(t, "node", "-n", "kv1", "-p", strconv.Itoa(base), "--join", proxyURL, "--token", "room-101")
	testwait.For(t, "the node's banner", func() bool { return strings.Contains(nodeOut.String(), "serving") })
	stateHas := func(s string) func() bool {
		return func() bool { _, body := cliGet(proxyURL + "/state?format=json"); return strings.Contains(body, s) }
	}
	testwait.For(t, "kv1 up on the proxy", stateHas(`"name":"kv1","url":"http://127.0.0.1:`+strconv.Itoa(base)+`","status":"up"`))
	if res := stopNode(); res.err != nil {
		t.Fatalf("node stop: %v", res.err)
	}
	testwait.For(t, "kv1 down, stopped", stateHas(`"status":"down","reason":"stopped"`))
	res = stopProxy()
	if res.err != nil {
		t.Fatalf("proxy stop: %v", res.err)
	}
	if strings.Contains(res.stderr, secrets.AdminToken) || strings.Contains(res.stderr, "room-101") {
		t.Fatal("the proxy logged a token")
	}
}

func TestHealthCommand(t *testing.T) {
	base := cliPorts(t, 1)
	out, _ := cliStart(t, "node", "-n", "hc", "-p", strconv.Itoa(base))
	testwait.For(t, "node up", func() bool { return strings.Contains(out.String(), "serving") })
	res := cliRun(context.Background(), "health", "http://127.0.0.1:"+strconv.Itoa(base))
	if res.err != nil || strings.TrimSpace(res.stdout) != "Hi from hc" {
		t.Fatalf("healthy node: %v %q", res.err, res.stdout)
	}
	res = cliRun(context.Background(), "health", "--timeout", "500ms", "http://127.0.0.1:1")
	if res.code() != 1 || !strings.Contains(res.err.Error(), "unhealthy") {
		t.Fatalf("no node: exit %d %v", res.code(), res.err)
	}
	if res := cliRun(context.Background(), "health", "-h"); res.code() != 0 && !errors.Is(res.err, flag.ErrHelp) {
		t.Fatalf("health -h: exit %d %v", res.code(), res.err)
	}
	if res := cliRun(context.Background(), "health"); res.code() != 2 || !strings.Contains(res.err.Error(), "usage: kvclass health URL") {
		t.Fatalf("health without URL: exit %d %v", res.code(), res.err)
	}
	if res := cliRun(context.Background(), "version"); res.err != nil || !strings.HasPrefix(res.stdout, "kvclass ") {
		t.Fatalf("version: %v %q", res.err, res.stdout)
	}
}

// TestNgrokClassOffline runs the whole ngrok classroom flow against the
// local stand-in of ngrok's edge, with the flags a rehearsal uses: the
// proxy publishes itself and prints the students' line, a node publishes
// itself and joins through the proxy's public URL, and the class's curl
// reaches the node through both tunnels.
func TestNgrokClassOffline(t *testing.T) {
	edge, err := edgetest.Start(edgetest.Options{Authtokens: []string{"tok-instructor", "tok-student"}})
	if err != nil {
		t.Fatal(err)
	}
	defer edge.Close()
	ca := filepath.Join(t.TempDir(), "edge-ca.pem")
	os.WriteFile(ca, edge.CAPEM(), 0o644)
	ngrokFlags := []string{"--ngrok", "--ngrok-connect-url", edge.ConnectAddr(), "--ngrok-ca", ca}
	base := cliPorts(t, 3)

	t.Setenv("NGROK_AUTHTOKEN", "tok-instructor")
	proxyOut, _ := cliStart(t, append([]string{"proxy", "-p", strconv.Itoa(base + 1), "--allow-private", "--token", "room-7", "--state", filepath.Join(t.TempDir(), "s.json")}, ngrokFlags...)...)
	testwait.For(t, "the proxy's banner", func() bool { return strings.Contains(proxyOut.String(), "students run") })
	var publicProxy string
	for _, f := range strings.Fields(proxyOut.String()) {
		if strings.HasPrefix(f, "http://127.0.0.1:") && !strings.HasSuffix(f, ":"+strconv.Itoa(base+1)) && publicProxy == "" {
			publicProxy = strings.TrimSuffix(f, "/state")
		}
	}
	if publicProxy == "" || !strings.Contains(proxyOut.String(), "kvclass node --ngrok --join "+publicProxy+" --token room-7") {
		t.Fatalf("no public URL or ngrok join line in:\n%s", proxyOut.String())
	}

	// A student with a wrong authtoken: one line saying what to do, fast.
	t.Setenv("NGROK_AUTHTOKEN", "typo")
	start := time.Now()
	res := cliRun(context.Background(), append([]string{"node", "-n", "kv1", "-p", strconv.Itoa(base), "--join", publicProxy, "--token", "room-7"}, ngrokFlags...)...)
	if res.code() != 2 || !strings.Contains(res.err.Error(), "authtoken") || strings.Contains(res.err.Error(), "\n") || time.Since(start) > 10*time.Second {
		t.Fatalf("bad authtoken: exit %d after %v: %v", res.code(), time.Since(start), res.err)
	}
	t.Setenv("NGROK_AUTHTOKEN", "")
	if res := cliRun(context.Background(), "node", "--ngrok"); res.code() != 2 || !strings.Contains(res.err.Error(), "NGROK_AUTHTOKEN") {
		t.Fatalf("no authtoken: exit %d: %v", res.code(), res.err)
	}

	t.Setenv("NGROK_AUTHTOKEN", "tok-student")
	nodeOut, _ := cliStart(t, append([]string{"node", "-n", "kv1", "-p", strconv.Itoa(base), "--join", publicProxy, "--token", "room-7"}, ngrokFlags...)...)
	testwait.For(t, "the node's banner", func() bool { return strings.Contains(nodeOut.String(), "public URL") })
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Post(publicProxy+"/put?key=hello", "application/json", strings.NewReader(`{"value": "through two tunnels"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("X-Kvclass-Node") != "kv1" {
		t.Fatalf("put through the public proxy: %d via %q", resp.StatusCode, resp.Header.Get("X-Kvclass-Node"))
	}
	if code, body := cliGet("http://127.0.0.1:" + strconv.Itoa(base) + "/get?key=hello"); code != 200 || !strings.Contains(body, "through two tunnels") {
		t.Fatalf("the node's local port: %d %s", code, body)
	}

	// A student without an ngrok account joins through the proxy's relay,
	// over the proxy's own public URL: one line, as the proxy printed it.
	if !strings.Contains(proxyOut.String(), "kvclass node --relay --join "+publicProxy+" --token room-7") {
		t.Fatalf("the proxy does not offer the relay:\n%s", proxyOut.String())
	}
	t.Setenv("NGROK_AUTHTOKEN", "")
	relayOut, _ := cliStart(t, "node", "-n", "kv2", "-p", strconv.Itoa(base+2), "--relay", "--join", publicProxy, "--token", "room-7")
	testwait.For(t, "the relayed node's banner", func() bool { return strings.Contains(relayOut.String(), "reached through the proxy's relay") })
	testwait.For(t, "kv2 up on the proxy, as relay:kv2", func() bool {
		_, body := cliGet(publicProxy + "/state?format=json")
		return strings.Contains(body, `"name":"kv2","url":"relay:kv2","status":"up"`)
	})
	onKV2 := ""
	for i := 0; onKV2 == ""; i++ {
		key := "k" + strconv.Itoa(i)
		resp, err := c.Post(publicProxy+"/put?key="+key, "application/json", strings.NewReader(`{"value": "relayed"}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("put %s: %d", key, resp.StatusCode)
		}
		if resp.Header.Get("X-Kvclass-Node") == "kv2" {
			onKV2 = key
		}
	}
	if code, body := cliGet("http://127.0.0.1:" + strconv.Itoa(base+2) + "/get?key=" + onKV2); code != 200 || !strings.Contains(body, "relayed") {
		t.Fatalf("the relayed node's local port: %d %s", code, body)
	}
}

// TestWhereShowsTheArithmetic: kvclass where gives the owner a python3
// one-liner gives, from a node list, a config file or a running proxy:
//
//	python3 -c 'import hashlib;print(int(hashlib.sha256(b"key-7").hexdigest(),16)%3)'  # 0
func TestWhereShowsTheArithmetic(t *testing.T) {
	res := cliRun(context.Background(), "where", "--nodes", "kv1,kv2,kv3", "key-7")
	if res.err != nil || !strings.Contains(res.stdout, "SHA-256(key-7) mod 3 = 0 → kv1") {
		t.Fatalf("where --nodes: %v\n%s", res.err, res.stdout)
	}
	cfg := filepath.Join(t.TempDir(), "c.yml")
	os.WriteFile(cfg, []byte("placement: ring\nvnodes: 8\nnodes:\n  - {name: a, url: 'http://127.0.0.1:1'}\n  - {name: b, url: 'http://127.0.0.1:2'}\n"), 0o600)
	res = cliRun(context.Background(), "where", "-c", cfg, "key-7")
	if res.err != nil || !strings.Contains(res.stdout, "ring: 8 points per node") || !strings.Contains(res.stdout, "h(key-7) = 0x78ed7d2bf2a8c4af") {
		t.Fatalf("where -c: %v\n%s", res.err, res.stdout)
	}
	base := cliPorts(t, 4)
	out, _ := cliStart(t, "demo", "--base-port", strconv.Itoa(base), "--state", filepath.Join(t.TempDir(), "s.json"))
	testwait.For(t, "the demo", func() bool { return strings.Contains(out.String(), "Ctrl-C stops everything") })
	res = cliRun(context.Background(), "where", "--proxy", "http://127.0.0.1:"+strconv.Itoa(base+3), "key-7", "key-0")
	if res.err != nil || !strings.Contains(res.stdout, "SHA-256(key-7) mod 3 = 0 → kv1") || !strings.Contains(res.stdout, "SHA-256(key-0) mod 3 = 2 → kv3") {
		t.Fatalf("where --proxy: %v\n%s", res.err, res.stdout)
	}
	for _, bad := range [][]string{{"where", "key"}, {"where", "--nodes", "a", "--proxy", "http://x", "k"}, {"where", "--nodes", "a"}} {
		if res := cliRun(context.Background(), bad...); res.code() != 2 {
			t.Errorf("%v: exit %d", bad, res.code())
		}
	}
}
