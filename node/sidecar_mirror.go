package node

import (
	"bytes"
	"encoding/json"
	"errors"
	"sync"
	"time"

	"github.com/kvclass/kvclass/web"
)

// mirror is what a sidecar knows of its upstream's keys, for the page: the
// set of keys (for the count that put and delete events carry) and the
// newest few with a preview of their values (for its snapshot). The
// student's server has no /ws to say so itself.
//
// The count is exact for every write that goes through the sidecar, which
// in class is every write: the set starts from the upstream's
// /state?format=json (read at start, after the upstream comes back, and
// every refreshEvery while writes flow, to catch writes that bypassed the
// sidecar), and each forwarded 2xx put adds its key, each 2xx delete
// removes it. An upstream without /state?format=json is counted from the
// writes the sidecar forwarded since it started. Past maxTracked keys the
// count is unknown and events carry none.
type mirror struct {
	mu       sync.Mutex
	keys     map[string]struct{} // nil: unknown (too many to track)
	newest   []web.KeyView       // newest first, at most web.KeysPerNode
	dirty    bool                // a write was forwarded since the last load
	loadedAt time.Time
}

// maxTracked bounds the keys a sidecar tracks for its count.
const maxTracked = 1 << 20

// errNoData is load's error for a state without a "data" object.
var errNoData = errors.New(`the state has no "data" object`)

// count returns the number of keys, 0 when unknown. Called with m.mu held.
func (m *mirror) count() int { return len(m.keys) }

// put records a stored key and returns the count.
func (m *mirror) put(kv web.KeyView) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.dirty = true
	if m.keys == nil && m.loadedAt.IsZero() {
		m.keys = map[string]struct{}{} // no state read yet: count from here
	}
	if m.keys != nil {
		if len(m.keys) >= maxTracked {
			m.keys = nil
		} else {
			m.keys[kv.Key] = struct{}{}
		}
	}
	m.newest = append(m.newest, web.KeyView{})
	copy(m.newest[1:], m.newest)
	m.newest[0] = kv
	m.newest = dropKey(m.newest, kv.Key, 1)
	if len(m.newest) > web.KeysPerNode {
		m.newest = m.newest[:web.KeysPerNode]
	}
	return m.count()
}

// remove records a deleted key and returns the count.
func (m *mirror) remove(key string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.dirty = true
	delete(m.keys, key)
	m.newest = dropKey(m.newest, key, 0)
	return m.count()
}

// reset records that the upstream holds no keys.
func (m *mirror) reset() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.keys, m.newest, m.dirty = map[string]struct{}{}, nil, true
}

// view returns the count and the newest keys.
func (m *mirror) view() (int, []web.KeyView) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.count(), append([]web.KeyView(nil), m.newest...)
}

// needsLoad reports whether writes flowed since the last load, which is
// older than every.
func (m *mirror) needsLoad(every time.Duration) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.dirty && time.Since(m.loadedAt) >= every
}

// noState records that the upstream's state could not be read: the count
// goes on from the writes forwarded.
func (m *mirror) noState() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.keys == nil && m.loadedAt.IsZero() {
		m.keys = map[string]struct{}{}
	}
	m.loadedAt, m.dirty = time.Now(), false
}

// load takes the upstream's keys from its /state?format=json answer,
// {"name": N, "data": {K: V, ...}}: the set, and the newest keys, which
// keep their order where they are still there and are filled up from the
// state's order.
func (m *mirror) load(body []byte) error {
	data, err := stateData(body)
	if err != nil {
		return err
	}
	keys := make(map[string]struct{}, min(len(data), maxTracked))
	for _, kv := range data {
		keys[kv.key] = struct{}{}
	}
	if len(keys) > maxTracked {
		keys = nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	values := make(map[string]json.RawMessage, len(m.newest))
	for _, kv := range m.newest {
		values[kv.Key] = nil
	}
	for _, kv := range data {
		if _, ok := values[kv.key]; ok {
			values[kv.key] = kv.value
		}
	}
	var newest []web.KeyView
	seen := map[string]bool{}
	for _, kv := range m.newest {
		if v := values[kv.Key]; v != nil && !seen[kv.Key] {
			newest, seen[kv.Key] = append(newest, keyView(kv.Key, v, kv.Version)), true
		}
	}
	for i := 0; i < len(data) && len(newest) < web.KeysPerNode; i++ {
		if !seen[data[i].key] {
			newest, seen[data[i].key] = append(newest, keyView(data[i].key, data[i].value, "")), true
		}
	}
	m.keys, m.newest, m.dirty, m.loadedAt = keys, newest, false, time.Now()
	return nil
}

// stateKV is one key of a state answer with its value as written.
type stateKV struct {
	key   string
	value json.RawMessage
}

// stateData reads the "data" object of a state answer, in its order.
func stateData(body []byte) ([]stateKV, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, errors.New("the state is not a JSON object")
	}
	var out []stateKV
	found := false
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		if tok != "data" {
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return nil, err
			}
			continue
		}
		if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
			return nil, errNoData
		}
		found = true
		for dec.More() {
			tok, err := dec.Token()
			if err != nil {
				return nil, err
			}
			key, _ := tok.(string)
			var v json.RawMessage
			if err := dec.Decode(&v); err != nil {
				return nil, err
			}
			out = append(out, stateKV{key, v})
		}
		if _, err := dec.Token(); err != nil {
			return nil, err
		}
	}
	if !found {
		return nil, errNoData
	}
	return out, nil
}

// keyView is a key and the preview of its value (JSON text) for the page.
func keyView(key string, value json.RawMessage, version string) web.KeyView {
	var compact bytes.Buffer
	if json.Compact(&compact, value) == nil {
		value = compact.Bytes()
	}
	text, size := web.Preview(string(value))
	return web.KeyView{Key: key, Value: text, Size: size, Version: version}
}

// dropKey removes the first entry of key at index from or later: put
// passes 1, keeping the entry it just added at 0 and dropping the older
// one; remove passes 0.
func dropKey(keys []web.KeyView, key string, from int) []web.KeyView {
	for i := from; i < len(keys); i++ {
		if keys[i].Key == key {
			return append(keys[:i:i], keys[i+1:]...)
		}
	}
	return keys
}
