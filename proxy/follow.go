package proxy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/valyala/fasthttp"

	"github.com/kvclass/kvclass/tunnel"
	"github.com/kvclass/kvclass/web"
)

// A follower mirrors one node's newest keys for the page, so that a put made
// straight on a node (bypassing the proxy) shows on the proxy's page too. It
// follows the node's own /ws stream, which works through ngrok as one
// long-lived connection, and falls back to polling the node's /state when the
// stream cannot be opened: every 2 s for a node on a private network, every
// 30 s for one on the internet, so a tunnel's request quota is spared.
type follower struct {
	p      *Proxy
	name   string
	url    string
	joined bool
	relay  bool
	cancel context.CancelFunc
	done   chan struct{}

	mu    sync.Mutex
	count int
	keys  []web.KeyView // newest first, at most web.KeysPerNode

	// What the node may push to the page: events forwarded within a token
	// bucket, and whole-node syncs at most once per syncEvery. A node that
	// floods its stream only updates the mirror; the page gets the result
	// in the next sync.
	tokens   float64
	lastTok  time.Time
	lastSync time.Time
	syncWait *time.Timer // a sync scheduled for later, nil when none

	// batch is apply's decoding buffer, reused from one message to the
	// next; only the stream's goroutine touches it.
	batch []followedEvent
}

// Bounds on what one node's stream may push to every viewer.
const (
	followEventsPerSec = 200             // events forwarded per second
	followEventBurst   = 400             // events forwarded in a burst
	syncEvery          = 1 * time.Second // whole-node syncs at most this often
)

// syncFollowers starts a follower for every node in the current table and
// cancels those of nodes that left or changed URL or dial rules; p.mu is
// held. It does not wait for a cancelled follower (a poll in flight may take
// a node timeout, and the registry waits on this call): those are kept in
// p.retired until they end, and Wait waits for them.
func (p *Proxy) syncFollowers() {
	if !p.started {
		return
	}
	t := p.table.Load()
	for name, f := range p.followers {
		if b := t.byName[name]; b == nil || b.url != f.url || b.joined != f.joined || b.relay != f.relay {
			f.cancel()
			p.retired = append(p.retired, f)
			delete(p.followers, name)
		}
	}
	p.retired = slices.DeleteFunc(p.retired, func(f *follower) bool {
		select {
		case <-f.done:
			return true
		default:
			return false
		}
	})
	for _, b := range t.nodes {
		if p.followers[b.name] != nil || b.client == nil {
			continue
		}
		ctx, cancel := context.WithCancel(p.ctx)
		f := &follower{p: p, name: b.name, url: b.url, joined: b.joined, relay: b.relay, cancel: cancel, done: make(chan struct{})}
		p.followers[b.name] = f
		go f.run(ctx, b.client)
	}
}

// view returns the node's key count and newest keys.
func (f *follower) view() (int, []web.KeyView) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.count, append([]web.KeyView(nil), f.keys...)
}

func (f *follower) pollEvery() time.Duration {
	if f.relay { // the relay is one connection: polls cost no tunnel requests
		return 2 * time.Second
	}
	u, err := url.Parse(f.url)
	if err != nil {
		return 30 * time.Second
	}
	host := u.Hostname()
	ip := net.ParseIP(host)
	switch {
	case host == "localhost", ip != nil && (ip.IsLoopback() || ip.IsPrivate()):
		return 2 * time.Second
	case ip == nil && !strings.Contains(host, "."):
		return 2 * time.Second // a bare name, as on a compose network
	}
	return 30 * time.Second
}

func (f *follower) run(ctx context.Context, c *nodeClient) {
	defer close(f.done)
	defer f.stopSync()
	every := f.pollEvery()
	backoff := 250 * time.Millisecond
	var lastPoll time.Time
	for ctx.Err() == nil {
		start := time.Now()
		err := f.stream(ctx)
		if ctx.Err() != nil {
			return
		}
		if time.Since(start) > 10*time.Second {
			backoff = 250 * time.Millisecond
		}
		f.p.log.Debug("following node", "node", f.name, "err", err)
		if time.Since(lastPoll) >= every {
			lastPoll = time.Now()
			if err := f.poll(c); err != nil {
				f.p.log.Debug("polling node", "node", f.name, "err", err)
			}
		}
		sleep := backoff/2 + rand.N(backoff/2+1)
		select {
		case <-ctx.Done():
			return
		case <-time.After(sleep):
		}
		backoff = min(backoff*2, every)
	}
}

// stream follows the node's /ws until it fails or ctx ends.
func (f *follower) stream(ctx context.Context) error {
	raw := f.url
	if f.relay {
		raw = relayHTTPURL(f.name)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	u.Scheme = map[string]string{"http": "ws", "https": "wss"}[u.Scheme]
	u.Path = "/ws"
	d := websocket.Dialer{HandshakeTimeout: f.p.cfg.Timeout, ReadBufferSize: 16 << 10}
	switch {
	case f.relay:
		d.NetDialContext = func(context.Context, string, string) (net.Conn, error) { return f.p.reg.DialRelay(f.name) }
	case f.joined:
		d.NetDialContext = f.p.reg.Policy().Dialer(f.p.cfg.Timeout).DialContext
	}
	h := http.Header{}
	h.Set(tunnel.SkipWarningHeader, "1")
	if f.p.cfg.UserAgent != "" {
		h.Set("User-Agent", f.p.cfg.UserAgent)
	}
	conn, resp, err := d.DialContext(ctx, u.String(), h)
	if err != nil {
		if resp != nil && resp.Header.Get(tunnel.ErrorCodeHeader) != "" {
			return errors.New(tunnel.EdgeError(resp.Header.Get(tunnel.ErrorCodeHeader)))
		}
		return err
	}
	defer conn.Close()
	conn.SetReadLimit(1 << 20) // a node's snapshot is at most web.KeysPerNode short keys
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	const idle = 90 * time.Second // the node's hub pings well within this
	conn.SetPingHandler(func(data string) error {
		conn.SetReadDeadline(time.Now().Add(idle))
		return conn.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(time.Second))
	})
	for {
		conn.SetReadDeadline(time.Now().Add(idle))
		_, msg, err := conn.ReadMessage()
		if err != nil {
			return err
		}
		f.apply(msg)
	}
}

// apply takes one message of the node's stream into the mirror and passes
// its data events on to the proxy's page, named as the proxy names the node.
// The node is a student's machine: only the fields a data event needs are
// passed on, with keys and values cut to the page's sizes again.
func (f *follower) apply(msg []byte) {
	// The last message's events are decoded over: zeroed first, since
	// json.Unmarshal keeps the fields a reused element's JSON lacks.
	clear(f.batch[:cap(f.batch)])
	head := struct {
		Type   string          `json:"type"`
		Nodes  []web.NodeView  `json:"nodes"`
		Events []followedEvent `json:"events"`
	}{Events: f.batch[:0]}
	err := json.Unmarshal(msg, &head)
	f.batch = head.Events[:0]
	if err != nil {
		return
	}
	switch head.Type {
	case web.TypeSnapshot:
		if len(head.Nodes) != 1 {
			return
		}
		keys := capKeys(head.Nodes[0].Keys)
		for i := range keys {
			keys[i] = web.KeyView{Key: web.Cut(keys[i].Key, maxMirrorKey), Value: web.Cut(keys[i].Value, web.PreviewRunes), Size: keys[i].Size}
		}
		f.p.version.Add(1)
		f.mu.Lock()
		f.count, f.keys = max(head.Nodes[0].Count, 0), keys
		f.mu.Unlock()
		f.requestSync()
	case web.TypeEvents:
		for _, ev := range head.Events {
			switch ev.Type {
			case web.EventPut, web.EventDelete, web.EventReset:
				clean := web.Event{
					Type:  ev.Type,
					Node:  f.name,
					Key:   web.Cut(ev.Key, maxMirrorKey),
					Value: web.Cut(ev.Value, web.PreviewRunes),
					Size:  ev.Size,
					Count: max(ev.Count, 0),
				}
				f.mirror(clean)
				if f.allowEvent() {
					f.p.hub.Publish(clean)
				} else {
					f.requestSync()
				}
			}
		}
	}
}

// followedEvent is what apply reads of an event in a node's stream: the
// fields of a data event, and nothing else the node may have sent.
type followedEvent struct {
	Type  string `json:"type"`
	Key   string `json:"key"`
	Value string `json:"value"`
	Size  int    `json:"size"`
	Count int    `json:"count"`
}

// maxMirrorKey bounds a key's length on the page, whatever a node sends.
const maxMirrorKey = 256

// allowEvent takes a token for forwarding one event to the page.
func (f *follower) allowEvent() bool {
	now := time.Now()
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.lastTok.IsZero() {
		f.tokens = followEventBurst
	} else {
		f.tokens = min(followEventBurst, f.tokens+now.Sub(f.lastTok).Seconds()*followEventsPerSec)
	}
	f.lastTok = now
	if f.tokens < 1 {
		return false
	}
	f.tokens--
	return true
}

// requestSync publishes the node's keys to the page now, or, when a sync
// went out less than syncEvery ago, once when that time is up.
func (f *follower) requestSync() {
	f.mu.Lock()
	wait := syncEvery - time.Since(f.lastSync)
	switch {
	case wait <= 0:
		f.lastSync = time.Now()
		f.mu.Unlock()
		f.publishSync()
		return
	case f.syncWait == nil:
		f.syncWait = time.AfterFunc(wait, func() {
			f.mu.Lock()
			f.syncWait, f.lastSync = nil, time.Now()
			f.mu.Unlock()
			f.publishSync()
		})
	}
	f.mu.Unlock()
}

// stopSync cancels a scheduled sync; the follower is ending.
func (f *follower) stopSync() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.syncWait != nil {
		f.syncWait.Stop()
		f.syncWait = nil
	}
}

// publishSync tells the page the node's keys after a resync or a poll.
func (f *follower) publishSync() {
	b := f.p.table.Load().byName[f.name]
	if b == nil {
		return
	}
	v := f.p.viewOf(b)
	f.p.hub.Publish(web.Event{Type: web.EventNode, Node: f.name, Change: web.ChangeSync, View: &v})
}

func capKeys(keys []web.KeyView) []web.KeyView {
	if len(keys) > web.KeysPerNode {
		keys = keys[:web.KeysPerNode]
	}
	return keys
}

// mirror applies one data event to the mirror. f.keys is the follower's
// own (view copies it), so a put moves its key to the front in place: no
// allocation once the mirror is full.
func (f *follower) mirror(ev web.Event) {
	f.p.version.Add(1)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.count = ev.Count
	switch ev.Type {
	case web.EventReset:
		f.keys = f.keys[:0]
	case web.EventDelete:
		if i := f.indexOf(ev.Key); i >= 0 {
			f.keys = slices.Delete(f.keys, i, i+1)
		}
	case web.EventPut:
		i := f.indexOf(ev.Key)
		if i < 0 { // a new key: the oldest falls out of a full mirror
			if len(f.keys) < web.KeysPerNode {
				f.keys = append(f.keys, web.KeyView{})
			}
			i = len(f.keys) - 1
		}
		copy(f.keys[1:i+1], f.keys[:i])
		f.keys[0] = web.KeyView{Key: ev.Key, Value: ev.Value, Size: ev.Size}
	}
}

// indexOf is key's place in the mirror, -1 when it is not there. f.mu is
// held.
func (f *follower) indexOf(key string) int {
	return slices.IndexFunc(f.keys, func(k web.KeyView) bool { return k.Key == key })
}

// poll reads the node's newest keys from /state and takes them as the mirror.
func (f *follower) poll(c *nodeClient) error {
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseResponse(resp)
	if err := c.get("/state?format=json&limit="+strconv.Itoa(web.KeysPerNode), resp); err != nil {
		return err
	}
	if resp.StatusCode() != http.StatusOK {
		return errStatus(resp.StatusCode())
	}
	count, keys, err := decodeNewest(resp.Body())
	if err != nil {
		return err
	}
	f.mu.Lock()
	changed := count != f.count || len(keys) != len(f.keys)
	for i := 0; !changed && i < len(keys); i++ {
		changed = keys[i] != f.keys[i]
	}
	f.count, f.keys = count, keys
	f.mu.Unlock()
	if changed {
		f.p.version.Add(1)
		f.requestSync()
	}
	return nil
}

// decodeNewest reads {"count": C, "data": {K: V, ...}} keeping the order of
// data, which the node writes newest first.
func decodeNewest(body []byte) (int, []web.KeyView, error) {
	var st struct {
		Count int             `json:"count"`
		Data  json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &st); err != nil {
		return 0, nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(st.Data))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return 0, nil, errBadState
	}
	var keys []web.KeyView
	for dec.More() && len(keys) < web.KeysPerNode {
		tok, err := dec.Token()
		if err != nil {
			return 0, nil, err
		}
		key, _ := tok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return 0, nil, err
		}
		text, size := web.Preview(string(raw))
		keys = append(keys, web.KeyView{Key: key, Value: text, Size: size})
	}
	return st.Count, keys, nil
}
