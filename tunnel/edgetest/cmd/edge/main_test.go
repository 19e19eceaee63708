package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestPrintsOneLineAndServesUntilCancelled(t *testing.T) {
	caPath := filepath.Join(t.TempDir(), "ca.pem")
	out, outWriter := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-ca", caPath}, outWriter, io.Discard)
		outWriter.Close()
	}()

	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("read the line: %v", err)
	}
	var connect, ca string
	if n, err := fmt.Sscanf(line, "connect=%s ca=%s\n", &connect, &ca); n != 2 || err != nil || ca != caPath {
		t.Fatalf("line %q: want connect=HOST:PORT ca=%s", line, caPath)
	}

	// The CA file verifies the edge an agent connects to.
	pem, err := os.ReadFile(caPath)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatalf("%s holds no certificate", caPath)
	}
	conn, err := tls.Dial("tcp", connect, &tls.Config{RootCAs: pool})
	if err != nil {
		t.Fatalf("TLS to %s with the written CA: %v", connect, err)
	}
	conn.Close()

	cancel()
	if rest, _ := io.ReadAll(out); len(rest) != 0 {
		t.Errorf("more output after the line: %q", rest)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run = %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not stop")
	}
}

func TestRejectsStrayArguments(t *testing.T) {
	if err := run(context.Background(), []string{"extra"}, io.Discard, io.Discard); err == nil {
		t.Error("run accepted a stray argument")
	}
}

func TestRejectsLimitsOfZero(t *testing.T) {
	for _, args := range [][]string{{"-max-agents", "0"}, {"-max-endpoints", "0"}, {"-heartbeat-tolerance", "-1s"}} {
		if err := run(context.Background(), args, io.Discard, io.Discard); err == nil {
			t.Errorf("run %v succeeded", args)
		}
	}
}
