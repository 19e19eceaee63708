package conform

import (
	"strconv"
	"strings"
)

// ReportSchema is the version of the JSON report's layout; it changes only
// when a field changes meaning or goes away, so graders can rely on it.
const ReportSchema = 1

// Result is the outcome of one case.
type Result struct {
	Group string `json:"group"` // "core" or an extension group
	Name  string `json:"name"`  // the case's name, unique in its group
	About string `json:"about"` // what the case checks, in words

	Passed bool `json:"passed"`
	// Skipped is set when the case was not run (the node stopped
	// answering, or the budget was spent); it counts as failed.
	Skipped bool `json:"skipped,omitempty"`

	Sent     string `json:"sent,omitempty"`     // the request that failed (or the case's last), cut
	Expected string `json:"expected,omitempty"` // on failure: what the contract asks for
	Got      string `json:"got,omitempty"`      // on failure: the answer (status and body, cut) or why there was none

	Millis int64 `json:"ms"` // how long the case took
}

// ID is the case's "group/name".
func (r Result) ID() string { return r.Group + "/" + r.Name }

// Line is the case in one line without its mark: "core/get-missing: GET
// /get?key=...: expected ..., got ..." for a failure, the case and what it
// checks for a pass.
func (r Result) Line() string {
	switch {
	case r.Passed:
		return r.ID() + ": " + r.About
	case r.Skipped:
		return r.ID() + ": " + r.Got
	}
	return r.ID() + ": " + r.Sent + ": expected " + r.Expected + ", got " + r.Got
}

// String is the line "kvclass conform" prints: ✓ or ✗, then Line.
func (r Result) String() string {
	if r.Passed {
		return "✓ " + r.Line()
	}
	return "✗ " + r.Line()
}

// Group counts one group's cases.
type Group struct {
	Name     string `json:"name"`
	Required bool   `json:"required"` // only the core is
	Passed   int    `json:"passed"`
	Total    int    `json:"total"`
}

// Report is the outcome of Run. Its JSON form is "kvclass conform --json";
// field names are stable (see ReportSchema).
type Report struct {
	Schema int    `json:"schema"` // ReportSchema
	URL    string `json:"url"`
	// CorePassed is the verdict: the node passes the core, so it may join
	// a class.
	CorePassed bool `json:"core_passed"`
	// Error says why the run stopped early (the node is unreachable);
	// empty when it ran to the end.
	Error  string   `json:"error,omitempty"`
	Groups []Group  `json:"groups"`
	Cases  []Result `json:"cases"`
	// KeysLeft counts the keys the run wrote and left on the node (the
	// node has no working delete, or Keep was set).
	KeysLeft int `json:"keys_left"`
}

// Failed returns the cases that did not pass.
func (r *Report) Failed() []Result {
	var out []Result
	for _, c := range r.Cases {
		if !c.Passed {
			out = append(out, c)
		}
	}
	return out
}

// Summary is one line: "core: 25/25 passed; extensions: delete 3/3,
// versions 0/4, ...".
func (r *Report) Summary() string {
	var core string
	var ext []string
	for _, g := range r.Groups {
		n := strconv.Itoa(g.Passed) + "/" + strconv.Itoa(g.Total)
		if g.Required {
			core = g.Name + ": " + n + " passed"
		} else {
			ext = append(ext, g.Name+" "+n)
		}
	}
	if len(ext) == 0 {
		return core
	}
	return core + "; extensions: " + strings.Join(ext, ", ")
}

// summarize fills in the groups and the verdict from the cases.
func (r *Report) summarize() {
	r.Groups = r.Groups[:0]
	index := map[string]int{}
	for _, c := range r.Cases {
		i, ok := index[c.Group]
		if !ok {
			i = len(r.Groups)
			index[c.Group] = i
			r.Groups = append(r.Groups, Group{Name: c.Group, Required: c.Group == GroupCore})
		}
		r.Groups[i].Total++
		if c.Passed {
			r.Groups[i].Passed++
		}
	}
	r.CorePassed = false
	if i, ok := index[GroupCore]; ok {
		g := r.Groups[i]
		r.CorePassed = r.Error == "" && g.Passed == g.Total && g.Total == len(coreCases())
	}
}
