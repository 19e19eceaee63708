package registry

import (
	"errors"
	"net/netip"
	"testing"
)

// TestCheckResolvedChecksEveryAddress: a name with one public and one
// private address is refused, since the dialer may pick either.
func TestCheckResolvedChecksEveryAddress(t *testing.T) {
	public, private := netip.MustParseAddr("93.184.215.14"), netip.MustParseAddr("10.0.0.7")
	p := Policy{}
	if err := p.checkResolved("mixed.example", []netip.Addr{public, private}); !errors.Is(err, ErrNotAllowed) {
		t.Fatalf("public+private: %v, want ErrNotAllowed", err)
	}
	if err := p.checkResolved("mixed.example", []netip.Addr{private, public}); !errors.Is(err, ErrNotAllowed) {
		t.Fatalf("private+public: %v, want ErrNotAllowed", err)
	}
	if err := p.checkResolved("public.example", []netip.Addr{public}); err != nil {
		t.Fatalf("public: %v", err)
	}
	if err := p.checkResolved("empty.example", nil); !errors.Is(err, ErrUnresolvable) {
		t.Fatalf("no addresses: %v, want ErrUnresolvable", err)
	}
}

func TestCompareNames(t *testing.T) {
	ordered := []string{"a", "a1", "a2", "a02b", "a10", "ab", "b", "kv1", "kv2", "kv9", "kv10", "kv11", "kv100"}
	for i := range ordered {
		for j := range ordered {
			got := compareNames(ordered[i], ordered[j])
			want := 0
			if i < j {
				want = -1
			} else if i > j {
				want = 1
			}
			if got != want {
				t.Errorf("compareNames(%q, %q) = %d, want %d", ordered[i], ordered[j], got, want)
			}
		}
	}
	if compareNames("kv01", "kv1") == 0 {
		t.Error("kv01 and kv1 compare equal; names must order totally")
	}
}
