package proxy

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/valyala/fasthttp"
)

// Anti-entropy: on an interval, the proxy lists the keys and versions (and
// tombstones) of every up node, finds for each key the newest copy among
// its owners, and copies it to the owners that hold an older one or none:
// a node restarted empty is refilled within two intervals, and the page
// shows the count of divergent keys falling to zero. Keys on nodes that are
// not their owners are the rebalance's, not anti-entropy's.

// runAntiEntropy runs rounds on the current interval until done is closed;
// kickAntiEntropy makes it read a new interval at once.
func (p *Proxy) runAntiEntropy(ctx context.Context) {
	for {
		interval := p.table.Load().repl.AntiEntropy
		var tick <-chan time.Time
		var timer *time.Timer
		if interval > 0 {
			timer = time.NewTimer(interval)
			tick = timer.C
		}
		select {
		case <-ctx.Done():
			if timer != nil {
				timer.Stop()
			}
			return
		case <-p.aeKick:
			if timer != nil {
				timer.Stop()
			}
		case <-tick:
			p.antiEntropyRound(ctx)
		}
	}
}

// kickAntiEntropy tells the anti-entropy loop that its interval changed.
func (p *Proxy) kickAntiEntropy() {
	select {
	case p.aeKick <- struct{}{}:
	default:
	}
}

// antiEntropyRound compares and repairs once, and returns how many keys
// it found divergent.
func (p *Proxy) antiEntropyRound(ctx context.Context) int {
	t := p.table.Load()
	held := map[string]map[string]heldKey{} // node → key → entry
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
			list, err := listEntries(ctx, b)
			if err != nil {
				return
			}
			m := make(map[string]heldKey, len(list))
			for _, k := range list {
				m[k.key] = k
			}
			mu.Lock()
			held[b.name] = m
			mu.Unlock()
		})
	}
	wg.Wait()
	if ctx.Err() != nil {
		return 0
	}
	// Every key any node holds, and its newest copy among its owners.
	type job struct {
		key    string
		from   *backend
		newest heldKey
		to     []*backend
	}
	var jobs []job
	seen := map[string]bool{}
	var buf [8]*backend
	for _, m := range held {
		for key := range m {
			if seen[key] {
				continue
			}
			seen[key] = true
			owners := t.ownersOf(key, buf[:0])
			var newest heldKey
			var from *backend
			for _, o := range owners {
				if k, ok := held[o.name][key]; ok && (from == nil || k.version.Compare(newest.version) > 0) {
					newest, from = k, o
				}
			}
			if from == nil || newest.version.IsZero() {
				continue // not on its owners (a misplaced key), or no versions
			}
			var to []*backend
			for _, o := range owners {
				if _, listed := held[o.name]; !listed {
					continue // down, or did not answer
				}
				if k, ok := held[o.name][key]; !ok || k.version.Compare(newest.version) < 0 {
					to = append(to, o)
				}
			}
			if len(to) > 0 {
				jobs = append(jobs, job{key, from, newest, to})
			}
		}
	}
	p.divergent.Store(int64(len(jobs)))
	p.publishClass()
	if len(jobs) == 0 {
		return 0
	}
	queue := make(chan job)
	var workers sync.WaitGroup
	for range moveWorkers {
		workers.Go(func() {
			resp := fasthttp.AcquireResponse()
			defer fasthttp.ReleaseResponse(resp)
			for j := range queue {
				c := copyOf{b: j.from, status: http.StatusNotFound, version: j.newest.version}
				if !j.newest.deleted {
					resp.Reset()
					if err := p.callNode(j.from, nodeCall{method: fasthttp.MethodGet, path: "/get", key: j.key}, resp); err != nil || resp.StatusCode() != http.StatusOK {
						continue
					}
					if answerVersion(resp) != j.newest.version {
						continue // written meanwhile: the next round sees it
					}
					c.status, c.body = http.StatusOK, append([]byte(nil), resp.Body()...)
				}
				p.repair(j.key, &c, j.to, 0)
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
	workers.Wait()
	p.log.Info("anti-entropy repaired divergent keys", "keys", len(jobs))
	return len(jobs)
}
