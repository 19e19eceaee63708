package check

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
)

// This file is a tiny key-value server speaking the proxy's data API, for
// this package's tests (the real node and proxy are tested on their own).

// kvServer stores values in memory. With lagging set it has two replicas:
// a put is stored on A ("kv1") and acknowledged, and reaches B ("kv2") only
// when the next put of the same key arrives (the first put of a key reaches
// both); gets are served by B. Reads then return the previous value: stale.
type kvServer struct {
	mu      sync.Mutex
	a, b    map[string]string // b is used only when lagging
	pending map[string]string // lagging: what B has not seen yet
	lagging bool
	version int
	keys    map[string]bool // every key seen
	// fail, when set, returns a status to answer instead of serving.
	fail func(key string) int
}

func newKVServer(t *testing.T, lagging bool, fail func(key string) int) (*kvServer, *httptest.Server) {
	s := &kvServer{a: map[string]string{}, b: map[string]string{}, pending: map[string]string{},
		lagging: lagging, keys: map[string]bool{}, fail: fail}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, srv
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func (s *kvServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	key := r.URL.Query().Get("key")
	if key == "" {
		writeJSON(w, 400, map[string]string{"error": "Please provide key."})
		return
	}
	if s.fail != nil {
		if code := s.fail(key); code != 0 {
			io.Copy(io.Discard, r.Body)
			w.Header().Set(NodeHeader, "kv1")
			writeJSON(w, code, map[string]string{"error": "Node kv1 failed: test failure."})
			return
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys[key] = true
	switch r.URL.Path {
	case "/put":
		var body struct {
			Value *string `json:"value"`
		}
		if json.NewDecoder(r.Body).Decode(&body) != nil || body.Value == nil {
			writeJSON(w, 400, map[string]string{"error": "Please provide key and value."})
			return
		}
		s.version++
		s.a[key] = *body.Value
		if s.lagging {
			if _, seen := s.b[key]; !seen {
				s.b[key] = *body.Value
			} else {
				if old, ok := s.pending[key]; ok {
					s.b[key] = old
				}
				s.pending[key] = *body.Value
			}
		}
		w.Header().Set(NodeHeader, "kv1")
		w.Header().Set(VersionHeader, strconv.Itoa(s.version)+"/kv1")
		writeJSON(w, 200, map[string]string{"message": "Key-value pair stored successfully."})
	case "/get":
		store, node := s.a, "kv1"
		if s.lagging {
			store, node = s.b, "kv2"
		}
		w.Header().Set(NodeHeader, node)
		v, ok := store[key]
		if !ok {
			writeJSON(w, 404, map[string]string{"error": "Key not found.", "key": key})
			return
		}
		w.Header().Set(VersionHeader, strconv.Itoa(s.version)+"/"+node)
		writeJSON(w, 200, map[string]string{"value": v})
	default:
		writeJSON(w, 404, map[string]string{"error": "No such path."})
	}
}

// seenKeys returns the keys the server was asked about.
func (s *kvServer) seenKeys() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for k := range s.keys {
		out = append(out, k)
	}
	return out
}

// redirect is a RoundTripper that sends every request to the server at
// host instead (to load an "ngrok URL" without leaving the machine).
type redirect struct {
	host string
	next http.RoundTripper
}

func (rt redirect) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.URL.Scheme, r.URL.Host = "http", rt.host
	return rt.next.RoundTrip(r)
}
