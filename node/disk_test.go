package node

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/kvclass/kvclass/kvapi"
)

// stopNode stops a node started by startNode before the test ends, as
// Ctrl-C would, and waits for it.
func stopNode(t testing.TB, n *Node) {
	t.Helper()
	n.stop()
	if err := n.Wait(); err != nil {
		t.Fatalf("stopping the node: %v", err)
	}
}

func TestDataSurvivesARestart(t *testing.T) {
	dir := t.TempDir()
	clock := newTestClock()
	n := startNode(t, Config{Name: "kv1", DataDir: dir, Now: clock.now})
	base := n.LocalURL()
	versions := map[string]string{}
	for i := range 20 {
		k := testKey(i)
		r := call(t, "POST", base+"/put?key="+k, `{"value": {"n": `+strconv.Itoa(i)+`}}`, "")
		if r.status != 200 {
			t.Fatal(r.body)
		}
		versions[k] = r.header.Get(kvapi.VersionHeader)
	}
	vp := ver(5, 0, "proxy")
	call(t, "POST", base+"/put?key=replicated", `{"value": "r"}`, vp)
	deleted := call(t, "DELETE", base+"/delete?key="+testKey(3), "", "").header.Get(kvapi.VersionHeader)
	call(t, "DELETE", base+"/delete?key=gone", "", ver(7, 0, "proxy")) // a tombstone for a key never stored
	call(t, "DELETE", base+"/delete?key=replicated", "", vp)           // a hand-off: no trace
	digest := getDigest(t, base, "")
	newest, _ := n.Store().Newest(3, "")
	last := n.Store().Clock().Last()
	stopNode(t, n)

	n = startNode(t, Config{Name: "kv1", DataDir: dir, Now: clock.now})
	base = n.LocalURL()
	if n.Store().Len() != 19 || n.Store().Tombstones() != 2 {
		t.Fatalf("after a restart: %d keys, %d tombstones", n.Store().Len(), n.Store().Tombstones())
	}
	for i := range 20 {
		k := testKey(i)
		r := call(t, "GET", base+"/get?key="+k, "", "")
		if i == 3 {
			if r.status != 404 || r.header.Get(kvapi.VersionHeader) != deleted {
				t.Fatalf("deleted key after a restart: %d %v", r.status, r.header)
			}
			continue
		}
		if r.status != 200 || !jsonEq(t, r.body, `{"value": {"n": `+strconv.Itoa(i)+`}}`) || r.header.Get(kvapi.VersionHeader) != versions[k] {
			t.Fatalf("%q after a restart: %d %s %v", k, r.status, r.body, r.header)
		}
	}
	if r := call(t, "POST", base+"/put?key=gone", `{"value": 1}`, ver(6, 0, "proxy")); r.status != 409 {
		t.Fatalf("the tombstone of a key never stored did not survive: %d", r.status)
	}
	if r := call(t, "GET", base+"/get?key=replicated", "", ""); r.status != 404 || r.header.Get(kvapi.VersionHeader) != "" {
		t.Fatalf("a handed-off key after a restart: %d %v", r.status, r.header)
	}
	if got := getDigest(t, base, ""); strings.Join(got.Hashes, "") != strings.Join(digest.Hashes, "") {
		t.Fatal("the digest changed across a restart")
	}
	if got, _ := n.Store().Newest(3, ""); fmt.Sprint(got) != fmt.Sprint(newest) {
		t.Fatalf("newest keys %v, before the restart %v", got, newest)
	}
	// The clock resumes past every version in the file, even if the
	// machine's clock went back while the node was down.
	clock.advance(-time.Hour)
	if v := call(t, "POST", base+"/put?key="+testKey(0), `{"value": 0}`, "").version(t); v.HLC <= last {
		t.Fatalf("a stamp after the restart, %v, is not newer than %d", v, last)
	}
	// Reset empties the file too.
	if r := call(t, "POST", base+"/reset", "", ""); r.status != 200 {
		t.Fatal(r.body)
	}
	stopNode(t, n)
	n = startNode(t, Config{Name: "kv1", DataDir: dir})
	if n.Store().Len() != 0 || n.Store().Tombstones() != 0 {
		t.Fatalf("after reset and restart: %d keys, %d tombstones", n.Store().Len(), n.Store().Tombstones())
	}
}

// testKey returns a test key with characters that need escaping.
func testKey(i int) string { return "key%20" + strconv.Itoa(i) + "%26%D1%8F" }

func TestDataTombstonesExpireWhileStopped(t *testing.T) {
	dir := t.TempDir()
	clock := newTestClock()
	n := startNode(t, Config{Name: "kv1", DataDir: dir, Now: clock.now, Tombstones: time.Minute})
	call(t, "POST", n.LocalURL()+"/put?key=k", `{"value": 1}`, ver(1, 0, "proxy"))
	call(t, "DELETE", n.LocalURL()+"/delete?key=k", "", "")
	stopNode(t, n)
	clock.advance(time.Minute)
	n = startNode(t, Config{Name: "kv1", DataDir: dir, Now: clock.now, Tombstones: time.Minute})
	if n.Store().Tombstones() != 0 {
		t.Fatal("an expired tombstone was loaded")
	}
	if r := call(t, "POST", n.LocalURL()+"/put?key=k", `{"value": 1}`, ver(1, 0, "proxy")); r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	call(t, "DELETE", n.LocalURL()+"/delete?key=k", "", "")
	clock.advance(time.Minute)
	n.store.sweep() // an expired tombstone swept while running leaves the file too
	stopNode(t, n)
	clock.advance(-time.Minute) // were it still in the file, it would load as live
	n = startNode(t, Config{Name: "kv1", DataDir: dir, Now: clock.now, Tombstones: time.Minute})
	if n.Store().Tombstones() != 0 || n.Store().Len() != 0 {
		t.Fatalf("%d keys, %d tombstones", n.Store().Len(), n.Store().Tombstones())
	}
}

func TestDataFileInUse(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	startNode(t, Config{DataDir: dir})
	n, err := New(Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	err = n.Start(context.Background())
	if err == nil || !strings.Contains(err.Error(), "in use by another process") || !strings.Contains(err.Error(), "its own --data directory") {
		t.Fatalf("a second node on the same --data: %v", err)
	}
	n.Wait()
}

func TestDataDamaged(t *testing.T) {
	dir := t.TempDir()
	n := startNode(t, Config{DataDir: dir})
	call(t, "POST", n.LocalURL()+"/put?key=k", `{"value": 1}`, "")
	stopNode(t, n)
	db, err := bolt.Open(filepath.Join(dir, DataFileName), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketKV).Put([]byte("bad"), []byte{1, 2, 3}) })
	db.Close()
	n, _ = New(Config{DataDir: dir})
	err = n.Start(context.Background())
	if err == nil || !strings.Contains(err.Error(), `key "bad" is damaged`) || !strings.Contains(err.Error(), "move the file away") {
		t.Fatalf("a damaged record: %v", err)
	}
	n.Wait()

	os.WriteFile(filepath.Join(dir, DataFileName), []byte("not a bbolt file"), 0o600)
	n, _ = New(Config{DataDir: dir})
	if err = n.Start(context.Background()); err == nil || !strings.Contains(err.Error(), "move the file away") {
		t.Fatalf("a file that is not bbolt: %v", err)
	}
	n.Wait()

	if _, err := New(Config{DataDir: dir, MaxKey: 40000}); err == nil || !strings.Contains(err.Error(), "--max-key") {
		t.Fatalf("a key limit over bbolt's: %v", err)
	}
}

// TestDataFailureRefusesWrites: when the data file cannot be written, the
// node answers writes with a 503 that says what to do, and keeps serving
// reads of what the file holds.
func TestDataFailureRefusesWrites(t *testing.T) {
	n := startNode(t, Config{DataDir: t.TempDir()})
	base := n.LocalURL()
	call(t, "POST", base+"/put?key=k", `{"value": 1}`, "")
	n.store.disk.db.Close() // the disk goes away under the node
	r := call(t, "POST", base+"/put?key=j", `{"value": 2}`, "")
	if r.status != 503 || !strings.Contains(r.body, "data file") || !strings.Contains(r.body, "restarted") {
		t.Fatalf("a put the file refused: %d %s", r.status, r.body)
	}
	for _, req := range [][3]string{{"POST", "/put?key=x", `{"value": 2}`}, {"DELETE", "/delete?key=k", ""}, {"POST", "/reset", ""}} {
		if r := call(t, req[0], base+req[1], req[2], ""); r.status != 503 {
			t.Errorf("%s %s after the failure: %d %s", req[0], req[1], r.status, r.body)
		}
	}
	if r := call(t, "GET", base+"/get?key=k", "", ""); r.status != 200 {
		t.Fatalf("a durable key after the failure: %d %s", r.status, r.body)
	}
	if r := call(t, "GET", base+"/get?key=j", "", ""); r.status != 503 {
		t.Fatalf("the key the file refused: %d %s", r.status, r.body)
	}
}

func TestDataBudget(t *testing.T) {
	dir := t.TempDir()
	n := startNode(t, Config{DataDir: dir, MaxBytes: EntryOverhead + 20})
	if r := call(t, "POST", n.LocalURL()+"/put?key=a", `{"value": 1}`, ""); r.status != 200 {
		t.Fatal(r.body)
	}
	if r := call(t, "POST", n.LocalURL()+"/put?key=b", `{"value": 2}`, ""); r.status != 507 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	stopNode(t, n)
	n = startNode(t, Config{DataDir: dir, MaxBytes: EntryOverhead + 20})
	if r := call(t, "POST", n.LocalURL()+"/put?key=b", `{"value": 2}`, ""); r.status != 507 || n.Store().Len() != 1 {
		t.Fatalf("after a restart: %d %s", r.status, r.body)
	}
}

// crashDirEnv tells a re-executed test binary to run a node on this
// --data directory until it is killed (TestCrashChild).
const crashDirEnv = "KVCLASS_TEST_CRASH_DIR"

// TestCrashChild is the node that TestDataSurvivesSIGKILL kills: it runs
// only in the child process.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashDirEnv)
	if dir == "" {
		t.Skip("runs in the child process of TestDataSurvivesSIGKILL")
	}
	n, err := New(Config{Name: "crash", DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	fmt.Printf("URL %s\n", n.LocalURL())
	select {} // until SIGKILL
}

// TestDataSurvivesSIGKILL runs a node with --data in a child process,
// writes to it from several clients, kills it with SIGKILL in the middle
// of the writes, and checks that a node started on the same directory has
// every write that was acknowledged.
func TestDataSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process")
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashDirEnv+"="+dir)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	lines := bufio.NewScanner(out)
	var base string
	for lines.Scan() {
		if u, ok := strings.CutPrefix(lines.Text(), "URL "); ok {
			base = u
			break
		}
	}
	if base == "" {
		t.Fatal("the child node did not start")
	}
	go func() {
		for lines.Scan() {
		}
	}()

	// Each client writes its own keys: a put, and every third key a delete
	// after it. It records what was acknowledged, and its one request in
	// flight when the node died, which may or may not have landed.
	type state struct {
		version string
		deleted bool
		value   string
	}
	type client struct {
		acked    map[string]state
		inflight string // the key of the request that got no answer
	}
	const clients = 8
	cs := make([]*client, clients)
	var total sync.WaitGroup
	ackedCount := make(chan struct{}, 100000)
	hc := &http.Client{Timeout: 10 * time.Second}
	send := func(method, u, body string) (int, string, error) {
		req, _ := http.NewRequest(method, u, strings.NewReader(body))
		resp, err := hc.Do(req)
		if err != nil {
			return 0, "", err
		}
		resp.Body.Close()
		return resp.StatusCode, resp.Header.Get(kvapi.VersionHeader), nil
	}
	for c := range clients {
		cs[c] = &client{acked: map[string]state{}}
		total.Add(1)
		go func(cl *client) {
			defer total.Done()
			for i := 0; ; i++ {
				key := "c" + strconv.Itoa(c) + "-" + strconv.Itoa(i)
				value := `"v` + strconv.Itoa(i) + `"`
				status, v, err := send("POST", base+"/put?key="+key, `{"value": `+value+`}`)
				if err != nil {
					cl.inflight = key
					return
				}
				if status != 200 {
					t.Errorf("put: %d", status)
					return
				}
				cl.acked[key] = state{version: v, value: value}
				ackedCount <- struct{}{}
				if i%3 == 0 {
					status, v, err = send("DELETE", base+"/delete?key="+key, "")
					if err != nil {
						cl.inflight = key
						return
					}
					if status != 200 {
						t.Errorf("delete: %d", status)
						return
					}
					cl.acked[key] = state{version: v, deleted: true}
					ackedCount <- struct{}{}
				}
			}
		}(cs[c])
	}
	for range 400 { // kill it in the middle of the writes
		<-ackedCount
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	total.Wait()

	n := startNode(t, Config{DataDir: dir})
	acked := 0 // keys with an acknowledged write
	for _, cl := range cs {
		for key, want := range cl.acked {
			acked++
			it, err := n.Store().Lookup(key)
			if err != nil {
				t.Fatal(err)
			}
			if key == cl.inflight && it.Deleted { // its delete landed but was not answered
				continue
			}
			if it.Version.String() != want.version || it.Deleted != want.deleted || it.Value != want.value {
				t.Errorf("%s after SIGKILL: %+v, acknowledged %+v", key, it, want)
			}
		}
	}
	if acked < 250 { // 400 writes: a put per key, and a delete for every third
		t.Fatalf("only %d keys acknowledged", acked)
	}
	t.Logf("the acknowledged writes to %d keys survived SIGKILL; %d keys and %d tombstones in the file", acked, n.Store().Len(), n.Store().Tombstones())
}

// benchPut measures puts through a node's HTTP handler (no network), from
// 1 client and from 32 at once.
func benchPut(b *testing.B, cfg Config) {
	n := startNode(b, cfg)
	h := n.Handler()
	body := `{"value": "a value of a realistic length, about forty"}`
	put := func(i int) {
		req := httptest.NewRequest("POST", "http://node/put?key=key-"+strconv.Itoa(i%100_000), strings.NewReader(body))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatalf("%d %s", w.Code, w.Body)
		}
	}
	b.Run("clients=1", func(b *testing.B) {
		i := 0
		for b.Loop() {
			put(i)
			i++
		}
	})
	b.Run("clients=32", func(b *testing.B) {
		b.SetParallelism(16) // 16 per CPU
		var next sync.Mutex
		i := 0
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				next.Lock()
				i++
				k := i
				next.Unlock()
				put(k)
			}
		})
	})
}

// BenchmarkPutMemory is a node's put throughput in memory, as the seed.
func BenchmarkPutMemory(b *testing.B) { benchPut(b, Config{}) }

// BenchmarkPutData is a node's put throughput with --data: each put is
// fsynced in the data file before its answer.
func BenchmarkPutData(b *testing.B) { benchPut(b, Config{DataDir: b.TempDir()}) }
