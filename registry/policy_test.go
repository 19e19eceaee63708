package registry_test

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/kvclass/kvclass/kvapi"
	"github.com/kvclass/kvclass/registry"
)

// noDNS is a resolver that fails without sending anything: tests reach no
// name server.
func noDNS() *net.Resolver {
	return &net.Resolver{PreferGo: true, Dial: func(context.Context, string, string) (net.Conn, error) {
		return nil, errors.New("no DNS in tests")
	}}
}

func TestPolicyCheck(t *testing.T) {
	strict := registry.Policy{Resolver: noDNS()}
	lan := registry.Policy{AllowPrivate: true, Resolver: noDNS()}
	cases := []struct {
		p    registry.Policy
		url  string
		want error // nil: allowed
	}{
		{strict, "http://93.184.215.14:8080", nil},
		{strict, "http://93.184.215.14:8080/kv", kvapi.ErrBadURL}, // the proxy calls base URLs only
		{strict, "HTTPS://[2606:2800:21f:cb07:6820:80da:af6b:8b2c]/", nil},
		{strict, "ftp://93.184.215.14/", kvapi.ErrBadURL},
		{strict, "http://u@93.184.215.14/", kvapi.ErrBadURL},
		{strict, "http://93.184.215.14/#x", kvapi.ErrBadURL},
		{strict, "http:93.184.215.14", kvapi.ErrBadURL},
		{strict, "", kvapi.ErrBadURL},
		{strict, "http://169.254.169.254/", registry.ErrNotAllowed},
		{strict, "http://[fd00:ec2::254]/", registry.ErrNotAllowed},
		{strict, "http://100.100.100.200/", registry.ErrNotAllowed},
		{strict, "http://[2002:a9fe:a9fe::1]/", registry.ErrNotAllowed}, // 6to4 of 169.254.169.254
		{strict, "http://[::127.0.0.1]/", registry.ErrNotAllowed},
		{strict, "http://255.255.255.255/", registry.ErrNotAllowed},
		{strict, "http://127.0.0.1/", registry.ErrNotAllowed},
		{strict, "http://[::]/", registry.ErrNotAllowed},
		{strict, "http://localhost/", registry.ErrNotAllowed}, // /etc/hosts: 127.0.0.1
		{strict, "http://no-such-host.example/", registry.ErrUnresolvable},
		{lan, "http://localhost/", nil},
		{lan, "http://127.0.0.1:5000", nil},
		{lan, "http://192.168.1.20:5000", nil},
		{lan, "http://[fd12::1]:5000", nil},
		{lan, "http://0.0.0.0:5000", nil},
		{lan, "http://169.254.169.254/", registry.ErrNotAllowed},
		{lan, "http://[fe80::1%25eth0]/", registry.ErrNotAllowed},
		{lan, "http://224.0.0.251/", registry.ErrNotAllowed},
	}
	for _, tc := range cases {
		_, err := tc.p.Check(context.Background(), tc.url)
		if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
			t.Errorf("Check(%q, AllowPrivate=%v) = %v, want %v", tc.url, tc.p.AllowPrivate, err, tc.want)
		}
	}
	u, err := strict.Check(context.Background(), "HTTP://Example.COM:80/")
	if err == nil || !errors.Is(err, registry.ErrUnresolvable) {
		t.Fatalf("Check of an unresolvable name: %v, %v", u, err)
	}
	u, err = lan.Check(context.Background(), "HTTP://LocalHost:5000/")
	if err != nil || u.String() != "http://localhost:5000" {
		t.Fatalf("normal form: %v, %v; want http://localhost:5000", u, err)
	}
}

// TestPolicyDialer checks the dial-time check: a name that passed Check
// cannot be re-pointed at a refused address (DNS rebinding), because the
// dialer checks the address it actually connects to.
func TestPolicyDialer(t *testing.T) {
	noLeaks(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	_, err = registry.Policy{}.Dialer(time.Second).Dial("tcp", ln.Addr().String())
	if !errors.Is(err, registry.ErrNotAllowed) {
		t.Fatalf("strict dialer to loopback: %v, want ErrNotAllowed", err)
	}
	_, err = registry.Policy{AllowPrivate: true}.Dialer(time.Second).Dial("tcp", "169.254.169.254:80")
	if !errors.Is(err, registry.ErrNotAllowed) {
		t.Fatalf("dialer to the metadata address: %v, want ErrNotAllowed", err)
	}
	conn, err := registry.Policy{AllowPrivate: true}.Dialer(time.Second).Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatalf("LAN dialer to loopback: %v", err)
	}
	conn.Close()
}
