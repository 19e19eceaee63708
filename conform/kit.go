package conform

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
)

// testCase is one case of the suite.
type testCase struct {
	group string
	name  string // unique across the suite: it names the case's keys
	about string // what it checks, for a passing line
	run   func(c *caseRun) error
}

// caseRun is one case being run: the requests it sends and the last one,
// which a failure quotes.
type caseRun struct {
	*runner
	ctx     context.Context
	name    string
	last    request
	lastAns answer
}

// mismatch is a case's failure: the request, what the contract expects,
// and what came.
type mismatch struct{ sent, expected, got string }

func (m *mismatch) Error() string { return m.sent + ": expected " + m.expected + ", got " + m.got }

// key returns a key of this case's own: the run's prefix, the case's name,
// and suffix.
func (c *caseRun) key(suffix string) string { return c.prefix + c.name + suffix }

// send sends q and remembers it as the case's last request.
func (c *caseRun) send(q request) answer {
	c.last = q
	c.lastAns = c.do(c.ctx, q)
	return c.lastAns
}

// wrong is the failure of the last request: it got something other than
// expected.
func (c *caseRun) wrong(expected string) error {
	return &mismatch{sent: c.last.describe(), expected: expected, got: c.lastAns.describe()}
}

// wrongWhy is wrong with got explained: the answer, then why it is wrong.
func (c *caseRun) wrongWhy(expected, why string) error {
	return &mismatch{sent: c.last.describe(), expected: expected, got: c.lastAns.describe() + " (" + why + ")"}
}

// keyTarget is path?key=KEY with the key escaped as a query value.
func keyTarget(path, key string) string { return path + "?key=" + url.QueryEscape(key) }

// putRequest is POST /put?key=KEY with body.
func putRequest(key, body string) request {
	return request{method: http.MethodPost, target: keyTarget("/put", key), body: []byte(body)}
}

// valueBody is the /put body for a value given as JSON text.
func valueBody(value string) string { return `{"value": ` + value + `}` }

// call sends q, recording a put's key for the clean-up.
func (c *caseRun) call(q request, key string) answer {
	if q.method == http.MethodPost && key != "" {
		c.wrote(key)
	}
	return c.send(q)
}

// put stores value (JSON text) under key as a case's setup: any 2xx will do,
// since what the case checks comes after.
func (c *caseRun) put(key, value string) error {
	return c.putAs(key, value, "2xx: this put prepares the case")
}

// putAs is put saying what is expected in its own words.
func (c *caseRun) putAs(key, value, expected string) error {
	a := c.call(putRequest(key, valueBody(value)), key)
	if a.err != nil || a.status/100 != 2 {
		return c.wrong(expected)
	}
	return nil
}

// expectValue gets key and expects 2xx {"value": want} (want is JSON text),
// the value compared as JSON.
func (c *caseRun) expectValue(key, want string) error {
	return c.expectValueStatus(key, want, 0)
}

// expectValueStatus is expectValue wanting exactly status (0: any 2xx).
func (c *caseRun) expectValueStatus(key, want string, status int) error {
	a := c.send(request{method: http.MethodGet, target: keyTarget("/get", key)})
	expected := statusText(status) + ` {"value": ` + cut(want, 60) + `}`
	if a.err != nil || !statusIs(a.status, status) {
		return c.wrong(expected)
	}
	obj, ok := decodeObject(a.body)
	if !ok {
		return c.wrongWhy(expected, "not a JSON object")
	}
	got, ok := obj["value"]
	if !ok {
		return c.wrongWhy(expected, `no "value" field`)
	}
	if !sameJSON(mustJSON(want), got) {
		return c.wrongWhy(expected, "a different value")
	}
	return nil
}

// expectMissing gets key, which must not be stored: 404. When the answer
// is a JSON object with a "key" field, it must be key as sent: it shows how
// the node decoded the query.
func (c *caseRun) expectMissing(key string) error {
	a := c.send(request{method: http.MethodGet, target: keyTarget("/get", key)})
	expected := "404: the key " + strconv.Quote(cut(key, 60)) + " was never stored"
	if a.err != nil || a.status != http.StatusNotFound {
		return c.wrong(expected)
	}
	if obj, ok := decodeObject(a.body); ok {
		if got, ok := obj["key"]; ok && got != key {
			return c.wrongWhy(`404 naming the key as sent, "key": `+strconv.Quote(cut(key, 60)), "the node read the key otherwise")
		}
	}
	return nil
}

// expectStatus sends q and expects exactly status.
func (c *caseRun) expectStatus(q request, key string, status int) (answer, error) {
	return c.expectStatusAs(q, key, status, statusText(status))
}

// expectStatusAs is expectStatus saying what is expected in its own words.
func (c *caseRun) expectStatusAs(q request, key string, status int, expected string) (answer, error) {
	a := c.call(q, key)
	if a.err != nil || a.status != status {
		return a, c.wrong(expected)
	}
	return a, nil
}

// expectNotFound sends q, about key, and expects the seed's 404: JSON with
// an "error" and the key as sent.
func (c *caseRun) expectNotFound(q request, key string) error {
	expected := `404 {"error": ..., "key": ` + strconv.Quote(cut(key, 60)) + `}`
	if _, err := c.expectStatusAs(q, "", http.StatusNotFound, expected); err != nil {
		return err
	}
	if _, err := c.expectErrorJSON(expected); err != nil {
		return err
	}
	obj, _ := decodeObject(c.lastAns.body)
	switch got, ok := obj["key"]; {
	case !ok:
		return c.wrongWhy(expected, `no "key" field`)
	case got != key:
		return c.wrongWhy(expected, `"key" is not the key as sent`)
	}
	return nil
}

// expectErrorJSON checks that the last answer's body is a JSON object with
// a string "error" field, and returns it.
func (c *caseRun) expectErrorJSON(expected string) (string, error) {
	obj, ok := decodeObject(c.lastAns.body)
	if !ok {
		return "", c.wrongWhy(expected, "not a JSON object")
	}
	msg, ok := obj["error"].(string)
	if !ok {
		return "", c.wrongWhy(expected, `no string "error" field`)
	}
	return msg, nil
}

func statusIs(got, want int) bool {
	if want == 0 {
		return got/100 == 2
	}
	return got == want
}

func statusText(status int) string {
	if status == 0 {
		return "2xx"
	}
	return strconv.Itoa(status)
}
