package main

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kvclass/kvclass/internal/testwait"
)

// The tests that must crash a proxy or a node (SIGKILL) run kvclass as real
// processes: the test binary itself, which TestMain turns into the kvclass
// command when runAsKvclass is set.

// proc is a kvclass process.
type proc struct {
	t    *testing.T
	cmd  *exec.Cmd
	out  *testwait.Buffer // stdout and stderr together
	done chan struct{}
	err  error
}

// startProc starts kvclass with args; it is killed when the test ends.
func startProc(t *testing.T, args ...string) *proc {
	t.Helper()
	return startProcEnv(t, nil, args...)
}

// startProcEnv is startProc with more environment variables.
func startProcEnv(t *testing.T, env []string, args ...string) *proc {
	t.Helper()
	p := &proc{t: t, out: &testwait.Buffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(os.Args[0], args...)
	p.cmd.Env = append(append(os.Environ(), runAsKvclass+"=1"), env...)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(p.kill)
	return p
}

// kill ends the process at once, as a crash or a closed laptop would:
// nothing runs after SIGKILL.
func (p *proc) kill() {
	select {
	case <-p.done:
		return
	default:
	}
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// interrupt sends Ctrl-C and waits for the process to end.
func (p *proc) interrupt() {
	p.cmd.Process.Signal(os.Interrupt)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		p.t.Errorf("kvclass %v did not stop within 10s of Ctrl-C", p.cmd.Args[1:])
		p.kill()
	}
}

// exited waits for the process to end by itself and returns its exit code.
func (p *proc) exited(within time.Duration) (int, bool) {
	select {
	case <-p.done:
		return p.cmd.ProcessState.ExitCode(), true
	case <-time.After(within):
		return 0, false
	}
}

// waitFor waits until the process has printed text.
func (p *proc) waitFor(text string) {
	p.t.Helper()
	testwait.Seen(p.t, testwait.Patience, "kvclass "+p.cmd.Args[1]+" to print "+strconv.Quote(text), func() (bool, string) {
		out := p.out.String()
		return strings.Contains(out, text), out
	})
}
