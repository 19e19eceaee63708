package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kvclass/kvclass/internal/testwait"
)

// TestLessons runs every command of docs/LESSONS.md, a section at a time,
// and checks what each `# →` comment says it prints. kvclass commands run
// as real processes (the test binary as kvclass); curl lines run through a
// small curl of the test's own. The lessons' ports (5000…) move to free
// ones, CODE becomes the demo's class code and DATA a temporary folder.
func TestLessons(t *testing.T) {
	sections := parseLessons(t, filepath.Join("..", "..", "docs", "LESSONS.md"))
	if len(sections) < 10 {
		t.Fatalf("docs/LESSONS.md has %d lessons", len(sections))
	}
	// Each lesson gets its own ports, below the ephemeral range, so that no
	// listener on port 0 (of this test or another) takes a port a lesson's
	// node frees when it is killed and started again.
	base := quietPorts(t, portsPerLesson*len(sections))
	// One lesson at a time, and before the package's parallel tests start:
	// a lesson's loads and pauses are timed, and a lesson runs up to eleven
	// kvclass processes (race-instrumented under -race) on a 2-core machine.
	for i, s := range sections {
		t.Run(s.title, func(t *testing.T) {
			runLesson(t, s, base+i*portsPerLesson)
		})
	}
}

// lesson is one section of LESSONS.md: its commands in order.
type lesson struct {
	title string
	lines []lessonLine
}

// lessonLine is one command, and the text its output must contain.
type lessonLine struct {
	cmd    string
	expect string
}

func parseLessons(t *testing.T, path string) []lesson {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []lesson
	inCode := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "## "):
			out = append(out, lesson{title: strings.TrimPrefix(line, "## ")})
		case line == "```sh":
			inCode = true
		case line == "```":
			inCode = false
		case inCode && len(out) > 0 && strings.TrimSpace(line) != "":
			cmd, expect, _ := strings.Cut(line, "# →")
			cmd = strings.TrimSpace(cmd)
			if strings.HasPrefix(line, "#!") {
				cmd = strings.TrimSpace(line)
			} else if strings.HasPrefix(cmd, "#") || cmd == "" {
				continue
			}
			out[len(out)-1].lines = append(out[len(out)-1].lines, lessonLine{cmd: cmd, expect: strings.TrimSpace(expect)})
		}
	}
	return out
}

// lessonRun is one section's run: its ports, processes and placeholders.
type lessonRun struct {
	t      *testing.T
	base   int // the port that stands for 5000
	env    []string
	data   string
	code   string           // the class code, from the demo's banner
	procs  map[string]*proc // running demo, proxy and nodes, by name
	back   []*bgCommand     // background commands until wait
	client *http.Client
}

// bgCommand is a command run with a trailing &.
type bgCommand struct {
	line lessonLine
	p    *proc
}

var lessonPort = regexp.MustCompile(`\b50(\d\d)\b`)

// portsPerLesson is the ports a lesson may use: 5000…5011.
const portsPerLesson = 12

// quietPorts returns the first of n consecutive free ports between 20000
// and 30000, where the kernel never picks a port for a listener on port 0.
func quietPorts(t *testing.T, n int) int {
	t.Helper()
	start := 20000 + int(time.Now().UnixNano()%5000)
	for base := start; base+n < 30000; base += n {
		free := true
		for p := base; p < base+n && free; p++ {
			ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
			if err != nil {
				free = false
				continue
			}
			ln.Close()
		}
		if free {
			return base
		}
	}
	t.Fatal("no run of free ports between 20000 and 30000")
	return 0
}

func runLesson(t *testing.T, s lesson, base int) {
	dir := t.TempDir()
	r := &lessonRun{
		t: t, base: base, data: filepath.Join(dir, "data"),
		env:    []string{"XDG_CONFIG_HOME=" + dir, "HOME=" + dir, "NGROK_AUTHTOKEN="},
		procs:  map[string]*proc{},
		client: &http.Client{Timeout: 10 * time.Second},
	}
	// A failed lesson shows what its servers printed: their logs say why
	// a request failed.
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		for name, p := range r.procs {
			out := p.out.String()
			if len(out) > 4000 {
				out = "…" + out[len(out)-4000:]
			}
			t.Logf("%s printed:\n%s", name, out)
		}
	})
	for _, l := range s.lines {
		r.run(l)
	}
	r.wait()
}

// rewrite moves the lesson's ports and fills its placeholders.
func (r *lessonRun) rewrite(cmd string) string {
	cmd = lessonPort.ReplaceAllStringFunc(cmd, func(m string) string {
		n, _ := strconv.Atoi(m[2:])
		return strconv.Itoa(r.base + n)
	})
	cmd = strings.ReplaceAll(cmd, "DATA/", r.data+"/")
	return strings.ReplaceAll(cmd, "--token CODE", "--token "+r.code)
}

func (r *lessonRun) run(l lessonLine) {
	t := r.t
	t.Helper()
	cmd := r.rewrite(l.cmd)
	background := strings.HasSuffix(cmd, "&")
	cmd = strings.TrimSpace(strings.TrimSuffix(cmd, "&"))
	args := splitArgs(cmd)
	switch {
	case strings.HasPrefix(cmd, "#! stop "), strings.HasPrefix(cmd, "#! kill "):
		p := r.procs[args[2]]
		if p == nil {
			t.Fatalf("%s: no such process", l.cmd)
		}
		if args[1] == "kill" {
			p.kill()
		} else {
			p.interrupt()
		}
		delete(r.procs, args[2])
	case args[0] == "sleep":
		d, err := strconv.ParseFloat(args[1], 64)
		if err != nil {
			t.Fatalf("%s: %v", l.cmd, err)
		}
		time.Sleep(time.Duration(d * float64(time.Second))) // the lesson's own pause, as the instructor waits
	case args[0] == "wait":
		r.wait()
	case args[0] == "curl":
		r.curl(l, args[1:])
	case args[0] == "kvclass" && len(args) > 1 && (args[1] == "demo" || args[1] == "proxy" || args[1] == "node"):
		r.server(l, args[1:])
	case args[0] == "kvclass":
		args = r.withDemoPort(args[1:])
		p := startProcEnv(t, r.env, args...)
		if background {
			r.back = append(r.back, &bgCommand{line: l, p: p})
			return
		}
		code, ok := p.exited(time.Minute)
		if !ok {
			t.Fatalf("%s: still running after a minute:\n%s", l.cmd, p.out.String())
		}
		r.expect(l, p.out.String(), code)
	default:
		t.Fatalf("%s: the lessons' test does not know this command", l.cmd)
	}
}

// withDemoPort adds --proxy for commands that default to the seed's port,
// moved like the others.
func (r *lessonRun) withDemoPort(args []string) []string {
	switch args[0] {
	case "admin", "fault":
		for _, a := range args {
			if strings.HasPrefix(a, "--proxy") {
				return args
			}
		}
		return append([]string{args[0], "--proxy", "http://localhost:" + strconv.Itoa(r.base+3)}, args[1:]...)
	}
	return args
}

// server starts a long-running kvclass command and waits until it serves.
func (r *lessonRun) server(l lessonLine, args []string) {
	t := r.t
	name := args[0]
	ready := "serving at"
	switch args[0] {
	case "demo":
		args = append(args, "--base-port", strconv.Itoa(r.base))
		ready = "Ctrl-C stops everything"
	case "proxy":
		ready = "students run"
		if !strings.Contains(strings.Join(args, " "), " -p ") {
			args = append(args, "-p", strconv.Itoa(r.base+3))
		}
	case "node":
		for i, a := range args {
			if a == "-n" && i+1 < len(args) {
				name = args[i+1]
			}
		}
	}
	p := startProcEnv(t, r.env, args...)
	p.waitFor(ready)
	r.procs[name] = p
	if args[0] == "demo" {
		m := regexp.MustCompile(`--token (\S+)`).FindStringSubmatch(p.out.String())
		if m == nil {
			t.Fatalf("no class code in the demo's banner:\n%s", p.out.String())
		}
		r.code = m[1]
	}
	if l.expect != "" && !strings.Contains(p.out.String(), l.expect) {
		t.Fatalf("%s: output lacks %q:\n%s", l.cmd, l.expect, p.out.String())
	}
}

// wait waits for the background commands and checks their output.
func (r *lessonRun) wait() {
	for _, b := range r.back {
		code, ok := b.p.exited(2 * time.Minute)
		if !ok {
			r.t.Fatalf("%s: still running:\n%s", b.line.cmd, b.p.out.String())
		}
		r.expect(b.line, b.p.out.String(), code)
	}
	r.back = nil
}

// expect checks a finished command's output; a command with no `# →`
// must succeed.
func (r *lessonRun) expect(l lessonLine, out string, code int) {
	r.t.Helper()
	if l.expect == "" && code != 0 {
		r.t.Fatalf("%s: exit %d:\n%s", l.cmd, code, out)
	}
	if !strings.Contains(out, l.expect) {
		r.t.Fatalf("%s: output lacks %q (exit %d):\n%s", l.cmd, l.expect, code, out)
	}
	// A lesson's later numbers (keys moved, a key read back) count on
	// every request of its loads having run.
	if strings.HasPrefix(l.cmd, "kvclass load") && strings.Contains(out, "never started") {
		r.t.Fatalf("%s: this machine was too slow for the lesson's load, so the lesson's later numbers cannot hold:\n%s", l.cmd, out)
	}
}

// curl runs the lessons' curl lines: -s, -i, -X METHOD, -d DATA, -H
// HEADER and one URL. A GET is asked again until its output says what the
// lesson expects (what it waits for may take a moment: a scan, a repair).
func (r *lessonRun) curl(l lessonLine, args []string) {
	t := r.t
	method, body, show := "GET", "", false
	header := http.Header{}
	var target string
	for i := 0; i < len(args); i++ {
		switch args[i] {
		case "-s":
		case "-i":
			show = true
		case "-X":
			i++
			method = args[i]
		case "-d":
			i++
			body = args[i]
			if method == "GET" {
				method = "POST"
			}
		case "-H":
			i++
			k, v, _ := strings.Cut(args[i], ":")
			header.Set(strings.TrimSpace(k), strings.TrimSpace(v))
		default:
			target = args[i]
		}
	}
	once := func() string {
		req, err := http.NewRequestWithContext(context.Background(), method, target, strings.NewReader(body))
		if err != nil {
			t.Fatalf("%s: %v", l.cmd, err)
		}
		req.Header = header.Clone()
		resp, err := r.client.Do(req)
		if err != nil {
			return err.Error()
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		var b strings.Builder
		if show {
			fmt.Fprintf(&b, "HTTP/1.1 %s\n", resp.Status)
			for k, vs := range resp.Header {
				fmt.Fprintf(&b, "%s: %s\n", k, strings.Join(vs, ", "))
			}
			b.WriteString("\n")
		}
		b.Write(data)
		return b.String()
	}
	if method != "GET" || l.expect == "" {
		out := once()
		if !strings.Contains(out, l.expect) {
			t.Fatalf("%s: output lacks %q:\n%s", l.cmd, l.expect, out)
		}
		return
	}
	testwait.Seen(t, testwait.Patience, l.cmd+" to print "+strconv.Quote(l.expect), func() (bool, string) {
		out := once()
		return strings.Contains(out, l.expect), out
	})
}

// splitArgs splits a command line as a shell would for the lessons'
// commands: words, and single- or double-quoted strings.
func splitArgs(s string) []string {
	var out []string
	var cur strings.Builder
	quote := byte(0)
	inWord := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0 && c == quote:
			quote = 0
		case quote != 0:
			cur.WriteByte(c)
		case c == '\'' || c == '"':
			quote, inWord = c, true
		case c == ' ' || c == '\t':
			if inWord {
				out = append(out, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		out = append(out, cur.String())
	}
	return out
}
