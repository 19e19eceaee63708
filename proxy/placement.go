package proxy

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"

	"github.com/kvclass/kvclass/kvapi"
	"github.com/kvclass/kvclass/placement"
)

// This file serves the placement lessons: why a key is where it is
// (GET /placement/explain?key=K), what a join or a leave would move
// (GET /placement/whatif?join=NAME or ?leave=NAME), and the instructor's
// switch of strategy (POST /admin/placement).

// maxWhatIfKeys bounds the moved keys a what-if lists by name (the page
// highlights them); the counts always cover every key.
const maxWhatIfKeys = 10000

// placementHTTP serves /placement/explain and /placement/whatif.
func (p *Proxy) placementHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		kvapi.WriteError(w, kvapi.MethodNotAllowed(r.Method, "GET"))
		return
	}
	switch r.URL.Path {
	case "/placement/explain":
		p.explain(w, r)
	case "/placement/whatif":
		p.whatIf(w, r)
	default:
		kvapi.WriteError(w, kvapi.Errorf(http.StatusNotFound, "No such placement endpoint. Try /placement/explain?key=K or /placement/whatif?join=NAME."))
	}
}

// explanation is GET /placement/explain's answer: placement.Explanation
// plus the fields the page prints as they are.
type explanation struct {
	placement.Explanation
	Hash       string `json:"hash,omitempty"`       // SHA-256 of the key, hex
	Arithmetic string `json:"arithmetic,omitempty"` // the rule applied to this key, without the node
	Primary    string `json:"primary,omitempty"`    // the first owner
	Position   int    `json:"position"`             // the primary's index in the node order, -1 with no nodes
	Mode       Mode   `json:"mode"`
}

// explain answers why a key is where it is.
func (p *Proxy) explain(w http.ResponseWriter, r *http.Request) {
	key, apiErr := p.limits.KeyParam(r.URL.RawQuery, kvapi.MsgNeedKey)
	if apiErr != nil {
		kvapi.WriteError(w, apiErr)
		return
	}
	t := p.table.Load()
	e := t.place.Explain(key)
	out := explanation{Explanation: e, Position: -1, Mode: t.mode}
	if len(e.Owners) > 0 {
		out.Primary = e.Owners[0]
		out.Position = slices.Index(t.place.Nodes(), out.Primary)
	}
	if e.Modulo != nil {
		out.Hash = e.Modulo.SHA256
		out.Arithmetic = "int(SHA-256(" + strconv.Quote(key) + ")) mod " + strconv.Itoa(e.N) + " = " + strconv.Itoa(e.Modulo.Remainder)
	} else if e.Ring != nil {
		out.Arithmetic = "h(" + strconv.Quote(key) + ") = " + e.Ring.KeyPointHex + "; first point at or after it"
	} else if len(e.Rendezvous) > 0 {
		out.Arithmetic = "largest h(name + \"\\x00\" + " + strconv.Quote(key) + ")"
	}
	kvapi.WriteValue(w, http.StatusOK, out)
}

// whatIfAnswer is GET /placement/whatif's answer: DESIGN.md's shape,
// {"keys", "moved", "fraction", "ideal", "load", "by_placement"}, plus the
// current strategy's moved keys by name (at most maxWhatIfKeys).
type whatIfAnswer struct {
	placement.Forecast
	MovedKeys []string `json:"moved_keys"`
	Truncated bool     `json:"truncated,omitempty"`
}

// whatIf forecasts what a join or a leave would move, over the keys the
// proxy currently sees on its nodes, under every strategy.
func (p *Proxy) whatIf(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	change := placement.Change{Join: q.Get("join"), Leave: q.Get("leave"), Static: p.staticCount()}
	if (change.Join == "") == (change.Leave == "") {
		kvapi.WriteError(w, kvapi.Errorf(http.StatusBadRequest, "Say which change to forecast: ?join=NAME or ?leave=NAME."))
		return
	}
	if change.Join != "" {
		if err := kvapi.CheckName(change.Join); err != nil {
			kvapi.WriteError(w, kvapi.Errorf(http.StatusBadRequest, err.Error()))
			return
		}
	}
	t := p.table.Load()
	cfg := t.place.Config()
	if s := q.Get("placement"); s != "" {
		st, err := placement.ParseStrategy(s)
		if err != nil {
			kvapi.WriteError(w, kvapi.Errorf(http.StatusBadRequest, err.Error()))
			return
		}
		cfg.Strategy = st
	}
	if s := q.Get("vnodes"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			kvapi.WriteError(w, kvapi.Errorf(http.StatusBadRequest, "vnodes must be a whole number."))
			return
		}
		cfg.VNodes = n
	}
	keys := p.seenKeys(t)
	forecast, err := placement.WhatIf(keys, t.place.Nodes(), cfg, change)
	if err != nil {
		kvapi.WriteError(w, kvapi.Errorf(http.StatusBadRequest, err.Error()))
		return
	}
	after, err := change.Apply(t.place.Nodes())
	if err != nil {
		kvapi.WriteError(w, kvapi.Errorf(http.StatusBadRequest, err.Error()))
		return
	}
	before, _ := placement.New(cfg, t.place.Nodes())
	next, _ := placement.New(cfg, after)
	moved := placement.MovedKeys(keys, before, next)
	out := whatIfAnswer{Forecast: forecast, MovedKeys: moved}
	if len(moved) > maxWhatIfKeys {
		out.MovedKeys, out.Truncated = moved[:maxWhatIfKeys], true
	}
	kvapi.WriteValue(w, http.StatusOK, out)
}

// staticCount is how many config nodes head the node order.
func (p *Proxy) staticCount() int {
	return len(p.cfg.File.Nodes)
}

// seenKeys returns the distinct keys the proxy sees on its up nodes, from
// the shared gather of every node's state.
func (p *Proxy) seenKeys(t *table) []string {
	byNode := p.keysByNode(t)
	seen := map[string]bool{}
	var keys []string
	for _, ks := range byNode {
		for _, k := range ks {
			if !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
	}
	slices.Sort(keys)
	return keys
}

// keysByNode returns each up node's keys, from the shared gather.
func (p *Proxy) keysByNode(t *table) map[string][]string {
	var st struct {
		Nodes []struct {
			Name string                     `json:"name"`
			Data map[string]json.RawMessage `json:"data"`
		} `json:"nodes"`
	}
	out := map[string][]string{}
	if json.Unmarshal(p.states.get(t, p.version.Load(), p.gatherState), &st) != nil {
		return out
	}
	for _, n := range st.Nodes {
		keys := make([]string, 0, len(n.Data))
		for k := range n.Data {
			keys = append(keys, k)
		}
		out[n.Name] = keys
	}
	return out
}

// adminPlacement is POST /admin/placement {"placement": "ring", "vnodes":
// 64, "replicas": 1}: switch the strategy live. Fields left out keep their
// current values.
func (p *Proxy) adminPlacement(w http.ResponseWriter, body []byte) {
	var req struct {
		Placement *string `json:"placement"`
		VNodes    *int    `json:"vnodes"`
		Replicas  *int    `json:"replicas"`
	}
	if !decodeAdmin(w, body, &req) {
		return
	}
	p.mu.Lock()
	cfg := p.place
	p.mu.Unlock()
	if req.Placement != nil {
		st, err := placement.ParseStrategy(*req.Placement)
		if err != nil {
			kvapi.WriteError(w, kvapi.Errorf(http.StatusBadRequest, err.Error()))
			return
		}
		cfg.Strategy = st
	}
	if req.VNodes != nil {
		cfg.VNodes = *req.VNodes
	}
	if req.Replicas != nil {
		cfg.Replicas = *req.Replicas
	}
	if err := p.setPlacement(cfg); err != nil {
		kvapi.WriteError(w, kvapi.Errorf(http.StatusBadRequest, err.Error()))
		return
	}
	t := p.table.Load()
	kvapi.WriteMessage(w, "Placement is now "+t.rule()+".")
}
