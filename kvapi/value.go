package kvapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"unicode/utf8"
)

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
	value := member(body, i, "value")
	if value == nil || string(value) == "null" {
		return nil, Errorf(http.StatusBadRequest, MsgNeedKeyVal)
	}
	return value, nil
}

// Member returns the member name of the JSON object body (the last one
// when it appears more than once), as written, or nil when body is not a
// valid JSON object or has no such member. The proxy reads a node's /state
// with it without decoding the data it relays.
func Member(body []byte, name string) []byte {
	if !json.Valid(body) {
		return nil
	}
	i := skipSpace(body, 0)
	if body[i] != '{' {
		return nil
	}
	return member(body, i, name)
}

// member returns the member name of the object that starts at body[i], in
// JSON that json.Valid accepted.
func member(body []byte, i int, name string) []byte {
	var value []byte
	i = skipSpace(body, i+1)
	for body[i] != '}' {
		keyEnd := skipValue(body, i) // the member name, a string
		key := body[i:keyEnd]
		i = skipSpace(body, keyEnd)
		i = skipSpace(body, i+1) // past ':'
		end := skipValue(body, i)
		if memberIs(key, name) {
			value = body[i:end]
		}
		i = skipSpace(body, end)
		if body[i] == ',' {
			i = skipSpace(body, i+1)
		}
	}
	return value
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
