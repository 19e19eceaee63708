package main

import (
	"encoding/json"
	"io"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/kvclass/kvclass/internal/testwait"
	"github.com/kvclass/kvclass/web"
)

// proxyNode is one node of the proxy's /state?format=json.
type proxyNode struct {
	Name   string                     `json:"name"`
	URL    string                     `json:"url"`
	Status string                     `json:"status"`
	Reason string                     `json:"reason"`
	Data   map[string]json.RawMessage `json:"data"`
}

// proxyNodes reads the proxy's /state?format=json.
func proxyNodes(proxyURL string) (map[string]proxyNode, string) {
	_, body := cliGet(proxyURL + "/state?format=json")
	var st struct {
		Nodes []proxyNode `json:"nodes"`
	}
	json.Unmarshal([]byte(body), &st)
	out := map[string]proxyNode{}
	for _, n := range st.Nodes {
		out[n.Name] = n
	}
	return out, body
}

// seedOwnersByPython asks python3 where the seed's proxy put each key among
// n nodes: int(SHA-256(key) as hex, 16) % n.
func seedOwnersByPython(t *testing.T, keys []string, n int) []int {
	t.Helper()
	script := "import hashlib,sys\nfor k in sys.argv[1:]: print(int(hashlib.sha256(k.encode()).hexdigest(),16) % " + strconv.Itoa(n) + ")"
	out, err := exec.Command(flaskPython, append([]string{"-c", script}, keys...)...).Output()
	if err != nil {
		t.Fatalf("python3: %v", err)
	}
	var owners []int
	for _, f := range strings.Fields(string(out)) {
		i, _ := strconv.Atoi(f)
		owners = append(owners, i)
	}
	if len(owners) != len(keys) {
		t.Fatalf("python3 printed %q", out)
	}
	return owners
}

// pageEvents follows the proxy's /ws and collects the keys it shows on
// each node: from put events, and from the node views of snapshots and
// syncs (the proxy re-reads a node when its stream to it connects).
func pageEvents(t *testing.T, proxyURL string) func(node, key string) bool {
	t.Helper()
	conn, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(proxyURL, "http")+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	var mu sync.Mutex
	puts := map[string]bool{}
	go func() {
		for {
			_, msg, err := conn.ReadMessage()
			if err != nil {
				return
			}
			var m struct {
				Nodes  []web.NodeView `json:"nodes"`
				Events []web.Event    `json:"events"`
			}
			json.Unmarshal(msg, &m)
			mu.Lock()
			views := m.Nodes
			for _, ev := range m.Events {
				switch {
				case ev.Type == web.EventPut:
					puts[ev.Node+"/"+ev.Key] = true
				case ev.Type == web.EventNode && ev.View != nil:
					views = append(views, *ev.View)
				}
			}
			for _, v := range views {
				for _, k := range v.Keys {
					puts[v.Name+"/"+k.Key] = true
				}
			}
			mu.Unlock()
		}
	}()
	return func(node, key string) bool {
		mu.Lock()
		defer mu.Unlock()
		return puts[node+"/"+key]
	}
}

// TestFlaskNodeJoinsThroughTheSidecar is the student's own node in class:
// the example Flask node behind "kvclass node --upstream --relay" joins a
// proxy next to two kvclass nodes (after passing the proxy's contract
// check); the seed's walkthrough through the proxy places and reads keys
// on it exactly where the seed's formula says; its puts show on the
// proxy's page; and killing the Flask process marks the node down with a
// reason naming the upstream.
func TestFlaskNodeJoinsThroughTheSidecar(t *testing.T) {
	needFlask(t)
	flaskURL, killFlask := runFlask(t, "kv2")
	base := cliPorts(t, 4)
	proxyURL := "http://127.0.0.1:" + strconv.Itoa(base+3)
	proxyOut, _ := cliStart(t, "proxy", "-p", strconv.Itoa(base+3), "--allow-private", "--token", "room-16", "--state", t.TempDir()+"/state.json")
	testwait.For(t, "the proxy's banner", func() bool { return strings.Contains(proxyOut.String(), "students run") })
	joinArgs := []string{"--join", proxyURL, "--token", "room-16"}
	cliStart(t, append([]string{"node", "-n", "kv1", "-p", strconv.Itoa(base)}, joinArgs...)...)
	sideOut, _ := cliStart(t, append([]string{"node", "--upstream", flaskURL, "--relay", "-n", "kv2", "-p", strconv.Itoa(base + 1)}, joinArgs...)...)
	cliStart(t, append([]string{"node", "-n", "kv3", "-p", strconv.Itoa(base + 2)}, joinArgs...)...)
	testwait.For(t, "the sidecar's banner", func() bool {
		return strings.Contains(sideOut.String(), "forwarding to your server at "+flaskURL+" (Werkzeug/")
	})
	testwait.Seen(t, testwait.Patience, "kv1, kv2 (relayed) and kv3 up on the proxy", func() (bool, string) {
		nodes, body := proxyNodes(proxyURL)
		return nodes["kv1"].Status == "up" && nodes["kv2"].Status == "up" && nodes["kv2"].URL == "relay:kv2" && nodes["kv3"].Status == "up", body
	})
	shown := pageEvents(t, proxyURL)

	// The seed's walkthrough: 21 puts, then the gets, through the proxy.
	keys := make([]string, 21)
	for i := range keys {
		keys[i] = "key-" + strconv.Itoa(i)
	}
	owners := seedOwnersByPython(t, keys, 3)
	names := []string{"kv1", "kv2", "kv3"}
	client := &http.Client{Timeout: 5 * time.Second}
	var onFlask []string
	for i, key := range keys {
		resp, err := client.Post(proxyURL+"/put?key="+key, "application/json", strings.NewReader(`{"value": "value-`+strconv.Itoa(i)+`"}`))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if want := names[owners[i]]; resp.StatusCode != 200 || resp.Header.Get("X-Kvclass-Node") != want {
			t.Fatalf("put %s: %d %s on %q; the seed puts it on %s", key, resp.StatusCode, body, resp.Header.Get("X-Kvclass-Node"), want)
		}
		if owners[i] == 1 {
			onFlask = append(onFlask, key)
		}
	}
	if len(onFlask) == 0 {
		t.Fatal("the seed's walkthrough puts no key on the second node")
	}
	for i, key := range keys {
		resp, err := client.Get(proxyURL + "/get?key=" + key)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !jsonSame(string(body), `{"value": "value-`+strconv.Itoa(i)+`"}`) || resp.Header.Get("X-Kvclass-Node") != names[owners[i]] {
			t.Errorf("get %s: %d %s from %q", key, resp.StatusCode, body, resp.Header.Get("X-Kvclass-Node"))
		}
		// The Flask process itself holds exactly the keys placed on kv2.
		code, _ := cliGet(flaskURL + "/get?key=" + key)
		if want := map[bool]int{true: 200, false: 404}[owners[i] == 1]; code != want {
			t.Errorf("%s on the Flask node: %d; want %d", key, code, want)
		}
	}

	// Its puts show on the proxy's page (the proxy follows the sidecar's
	// /ws) and in the proxy's state (read from Flask's, through it).
	testwait.For(t, "kv2's puts on the proxy's page", func() bool {
		for _, key := range onFlask {
			if !shown("kv2", key) {
				return false
			}
		}
		return true
	})
	nodes, body := proxyNodes(proxyURL)
	for _, key := range onFlask {
		if _, ok := nodes["kv2"].Data[key]; !ok {
			t.Errorf("the proxy's state lacks %s on kv2: %s", key, body)
		}
	}
	if len(nodes["kv2"].Data) != len(onFlask) {
		t.Errorf("kv2 holds %d keys on the proxy's state; want %d (the join check's key must be gone)", len(nodes["kv2"].Data), len(onFlask))
	}

	// A crash of the student's server marks the node down, with why.
	killFlask()
	start := time.Now()
	testwait.Seen(t, testwait.Patience, "kv2 down with a reason naming its upstream", func() (bool, string) {
		nodes, body := proxyNodes(proxyURL)
		return nodes["kv2"].Status == "down" && strings.Contains(nodes["kv2"].Reason, "upstream"), body
	})
	took := time.Since(start)
	t.Logf("kv2 marked down %v after the Flask process was killed: %q", took.Round(10*time.Millisecond), mustNode(proxyURL, "kv2").Reason)
	if took > 5*time.Second {
		t.Errorf("kv2 was marked down %v after its server died; the goal is within about 5s", took)
	}
	resp, err := client.Get(proxyURL + "/get?key=" + onFlask[0])
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("a get of a key on the down node: %d; want 503", resp.StatusCode)
	}
}

// mustNode returns the proxy's view of one node.
func mustNode(proxyURL, name string) proxyNode {
	nodes, _ := proxyNodes(proxyURL)
	return nodes[name]
}

// jsonSame reports whether two JSON texts are the same value.
func jsonSame(a, b string) bool {
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return false
	}
	xb, _ := json.Marshal(x)
	yb, _ := json.Marshal(y)
	return string(xb) == string(yb)
}
