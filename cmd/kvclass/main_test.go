package main

import (
	"flag"
	"fmt"
	"os"
	"testing"

	"github.com/kvclass/kvclass/internal/testwait"
)

// runAsKvclass is the environment variable that makes the test binary the
// kvclass command.
const runAsKvclass = "KVCLASS_TEST_AS_KVCLASS"

// TestMain points the user's config directory at a temporary one, so the
// state files of the proxies and nodes the tests start (the class code,
// node secrets) never land in the developer's own.
//
// Run with KVCLASS_TEST_AS_KVCLASS=1, the test binary is the kvclass command
// itself: the tests that must crash a proxy or a node start it as a real
// process without building anything.
func TestMain(m *testing.M) {
	if os.Getenv(runAsKvclass) == "1" {
		main()
		os.Exit(0)
	}
	dir, err := os.MkdirTemp("", "kvclass-cmd-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	// The tests here mostly wait on processes and the network, not the
	// CPU: let the parallel ones (the lessons) run together, unless the
	// command line says otherwise.
	flag.Parse()
	testwait.RaiseParallel(12)
	os.Setenv("XDG_CONFIG_HOME", dir)
	os.Setenv("HOME", dir)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
