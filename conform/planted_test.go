package conform

import (
	"bytes"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/kvclass/kvclass/node"
)

// A planted bug is a wrapper around kvclass's node that breaks exactly one
// rule of the core. Each must fail exactly its case: a case that misses its
// bug checks nothing, and a bug that fails other cases too makes their
// lines point at the wrong thing.
type plantedBug struct {
	breaks string // the core case that must fail
	wrap   func(next http.Handler) http.Handler
}

func plantedBugs() []plantedBug {
	return []plantedBug{
		{"health", func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/health" {
					http.NotFound(w, r)
					return
				}
				next.ServeHTTP(w, r)
			})
		}},
		{"put-get", rewriteAnswer("/put", func(status int, body []byte) (int, []byte) {
			if status == http.StatusOK {
				status = http.StatusCreated
			}
			return status, body
		})},
		{"get-missing", rewriteAnswer("/get", func(status int, body []byte) (int, []byte) {
			if status == http.StatusNotFound {
				body = []byte(`{"error": "Key not found."}`)
			}
			return status, body
		})},
		{"overwrite", func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/put" {
					probe := httptest.NewRequest(http.MethodGet, "/get?"+r.URL.RawQuery, nil)
					rec := httptest.NewRecorder()
					next.ServeHTTP(rec, probe)
					if rec.Code == http.StatusOK {
						stored(w) // already there: kept as it was
						return
					}
				}
				next.ServeHTTP(w, r)
			})
		}},
		{"value-string", refuseValue(func(v any) bool { return v == "" })},
		{"value-integer", rewriteValue(func(v any) any {
			if n, ok := v.(json.Number); ok && !strings.ContainsAny(string(n), ".eE") && len(n) < 7 {
				return string(n) // small integers become strings
			}
			return v
		})},
		{"value-float", rewriteValue(func(v any) any {
			if n, ok := v.(json.Number); ok && strings.ContainsAny(string(n), ".eE") {
				f, _ := n.Float64()
				return json.Number(strconv.FormatFloat(math.Trunc(f), 'f', -1, 64))
			}
			return v
		})},
		{"value-big-int", rewriteValue(func(v any) any {
			if n, ok := v.(json.Number); ok {
				f, _ := n.Float64() // what JSON.parse does
				return json.Number(strconv.FormatFloat(f, 'g', -1, 64))
			}
			return v
		})},
		{"value-bool", refuseValue(func(v any) bool { return v == false })},
		{"value-object", rewriteValue(func(v any) any {
			if m, ok := v.(map[string]any); ok {
				b, _ := json.Marshal(m)
				return string(b)
			}
			return v
		})},
		{"value-array", rewriteValue(func(v any) any {
			if a, ok := v.([]any); ok {
				slices.Reverse(a)
			}
			return v
		})},
		{"value-unicode", rewriteValue(func(v any) any {
			if s, ok := v.(string); ok {
				return strings.Map(func(r rune) rune {
					if r >= utf8.RuneSelf {
						return '?'
					}
					return r
				}, s)
			}
			return v
		})},
		{"put-no-key", func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/put" && !r.URL.Query().Has("key") {
					stored(w)
					return
				}
				next.ServeHTTP(w, r)
			})
		}},
		{"put-no-value", func(next http.Handler) http.Handler {
			return onPutValue(next, func(w http.ResponseWriter, body map[string]any) bool {
				if _, ok := body["value"]; !ok {
					stored(w)
					return true
				}
				return false
			})
		}},
		{"put-null-value", func(next http.Handler) http.Handler {
			return onPutValue(next, func(w http.ResponseWriter, body map[string]any) bool {
				if v, ok := body["value"]; ok && v == nil {
					stored(w)
					return true
				}
				return false
			})
		}},
		{"get-no-key", func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/get" && r.URL.Query().Get("key") == "" {
					w.WriteHeader(http.StatusNotFound)
					w.Write([]byte(`{"error": "Key not found.", "key": ""}`))
					return
				}
				next.ServeHTTP(w, r)
			})
		}},
		{"key-ampersand", rewriteKey(func(k string) string { k, _, _ = strings.Cut(k, "&"); return k })},
		{"key-hash", rewriteKey(func(k string) string { k, _, _ = strings.Cut(k, "#"); return k })},
		{"key-plus", rewriteKey(func(k string) string { return strings.ReplaceAll(k, "+", " ") })},
		{"key-percent", rewriteKey(lenientUnescape)},
		{"key-slash", rewriteKey(func(k string) string { return k[strings.LastIndexByte(k, '/')+1:] })},
		{"key-space", rewriteKey(func(k string) string { return strings.ReplaceAll(k, " ", "_") })},
		{"key-unicode", rewriteKey(func(k string) string {
			var b strings.Builder
			for i := 0; i < len(k); i++ {
				b.WriteRune(rune(k[i])) // each UTF-8 byte read as Latin-1
			}
			return b.String()
		})},
		{"concurrent-puts", func(next http.Handler) http.Handler {
			var inFlight atomic.Int32
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/put" {
					defer inFlight.Add(-1)
					if inFlight.Add(1) > 1 {
						stored(w) // lost while another put was in flight
						return
					}
					time.Sleep(2 * time.Millisecond) // widen the window, as a slow store would
				}
				next.ServeHTTP(w, r)
			})
		}},
	}
}

// TestPlantedBugs runs the core against each planted bug: exactly the
// broken case fails.
func TestPlantedBugs(t *testing.T) {
	bugs := plantedBugs()
	var covered []string
	for _, bug := range bugs {
		covered = append(covered, bug.breaks)
	}
	for _, name := range CoreCases() {
		if !slices.Contains(covered, name) {
			t.Errorf("core case %s has no planted bug", name)
		}
	}
	for _, bug := range bugs {
		t.Run(bug.breaks, func(t *testing.T) {
			n, err := node.New(node.Config{Name: "planted"})
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(bug.wrap(n.Handler()))
			defer srv.Close()
			rep, err := Run(t.Context(), srv.URL, Options{Groups: []string{}})
			if err != nil {
				t.Fatal(err)
			}
			var failed []string
			for _, c := range rep.Failed() {
				failed = append(failed, c.Name)
				if c.Name != bug.breaks {
					t.Errorf("unexpected failure: %s", c)
				}
			}
			if !slices.Contains(failed, bug.breaks) {
				t.Errorf("the bug went unnoticed: %s did not fail", bug.breaks)
			}
			if rep.CorePassed {
				t.Error("CorePassed with a planted bug")
			}
			for _, c := range rep.Failed() {
				t.Log(c)
			}
		})
	}
}

// stored answers as a put that worked.
func stored(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.Write([]byte(`{"message": "Key-value pair stored successfully."}`))
}

// rewriteAnswer lets f change the status and body of path's answers.
func rewriteAnswer(path string, f func(int, []byte) (int, []byte)) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != path {
				next.ServeHTTP(w, r)
				return
			}
			rec := httptest.NewRecorder()
			next.ServeHTTP(rec, r)
			status, body := f(rec.Code, rec.Body.Bytes())
			for k, v := range rec.Header() {
				w.Header()[k] = v
			}
			w.WriteHeader(status)
			w.Write(body)
		})
	}
}

// readPutBody decodes a put's body, numbers kept as text, and leaves the
// body for the node to read again.
func readPutBody(r *http.Request) (map[string]any, bool) {
	raw, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(raw))
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var body map[string]any
	return body, d.Decode(&body) == nil && body != nil
}

// onPutValue hands a put's decoded body to f, which answers it (true) or
// lets the node do so.
func onPutValue(next http.Handler, f func(http.ResponseWriter, map[string]any) bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/put" {
			if body, ok := readPutBody(r); ok && f(w, body) {
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// rewriteValue lets f change the value of a put before the node stores it.
func rewriteValue(f func(any) any) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/put" {
				if body, ok := readPutBody(r); ok && body["value"] != nil {
					body["value"] = f(body["value"])
					raw, _ := json.Marshal(body)
					r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(raw)), int64(len(raw))
				}
			}
			next.ServeHTTP(w, r)
		})
	}
}

// refuseValue answers 400 to a put whose value matches.
func refuseValue(match func(any) bool) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return onPutValue(next, func(w http.ResponseWriter, body map[string]any) bool {
			if v, ok := body["value"]; ok && match(v) {
				w.WriteHeader(http.StatusBadRequest)
				w.Write([]byte(`{"error": "Please provide key and value."}`))
				return true
			}
			return false
		})
	}
}

// rewriteKey lets f change the key of a put, get or delete, as a buggy
// decoder would read it.
func rewriteKey(f func(string) string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			q := r.URL.Query()
			if q.Has("key") {
				r2 := r.Clone(r.Context())
				r2.URL.RawQuery = "key=" + url.QueryEscape(f(q.Get("key")))
				r = r2
			}
			next.ServeHTTP(w, r)
		})
	}
}

// lenientUnescape decodes the valid %XX escapes of s once more and leaves
// the rest, as Python's unquote does.
func lenientUnescape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+3], 16, 8); err == nil {
				b.WriteByte(byte(n))
				i += 2
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
