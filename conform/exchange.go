package conform

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// request is one HTTP request of a case.
type request struct {
	method string
	target string // path and query, e.g. "/get?key=a%26b"
	body   []byte
	header http.Header // besides the run's headers
	// limit overrides the run's answer limit (the state can be large).
	limit int64
}

// answer is what a request got: a status, headers and a body, or err when
// no complete answer came.
type answer struct {
	status int
	header http.Header
	body   []byte
	err    error
}

// errNoAnswer marks failures where the node gave no answer in time: the
// run stops after giveUpAfter cases in a row end with one.
var errNoAnswer = errors.New("no answer")

// noAnswerError is a request that timed out.
type noAnswerError struct {
	within  time.Duration
	partial bool // the status line came, the body did not finish
	budget  bool // the timeout was cut short by the run's budget
}

func (e *noAnswerError) Error() string {
	s := "no answer within " + e.within.Round(time.Millisecond).String()
	if e.partial {
		s = "no complete answer within " + e.within.Round(time.Millisecond).String()
	}
	if e.budget {
		s += " (the time budget ran out)"
	}
	return s
}

func (e *noAnswerError) Is(target error) bool { return target == errNoAnswer }

// tooLargeError is an answer over the size limit.
type tooLargeError struct{ limit int64 }

func (e *tooLargeError) Error() string {
	return "answer larger than " + strconv.FormatInt(e.limit, 10) + " bytes"
}

// do sends req to the node and reads its answer, within the run's timeout
// (or what is left of its budget) and size limit.
func (r *runner) do(ctx context.Context, req request) answer {
	timeout, budget := r.timeout, false
	if !r.deadline.IsZero() {
		left := time.Until(r.deadline)
		if left <= 0 {
			return answer{err: &noAnswerError{within: 0, budget: true}}
		}
		if left < timeout {
			timeout, budget = left, true
		}
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var body io.Reader
	if req.body != nil {
		body = bytes.NewReader(req.body)
	}
	hr, err := http.NewRequestWithContext(ctx, req.method, r.base+req.target, body)
	if err != nil {
		return answer{err: err}
	}
	for k, v := range r.header {
		hr.Header[k] = v
	}
	for k, v := range req.header {
		hr.Header[k] = v
	}
	if req.body != nil && hr.Header.Get("Content-Type") == "" {
		hr.Header.Set("Content-Type", "application/json")
	}
	resp, err := r.client.Do(hr)
	if err != nil {
		if ctx.Err() != nil || isTimeout(err) {
			return answer{err: &noAnswerError{within: timeout, budget: budget}}
		}
		return answer{err: fmt.Errorf("no answer: %w", transportError(err))}
	}
	defer resp.Body.Close()
	limit := r.maxAnswer
	if req.limit > 0 {
		limit = req.limit
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	a := answer{status: resp.StatusCode, header: resp.Header, body: b}
	switch {
	case err != nil && (ctx.Err() != nil || isTimeout(err)):
		a.err = &noAnswerError{within: timeout, partial: true, budget: budget}
	case err != nil:
		a.err = fmt.Errorf("the answer broke off: %w", transportError(err))
	case int64(len(b)) > limit:
		a.err = &tooLargeError{limit}
	}
	return a
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()
}

// transportError drops net/http's "Get "URL": " prefix, which repeats what
// the line already says.
func transportError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// isDialError reports whether err means nothing answered at the node's
// address at all: no such host, connection refused.
func isDialError(err error) bool {
	var oe *net.OpError
	var de *net.DNSError
	return errors.As(err, &de) || errors.As(err, &oe) && oe.Op == "dial"
}

// ngrokError returns the error code of an answer that ngrok's edge made
// instead of the node (the endpoint is offline, a rate limit), or "".
func (a answer) ngrokError() string {
	if a.header == nil {
		return ""
	}
	return a.header.Get("Ngrok-Error-Code")
}

// Sizes of what lines quote.
const (
	maxTargetShown = 90
	maxBodyShown   = 80
)

// describe is a request as a line shows it: "POST /put?key=K {"value": 1}".
func (q request) describe() string {
	s := q.method + " " + cut(q.target, maxTargetShown)
	for k, v := range q.header {
		if k != "Content-Type" && len(v) > 0 {
			s += " with " + k + ": " + cut(v[0], 40)
		}
	}
	if q.body != nil {
		s += " " + cut(oneLine(q.body), maxBodyShown)
	}
	return s
}

// describe is an answer as a line shows it: "404 {"error": ...}", or why
// there was none.
func (a answer) describe() string {
	if a.err != nil && a.status == 0 {
		return a.err.Error()
	}
	s := strconv.Itoa(a.status)
	if code := a.ngrokError(); code != "" {
		s += " from ngrok's edge (" + code + "), not from the node"
	}
	if a.err != nil {
		return s + ", then " + a.err.Error()
	}
	if len(a.body) > 0 {
		s += " " + cut(oneLine(a.body), maxBodyShown)
	}
	return s
}

// oneLine is a body's text with its line breaks and runs of spaces folded,
// and bytes that are not UTF-8 shown as such.
func oneLine(b []byte) string {
	if !utf8.Valid(b) {
		return fmt.Sprintf("(%d bytes, not UTF-8 text)", len(b))
	}
	return strings.Join(strings.Fields(string(b)), " ")
}

// cut shortens s to about n bytes on a character boundary, saying how long
// it was.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…(" + strconv.Itoa(len(s)) + " bytes)"
}
