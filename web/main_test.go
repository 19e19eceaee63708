package web

import (
	"testing"

	"github.com/kvclass/kvclass/internal/testwait"
)

// TestMain lets the browser subtests, which mostly wait on the page and
// the network, run together in their tabs.
func TestMain(m *testing.M) { testwait.Main(m, 8) }
