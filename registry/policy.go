package registry

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"syscall"
	"time"

	"github.com/kvclass/kvclass/kvapi"
)

// ErrNotAllowed is wrapped by every URL policy refusal that depends on where a
// URL points (a registry join answers it with 403).
var ErrNotAllowed = errors.New("address not allowed")

// ErrUnresolvable is wrapped when a URL's host name does not resolve (a
// registry join answers it with 422: the node is not reachable).
var ErrUnresolvable = errors.New("host does not resolve")

// Policy decides which node URLs a registry accepts from joining nodes and
// which addresses it dials for them. Config nodes are the instructor's own and
// are not subject to it.
//
// Link-local addresses (169.254.0.0/16, fe80::/10), cloud metadata addresses,
// multicast, broadcast and reserved ranges are always refused. Loopback,
// private (RFC 1918, fc00::/7, 100.64.0.0/10), benchmarking and unspecified
// addresses are refused unless AllowPrivate is set (a LAN class, the demo,
// tests).
type Policy struct {
	// AllowPrivate admits loopback, private and unspecified addresses
	// (--allow-private).
	AllowPrivate bool
	// Resolver resolves host names for Check; nil means net.DefaultResolver.
	Resolver *net.Resolver
}

// addrRule is one address range and what the policy says about it.
type addrRule struct {
	prefix netip.Prefix
	always bool // refused even with AllowPrivate
	what   string
}

// addrRules are checked in order; the first match decides. Exact metadata
// addresses come before the ranges that contain them.
var addrRules = []addrRule{
	{netip.MustParsePrefix("169.254.169.254/32"), true, "a cloud metadata address"},
	{netip.MustParsePrefix("fd00:ec2::254/128"), true, "a cloud metadata address"},
	{netip.MustParsePrefix("100.100.100.200/32"), true, "a cloud metadata address"},
	{netip.MustParsePrefix("192.0.0.192/32"), true, "a cloud metadata address"},
	{netip.MustParsePrefix("169.254.0.0/16"), true, "a link-local address"},
	{netip.MustParsePrefix("fe80::/10"), true, "a link-local address"},
	{netip.MustParsePrefix("224.0.0.0/4"), true, "a multicast address"},
	{netip.MustParsePrefix("ff00::/8"), true, "a multicast address"},
	{netip.MustParsePrefix("255.255.255.255/32"), true, "the broadcast address"},
	{netip.MustParsePrefix("240.0.0.0/4"), true, "a reserved address"},
	{netip.MustParsePrefix("0.0.0.0/32"), false, "the unspecified address"},
	{netip.MustParsePrefix("0.0.0.0/8"), true, "a reserved address"},
	{netip.MustParsePrefix("::/128"), false, "the unspecified address"},
	{netip.MustParsePrefix("::1/128"), false, "a loopback address"},
	{netip.MustParsePrefix("::/96"), true, "a reserved address"},
	{netip.MustParsePrefix("127.0.0.0/8"), false, "a loopback address"},
	{netip.MustParsePrefix("10.0.0.0/8"), false, "a private address"},
	{netip.MustParsePrefix("172.16.0.0/12"), false, "a private address"},
	{netip.MustParsePrefix("192.168.0.0/16"), false, "a private address"},
	{netip.MustParsePrefix("100.64.0.0/10"), false, "a shared (CGNAT) address"},
	{netip.MustParsePrefix("198.18.0.0/15"), false, "a benchmarking address"},
	{netip.MustParsePrefix("fc00::/7"), false, "a private address"},
}

// Embedded IPv4 addresses in these IPv6 ranges are checked as IPv4 too.
var (
	nat64Prefix  = netip.MustParsePrefix("64:ff9b::/96")
	sixToFourPfx = netip.MustParsePrefix("2002::/16")
)

// Check parses rawURL and decides whether a joining node may use it: only
// http and https, a host, no userinfo, query or fragment, and every address
// the host resolves to allowed. It returns the URL in normal form (lower-case
// scheme and host, no trailing slash). Refusals wrap kvapi.ErrBadURL, ErrNotAllowed
// or ErrUnresolvable.
func (p Policy) Check(ctx context.Context, rawURL string) (*url.URL, error) {
	u, err := kvapi.ParseNodeURL(rawURL)
	if err != nil {
		return nil, err
	}
	host := u.Hostname()
	if addr, err := netip.ParseAddr(host); err == nil {
		if err := p.checkAddr(addr); err != nil {
			return nil, err
		}
		return u, nil
	}
	resolver := p.Resolver
	if resolver == nil {
		resolver = net.DefaultResolver
	}
	addrs, err := resolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrUnresolvable, host, shortErr(err))
	}
	if err := p.checkResolved(host, addrs); err != nil {
		return nil, err
	}
	return u, nil
}

// checkResolved checks every address a host name resolved to: one refused
// address refuses the host, since any of them may be dialed.
func (p Policy) checkResolved(host string, addrs []netip.Addr) error {
	if len(addrs) == 0 {
		return fmt.Errorf("%w: %s has no addresses", ErrUnresolvable, host)
	}
	for _, addr := range addrs {
		if err := p.checkAddr(addr); err != nil {
			return fmt.Errorf("%s resolves to %w", host, err)
		}
	}
	return nil
}

// Control is a net.Dialer Control function: it applies the address check at
// dial time, to the address actually dialed, so a host name that resolved to
// a public address at join time and to a private one later (DNS rebinding)
// is still refused.
func (p Policy) Control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: cannot parse dialed address %q", ErrNotAllowed, address)
	}
	return p.checkAddr(ap.Addr())
}

// Dialer returns a dialer with the given connect timeout whose Control applies
// the policy to every address it dials.
func (p Policy) Dialer(timeout time.Duration) *net.Dialer {
	return &net.Dialer{Timeout: timeout, Control: p.Control}
}

// checkAddr applies the address rules to one address.
func (p Policy) checkAddr(addr netip.Addr) error {
	if addr.Zone() != "" {
		return fmt.Errorf("%w: %s is a zoned (link-local) address", ErrNotAllowed, addr)
	}
	addr = addr.Unmap()
	if addr.Is6() {
		if v4, ok := embeddedIPv4(addr); ok {
			if err := p.checkAddr(v4); err != nil {
				return fmt.Errorf("%s embeds %w", addr, err)
			}
		}
	}
	for _, rule := range addrRules {
		if !rule.prefix.Contains(addr) {
			continue
		}
		if rule.always {
			return fmt.Errorf("%w: %s is %s", ErrNotAllowed, addr, rule.what)
		}
		if !p.AllowPrivate {
			return fmt.Errorf("%w: %s is %s (the proxy allows it with --allow-private)", ErrNotAllowed, addr, rule.what)
		}
		return nil
	}
	return nil
}

// embeddedIPv4 returns the IPv4 address carried by a NAT64 or 6to4 address.
func embeddedIPv4(addr netip.Addr) (netip.Addr, bool) {
	b := addr.As16()
	switch {
	case nat64Prefix.Contains(addr):
		return netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}), true
	case sixToFourPfx.Contains(addr):
		return netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]}), true
	}
	return netip.Addr{}, false
}

// sameURL reports whether two URLs name the same node, comparing normal forms.
func sameURL(a, b string) bool {
	ua, errA := kvapi.ParseNodeURL(a)
	ub, errB := kvapi.ParseNodeURL(b)
	if errA != nil || errB != nil {
		return a == b
	}
	return ua.String() == ub.String()
}

// shortErr returns the innermost useful text of an error from net or net/url.
func shortErr(err error) string {
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		if dnsErr.IsNotFound {
			return "no such host"
		}
		return dnsErr.Err
	}
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		return urlErr.Err.Error()
	}
	return err.Error()
}
