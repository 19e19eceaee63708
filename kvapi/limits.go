package kvapi

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Default limits on what a client may send.
const (
	DefaultMaxBody  = 1 << 20   // bytes in a /put body
	DefaultMaxKey   = 1 << 10   // bytes in a key
	DefaultMaxBytes = 256 << 20 // bytes a node stores
)

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
		return "", op.notAllowed(r.Method)
	}
	return l.KeyParam(r.URL.RawQuery, op.Missing)
}

// notAllowed is the 405 for a request to op with another method.
func (op Op) notAllowed(method string) *Error {
	e := MethodNotAllowed(method, op.Methods[0])
	e.Allow = op.Methods[0] + ", " + op.Methods[1]
	return e
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
		return nil, l.TooLarge()
	}
	_, err := buf.ReadFrom(io.LimitReader(r.Body, l.MaxBody+1))
	if err != nil {
		return nil, Errorf(http.StatusBadRequest, "Could not read the body: "+err.Error())
	}
	if int64(buf.Len()) > l.MaxBody {
		return nil, l.TooLarge()
	}
	return buf.Bytes(), nil
}
