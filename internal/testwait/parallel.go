package testwait

import (
	"flag"
	"os"
	"runtime"
	"strconv"
	"testing"
)

// RaiseParallel lets up to n parallel tests run at once when the command
// line left -test.parallel at its default (GOMAXPROCS). It is for packages
// whose tests mostly wait on the network, processes or a browser, not the
// CPU. Call it from TestMain after flag.Parse and before m.Run.
func RaiseParallel(n int) {
	p := flag.Lookup("test.parallel")
	if p != nil && p.Value.String() == strconv.Itoa(runtime.GOMAXPROCS(0)) {
		p.Value.Set(strconv.Itoa(n))
	}
}

// Main is a TestMain for such packages: it parses the flags, raises the
// parallel tests to n and runs the tests.
func Main(m *testing.M, n int) {
	flag.Parse()
	RaiseParallel(n)
	os.Exit(m.Run())
}
