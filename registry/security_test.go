package registry_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kvclass/kvclass/internal/testwait"
	"github.com/kvclass/kvclass/registry"
)

func TestJoinRefusesBadTokens(t *testing.T) {
	w := loopback(t)
	c := w.newClass(testOptions())
	n := w.newNode()
	for _, token := range []string{"", "amber-otter-4", "amber-otter-43", "amber-otter-42 ", "AMBER-OTTER-42", strings.Repeat("a", 3000)} {
		status, body := c.post("/registry/join", map[string]string{"name": "kv1", "url": n.url, "token": token})
		if status != http.StatusUnauthorized || body["error"] != "bad class code" {
			t.Errorf("token %.20q: %d %v, want 401 bad class code", token, status, body)
		}
	}
	if len(c.reg.Members()) != 0 {
		t.Fatalf("members after bad tokens: %v", names(c.reg.Members()))
	}
}

func TestJoinRefusesBadNames(t *testing.T) {
	w := loopback(t)
	c := w.newClass(testOptions())
	n := w.newNode()
	for _, name := range []string{"", "-kv", "_kv", "kv 1", "kv/1", "kv1\n", "<b>kv</b>", "ünï", "kv.1", "a'b", strings.Repeat("k", 33)} {
		status, body := c.joinHTTP(name, n.url, "")
		if status != http.StatusBadRequest || !strings.Contains(body["error"].(string), "bad node name") {
			t.Errorf("name %q: %d %v, want 400 bad node name", name, status, body)
		}
	}
	if status, body := c.joinHTTP(strings.Repeat("k", 32), n.url, ""); status != http.StatusOK {
		t.Errorf("32-character name: %d %v", status, body)
	}
	if status, body := c.joinHTTP("kv1", n.url, "short"); status != http.StatusBadRequest {
		t.Errorf("malformed secret: %d %v, want 400", status, body)
	}
}

func TestJoinURLPolicy(t *testing.T) {
	w := loopback(t)
	opts := testOptions()
	opts.AllowPrivate = false
	strict := w.newClass(opts)
	lan := w.newClass(testOptions())
	n := w.newNode()
	cases := []struct {
		c    *class
		url  string
		want int
	}{
		{strict, "ftp://93.184.215.14/", http.StatusBadRequest},
		{strict, "javascript:alert(1)", http.StatusBadRequest},
		{strict, "http://user:pw@93.184.215.14/", http.StatusBadRequest},
		{strict, "http:///path", http.StatusBadRequest},
		{strict, "http://93.184.215.14/?next=1", http.StatusBadRequest},
		{strict, "http://93.184.215.14:99999", http.StatusBadRequest},
		{strict, "http://93.184.215.14:", http.StatusBadRequest},
		{strict, "//93.184.215.14", http.StatusBadRequest},
		{strict, "http://" + strings.Repeat("a", 2000) + ".com", http.StatusBadRequest},
		{strict, "http://169.254.169.254/latest/meta-data", http.StatusBadRequest}, // a path is refused first
		{strict, "http://169.254.169.254", http.StatusForbidden},
		{strict, "http://[fd00:ec2::254]/", http.StatusForbidden},
		{strict, "http://100.100.100.200/", http.StatusForbidden},
		{strict, "http://169.254.1.1/", http.StatusForbidden},
		{strict, "http://[fe80::1]/", http.StatusForbidden},
		{strict, "http://[::ffff:169.254.169.254]/", http.StatusForbidden},
		{strict, "http://[64:ff9b::a9fe:a9fe]/", http.StatusForbidden},
		{strict, "http://224.0.0.1/", http.StatusForbidden},
		{strict, n.url, http.StatusForbidden},
		{strict, "http://localhost:5000", http.StatusForbidden},
		{strict, "http://[::1]:5000", http.StatusForbidden},
		{strict, "http://0.0.0.0:5000", http.StatusForbidden},
		{strict, "http://10.1.2.3:5000", http.StatusForbidden},
		{strict, "http://192.168.1.20:5000", http.StatusForbidden},
		{strict, "http://172.16.0.9:5000", http.StatusForbidden},
		{strict, "http://100.64.0.1:5000", http.StatusForbidden},
		{strict, "http://[fd12::1]:5000", http.StatusForbidden},
		{strict, "http://[::ffff:127.0.0.1]:5000", http.StatusForbidden},
		// --allow-private admits the LAN, never metadata or link-local.
		{lan, "http://169.254.169.254/", http.StatusForbidden},
		{lan, "http://[fe80::1]/", http.StatusForbidden},
		{lan, w.deadURL(), http.StatusUnprocessableEntity},
		{lan, n.url + "/no-such-prefix", http.StatusBadRequest}, // the proxy calls base URLs only
		{lan, n.url, http.StatusOK},
	}
	for _, tc := range cases {
		status, body := tc.c.joinHTTP("kv1", tc.url, "")
		if status != tc.want {
			t.Errorf("URL %.60q: %d %v, want %d", tc.url, status, body, tc.want)
		}
	}
	status, body := lan.joinHTTP("kv3", w.deadURL(), "")
	if msg, _ := body["error"].(string); status != http.StatusUnprocessableEntity || !strings.Contains(msg, "cannot reach your node") {
		t.Errorf("unreachable node: %d %v", status, body)
	}
}

// TestDialHookKeepsThePolicy: with Options.Dial (the in-memory network
// here) the URL policy still decides which nodes may join: a node at a
// public address is reached through the hook, one at a loopback address is
// refused without --allow-private.
func TestDialHookKeepsThePolicy(t *testing.T) {
	inBubble(t, func(t *testing.T, w *world) {
		opts := testOptions()
		opts.AllowPrivate = false
		c := w.newClass(opts)
		public := w.newNodeAt("93.184.215.14:80")
		if status, body := c.joinHTTP("kv1", public.url, ""); status != http.StatusOK {
			t.Fatalf("join of a node at a public address: %d %v", status, body)
		}
		if public.puts.Load() != 1 {
			t.Fatalf("the contract check put %d keys on the node, want 1", public.puts.Load())
		}
		local := w.newNode()
		if status, body := c.joinHTTP("kv2", local.url, ""); status != http.StatusForbidden {
			t.Fatalf("join of a node at %s: %d %v, want 403", local.url, status, body)
		}
	})
}

func TestHostileBodies(t *testing.T) {
	w := loopback(t)
	c := w.newClass(testOptions())
	huge := bytes.Repeat([]byte("a"), 1<<20)
	hugeJSON := append(append([]byte(`{"name":"`), huge...), `"}`...)
	for _, path := range []string{"/registry/join", "/registry/heartbeat", "/registry/leave"} {
		for _, tc := range []struct {
			body []byte
			want int
		}{
			{hugeJSON, http.StatusRequestEntityTooLarge},
			{huge, http.StatusRequestEntityTooLarge},
			{[]byte(`{`), http.StatusBadRequest},
			{[]byte(`[]`), http.StatusBadRequest},
			{[]byte(`null`), http.StatusBadRequest},
			{[]byte(`"x"`), http.StatusBadRequest},
			{[]byte(``), http.StatusBadRequest},
			{[]byte(`{"name": 5}`), http.StatusBadRequest},
			{[]byte(`{"name": "a"} {"name": "b"}`), http.StatusBadRequest},
		} {
			status, body := c.post(path, tc.body)
			if status != tc.want || body["error"] == "" {
				t.Errorf("POST %s %.20q: %d %v, want %d", path, tc.body, status, body, tc.want)
			}
		}
	}
	for _, tc := range []struct{ method, path, allow string }{
		{http.MethodGet, "/registry/join", "POST"},
		{http.MethodPut, "/registry/heartbeat", "POST"},
		{http.MethodDelete, "/registry/leave", "POST"},
		{http.MethodPost, "/registry/ws", "GET"},
	} {
		req, _ := http.NewRequest(tc.method, c.url+tc.path, nil)
		resp, err := w.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != tc.allow {
			t.Errorf("%s %s: %d Allow %q, want 405 Allow %s", tc.method, tc.path, resp.StatusCode, resp.Header.Get("Allow"), tc.allow)
		}
	}
	if status, _ := c.do(http.MethodGet, "/registry/nothing", nil, nil); status != http.StatusNotFound {
		t.Errorf("unknown path: %d, want 404", status)
	}
	// A plain GET of the websocket endpoint is a handshake error, as JSON.
	if status, _ := c.do(http.MethodGet, "/registry/ws", nil, nil); status != http.StatusBadRequest {
		t.Errorf("GET /registry/ws without upgrade: %d, want 400", status)
	}
}

func TestClassFull(t *testing.T) {
	w := loopback(t)
	opts := testOptions()
	opts.MaxNodes = 2
	opts.HTTPHeartbeat = time.Minute
	c := w.newClass(opts)
	n := w.newNode()
	secret := c.mustJoinHTTP("kv1", n.url)
	c.mustJoinHTTP("kv2", n.url)
	if status, body := c.joinHTTP("kv3", n.url, ""); status != http.StatusServiceUnavailable || !strings.Contains(body["error"].(string), "full") {
		t.Fatalf("third join: %d %v, want 503 full", status, body)
	}
	// A node already in the class rejoins even when the class is full.
	if status, body := c.joinHTTP("kv1", n.url, secret); status != http.StatusOK {
		t.Fatalf("rejoin when full: %d %v", status, body)
	}
}

func TestFailedJoinLimit(t *testing.T) {
	inBubble(t, func(t *testing.T, w *world) {
		opts := testOptions()
		opts.FailLimit = 3
		opts.FailWindow = 300 * time.Millisecond // one attempt per 100ms once limited
		delay := opts.FailWindow / time.Duration(opts.FailLimit)
		opts.ClientAddr = func(r *http.Request) string { return r.Header.Get("X-Test-Client") }
		c := w.newClass(opts)
		n := w.newNode()
		from := func(addr, token, name string) int {
			body := []byte(`{"name":"` + name + `","url":"` + n.url + `","token":"` + token + `"}`)
			status, _ := c.do(http.MethodPost, "/registry/join", body, http.Header{"X-Test-Client": {addr}})
			return status
		}
		for i := range 3 {
			if status := from("10.0.0.1", "wrong", "kv1"); status != http.StatusUnauthorized {
				t.Fatalf("failure %d: %d, want 401", i+1, status)
			}
		}
		if status := from("10.0.0.1", "wrong", "kv1"); status != http.StatusTooManyRequests {
			t.Fatalf("past the limit: %d, want 429", status)
		}
		// The class behind the same address still gets in with the right
		// code, once the failed guess's turn is over.
		start := time.Now()
		if status := from("10.0.0.1", testCode, "kv1"); status != http.StatusOK {
			t.Fatalf("correct code from a limited address: %d, want 200", status)
		}
		if d := time.Since(start); d != delay {
			t.Fatalf("the correct code was answered after %v, want %v", d, delay)
		}
		// Other addresses are not affected.
		if status := from("10.0.0.2", "wrong", "kv2"); status != http.StatusUnauthorized {
			t.Fatalf("another address: %d, want 401", status)
		}
		// Successes never count: many good joins do not limit the address.
		for i := range 10 {
			if status := from("10.0.0.3", testCode, "kv3"); status != http.StatusOK && status != http.StatusConflict {
				t.Fatalf("good join %d: %d", i, status)
			}
		}
		// Guessing from the limited address runs at FailLimit per FailWindow at
		// most: a burst of guesses all get 429.
		start = time.Now()
		for range 5 {
			if status := from("10.0.0.1", "wrong", "kv1"); status != http.StatusTooManyRequests {
				t.Fatalf("guess while limited: %d, want 429", status)
			}
		}
		// Each failed guess holds the address for 100ms before the next is
		// looked at, so 5 guesses in a row take exactly 4 turns.
		if d := time.Since(start); d != 4*delay {
			t.Fatalf("5 guesses from a limited address answered in %v, want %v", d, 4*delay)
		}
		// After the window the address is free again.
		time.Sleep(opts.FailWindow)
		if status := from("10.0.0.1", "wrong", "kv1"); status != http.StatusUnauthorized {
			t.Fatalf("after the window: %d, want 401", status)
		}

		// FailLimit failures at one instant limit an address for exactly
		// FailWindow.
		failed := time.Now()
		for range 3 {
			if status := from("10.0.0.4", "wrong", "kv4"); status != http.StatusUnauthorized {
				t.Fatalf("a failure from a fresh address: %d, want 401", status)
			}
		}
		time.Sleep(opts.FailWindow - time.Nanosecond)
		if status := from("10.0.0.4", "wrong", "kv4"); status != http.StatusTooManyRequests || time.Since(failed) != opts.FailWindow-time.Nanosecond {
			t.Fatalf("a guess just inside the window: %d after %v, want 429 at once", status, time.Since(failed))
		}
		time.Sleep(time.Nanosecond)
		// The guess just answered failed too, but it is the only failure
		// within the window now.
		if status := from("10.0.0.4", "wrong", "kv4"); status != http.StatusUnauthorized {
			t.Fatalf("a guess at the end of the window: %d, want 401", status)
		}
	})
}

func TestLogsHoldNoSecrets(t *testing.T) {
	inBubble(t, func(t *testing.T, w *world) {
		opts := testOptions()
		opts.Expiry = 200 * time.Millisecond
		c := w.newClass(opts)
		n := w.newNode()
		secret := c.mustJoinHTTP("kv1", n.url)
		s := c.join("kv2", n.url)
		wrong := "amber-otter-41"
		c.post("/registry/join", map[string]string{"name": "kv3", "url": n.url, "token": wrong})
		c.post("/registry/heartbeat", map[string]string{"name": "kv1", "secret": "not-the-secret-at-all"})
		c.post("/registry/leave", map[string]string{"name": "kv1", "secret": secret})
		if err := c.reg.Kick("kv2"); err != nil {
			t.Fatal(err)
		}
		c.waitGone("kv1")
		testwait.For(t, "the kicked session to log", func() bool { return strings.Contains(c.logs.String(), "removed") })
		logs := c.logs.String()
		for _, secretText := range []string{testCode, wrong, secret, s.Secret(), "not-the-secret-at-all"} {
			if strings.Contains(logs, secretText) {
				t.Errorf("the logs contain %q", secretText)
			}
		}
		for _, want := range []string{"node joined", "bad class code", "node left", "node kicked", "node expired"} {
			if !strings.Contains(logs, want) {
				t.Errorf("the logs lack %q", want)
			}
		}
	})
}

func TestNewRefusesBadOptions(t *testing.T) {
	for _, opts := range []registry.Options{
		{},
		{Token: "x", Static: []registry.Static{{Name: "a", URL: "http://h:1"}, {Name: "a", URL: "http://h:2"}}},
		{Token: "x", Static: []registry.Static{{Name: "", URL: "http://h:1"}}},
		{Token: "x", Static: []registry.Static{{Name: "a", URL: "ftp://h"}}},
		{Token: "x", Heartbeat: -time.Second},
		{Token: "x", MaxNodes: 1, Static: []registry.Static{{Name: "a", URL: "http://h:1"}, {Name: "b", URL: "http://h:2"}}},
	} {
		if _, err := registry.New(opts); err == nil {
			t.Errorf("New(%+v) succeeded", opts)
		}
	}
}
