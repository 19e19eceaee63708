package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/kvclass/kvclass/internal/testwait"
)

// TestAClassPastesTheJoinLine: 25 students on one machine paste the line
// the proxy printed, as it is: no -n, no -p. Each gets a name from their
// user name (simulated through $USER, with capitals and a dot as real
// login names have) and a free port past 5000, and all 25 join and are up.
func TestAClassPastesTheJoinLine(t *testing.T) {
	t.Parallel()
	const students = 25
	port := cliPorts(t, 1)
	proxyURL := "http://127.0.0.1:" + strconv.Itoa(port)
	pr := startProc(t, "proxy", "-p", strconv.Itoa(port), "--allow-private", "--token", "room-7",
		"--state", filepath.Join(t.TempDir(), "state.json"))
	var line string
	testwait.For(t, "the proxy's join line", func() bool {
		for l := range strings.Lines(pr.out.String()) {
			if i := strings.Index(l, "kvclass node --join "); i >= 0 {
				line = strings.TrimSpace(l[i:])
				return true
			}
		}
		return false
	})
	args := strings.Fields(line)[1:] // "kvclass" is the test binary
	if slices.Contains(args, "-n") || slices.Contains(args, "-p") {
		t.Fatalf("the printed line names a node or a port: %q", line)
	}
	var want []string
	for i := 1; i <= students; i++ {
		startProcEnv(t, []string{fmt.Sprintf("USER=Student.%02d", i)}, args...)
		want = append(want, fmt.Sprintf("student-%02d", i))
	}
	var snap struct {
		Nodes []struct{ Name, Status string }
	}
	testwait.For(t, "25 students up", func() bool {
		_, body := cliGet(proxyURL + "/state?format=json")
		if json.Unmarshal([]byte(body), &snap) != nil {
			return false
		}
		var up []string
		for _, n := range snap.Nodes {
			if n.Status == "up" {
				up = append(up, n.Name)
			}
		}
		slices.Sort(up)
		return slices.Equal(up, want)
	})
}
