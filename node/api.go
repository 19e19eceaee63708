package node

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// This file holds the seed-compatible data API's request parsing and error
// bodies. The proxy uses the same functions, so a bad request gets the same
// answer from a node and from the proxy, and the proxy rejects it before it
// calls any node.

// Default limits on what a client may send.
const (
	DefaultMaxBody  = 1 << 20   // bytes in a /put body
	DefaultMaxKey   = 1 << 10   // bytes in a key
	DefaultMaxBytes = 256 << 20 // bytes a node stores
)

// Seed-compatible messages.
const (
	MsgStored     = "Key-value pair stored successfully."
	MsgDeleted    = "Key deleted."
	MsgNeedKeyVal = "Please provide key and value."
	MsgNeedKey    = "Please provide key."
	MsgNotFound   = "Key not found."
)

// Error is a data API error: an HTTP status and a JSON body with an "error"
// field. Every client mistake is answered with one.
type Error struct {
	Status  int
	Message string
	Key     *string // set for 404s, which name the key as the seed did
	Allow   string  // set for 405s
}

func (e *Error) Error() string { return e.Message }

// Errorf returns an *Error with the given status and message.
func Errorf(status int, msg string) *Error { return &Error{Status: status, Message: msg} }

// JSON returns the error's body.
func (e *Error) JSON() []byte {
	body := struct {
		Error string  `json:"error"`
		Key   *string `json:"key,omitempty"`
	}{e.Message, e.Key}
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

// WriteError writes e as the response.
func WriteError(w http.ResponseWriter, e *Error) {
	h := w.Header()
	if e.Allow != "" {
		h.Set("Allow", e.Allow)
	}
	h["Content-Type"] = jsonContentType
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(e.Status)
	w.Write(e.JSON())
}

var jsonContentType = []string{"application/json"}

// WriteJSON writes body, already JSON, with status.
func WriteJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header()["Content-Type"] = jsonContentType
	w.WriteHeader(status)
	w.Write(body)
}

// Pre-encoded success bodies.
var (
	BodyStored  = []byte(`{"message":"` + MsgStored + `"}` + "\n")
	BodyDeleted = []byte(`{"message":"` + MsgDeleted + `"}` + "\n")
)

// Buffers is a pool of buffers for request bodies and answers, shared by
// the requests of one handler. The zero value is ready to use.
type Buffers struct{ pool sync.Pool }

// Get returns an empty buffer.
func (b *Buffers) Get() *bytes.Buffer {
	if buf, ok := b.pool.Get().(*bytes.Buffer); ok {
		return buf
	}
	return new(bytes.Buffer)
}

// Put returns buf to the pool; one grown past 64 KiB by a large body is
// dropped, so the pool does not hold on to it.
func (b *Buffers) Put(buf *bytes.Buffer) {
	if buf.Cap() <= 64<<10 {
		buf.Reset()
		b.pool.Put(buf)
	}
}

// Limits bounds what a client may send.
type Limits struct {
	MaxBody int64 // bytes in a /put body
	MaxKey  int   // bytes in a key
}

// Op is one data API operation: its path, the methods it takes, and its
// answer to a missing key.
type Op struct {
	Name    string    // "GET", "PUT" or "DELETE", as the request feed shows it
	Path    string    // "/get", "/put" or "/delete"
	Methods [2]string // the methods it takes; the first is the one to name
	Missing string    // the message for a missing key
}

// The data API's operations.
var (
	OpGet    = Op{Name: "GET", Path: "/get", Methods: [2]string{http.MethodGet, http.MethodHead}, Missing: MsgNeedKey}
	OpPut    = Op{Name: "PUT", Path: "/put", Methods: [2]string{http.MethodPost, http.MethodPut}, Missing: MsgNeedKeyVal}
	OpDelete = Op{Name: "DELETE", Path: "/delete", Methods: [2]string{http.MethodDelete, http.MethodPost}, Missing: MsgNeedKey}
)

// Key checks that r uses one of op's methods and returns its key.
func (l Limits) Key(r *http.Request, op Op) (string, *Error) {
	if r.Method != op.Methods[0] && r.Method != op.Methods[1] {
		e := MethodNotAllowed(r.Method, op.Methods[0])
		e.Allow = op.Methods[0] + ", " + op.Methods[1]
		return "", e
	}
	return l.KeyParam(r.URL.RawQuery, op.Missing)
}

// KeyParam returns the "key" parameter of a raw query string, decoded as a
// form value (so "+" is a space), the first one if there are several. missing
// is the message for an absent or empty key: MsgNeedKeyVal for /put,
// MsgNeedKey otherwise.
func (l Limits) KeyParam(rawQuery, missing string) (string, *Error) {
	raw, found := "", false
	for q := rawQuery; q != "" && !found; {
		var part string
		part, q, _ = strings.Cut(q, "&")
		name, value, _ := strings.Cut(part, "=")
		if name == "key" {
			raw, found = value, true
		} else if strings.ContainsAny(name, "%+") {
			if n, err := url.QueryUnescape(name); err == nil && n == "key" {
				raw, found = value, true
			}
		}
	}
	if raw == "" {
		return "", Errorf(http.StatusBadRequest, missing)
	}
	key := raw
	if strings.ContainsAny(raw, "%+") {
		var err error
		if key, err = url.QueryUnescape(raw); err != nil {
			return "", Errorf(http.StatusBadRequest, "The key is not validly URL-encoded.")
		}
	}
	switch {
	case key == "":
		return "", Errorf(http.StatusBadRequest, missing)
	case len(key) > l.MaxKey:
		return "", Errorf(http.StatusBadRequest, "The key is longer than "+strconv.Itoa(l.MaxKey)+" bytes.")
	case !utf8.ValidString(key):
		return "", Errorf(http.StatusBadRequest, "The key is not valid UTF-8.")
	}
	return key, nil
}

// ReadBody reads a request body of at most MaxBody bytes into buf and
// returns it; a larger body is a 413.
func (l Limits) ReadBody(r *http.Request, buf *bytes.Buffer) ([]byte, *Error) {
	if r.ContentLength > l.MaxBody {
		return nil, l.tooLarge()
	}
	_, err := buf.ReadFrom(io.LimitReader(r.Body, l.MaxBody+1))
	if err != nil {
		return nil, Errorf(http.StatusBadRequest, "Could not read the body: "+err.Error())
	}
	if int64(buf.Len()) > l.MaxBody {
		return nil, l.tooLarge()
	}
	return buf.Bytes(), nil
}

func (l Limits) tooLarge() *Error {
	return Errorf(http.StatusRequestEntityTooLarge, "The body is larger than "+strconv.FormatInt(l.MaxBody, 10)+" bytes.")
}

var errNotObject = errors.New(`the body must be a JSON object like {"value": ...}`)

// ParseValue returns the compact JSON text of the "value" member of a /put
// body. The body must be a JSON object; a missing or null value is the
// seed's 400. When "value" appears more than once, the last one counts, as
// in most JSON decoders. It allocates only the returned string.
func ParseValue(body []byte) (string, *Error) {
	value, e := findValue(body)
	if e != nil {
		return "", e
	}
	if !hasSpace(value) {
		return string(value), nil
	}
	var out bytes.Buffer
	out.Grow(len(value))
	json.Compact(&out, value) // value is valid JSON, so this cannot fail
	return out.String(), nil
}

// CheckValue answers a /put body as ParseValue would, without keeping the
// value: the proxy checks a body before it forwards it as it is.
func CheckValue(body []byte) *Error {
	_, e := findValue(body)
	return e
}

// findValue returns the "value" member of a /put body, as written.
func findValue(body []byte) ([]byte, *Error) {
	if !utf8.Valid(body) {
		// encoding/json lets invalid UTF-8 through inside strings; a value
		// must come back as JSON every client can read.
		return nil, Errorf(http.StatusBadRequest, "Malformed body: it is not valid UTF-8.")
	}
	if !json.Valid(body) {
		// Let the decoder say what is wrong, for the message.
		var v any
		err := json.Unmarshal(body, &v)
		if err == nil {
			err = errors.New("invalid JSON")
		}
		return nil, Errorf(http.StatusBadRequest, "Malformed body: "+err.Error()+".")
	}
	i := skipSpace(body, 0)
	if body[i] != '{' {
		return nil, Errorf(http.StatusBadRequest, "Malformed body: "+errNotObject.Error()+".")
	}
	var value []byte
	i = skipSpace(body, i+1)
	for body[i] != '}' {
		keyEnd := skipValue(body, i) // the member name, a string
		name := body[i:keyEnd]
		i = skipSpace(body, keyEnd)
		i = skipSpace(body, i+1) // past ':'
		end := skipValue(body, i)
		if memberIs(name, "value") {
			value = body[i:end]
		}
		i = skipSpace(body, end)
		if body[i] == ',' {
			i = skipSpace(body, i+1)
		}
	}
	if value == nil || string(value) == "null" {
		return nil, Errorf(http.StatusBadRequest, MsgNeedKeyVal)
	}
	return value, nil
}

// The scanners below walk JSON that json.Valid accepted, so they need not
// check for errors.

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipValue returns the index just past the JSON value that starts at b[i].
func skipValue(b []byte, i int) int {
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for ; i < len(b); i++ {
			switch b[i] {
			case '"':
				i = skipString(b, i) - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
		}
		return i
	}
	for i < len(b) && !strings.ContainsRune(",}] \t\n\r", rune(b[i])) {
		i++
	}
	return i
}

// skipString returns the index just past the string that starts at b[i].
func skipString(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return i
}

// memberIs reports whether the quoted member name equals want, escapes
// decoded ("\u0076alue" is "value").
func memberIs(quoted []byte, want string) bool {
	if bytes.IndexByte(quoted, '\\') < 0 {
		return len(quoted) == len(want)+2 && string(quoted[1:len(quoted)-1]) == want
	}
	var name string
	return json.Unmarshal(quoted, &name) == nil && name == want
}

// hasSpace reports whether JSON text has whitespace outside its strings.
func hasSpace(b []byte) bool {
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case '"':
			i = skipString(b, i) - 1
		case ' ', '\t', '\n', '\r':
			return true
		}
	}
	return false
}
