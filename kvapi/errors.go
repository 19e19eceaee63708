package kvapi

import (
	"encoding/json"
	"net/http"
	"sort"
	"strings"
)

// Seed-compatible messages.
const (
	MsgStored     = "Key-value pair stored successfully."
	MsgDeleted    = "Key deleted."
	MsgNeedKeyVal = "Please provide key and value."
	MsgNeedKey    = "Please provide key."
	MsgNotFound   = "Key not found."
)

// Error is an error answer of any kvclass endpoint: an HTTP status and a
// JSON body with an "error" field, plus the fields some answers add. Every
// client mistake and every failure the proxy reports is answered with one,
// by WriteError.
type Error struct {
	Status  int
	Message string
	// Key is set for 404s, which name the key as the seed did.
	Key *string
	// Allow is set for 405s and becomes the Allow header.
	Allow string
	// Nodes names the nodes a proxy failure concerns, with what went wrong
	// on each; WriteError also lists them in NodeHeader.
	Nodes map[string]string
}

// Error returns the message.
func (e *Error) Error() string { return e.Message }

// Errorf returns an *Error with the given status and message.
func Errorf(status int, msg string) *Error { return &Error{Status: status, Message: msg} }

// JSON returns the error's body.
func (e *Error) JSON() []byte {
	body := struct {
		Error string            `json:"error"`
		Key   *string           `json:"key,omitempty"`
		Nodes map[string]string `json:"nodes,omitempty"`
	}{e.Message, e.Key, e.Nodes}
	b, _ := json.Marshal(body)
	return append(b, '\n')
}

// NotFound is the 404 for key.
func NotFound(key string) *Error {
	return &Error{Status: http.StatusNotFound, Message: MsgNotFound, Key: &key}
}

// MethodNotAllowed is the 405 for a request whose method is not in allow.
func MethodNotAllowed(method, allow string) *Error {
	return &Error{
		Status:  http.StatusMethodNotAllowed,
		Message: "Method " + method + " is not allowed here; use " + allow + ".",
		Allow:   allow,
	}
}

// ErrNoRoute answers a path the API does not have.
var ErrNoRoute = Errorf(http.StatusNotFound, "No such endpoint. Try /put, /get, /delete, /health or /state.")

// WriteError writes e as the response: its status, its JSON body, and the
// Allow and NodeHeader headers it calls for. It is the one error writer of
// every kvclass endpoint.
func WriteError(w http.ResponseWriter, e *Error) {
	h := w.Header()
	if e.Allow != "" {
		h.Set("Allow", e.Allow)
	}
	if len(e.Nodes) > 0 {
		h.Set(NodeHeader, Names(e.Nodes, ","))
	}
	h["Content-Type"] = jsonContentType
	h["Cache-Control"] = noStore
	h["X-Content-Type-Options"] = nosniff
	w.WriteHeader(e.Status)
	w.Write(e.JSON())
}

var (
	jsonContentType = []string{"application/json"}
	noStore         = []string{"no-store"}
	nosniff         = []string{"nosniff"}
)

// WriteJSON writes body, already JSON, with status.
func WriteJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header()["Content-Type"] = jsonContentType
	w.WriteHeader(status)
	w.Write(body)
}

// WriteValue encodes v as JSON and writes it with status; for answers that
// are not on a hot path (admin and registry replies).
func WriteValue(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		WriteError(w, Errorf(http.StatusInternalServerError, "Cannot encode the answer."))
		return
	}
	w.Header()["Cache-Control"] = noStore
	WriteJSON(w, status, append(body, '\n'))
}

// WriteMessage writes 200 {"message": msg}.
func WriteMessage(w http.ResponseWriter, msg string) {
	WriteValue(w, http.StatusOK, struct {
		Message string `json:"message"`
	}{msg})
}

// Pre-encoded success bodies.
var (
	BodyStored  = []byte(`{"message":"` + MsgStored + `"}` + "\n")
	BodyDeleted = []byte(`{"message":"` + MsgDeleted + `"}` + "\n")
)

// Names returns m's keys, sorted and joined with sep: the node names of a
// failure, for messages and NodeHeader.
func Names(m map[string]string, sep string) string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return strings.Join(out, sep)
}

// ErrCrossSite refuses a state-changing request that a browser sent from a
// page of another site: any web page a student opens could otherwise write
// to, or wipe, their node.
var ErrCrossSite = Errorf(http.StatusForbidden, "A page of another web site may not change data here; use curl, or this server's own page.")
