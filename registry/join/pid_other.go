//go:build !unix

package join

import "os"

// processAlive reports whether a process with this id runs, as far as the
// platform can tell: FindProcess fails for a process that does not exist.
func processAlive(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	p.Release()
	return true
}
