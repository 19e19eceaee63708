package main

// Helpers for the compose tests: finding a Docker engine and a compose
// implementation, building the image, and running one compose project (the
// repository's compose.yaml, Dockerfile and deploy/) on free host ports.

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kvclass/kvclass/internal/testwait"
)

// Timings the compose tests run the cluster with, passed to compose.yaml
// through its KVCLASS_* variables.
const (
	clusterTimeout   = 2 * time.Second // KVCLASS_TIMEOUT: bound on each proxy-to-node call
	clusterHeartbeat = 1 * time.Second // KVCLASS_HEARTBEAT: node ping interval
)

// Bounds on the test's own commands.
const (
	buildTimeout   = 5 * time.Minute  // go build and docker build
	upTimeout      = 3 * time.Minute  // compose up, until the proxy is healthy
	commandTimeout = 90 * time.Second // any other docker or compose command
	requestTimeout = 10 * time.Second // any HTTP request of the test
)

// docker is a Docker engine and the compose implementation to drive it with.
type docker struct {
	compose []string // "docker compose" or "docker-compose", as argv
}

// needDocker returns the engine to test with. The compose tests take
// minutes, so they run only when asked: KVCLASS_DOCKER=1 (as .ci/run sets
// it when an engine answers). Asked and unable to run, the test fails with
// a one-line reason; not asked, it skips saying how to ask.
func needDocker(t *testing.T) *docker {
	t.Helper()
	if os.Getenv("KVCLASS_DOCKER") != "1" {
		t.Skip("skipping the compose tests (minutes on a real Docker engine): set KVCLASS_DOCKER=1 to run them")
	}
	unavailable := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("KVCLASS_DOCKER=1 but "+format, args...)
	}
	if _, err := exec.LookPath("docker"); err != nil {
		unavailable("no docker command in PATH")
	}
	if out, err := runCommand(t.Context(), 20*time.Second, "", nil, "docker", "info", "--format", "{{.ServerVersion}}"); err != nil {
		unavailable("no Docker engine answers `docker info`: %v", firstLine(out, err))
	}
	compose := composeCommands(t.Context())
	if len(compose) == 0 {
		unavailable("neither `docker compose` nor `docker-compose` is installed")
	}
	return &docker{compose: compose[0]}
}

// composeCommands lists the compose implementations installed, preferred
// first: KVCLASS_COMPOSE when set (e.g. "docker-compose" to test Debian's
// package where the plugin is present too), then the docker compose plugin,
// then docker-compose.
func composeCommands(ctx context.Context) [][]string {
	if v := strings.Fields(os.Getenv("KVCLASS_COMPOSE")); len(v) > 0 {
		return [][]string{v}
	}
	var found [][]string
	for _, c := range [][]string{{"docker", "compose"}, {"docker-compose"}} {
		if _, err := exec.LookPath(c[0]); err != nil {
			continue
		}
		args := append(append([]string(nil), c[1:]...), "version")
		if _, err := runCommand(ctx, 30*time.Second, "", nil, c[0], args...); err == nil {
			found = append(found, c)
		}
	}
	return found
}

// runCommand runs name args in dir with env added to the process's environment,
// within timeout, and returns its combined output.
func runCommand(ctx context.Context, timeout time.Duration, dir string, env []string, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		err = fmt.Errorf("%w after %s", ctx.Err(), timeout)
	}
	if err != nil {
		return string(out), fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// firstLine is the first line of a failed command's output, or its error.
func firstLine(out string, err error) string {
	if line, _, _ := strings.Cut(strings.TrimSpace(out), "\n"); line != "" {
		return line
	}
	return err.Error()
}

// randomSuffix returns n random hex digits for unique names.
func randomSuffix(n int) string {
	b := make([]byte, (n+1)/2)
	rand.Read(b)
	return hex.EncodeToString(b)[:n]
}

// projectFiles are the files a compose project needs, relative to the
// repository root.
var projectFiles = []string{"compose.yaml", "Dockerfile", ".dockerignore", "deploy"}

// newProjectDir copies the repository's compose files into a fresh
// directory and builds the static binary into its dist/, as docs/DOCKER.md
// tells users to; the repository's own dist/ is left alone.
func newProjectDir(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, name := range projectFiles {
		if err := copyPath(filepath.Join(dir, name), filepath.Join(root, name)); err != nil {
			t.Fatalf("copying the repository's %s: %v", name, err)
		}
	}
	bin := filepath.Join(dir, "dist", "kvclass")
	start := time.Now()
	if _, err := runCommand(t.Context(), buildTimeout, ".", []string{"CGO_ENABLED=0", "GOOS=linux"}, "go", "build", "-o", bin, "."); err != nil {
		t.Fatalf("building the static binary: %v", err)
	}
	t.Logf("built dist/kvclass in %s", time.Since(start).Round(time.Millisecond))
	return dir
}

// copyPath copies the file or directory tree src to dst.
func copyPath(dst, src string) error {
	info, err := os.Stat(src)
	if err != nil {
		return err
	}
	if info.IsDir() {
		return os.CopyFS(dst, os.DirFS(src))
	}
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, data, 0o644)
}

// cluster is one running compose project: the proxy and nodes kv1..kv3,
// published on free loopback ports.
type cluster struct {
	t       *testing.T
	docker  *docker
	dir     string            // the project directory
	project string            // compose project name, unique per run
	env     []string          // KVCLASS_* settings for compose.yaml
	ports   map[string]int    // service → published host port
	ids     map[string]string // service → container ID
	network string            // the project's network
	client  *http.Client
	down    bool // taken down by the Teardown subtest
}

// services are the compose services, nodes in placement order.
var services = []string{"proxy", "kv1", "kv2", "kv3"}

// nodeNames are the nodes in placement order.
var nodeNames = []string{"kv1", "kv2", "kv3"}

// startCluster builds the binary and the image once, brings the project up
// and waits until every container is healthy and every node has joined.
// The project is always torn down, with its volumes, when the test ends.
func startCluster(t *testing.T, d *docker) *cluster {
	t.Helper()
	dir := newProjectDir(t)
	suffix := randomSuffix(8)
	c := &cluster{
		t:       t,
		docker:  d,
		dir:     dir,
		project: "kvclass-test-" + suffix,
		ports:   make(map[string]int),
		ids:     make(map[string]string),
		client:  &http.Client{Transport: &http.Transport{DisableKeepAlives: true}},
	}
	freePorts := freeLoopbackPorts(t, len(services))
	image := "kvclass-test-" + suffix + ":latest"
	c.env = []string{
		"KVCLASS_IMAGE=" + image,
		"KVCLASS_BIND=127.0.0.1",
		"KVCLASS_TOKEN=compose-test-" + suffix,
		"KVCLASS_MODE=",
		"KVCLASS_TIMEOUT=" + clusterTimeout.String(),
		"KVCLASS_HEARTBEAT=" + clusterHeartbeat.String(),
	}
	for i, s := range services {
		c.ports[s] = freePorts[i]
		c.env = append(c.env, fmt.Sprintf("KVCLASS_PORT_%s=%d", strings.ToUpper(s), freePorts[i]))
	}

	// Cleanups run last-registered first: the project goes down, then the
	// image is removed.
	t.Cleanup(func() {
		if _, err := runCommand(context.Background(), commandTimeout, "", nil, "docker", "rmi", "-f", image); err != nil {
			t.Logf("removing the test image: %v", err)
		}
	})
	start := time.Now()
	if _, err := c.compose(buildTimeout, "build", "proxy"); err != nil {
		t.Fatalf("building the image: %v", err)
	}
	t.Logf("built image %s with %s in %s", image, strings.Join(d.compose, " "), time.Since(start).Round(time.Millisecond))
	if user, err := runCommand(t.Context(), commandTimeout, "", nil, "docker", "image", "inspect", "--format", "{{.Config.User}}", image); err != nil {
		t.Fatal(err)
	} else if u := strings.TrimSpace(user); u == "" || u == "0" || strings.HasPrefix(u, "root") || strings.HasPrefix(u, "0:") {
		t.Errorf("the image runs as %q; want an unprivileged user", u)
	}

	t.Cleanup(c.teardown)
	start = time.Now()
	if _, err := c.compose(upTimeout, "up", "-d", "--no-build"); err != nil {
		t.Fatalf("compose up: %v", err)
	}
	for _, s := range services {
		out, err := c.compose(commandTimeout, "ps", "-q", s)
		id := strings.TrimSpace(out)
		if err != nil || id == "" || strings.Contains(id, "\n") {
			t.Fatalf("container of %s: %q %v", s, id, err)
		}
		c.ids[s] = id
	}
	out, err := runCommand(t.Context(), commandTimeout, "", nil, "docker", "inspect", "--format",
		"{{range $name, $_ := .NetworkSettings.Networks}}{{$name}} {{end}}", c.ids["kv3"])
	if nets := strings.Fields(out); err != nil || len(nets) != 1 {
		t.Fatalf("kv3's networks: %q %v", out, err)
	} else {
		c.network = nets[0]
	}
	c.waitHealthy(t, 90*time.Second)
	c.waitNodes(t, 60*time.Second, "every node up after compose up", upNodes(nodeNames...))
	t.Logf("cluster %s up and healthy in %s (ports %v)", c.project, time.Since(start).Round(time.Millisecond), c.ports)
	return c
}

// freeLoopbackPorts returns n distinct ports free on 127.0.0.1 right now.
func freeLoopbackPorts(t *testing.T, n int) []int {
	t.Helper()
	var ports []int
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports
}

// compose runs the compose implementation on the cluster's project.
func (c *cluster) compose(timeout time.Duration, args ...string) (string, error) {
	argv := append(append([]string(nil), c.docker.compose[1:]...),
		"-p", c.project, "-f", filepath.Join(c.dir, "compose.yaml"))
	argv = append(argv, args...)
	return runCommand(context.Background(), timeout, c.dir, c.env, c.docker.compose[0], argv...)
}

// mustCompose runs compose and fails the test when it fails.
func (c *cluster) mustCompose(t *testing.T, args ...string) {
	t.Helper()
	if _, err := c.compose(commandTimeout, args...); err != nil {
		t.Fatal(err)
	}
}

// teardown takes the project down with its volumes and, when the test
// failed, logs the containers' output first. It runs even after the
// Teardown subtest, in case that failed to remove everything.
func (c *cluster) teardown() {
	if c.t.Failed() && !c.down {
		if out, err := c.compose(commandTimeout, "ps"); err == nil {
			c.t.Logf("compose ps:\n%s", out)
		}
		if out, err := c.compose(commandTimeout, "logs", "--no-color", "--tail=80"); err == nil {
			c.t.Logf("compose logs:\n%s", out)
		}
	}
	if _, err := c.compose(commandTimeout, "down", "-v", "--remove-orphans", "-t", "1"); err != nil {
		c.t.Errorf("compose down: %v", err)
	}
}

// leftovers lists the containers, networks and volumes still labelled with
// the cluster's project name.
func (c *cluster) leftovers(t *testing.T) []string {
	t.Helper()
	filter := "label=com.docker.compose.project=" + c.project
	var left []string
	for _, kind := range [][]string{{"ps", "-a"}, {"network", "ls"}, {"volume", "ls"}} {
		args := append(append([]string(nil), kind...), "-q", "--filter", filter)
		out, err := runCommand(t.Context(), commandTimeout, "", nil, "docker", args...)
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range strings.Fields(out) {
			left = append(left, kind[0]+" "+id)
		}
	}
	return left
}

// waitHealthy waits until docker reports every container healthy.
func (c *cluster) waitHealthy(t *testing.T, within time.Duration) {
	t.Helper()
	args := []string{"inspect", "--format", "{{.Name}}={{if .State.Health}}{{.State.Health.Status}}{{else}}no-healthcheck{{end}}"}
	for _, s := range services {
		args = append(args, c.ids[s])
	}
	testwait.Seen(t, within, "every container healthy", func() (bool, string) {
		out, err := runCommand(t.Context(), commandTimeout, "", nil, "docker", args...)
		if err != nil {
			return false, err.Error()
		}
		fields := strings.Fields(out)
		for _, f := range fields {
			if !strings.HasSuffix(f, "=healthy") {
				return false, strings.Join(fields, " ")
			}
		}
		return len(fields) == len(services), out
	})
}

// url is a service's base URL on the host.
func (c *cluster) url(service string) string {
	return "http://127.0.0.1:" + strconv.Itoa(c.ports[service])
}

// reply is one HTTP answer and how long it took.
type reply struct {
	status  int
	node    string // X-Kvclass-Node
	body    []byte
	elapsed time.Duration
}

// value decodes a /get answer's value as a string.
func (r reply) value() string {
	var v struct {
		Value string `json:"value"`
	}
	json.Unmarshal(r.body, &v)
	return v.Value
}

func (r reply) String() string {
	return fmt.Sprintf("%d from %q in %s: %s", r.status, r.node, r.elapsed.Round(time.Millisecond), bytes.TrimSpace(r.body))
}

// do sends one request, bounded by requestTimeout.
func (c *cluster) do(method, url string, body []byte, header http.Header) (reply, error) {
	ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		return reply{}, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	start := time.Now()
	resp, err := c.client.Do(req)
	if err != nil {
		return reply{elapsed: time.Since(start)}, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	r := reply{status: resp.StatusCode, node: resp.Header.Get("X-Kvclass-Node"), body: data, elapsed: time.Since(start)}
	return r, err
}

// put stores key=value through base (the proxy or a node).
func (c *cluster) put(base, key, value string) (reply, error) {
	body, _ := json.Marshal(map[string]string{"value": value})
	return c.do(http.MethodPost, base+"/put?key="+key, body, nil)
}

// get reads key through base.
func (c *cluster) get(base, key string) (reply, error) {
	return c.do(http.MethodGet, base+"/get?key="+key, nil, nil)
}

// proxyState is the proxy's GET /state?format=json.
type proxyState struct {
	Mode  string `json:"mode"`
	Nodes []struct {
		Name   string            `json:"name"`
		URL    string            `json:"url"`
		Status string            `json:"status"`
		Reason string            `json:"reason"`
		Data   map[string]string `json:"data"`
	} `json:"nodes"`
}

// state fetches the proxy's state.
func (c *cluster) state() (proxyState, error) {
	var st proxyState
	r, err := c.do(http.MethodGet, c.url("proxy")+"/state?format=json", nil, nil)
	if err != nil {
		return st, err
	}
	if r.status != http.StatusOK {
		return st, fmt.Errorf("proxy state: %s", r)
	}
	if err := json.Unmarshal(r.body, &st); err != nil {
		return st, fmt.Errorf("proxy state: %w: %s", err, r.body)
	}
	return st, nil
}

// nodeData fetches a node's own data from its published port.
func (c *cluster) nodeData(name string) (map[string]string, error) {
	r, err := c.do(http.MethodGet, c.url(name)+"/state?format=json", nil, nil)
	if err != nil {
		return nil, err
	}
	var st struct {
		Name string            `json:"name"`
		Data map[string]string `json:"data"`
	}
	if r.status != http.StatusOK {
		return nil, fmt.Errorf("%s state: %s", name, r)
	}
	if err := json.Unmarshal(r.body, &st); err != nil {
		return nil, fmt.Errorf("%s state: %w", name, err)
	}
	if st.Name != name {
		return nil, fmt.Errorf("port %d answers as %q, want %q", c.ports[name], st.Name, name)
	}
	return st.Data, nil
}

// upNodes is the set of nodes a waitNodes caller wants up.
func upNodes(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// waitNodes waits until the proxy lists exactly kv1, kv2, kv3 in that order
// with each node's status up when want[name], down otherwise.
func (c *cluster) waitNodes(t *testing.T, within time.Duration, what string, want map[string]bool) proxyState {
	t.Helper()
	var st proxyState
	testwait.Seen(t, within, what, func() (bool, string) {
		var err error
		if st, err = c.state(); err != nil {
			return false, err.Error()
		}
		var got []string
		ok := len(st.Nodes) == len(nodeNames)
		for i, n := range st.Nodes {
			got = append(got, fmt.Sprintf("%s=%s(%s)", n.Name, n.Status, n.Reason))
			if i >= len(nodeNames) || n.Name != nodeNames[i] || (n.Status == "up") != want[n.Name] {
				ok = false
			}
		}
		return ok, strings.Join(got, " ")
	})
	return st
}

// secrets reads the proxy's state file out of its volume: the admin token is
// never printed, so this is how an instructor running compose finds it.
func (c *cluster) secrets(t *testing.T) (classCode, adminToken string) {
	t.Helper()
	out, err := runCommand(t.Context(), commandTimeout, "", nil, "docker", "cp", c.ids["proxy"]+":/state/proxy-state.json", "-")
	if err != nil {
		t.Fatalf("reading the proxy's state file: %v", err)
	}
	tr := tar.NewReader(strings.NewReader(out))
	hdr, err := tr.Next()
	if err != nil {
		t.Fatalf("reading the proxy's state file: %v", err)
	}
	if perm := hdr.FileInfo().Mode().Perm(); perm&0o077 != 0 {
		t.Errorf("the proxy's state file has mode %04o; want it private (0600)", perm)
	}
	var s struct {
		ClassCode  string `json:"class_code"`
		AdminToken string `json:"admin_token"`
	}
	if err := json.NewDecoder(tr).Decode(&s); err != nil {
		t.Fatalf("the proxy's state file: %v", err)
	}
	if s.AdminToken == "" {
		t.Fatal("the proxy's state file holds no admin token")
	}
	return s.ClassCode, s.AdminToken
}

// admin sends an instructor's action to the proxy.
func (c *cluster) admin(token, action string, body any) (reply, error) {
	data, err := json.Marshal(body)
	if err != nil {
		return reply{}, err
	}
	return c.do(http.MethodPost, c.url("proxy")+"/admin/"+action, data,
		http.Header{"Authorization": {"Bearer " + token}})
}

// proxyLog returns the proxy container's log since t.
func (c *cluster) proxyLog(t *testing.T, since time.Time) string {
	t.Helper()
	ts := strconv.FormatFloat(float64(since.UnixNano())/1e9, 'f', 3, 64)
	out, err := runCommand(t.Context(), commandTimeout, "", nil, "docker", "logs", "--since", ts, c.ids["proxy"])
	if err != nil {
		t.Fatal(err)
	}
	return out
}
