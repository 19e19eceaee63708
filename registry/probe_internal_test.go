package registry

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"
)

// TestProbeDialAppliesThePolicy: with Options.Dial, the registry's probes
// check every address against the URL policy before the hook sees it, as the
// policy's Dialer does on TCP; a host name is refused, since the hook must
// not resolve one.
func TestProbeDialAppliesThePolicy(t *testing.T) {
	var dialed []string
	errStub := errors.New("stub network")
	hook := func(_ context.Context, _, address string) (net.Conn, error) {
		dialed = append(dialed, address)
		return nil, errStub
	}
	for _, tc := range []struct {
		allowPrivate bool
		address      string
		allowed      bool
	}{
		{false, "93.184.215.14:80", true},
		{false, "[2606:2800:220:1::1]:443", true},
		{false, "127.0.0.1:5000", false},
		{false, "10.0.0.7:5000", false},
		{false, "[::ffff:127.0.0.1]:5000", false},
		{true, "127.0.0.1:5000", true},
		{true, "192.168.1.20:5000", true},
		{true, "169.254.169.254:80", false},
		{true, "[fe80::1]:80", false},
		{true, "localhost:5000", false},
		{true, "node.example:80", false},
	} {
		dialed = nil
		dial := probeDial(Policy{AllowPrivate: tc.allowPrivate}, hook, time.Second)
		_, err := dial(t.Context(), "tcp", tc.address)
		switch {
		case tc.allowed && (!errors.Is(err, errStub) || len(dialed) != 1 || dialed[0] != tc.address):
			t.Errorf("allow private %v, %s: %v, dialed %v; want it passed to the hook", tc.allowPrivate, tc.address, err, dialed)
		case !tc.allowed && (!errors.Is(err, ErrNotAllowed) || len(dialed) != 0):
			t.Errorf("allow private %v, %s: %v, dialed %v; want ErrNotAllowed before the hook", tc.allowPrivate, tc.address, err, dialed)
		}
	}
}
