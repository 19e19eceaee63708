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
