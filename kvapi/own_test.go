package kvapi

import (
	"strings"
	"testing"
)

func TestOwnProduct(t *testing.T) {
	for server, want := range map[string]string{
		"Werkzeug/3.0.1 Python/3.11.2":      "Werkzeug/3.0.1",
		"  gunicorn  ":                      "gunicorn",
		"":                                  OwnUnknown,
		"   ":                               OwnUnknown,
		"<script>alert(1)</script>":         "scriptalert1/script",
		"\x1b[31mred\x1b[0m":                "31mred0m",
		"ключ":                              OwnUnknown,
		"Express\tNode":                     "Express",
		strings.Repeat("a", 100) + "/1.0 x": strings.Repeat("a", MaxOwnLen),
	} {
		if got := OwnProduct(server); got != want {
			t.Errorf("OwnProduct(%q) = %q; want %q", server, got, want)
		}
	}
}
