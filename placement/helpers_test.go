package placement

import (
	"strconv"
	"testing"
)

func itoa(i int) string { return strconv.Itoa(i) }

// names returns prefix1..prefixN.
func names(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = prefix + itoa(i+1)
	}
	return out
}

// seqKeys returns key-0..key-(n-1).
func seqKeys(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = "key-" + itoa(i)
	}
	return out
}

func mustNew(t testing.TB, cfg Config, nodes []string) *Table {
	t.Helper()
	tab, err := New(cfg, nodes)
	if err != nil {
		t.Fatal(err)
	}
	return tab
}
