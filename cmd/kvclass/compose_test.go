package main

// The docker compose setup (compose.yaml, Dockerfile, deploy/) on a real
// Docker engine: the seed's classic cluster of three nodes and a proxy, the
// loss of a node, a network partition, a proxy restart and the teardown.
// One cluster serves the subtests in order; each subtest writes the keys it
// checks. They take minutes, so they run only with KVCLASS_DOCKER=1 (.ci/run
// sets it), and then fail rather than skip when they cannot run.

import (
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kvclass/kvclass/internal/testwait"
)

// seedOwners is the node (index into nodeNames) each of the seed's keys
// key-0..key-20 lands on under sharding over kv1, kv2, kv3, by the seed's
// formula: int(hashlib.sha256(k.encode()).hexdigest(), 16) % 3.
var seedOwners = [21]int{2, 1, 0, 0, 1, 2, 2, 0, 2, 0, 1, 0, 2, 1, 1, 1, 0, 2, 2, 2, 0}

func seedKey(i int) string   { return "key-" + strconv.Itoa(i) }
func seedValue(i int) string { return "value-" + strconv.Itoa(i) }

// seedKeyOn is the first seed key owned by node.
func seedKeyOn(node string) int {
	for i, o := range seedOwners {
		if nodeNames[o] == node {
			return i
		}
	}
	panic("no seed key on " + node)
}

// Bounds on the answers a client sees while nodes fail.
const (
	// requestSlack is how much longer than the proxy's node timeout a
	// request through the proxy may take: no request hangs past it.
	requestSlack = 1500 * time.Millisecond
	// fastFail bounds a 503 for a node marked down: the proxy does not call
	// it, so the answer comes well inside the node timeout.
	fastFail = 1500 * time.Millisecond
	// markDownWithin bounds how long after a partition the proxy marks the
	// node down: three missed heartbeats, plus polling through requests
	// that time out, plus slack for a loaded machine.
	markDownWithin = 3*clusterHeartbeat + 2*clusterTimeout + 8*time.Second
	// rejoinWithin bounds a node's return: its rejoin backoff tops out at
	// 15s.
	rejoinWithin = 60 * time.Second
)

// TestCompose runs compose.yaml on the engine and puts the seed's cluster
// through what a class does to it, in order, on one cluster.
func TestCompose(t *testing.T) {
	d := needDocker(t)
	c := startCluster(t, d)
	t.Run("SeedWrites", c.testSeedWrites)
	t.Run("NodeLoss", c.testNodeLoss)
	t.Run("Partition", c.testPartition)
	t.Run("ProxyRestart", c.testProxyRestart)
	t.Run("Teardown", c.testTeardown)
}

// testSeedWrites runs the seed's 21 writes through the proxy: each key lands
// on the node the seed's proxy picked, and only there.
func (c *cluster) testSeedWrites(t *testing.T) {
	c.putSeed(t)
	proxy := c.url("proxy")
	for i, o := range seedOwners {
		key, owner := seedKey(i), nodeNames[o]
		r := c.mustGet(t, proxy, key)
		if r.status != http.StatusOK || r.value() != seedValue(i) || r.node != owner {
			t.Errorf("proxy get %s: %s; want %q from %s", key, r, seedValue(i), owner)
		}
		for _, n := range nodeNames {
			r := c.mustGet(t, c.url(n), key)
			switch {
			case n == owner && (r.status != http.StatusOK || r.value() != seedValue(i)):
				t.Errorf("%s's own get %s: %s; want %q", n, key, r, seedValue(i))
			case n != owner && r.status != http.StatusNotFound:
				t.Errorf("%s's own get %s: %s; want 404 (the key is %s's)", n, key, r, owner)
			}
		}
	}
	st, err := c.state()
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode != "sharding" {
		t.Errorf("proxy mode %q; want sharding (deploy/proxy.yml)", st.Mode)
	}
	for j, n := range st.Nodes {
		if want := seedData(j); !maps.Equal(n.Data, want) {
			t.Errorf("the proxy's state lists %s with %v; want %v", n.Name, n.Data, want)
		}
	}
}

// testNodeLoss stops kv2: under sharding its shard fails fast while the
// others work; under replication every key still reads. After a start, kv2
// is up again.
func (c *cluster) testNodeLoss(t *testing.T) {
	proxy := c.url("proxy")
	t.Run("Sharding", func(t *testing.T) {
		c.putSeed(t)
		c.mustCompose(t, "stop", "-t", "1", "kv2")
		st := c.waitNodes(t, 20*time.Second, "kv2 down after compose stop", upNodes("kv1", "kv3"))
		if r := st.Nodes[1].Reason; !strings.Contains(r, "stop") {
			t.Errorf("kv2 is down with reason %q; want it to say the node stopped", r)
		}
		for i, o := range seedOwners {
			key, owner := seedKey(i), nodeNames[o]
			r := c.mustGet(t, proxy, key)
			if owner == "kv2" {
				if r.status != http.StatusServiceUnavailable || r.elapsed > fastFail || !strings.Contains(string(r.body), "kv2") {
					t.Errorf("get %s (kv2's) with kv2 stopped: %s; want a 503 naming kv2 within %s", key, r, fastFail)
				}
			} else if r.status != http.StatusOK || r.value() != seedValue(i) || r.node != owner {
				t.Errorf("get %s (%s's) with kv2 stopped: %s; want %q", key, owner, r, seedValue(i))
			}
		}
		c.mustCompose(t, "start", "kv2")
		c.waitNodes(t, rejoinWithin, "kv2 up again after compose start", upNodes(nodeNames...))
		i := seedKeyOn("kv2")
		if r := c.mustPut(t, proxy, seedKey(i), seedValue(i)); r.status != http.StatusOK || r.node != "kv2" {
			t.Errorf("put %s after kv2 restarted: %s; want 200 from kv2", seedKey(i), r)
		}
	})
	t.Run("Replication", func(t *testing.T) {
		_, admin := c.secrets(t)
		if r := c.mustAdmin(t, "not-the-admin-token", "mode", map[string]string{"mode": "replication"}); r.status != http.StatusUnauthorized {
			t.Errorf("mode switch with a wrong admin token: %s; want 401", r)
		}
		if r := c.mustAdmin(t, admin, "mode", map[string]string{"mode": "replication"}); r.status != http.StatusOK {
			t.Fatalf("mode switch to replication: %s", r)
		}
		defer func() {
			// Back to the compose file's setup for the next subtests.
			for _, a := range []struct {
				action string
				body   any
			}{{"mode", map[string]string{"mode": "sharding"}}, {"reset", struct{}{}}} {
				if r, err := c.admin(admin, a.action, a.body); err != nil || r.status != http.StatusOK {
					t.Errorf("admin %s: %s %v", a.action, r, err)
				}
			}
		}()
		if st, err := c.state(); err != nil || st.Mode != "replication" {
			t.Fatalf("proxy mode after the switch: %q %v", st.Mode, err)
		}
		c.putSeed(t)
		c.mustCompose(t, "stop", "-t", "1", "kv2")
		c.waitNodes(t, 20*time.Second, "kv2 down after compose stop", upNodes("kv1", "kv3"))
		for i := range seedOwners {
			r := c.mustGet(t, proxy, seedKey(i))
			if r.status != http.StatusOK || r.value() != seedValue(i) || r.node != "kv1" {
				t.Errorf("get %s under replication with kv2 stopped: %s; want %q from kv1", seedKey(i), r, seedValue(i))
			}
		}
		c.mustCompose(t, "start", "kv2")
		c.waitNodes(t, rejoinWithin, "kv2 up again after compose start", upNodes(nodeNames...))
	})
}

// testPartition cuts kv3 off the compose network: the proxy marks it down
// within the heartbeat window, no request hangs past the node timeout, and
// once the network is back kv3 serves its shard again with its data, with
// no operator action.
func (c *cluster) testPartition(t *testing.T) {
	c.putSeed(t)
	proxy := c.url("proxy")
	kv3Key := seedKey(seedKeyOn("kv3"))
	kv1Key := seedKey(seedKeyOn("kv1"))

	if _, err := runCommand(t.Context(), commandTimeout, "", nil, "docker", "network", "disconnect", c.network, c.ids["kv3"]); err != nil {
		t.Fatal(err)
	}
	cut := time.Now()
	healed := false
	heal := func() error {
		_, err := runCommand(t.Context(), commandTimeout, "", nil, "docker", "network", "connect", "--alias", "kv3", c.network, c.ids["kv3"])
		healed = err == nil
		return err
	}
	defer func() {
		if !healed {
			if err := heal(); err != nil {
				t.Errorf("reconnecting kv3: %v", err)
			}
		}
	}()

	testwait.Seen(t, markDownWithin, "kv3's shard answering 503 after the partition", func() (bool, string) {
		r := c.mustGet(t, proxy, kv3Key)
		if r.elapsed > clusterTimeout+requestSlack {
			t.Errorf("get %s (kv3's) during the partition took %s; the node timeout is %s", kv3Key, r.elapsed, clusterTimeout)
		}
		if r.status != http.StatusBadGateway && r.status != http.StatusServiceUnavailable {
			t.Errorf("get %s (kv3's) during the partition: %s; want 502 or 503", kv3Key, r)
		}
		if r := c.mustGet(t, proxy, kv1Key); r.status != http.StatusOK {
			t.Errorf("get %s (kv1's) during the partition: %s; want 200", kv1Key, r)
		}
		return r.status == http.StatusServiceUnavailable, r.String()
	})
	t.Logf("the proxy marked kv3 down %s after the partition", time.Since(cut).Round(time.Millisecond))
	for i, o := range seedOwners {
		key, owner := seedKey(i), nodeNames[o]
		r := c.mustGet(t, proxy, key)
		if owner == "kv3" {
			if r.status != http.StatusServiceUnavailable || r.elapsed > fastFail {
				t.Errorf("get %s (kv3's) with kv3 marked down: %s; want 503 within %s", key, r, fastFail)
			}
		} else if r.status != http.StatusOK || r.value() != seedValue(i) {
			t.Errorf("get %s (%s's) with kv3 cut off: %s; want %q", key, owner, r, seedValue(i))
		}
	}

	if err := heal(); err != nil {
		t.Fatal(err)
	}
	healedAt := time.Now()
	testwait.Seen(t, rejoinWithin, "kv3 serving its shard again after the partition healed", func() (bool, string) {
		r := c.mustGet(t, proxy, kv3Key)
		if r.elapsed > clusterTimeout+requestSlack {
			t.Errorf("get %s (kv3's) while healing took %s; the node timeout is %s", kv3Key, r.elapsed, clusterTimeout)
		}
		return r.status == http.StatusOK && r.node == "kv3", r.String()
	})
	t.Logf("kv3 was back %s after the network was", time.Since(healedAt).Round(time.Millisecond))
	st := c.waitNodes(t, 20*time.Second, "every node up after the partition", upNodes(nodeNames...))
	if want := seedData(2); !maps.Equal(st.Nodes[2].Data, want) {
		t.Errorf("kv3 after the partition holds %v; want its keys kept: %v", st.Nodes[2].Data, want)
	}
}

// joinedLine matches the proxy's log line for a node's join.
var joinedLine = regexp.MustCompile(`msg="node joined".* node=(kv[0-9]+)\b`)

// testProxyRestart restarts the proxy, then replaces its container: each
// time every node joins the new proxy by itself, no key is lost, and the
// proxy keeps its admin token (the state volume outlives the container).
func (c *cluster) testProxyRestart(t *testing.T) {
	t.Run("Restart", func(t *testing.T) {
		c.checkProxyComesBack(t, "restarted", func() {
			c.mustCompose(t, "restart", "-t", "1", "proxy")
		})
	})
	t.Run("Recreate", func(t *testing.T) {
		c.checkProxyComesBack(t, "recreated", func() {
			old := c.ids["proxy"]
			c.mustCompose(t, "up", "-d", "--no-build", "--force-recreate", "-t", "1", "proxy")
			out, err := c.compose(commandTimeout, "ps", "-q", "proxy")
			if id := strings.TrimSpace(out); err != nil || id == "" || id == old {
				t.Fatalf("the proxy's container after --force-recreate: %q (was %q) %v", id, old, err)
			}
			c.ids["proxy"] = strings.TrimSpace(out)
		})
	})
}

// checkProxyComesBack writes the seed's keys, replaces the proxy's process
// with replace, and checks that every node joins the new one by itself, that
// every key is still where it was, and that the admin token is kept.
func (c *cluster) checkProxyComesBack(t *testing.T, how string, replace func()) {
	c.putSeed(t)
	before := make(map[string]map[string]string)
	for _, n := range nodeNames {
		data, err := c.nodeData(n)
		if err != nil {
			t.Fatal(err)
		}
		before[n] = data
	}
	_, admin := c.secrets(t)

	start := time.Now()
	replace()
	testwait.Seen(t, rejoinWithin, "every node joining the "+how+" proxy", func() (bool, string) {
		joined := make(map[string]bool)
		for _, m := range joinedLine.FindAllStringSubmatch(c.proxyLog(t, start), -1) {
			joined[m[1]] = true
		}
		var missing []string
		for _, n := range nodeNames {
			if !joined[n] {
				missing = append(missing, n)
			}
		}
		return len(missing) == 0, "no \"node joined\" line in the proxy's log yet for " + strings.Join(missing, ", ")
	})
	t.Logf("every node joined the %s proxy within %s", how, time.Since(start).Round(time.Millisecond))
	st := c.waitNodes(t, 20*time.Second, "every node up in the "+how+" proxy", upNodes(nodeNames...))
	for _, n := range st.Nodes {
		if !maps.Equal(n.Data, before[n.Name]) {
			t.Errorf("the %s proxy lists %s with %v; before, the node held %v", how, n.Name, n.Data, before[n.Name])
		}
	}
	for i, o := range seedOwners {
		r := c.mustGet(t, c.url("proxy"), seedKey(i))
		if r.status != http.StatusOK || r.value() != seedValue(i) || r.node != nodeNames[o] {
			t.Errorf("get %s through the %s proxy: %s; want %q from %s", seedKey(i), how, r, seedValue(i), nodeNames[o])
		}
	}
	if _, admin2 := c.secrets(t); admin2 != admin {
		t.Errorf("the %s proxy has a new admin token; the state volume should keep it", how)
	}
}

// testTeardown takes the project down: nothing labelled with its name is
// left, and its host ports are free again.
func (c *cluster) testTeardown(t *testing.T) {
	// The label filter finds the running project, so an empty answer after
	// down means something.
	// Each service keeps its state in a volume of its own.
	if left := c.leftovers(t); len(left) != 2*len(services)+1 {
		t.Errorf("before down, the project's label finds %v; want %d containers, a network and %[2]d state volumes", left, len(services))
	}
	start := time.Now()
	c.mustCompose(t, "down", "-v", "--remove-orphans", "-t", "1")
	c.down = true
	t.Logf("compose down took %s", time.Since(start).Round(time.Millisecond))
	if left := c.leftovers(t); len(left) > 0 {
		t.Errorf("after down -v these remain: %s", strings.Join(left, ", "))
	}
	for s, p := range c.ports {
		ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
		if err != nil {
			t.Errorf("%s's host port %d is still taken after down: %v", s, p, err)
			continue
		}
		ln.Close()
	}
}

// putSeed runs the seed's 21 writes through the proxy, checking that each is
// stored on the nodes the current mode picks.
func (c *cluster) putSeed(t *testing.T) {
	t.Helper()
	st, err := c.state()
	if err != nil {
		t.Fatal(err)
	}
	for i, o := range seedOwners {
		r := c.mustPut(t, c.url("proxy"), seedKey(i), seedValue(i))
		want := nodeNames[o]
		if st.Mode == "replication" {
			want = strings.Join(nodeNames, ",")
		}
		if r.status != http.StatusOK || strings.ReplaceAll(r.node, " ", "") != want {
			t.Fatalf("put %s (%s): %s; want 200 from %s", seedKey(i), st.Mode, r, want)
		}
	}
}

// seedData is the data node j holds after the sharded seed writes alone.
func seedData(j int) map[string]string {
	want := make(map[string]string)
	for i, o := range seedOwners {
		if o == j {
			want[seedKey(i)] = seedValue(i)
		}
	}
	return want
}

func (c *cluster) mustGet(t *testing.T, base, key string) reply {
	t.Helper()
	r, err := c.get(base, key)
	if err != nil {
		t.Fatalf("get %s from %s: %v (after %s)", key, base, err, r.elapsed)
	}
	return r
}

func (c *cluster) mustPut(t *testing.T, base, key, value string) reply {
	t.Helper()
	r, err := c.put(base, key, value)
	if err != nil {
		t.Fatalf("put %s to %s: %v (after %s)", key, base, err, r.elapsed)
	}
	return r
}

func (c *cluster) mustAdmin(t *testing.T, token, action string, body any) reply {
	t.Helper()
	r, err := c.admin(token, action, body)
	if err != nil {
		t.Fatalf("admin %s: %v", action, err)
	}
	return r
}

// TestComposeConfig checks that every compose implementation installed
// accepts compose.yaml, and that its settings reach the services.
func TestComposeConfig(t *testing.T) {
	impls := composeCommands(t.Context())
	if len(impls) == 0 {
		if os.Getenv("KVCLASS_DOCKER") == "1" {
			t.Fatal("KVCLASS_DOCKER=1 but neither `docker compose` nor `docker-compose` is installed")
		}
		t.Skip("skipping: neither `docker compose` nor `docker-compose` is installed")
	}
	file, err := filepath.Abs(filepath.Join("..", "..", "compose.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	env := []string{
		"KVCLASS_PORT_PROXY=15903", "KVCLASS_PORT_KV2=15901", "KVCLASS_TOKEN=config-test-code",
		"KVCLASS_MODE=replication", "KVCLASS_HEARTBEAT=3s", "KVCLASS_BIND=0.0.0.0",
	}
	for _, impl := range impls {
		t.Run(strings.Join(impl, "-"), func(t *testing.T) {
			args := append(append([]string(nil), impl[1:]...), "-p", "kvclass-config-test", "-f", file, "config")
			out, err := runCommand(t.Context(), commandTimeout, t.TempDir(), env, impl[0], args...)
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{"15903", "15901", "--token=config-test-code", "--mode=replication", "--heartbeat=3s", "0.0.0.0", "proxy-state"} {
				if !strings.Contains(out, want) {
					t.Errorf("%s config does not carry %q:\n%s", strings.Join(impl, " "), want, out)
				}
			}
		})
	}
}
