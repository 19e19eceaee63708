package conform

import "net/http"

// maxStateAnswer bounds the /state answer: a node in use holds a class's
// keys, more than any other answer.
const maxStateAnswer = 16 << 20

// stateCases check GET /state?format=json, which the proxy and the page
// read: {"name": NAME, "data": {KEY: VALUE, ...}}.
func stateCases() []testCase {
	return []testCase{
		{GroupState, "state-json", `GET /state?format=json answers {"name": NAME, "data": {KEY: VALUE, ...}} with a key just put`, func(c *caseRun) error {
			key, value := c.key(""), `{"n": 1, "s": "state"}`
			if err := c.put(key, value); err != nil {
				return err
			}
			const expected = `200 {"name": "...", "data": {..., KEY: VALUE}}`
			if _, err := c.expectStatus(request{method: http.MethodGet, target: "/state?format=json", limit: maxStateAnswer}, "", http.StatusOK); err != nil {
				return err
			}
			obj, ok := decodeObject(c.lastAns.body)
			if !ok {
				return c.wrongWhy(expected, "not a JSON object")
			}
			if name, ok := obj["name"].(string); !ok || name == "" {
				return c.wrongWhy(expected, `no "name" string`)
			}
			data, ok := obj["data"].(map[string]any)
			if !ok {
				return c.wrongWhy(expected, `no "data" object`)
			}
			if !sameJSON(mustJSON(value), data[key]) {
				return c.wrongWhy(expected, `"data" lacks the key just put, or holds another value`)
			}
			return nil
		}},
	}
}
