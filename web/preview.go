package web

import (
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// KeysPerNode is how many keys the page lists per node, newest first. It
// bounds a snapshot to nodes × KeysPerNode previews whatever a node holds;
// the filter box finds any other key through the server.
const KeysPerNode = 50

// PreviewRunes is how many characters of a value the page shows before it
// cuts the rest, as the seed's /state did.
const PreviewRunes = 64

// Preview returns the display text of a stored JSON value and the true size
// of that text in bytes. A JSON string shows as its contents, any other value
// as its JSON text. Text longer than PreviewRunes characters is cut to its
// first PreviewRunes characters followed by "...[total of N bytes]".
func Preview(raw string) (text string, size int) {
	s := raw
	if len(raw) > 0 && raw[0] == '"' {
		var str string
		if err := json.Unmarshal([]byte(raw), &str); err == nil {
			s = str
		}
	}
	size = len(s)
	if utf8.RuneCountInString(s) <= PreviewRunes {
		return s, size
	}
	n := 0
	for i := range s {
		if n == PreviewRunes {
			return s[:i] + "...[total of " + strconv.Itoa(size) + " bytes]", size
		}
		n++
	}
	return s, size
}

// cutSlack is how far past its limit Cut lets text run: room for the
// "...[total of N bytes]" that Preview appends.
const cutSlack = 32

// Cut bounds text that came from elsewhere (a node's stream) to about n
// characters: text within n+32 characters is kept as it is, so a preview
// that Preview already cut passes unchanged; longer text keeps its first n
// characters and "...".
func Cut(text string, n int) string {
	if len(text) <= n+cutSlack || utf8.RuneCountInString(text) <= n+cutSlack {
		return text
	}
	i, runes := 0, 0
	for i < len(text) && runes < n {
		_, size := utf8.DecodeRuneInString(text[i:])
		i += size
		runes++
	}
	return text[:i] + "..."
}
