package proxy

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/kvclass/kvclass/kvapi"
	"github.com/kvclass/kvclass/web"
)

// state serves the live page, or with ?format=json every node's state (see
// gatherState). With ?node=NAME it relays that node's own filtered state (q,
// limit) for the page's filter box.
func (p *Proxy) state(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		kvapi.WriteError(w, kvapi.MethodNotAllowed(r.Method, "GET"))
		return
	}
	q := r.URL.Query()
	if q.Get("format") != "json" {
		web.ServePage(w, r)
		return
	}
	t := p.table.Load()
	if name := q.Get("node"); name != "" {
		p.nodeState(w, t, name, q)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(p.states.get(t, p.version.Load(), p.gatherState))
}

// stateFresh is how long a gathered state answers further requests while
// the proxy sees no change. The public /state?format=json would otherwise
// turn every anonymous request into one request to every node, through
// every student's tunnel and its monthly quota.
const stateFresh = 5 * time.Second

// stateCache shares one gather of every node's state among the requests
// that arrive while it runs, and after it while the table and the data
// version stay the same (for at most stateFresh).
type stateCache struct {
	mu       sync.Mutex
	table    *table
	version  uint64
	body     []byte
	at       time.Time
	inflight chan struct{} // closed when the running gather is done
}

// get returns the gathered state for t at data version v, gathering it if
// the one it has is older.
func (c *stateCache) get(t *table, v uint64, gather func(*table) []byte) []byte {
	for {
		c.mu.Lock()
		if c.table == t && c.version == v && c.body != nil && time.Since(c.at) < stateFresh {
			body := c.body
			c.mu.Unlock()
			return body
		}
		if wait := c.inflight; wait != nil {
			c.mu.Unlock()
			<-wait
			continue
		}
		done := make(chan struct{})
		c.inflight = done
		c.mu.Unlock()
		body := gather(t)
		c.mu.Lock()
		c.table, c.version, c.body, c.at, c.inflight = t, v, body, time.Now(), nil
		c.mu.Unlock()
		close(done)
		return body
	}
}

// gatherState asks every up node for its state, all at once, and returns
// {"mode", "nodes": [{"name", "url", "status", "reason", "data"}]}. A node
// that is down or does not answer within the node timeout is listed as down
// with the reason, so a gather never takes longer than one timeout.
func (p *Proxy) gatherState(t *table) []byte {
	type nodeState struct {
		Name   string          `json:"name"`
		URL    string          `json:"url"`
		Status string          `json:"status"`
		Reason string          `json:"reason,omitempty"`
		Data   json.RawMessage `json:"data"`
	}
	out := make([]nodeState, len(t.nodes))
	var wg sync.WaitGroup
	var total atomic.Int64
	sem := make(chan struct{}, gatherParallel)
	for i, b := range t.nodes {
		out[i] = nodeState{Name: b.name, URL: b.url, Status: "down", Reason: b.reason, Data: json.RawMessage("{}")}
		if !b.up {
			continue
		}
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			if total.Load() >= p.maxGather {
				out[i].Status, out[i].Reason = "up", errGatherFull.Error()
				return
			}
			data, err := fetchData(b)
			if err == nil && total.Add(int64(len(data))) > p.maxGather {
				out[i].Status, out[i].Reason = "up", errGatherFull.Error()
				return
			}
			if err != nil {
				out[i].Reason = err.Error()
				return
			}
			out[i].Status, out[i].Reason, out[i].Data = "up", "", data
		})
	}
	wg.Wait()
	// Written by hand: the nodes' data is valid JSON already (fetchData
	// checked it), and json.Marshal would check and copy every byte again.
	size := 64
	for _, n := range out {
		size += len(n.Data) + len(n.Name) + len(n.URL) + len(n.Reason) + 64
	}
	body := bytes.NewBuffer(make([]byte, 0, size))
	body.WriteString(`{"mode":`)
	writeJSONString(body, string(t.mode))
	body.WriteString(`,"nodes":[`)
	for i, n := range out {
		if i > 0 {
			body.WriteByte(',')
		}
		body.WriteString(`{"name":`)
		writeJSONString(body, n.Name)
		body.WriteString(`,"url":`)
		writeJSONString(body, n.URL)
		body.WriteString(`,"status":`)
		writeJSONString(body, n.Status)
		if n.Reason != "" {
			body.WriteString(`,"reason":`)
			writeJSONString(body, n.Reason)
		}
		body.WriteString(`,"data":`)
		body.Write(n.Data)
		body.WriteByte('}')
	}
	body.WriteString("]}\n")
	return body.Bytes()
}

// writeJSONString writes s as a JSON string.
func writeJSONString(b *bytes.Buffer, s string) {
	q, _ := json.Marshal(s)
	b.Write(q)
}

// fetchData returns the "data" object of a node's /state?format=json.
func fetchData(b *backend) (json.RawMessage, error) {
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseResponse(resp)
	if err := b.client.get("/state?format=json", resp); err != nil {
		return nil, err
	}
	if resp.StatusCode() != http.StatusOK {
		return nil, errStatus(resp.StatusCode())
	}
	data := kvapi.Member(resp.Body(), "data")
	if len(data) == 0 || data[0] != '{' {
		return nil, errBadState
	}
	return bytes.Clone(data), nil
}

// Bounds of one gather of every node's state: at most defaultMaxGather
// bytes of node data in one answer (a node beyond it is listed without its
// data), fetched from at most gatherParallel nodes at a time.
const (
	defaultMaxGather = 32 << 20
	gatherParallel   = 8
)

var errGatherFull = errors.New("its data did not fit in one answer of every node; ask /state?format=json&node=NAME")

type errStatus int

func (e errStatus) Error() string { return "answered " + strconv.Itoa(int(e)) + " to /state" }

var errBadState = errors.New("answered /state with something that is not a node's state")

// nodeState relays one node's filtered state: the page's filter box.
func (p *Proxy) nodeState(w http.ResponseWriter, t *table, name string, q url.Values) {
	b := t.byName[name]
	if b == nil {
		kvapi.WriteError(w, kvapi.Errorf(http.StatusNotFound, "No node named "+strconv.Quote(name)+"."))
		return
	}
	if !b.up {
		kvapi.WriteError(w, nodeDown(b))
		return
	}
	v := url.Values{"format": {"json"}, "limit": {strconv.Itoa(web.KeysPerNode)}}
	if f := q.Get("q"); f != "" {
		v.Set("q", f)
	}
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseResponse(resp)
	if err := b.client.get("/state?"+v.Encode(), resp); err != nil {
		kvapi.WriteError(w, nodeFailed(b, err))
		return
	}
	relay(w, resp, b.name)
}

// snapshot is the page's view of the class: every node in order, with the
// newest keys the proxy follows on each, and the lessons' state.
func (p *Proxy) snapshot() web.Snapshot {
	t := p.table.Load()
	s := web.Snapshot{
		Type:      web.TypeSnapshot,
		Role:      "proxy",
		Mode:      t.mode.String(),
		Rule:      t.rule(),
		Placement: string(t.place.Config().Strategy),
		Replicas:  t.place.Replicas(),
		Limit:     web.KeysPerNode,
		Nodes:     make([]web.NodeView, 0, len(t.nodes)),
		Class:     p.class(),
		Seconds:   p.seconds.last(),
	}
	if p.server != nil && !p.cfg.HideJoin {
		s.Join = p.JoinLine()
	}
	for _, b := range t.nodes {
		s.Nodes = append(s.Nodes, p.viewOf(b))
	}
	return s
}

// viewOf is b as the page shows it, with the newest keys the proxy follows
// on it and its marks: misplaced keys, hints, fault, own implementation.
func (p *Proxy) viewOf(b *backend) web.NodeView {
	v := nodeView(b.name, b.url, b.up, b.reason, b.own)
	p.mu.Lock()
	f := p.followers[b.name]
	p.mu.Unlock()
	if f != nil {
		v.Count, v.Keys = f.view()
	}
	p.decorate(&v)
	return v
}

// decorate adds a node view's marks: misplaced keys (and which listed keys
// are), hints, fault.
func (p *Proxy) decorate(v *web.NodeView) {
	p.placing.mu.Lock()
	v.Misplaced = p.placing.last.perNode[v.Name]
	holders := p.placing.last.holders
	p.placing.mu.Unlock()
	for i := range v.Keys {
		v.Keys[i].Misplaced = holders[v.Keys[i].Key] == v.Name
	}
	v.Hints = p.hints.count(v.Name)
	if f := p.faults.get(v.Name); f != nil {
		fv := f.Fault
		v.Fault = &fv
	}
}
