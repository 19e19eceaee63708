package kvapi

import "strings"

// MaxOwnLen bounds the product OwnProduct returns, in bytes.
const MaxOwnLen = 40

// OwnUnknown is OwnProduct's answer for a server that names no product.
const OwnUnknown = "own"

// OwnProduct returns what the page shows for a student's own server from
// its Server header: the header's first product ("Werkzeug/3.0.1" of
// "Werkzeug/3.0.1 Python/3.11.2"), with only the characters a product token
// may hold (RFC 9110: letters, digits and !#$%&'*+-.^_`|~, and the '/'
// before its version), cut to MaxOwnLen bytes; OwnUnknown when nothing is
// left. The registry cleans what a node sends with it too: the text is the
// node's to choose, and it shows on the projector.
func OwnProduct(server string) string {
	first := ""
	if f := strings.Fields(server); len(f) > 0 {
		first = f[0]
	}
	var b strings.Builder
	for i := 0; i < len(first) && b.Len() < MaxOwnLen; i++ {
		if c := first[i]; tokenChar(c) || c == '/' {
			b.WriteByte(c)
		}
	}
	if b.Len() == 0 {
		return OwnUnknown
	}
	return b.String()
}

// tokenChar reports whether c may appear in an HTTP token.
func tokenChar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}
