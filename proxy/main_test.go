package proxy

import (
	"testing"

	"github.com/kvclass/kvclass/internal/testwait"
)

// TestMain lets the tests marked parallel, which mostly wait on nodes,
// timeouts and a browser rather than the CPU, run together.
func TestMain(m *testing.M) { testwait.Main(m, 8) }
