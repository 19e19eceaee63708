package proxy

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/kvclass/kvclass/kvapi"
	"github.com/kvclass/kvclass/web"
)

// A key is misplaced when it sits on a node that is not among its owners
// under the current placement and membership: after a student joins under
// modulo, most keys are. The proxy finds them by listing every node's keys
// (a scan, after each membership or placement change), marks them on the
// page, names the holder of a key its owner misses (X-Kvclass-Misplaced),
// and moves them on a rebalance: each key is copied to its owners with its
// version (a conditional put, which never overwrites a newer write) and then
// deleted from the old holder, conditional on that version. While a key
// moves, a read that misses on the new owner is served from the old holder.

// scanDebounce is how long the proxy waits after a change before scanning,
// so a burst of joins costs one scan.
const scanDebounce = 300 * time.Millisecond

// moveWorkers is how many keys a rebalance moves at once.
const moveWorkers = 8

// heldKey is one key on one node.
type heldKey struct {
	key     string
	version kvapi.Version
	deleted bool // a tombstone
}

// misplacement is what the last scan found.
type misplacement struct {
	keys    int               // distinct keys seen
	holders map[string]string // misplaced key → the node that holds it
	perNode map[string]int    // node → its misplaced keys
}

// placeState is the scans' and rebalances' state.
type placeState struct {
	mu      sync.Mutex
	last    misplacement
	rebal   *web.Rebalance
	pending *time.Timer // a scan waiting for its debounce

	running atomic.Bool // a rebalance runs
	auto    bool        // rebalance after every membership change (rebalance: auto)
}

// misplacedHolder returns the up node, other than owner, that holds key
// according to the last scan; nil when none.
func (p *Proxy) misplacedHolder(t *table, key, owner string) *backend {
	p.placing.mu.Lock()
	name := p.placing.last.holders[key]
	p.placing.mu.Unlock()
	if name == "" || name == owner {
		return nil
	}
	if b := t.byName[name]; b != nil && b.up {
		return b
	}
	return nil
}

// serveMoving serves a read of a key that a running rebalance is moving
// from its old holder, and reports whether it did.
func (p *Proxy) serveMoving(ctx *fasthttp.RequestCtx, holder *backend, req request, ev *web.Event) bool {
	if !p.placing.running.Load() {
		return false
	}
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseResponse(resp)
	if err := p.callNode(holder, nodeCall{method: fasthttp.MethodGet, path: "/get", key: req.key}, resp); err != nil || resp.StatusCode() != http.StatusOK {
		return false
	}
	ctx.Response.Header.Set(kvapi.MisplacedHeader, holder.name)
	relayCtx(ctx, resp, holder.name)
	ev.Nodes, ev.Result, ev.Status = []string{holder.name}, "hit", http.StatusOK
	return true
}

// scanSoon schedules a scan after scanDebounce (and a rebalance after it
// with rebalance: auto). A scan lists every node's keys (one request per
// node per 10,000 keys, through students' tunnels): it runs once per burst
// of changes, and never when every node owns every key.
func (p *Proxy) scanSoon() {
	p.placing.mu.Lock()
	defer p.placing.mu.Unlock()
	if p.placing.pending != nil || p.ctx == nil {
		return
	}
	if p.table.Load().n == 0 {
		return
	}
	p.placing.pending = time.AfterFunc(scanDebounce, func() {
		p.placing.mu.Lock()
		p.placing.pending = nil
		auto := p.placing.auto
		p.placing.mu.Unlock()
		if p.ctx.Err() != nil {
			return
		}
		p.scan(p.ctx)
		if auto && p.misplacedCount() > 0 {
			p.startRebalance()
		}
	})
}

// misplacedCount is the last scan's count of misplaced keys.
func (p *Proxy) misplacedCount() int {
	p.placing.mu.Lock()
	defer p.placing.mu.Unlock()
	return len(p.placing.last.holders)
}

// scan lists every up node's keys and finds the misplaced ones; it tells
// the page the count and marks the listed keys. It returns what it found,
// per holder.
func (p *Proxy) scan(ctx context.Context) map[string][]heldKey {
	t := p.table.Load()
	held := p.listAll(ctx, t)
	m := misplacement{holders: map[string]string{}, perNode: map[string]int{}}
	seen := map[string]bool{}
	misplaced := map[string][]heldKey{}
	var buf [8]*backend
	for _, b := range t.nodes {
		for _, k := range held[b.name] {
			seen[k.key] = true
			owners := t.ownersOf(k.key, buf[:0])
			if !slices.Contains(owners, b) {
				m.holders[k.key] = b.name
				m.perNode[b.name]++
				misplaced[b.name] = append(misplaced[b.name], k)
			}
		}
	}
	m.keys = len(seen)
	p.placing.mu.Lock()
	p.placing.last = m
	p.placing.mu.Unlock()
	p.publishMisplaced(t)
	p.publishClass()
	return misplaced
}

// listAll lists the keys of every up node, a few nodes at a time.
func (p *Proxy) listAll(ctx context.Context, t *table) map[string][]heldKey {
	out := map[string][]heldKey{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, gatherParallel)
	for _, b := range t.nodes {
		if !b.up || b.client == nil {
			continue
		}
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			keys, err := listKeys(ctx, b)
			if err != nil {
				p.log.Debug("cannot list a node's keys", "node", b.name, "err", err)
				return
			}
			mu.Lock()
			out[b.name] = keys
			mu.Unlock()
		})
	}
	wg.Wait()
	return out
}

// maxListed bounds the keys listed of one node.
const maxListed = 1 << 20

// listKeys lists a node's live keys with their versions: GET /keys page by
// page, or, for a node without it (a student's own), the keys of its
// /state?format=json.
func listKeys(ctx context.Context, b *backend) ([]heldKey, error) {
	all, err := listEntries(ctx, b)
	out := all[:0]
	for _, k := range all {
		if !k.deleted {
			out = append(out, k)
		}
	}
	return out, err
}

// listEntries lists a node's keys and tombstones with their versions.
func listEntries(ctx context.Context, b *backend) ([]heldKey, error) {
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseResponse(resp)
	var out []heldKey
	after := ""
	for ctx.Err() == nil && len(out) < maxListed {
		q := url.Values{"bucket": {"0"}, "buckets": {"1"}, "limit": {strconv.Itoa(kvapi.MaxKeysPage)}}
		if after != "" {
			q.Set("after", after)
		}
		resp.Reset()
		if err := b.client.get(kvapi.PathKeys+"?"+q.Encode(), resp); err != nil {
			return nil, err
		}
		if resp.StatusCode() == http.StatusNotFound && after == "" {
			return listFromState(b)
		}
		if resp.StatusCode() != http.StatusOK {
			return nil, errStatus(resp.StatusCode())
		}
		var page kvapi.KeyList
		if err := json.Unmarshal(resp.Body(), &page); err != nil {
			return nil, errBadState
		}
		for _, k := range page.Keys {
			out = append(out, heldKey{key: k.Key, version: k.Version, deleted: k.Deleted})
		}
		if !page.More || len(page.Keys) == 0 {
			return out, nil
		}
		after = page.Keys[len(page.Keys)-1].Key
	}
	return out, ctx.Err()
}

// listFromState lists a node's keys from its /state?format=json.
func listFromState(b *backend) ([]heldKey, error) {
	data, err := fetchData(b)
	if err != nil {
		return nil, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, errBadState
	}
	out := make([]heldKey, 0, len(m))
	for k := range m {
		out = append(out, heldKey{key: k})
	}
	return out, nil
}

// publishMisplaced tells the page each node's misplaced count, and which
// of its listed keys are misplaced.
func (p *Proxy) publishMisplaced(t *table) {
	if p.hub.Clients() == 0 {
		return
	}
	p.placing.mu.Lock()
	holders, perNode := p.placing.last.holders, p.placing.last.perNode
	p.placing.mu.Unlock()
	p.mu.Lock()
	followers := make(map[string]*follower, len(p.followers))
	for k, f := range p.followers {
		followers[k] = f
	}
	p.mu.Unlock()
	for _, b := range t.nodes {
		var marked []string
		if f := followers[b.name]; f != nil {
			_, keys := f.view()
			for _, k := range keys {
				if holders[k.Key] == b.name {
					marked = append(marked, k.Key)
				}
			}
		}
		p.hub.Publish(web.Event{Type: web.EventMisplaced, Node: b.name, Count: perNode[b.name], Keys: marked})
	}
}

// adminRebalance is POST /admin/rebalance: move every misplaced key to its
// owners, in the background, with its progress on the page.
func (p *Proxy) adminRebalance(w http.ResponseWriter, _ []byte) {
	if !p.startRebalance() {
		kvapi.WriteError(w, kvapi.Errorf(http.StatusConflict, "A rebalance is running already."))
		return
	}
	kvapi.WriteMessage(w, "Rebalance started: misplaced keys move to their owners; the page shows the progress.")
}

// startRebalance starts a rebalance unless one runs, and reports whether
// it started one. It scans before it returns, so from then on a read that
// misses on a key's new owner is served from its old holder.
func (p *Proxy) startRebalance() bool {
	if p.ctx == nil || !p.placing.running.CompareAndSwap(false, true) {
		return false
	}
	misplaced := p.scan(p.ctx)
	go func() {
		defer p.placing.running.Store(false)
		p.rebalance(p.ctx, misplaced)
	}()
	return true
}

// rebalance moves every misplaced key: copy to each owner with its version,
// then delete from the holder conditional on that version. Keys whose
// owners are down wait (the page names those nodes) until they are up or
// kicked.
func (p *Proxy) rebalance(ctx context.Context, misplaced map[string][]heldKey) {
	t := p.table.Load()
	type job struct {
		holder *backend
		key    heldKey
	}
	var jobs []job
	for name, keys := range misplaced {
		if b := t.byName[name]; b != nil {
			for _, k := range keys {
				jobs = append(jobs, job{b, k})
			}
		}
	}
	progress := &web.Rebalance{Running: true, Total: len(jobs)}
	var mu sync.Mutex
	waiting := map[string]bool{}
	first := *progress // the page reads a copy: progress changes under mu
	p.setRebalance(&first)
	lastPublish := time.Now()
	report := func(moved bool, bytes int, down []string) {
		mu.Lock()
		defer mu.Unlock()
		if moved {
			progress.Moved++
			progress.Bytes += int64(bytes)
		}
		for _, d := range down {
			waiting[d] = true
		}
		if time.Since(lastPublish) > 200*time.Millisecond {
			lastPublish = time.Now()
			cp := *progress
			p.setRebalance(&cp)
		}
	}
	queue := make(chan job)
	var wg sync.WaitGroup
	for range moveWorkers {
		wg.Go(func() {
			for j := range queue {
				n, down, err := p.move(t, j.holder, j.key)
				if err != nil {
					p.log.Debug("a key did not move", "key", kvapi.Truncate(j.key.key, 64), "from", j.holder.name, "err", err)
				}
				report(err == nil && len(down) == 0, n, down)
			}
		})
	}
	for _, j := range jobs {
		if ctx.Err() != nil {
			break
		}
		queue <- j
	}
	close(queue)
	wg.Wait()
	mu.Lock()
	progress.Running = false
	for d := range waiting {
		progress.Waiting = append(progress.Waiting, d)
	}
	slices.Sort(progress.Waiting)
	final := *progress
	mu.Unlock()
	p.log.Info("rebalance done", "moved", final.Moved, "of", final.Total, "bytes", final.Bytes, "waiting", final.Waiting)
	p.setRebalance(&final)
	p.scan(ctx)
}

// move moves one key from holder to its owners. It returns the bytes moved
// and the owners that were down (the key then stays).
func (p *Proxy) move(t *table, holder *backend, k heldKey) (int, []string, error) {
	var buf [8]*backend
	owners := t.ownersOf(k.key, buf[:0])
	var down []string
	for _, o := range owners {
		if !o.up {
			down = append(down, o.name)
		}
	}
	if len(down) > 0 {
		return 0, down, nil
	}
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseResponse(resp)
	if err := p.callNode(holder, nodeCall{method: fasthttp.MethodGet, path: "/get", key: k.key}, resp); err != nil {
		return 0, nil, err
	}
	if resp.StatusCode() == http.StatusNotFound {
		return 0, nil, nil // deleted meanwhile: nothing to move
	}
	if resp.StatusCode() != http.StatusOK {
		return 0, nil, errStatus(resp.StatusCode())
	}
	body := append([]byte(nil), resp.Body()...) // {"value": V}: a put's body too
	version := answerVersion(resp)
	if version.IsZero() {
		version = p.stamp() // a node without versions: the move stamps one
	}
	for _, o := range owners {
		if o == holder {
			continue
		}
		resp.Reset()
		if err := p.callNode(o, nodeCall{method: fasthttp.MethodPost, path: "/put", key: k.key, body: body, version: version.String()}, resp); err != nil {
			return 0, nil, err
		}
		// 409: the owner has a newer write of the key; the copy is not
		// needed.
		if st := resp.StatusCode(); st != http.StatusOK && st != http.StatusConflict {
			return 0, nil, errors.New("owner " + o.name + " answered " + strconv.Itoa(st))
		}
	}
	if !slices.Contains(owners, holder) {
		resp.Reset()
		// At exactly the moved version the holder drops the key without a
		// tombstone (it moved; it was not deleted). A newer write on the
		// holder (409) stays: the next scan moves it.
		if err := p.callNode(holder, nodeCall{method: fasthttp.MethodDelete, path: "/delete", key: k.key, version: version.String()}, resp); err != nil {
			return 0, nil, err
		}
	}
	return len(body), nil, nil
}

// setRebalance records a rebalance's progress and tells the page.
func (p *Proxy) setRebalance(r *web.Rebalance) {
	p.placing.mu.Lock()
	p.placing.rebal = r
	p.placing.mu.Unlock()
	p.publishClass()
}
