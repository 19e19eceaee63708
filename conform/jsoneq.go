package conform

import (
	"bytes"
	"encoding/json"
	"math/big"
)

// decodeJSON decodes b keeping numbers as their text, so a big integer is
// not rounded through float64 before it is compared.
func decodeJSON(b []byte) (any, bool) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if d.Decode(&v) != nil {
		return nil, false
	}
	if _, err := d.Token(); err == nil {
		return nil, false // more than one value
	}
	return v, true
}

// decodeObject decodes b as a JSON object.
func decodeObject(b []byte) (map[string]any, bool) {
	v, ok := decodeJSON(b)
	if !ok {
		return nil, false
	}
	m, ok := v.(map[string]any)
	return m, ok
}

// sameJSON reports whether a and b are the same JSON value: objects with
// the same members in any order, arrays in order, strings exactly, numbers
// by their exact value (3.0 is 3, 1e2 is 100, and a 30-digit integer is
// itself, not its nearest float64).
func sameJSON(a, b any) bool {
	switch a := a.(type) {
	case map[string]any:
		b, ok := b.(map[string]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for k, av := range a {
			bv, ok := b[k]
			if !ok || !sameJSON(av, bv) {
				return false
			}
		}
		return true
	case []any:
		b, ok := b.([]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for i := range a {
			if !sameJSON(a[i], b[i]) {
				return false
			}
		}
		return true
	case json.Number:
		b, ok := b.(json.Number)
		if !ok {
			return false
		}
		x, okx := new(big.Rat).SetString(string(a))
		y, oky := new(big.Rat).SetString(string(b))
		return okx && oky && x.Cmp(y) == 0
	default: // string, bool, nil
		return a == b
	}
}

// mustJSON decodes a literal of the suite's own.
func mustJSON(s string) any {
	v, ok := decodeJSON([]byte(s))
	if !ok {
		panic("conform: bad JSON literal " + s)
	}
	return v
}
