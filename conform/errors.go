package conform

import (
	"net/http"
	"strings"

	"github.com/kvclass/kvclass/kvapi"
)

// jsonErrorCases check kvclass's rule that every error is JSON with an
// "error" field, whatever the input: the seed's framework answered some
// mistakes with HTML, and a body that is not an object with a 500.
func jsonErrorCases() []testCase {
	errorCase := func(name, about string, q func(c *caseRun) (request, string), status int) testCase {
		return testCase{GroupJSONErrors, name, about, func(c *caseRun) error {
			req, key := q(c)
			expected := statusText(status) + ` {"error": ...}`
			if _, err := c.expectStatusAs(req, key, status, expected); err != nil {
				return err
			}
			_, err := c.expectErrorJSON(expected)
			return err
		}}
	}
	put := func(body string) func(c *caseRun) (request, string) {
		return func(c *caseRun) (request, string) { return putRequest(c.key(""), body), c.key("") }
	}
	return []testCase{
		errorCase("error-malformed-json", "a put whose body is not JSON is 400 with a JSON error", put(`{"value": "no end`), http.StatusBadRequest),
		errorCase("error-not-an-object", `a put whose body is JSON but not an object is 400 with a JSON error, not a crash`, put(`["value", 1]`), http.StatusBadRequest),
		errorCase("error-put-no-key", "a put without a key is 400 with a JSON error", func(c *caseRun) (request, string) {
			return request{method: http.MethodPost, target: "/put", body: []byte(valueBody(`"v"`))}, ""
		}, http.StatusBadRequest),
		errorCase("error-get-no-key", "a get without a key is 400 with a JSON error", func(c *caseRun) (request, string) {
			return request{method: http.MethodGet, target: "/get"}, ""
		}, http.StatusBadRequest),
		errorCase("error-wrong-method", "GET /put is 405 with a JSON error", func(c *caseRun) (request, string) {
			return request{method: http.MethodGet, target: keyTarget("/put", c.key(""))}, ""
		}, http.StatusMethodNotAllowed),
		errorCase("error-no-such-path", "a path the API does not have is 404 with a JSON error", func(c *caseRun) (request, string) {
			return request{method: http.MethodGet, target: "/" + c.key("")}, ""
		}, http.StatusNotFound),
	}
}

// messageCases check the seed's exact wording, which the core leaves free:
// a student's node may say it its own way and still join.
func messageCases() []testCase {
	errorText := func(name, want string, q func(c *caseRun) (request, string), status int) testCase {
		return testCase{GroupMessages, name, `the ` + statusText(status) + ` says {"error": "` + want + `"}`, func(c *caseRun) error {
			req, key := q(c)
			expected := statusText(status) + ` {"error": "` + want + `"}`
			if _, err := c.expectStatusAs(req, key, status, expected); err != nil {
				return err
			}
			msg, err := c.expectErrorJSON(expected)
			if err == nil && msg != want {
				err = c.wrongWhy(expected, "other words")
			}
			return err
		}}
	}
	return []testCase{
		{GroupMessages, "message-stored", `a put answers {"message": "` + kvapi.MsgStored + `"}`, func(c *caseRun) error {
			key := c.key("")
			expected := `200 {"message": "` + kvapi.MsgStored + `"}`
			if _, err := c.expectStatus(putRequest(key, valueBody(`"v"`)), key, http.StatusOK); err != nil {
				return err
			}
			obj, ok := decodeObject(c.lastAns.body)
			if !ok || obj["message"] != kvapi.MsgStored {
				return c.wrongWhy(expected, "other words")
			}
			return nil
		}},
		errorText("message-need-key-and-value", kvapi.MsgNeedKeyVal, func(c *caseRun) (request, string) {
			return putRequest(c.key(""), `{}`), c.key("")
		}, http.StatusBadRequest),
		errorText("message-need-key", kvapi.MsgNeedKey, func(c *caseRun) (request, string) {
			return request{method: http.MethodGet, target: "/get"}, ""
		}, http.StatusBadRequest),
		errorText("message-not-found", kvapi.MsgNotFound, func(c *caseRun) (request, string) {
			return request{method: http.MethodGet, target: keyTarget("/get", c.key(""))}, ""
		}, http.StatusNotFound),
		{GroupMessages, "message-health", `GET /health answers "Hi from NAME"`, func(c *caseRun) error {
			if _, err := c.expectStatus(request{method: http.MethodGet, target: "/health"}, "", http.StatusOK); err != nil {
				return err
			}
			if !strings.HasPrefix(string(c.lastAns.body), "Hi from ") {
				return c.wrongWhy(`200 "Hi from NAME"`, "other words")
			}
			return nil
		}},
	}
}
