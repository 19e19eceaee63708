package kvapi

import (
	"net/url"
	"testing"
)

// FuzzKeyParam checks the key parser against net/url's form decoding.
func FuzzKeyParam(f *testing.F) {
	for _, q := range []string{"key=a", "key=a+b", "key=%26", "x=1&key=2", "key=1&key=2", "k%65y=v", "key", "key=%zz", "=&key=&key=3"} {
		f.Add(q)
	}
	l := Limits{MaxKey: 1 << 20}
	f.Fuzz(func(t *testing.T, q string) {
		key, apiErr := l.KeyParam(q, MsgNeedKey)
		vals, err := url.ParseQuery(q)
		if apiErr != nil {
			if apiErr.Status != 400 {
				t.Fatalf("%q: status %d", q, apiErr.Status)
			}
			return
		}
		if err == nil && vals.Get("key") != key {
			t.Fatalf("%q: key %q, net/url says %q", q, key, vals.Get("key"))
		}
	})
}
