package conform

import "strconv"

// valueCases store values of every JSON type and read them back: each must
// come back as the same JSON. Values are compared as JSON, so key order,
// spacing and how a number is written (3.0 or 3, 1e2 or 100) do not
// matter, but a number's value does, to the last digit.
func valueCases() []testCase {
	return []testCase{
		valueCase("value-string", "strings come back as they were sent, the empty string too",
			`"hello, world"`, `""`, `"  quotes \" and \\ backslash\n and a tab\t"`),
		valueCase("value-integer", "integers come back as numbers, 0 too",
			`0`, `42`, `-7`),
		valueCase("value-float", "fractions and exponents come back as the same number",
			`3.14`, `-0.5`, `2.5e-7`, `1.5e300`),
		valueCase("value-big-int", "integers beyond 2^53 and 2^64 come back exactly, not rounded",
			`12345678901234567890`, `-9007199254740993`, `123456789012345678901234567890`),
		valueCase("value-bool", "true and false come back as booleans, false too",
			`true`, `false`),
		valueCase("value-object", "an object comes back with the same members, nested ones and nulls inside included",
			`{"name": "Ada", "tags": ["a", "b"], "nested": {"n": 1, "ok": true, "none": null}, "empty": {}}`),
		valueCase("value-array", "an array comes back in order, mixed types and nesting included",
			`[1, "two", true, null, {"k": "v"}, [], [3, [4]]]`),
		valueCase("value-unicode", "non-ASCII strings come back unchanged: Cyrillic, CJK, emoji, combining marks",
			`"Привет, мир"`, `"日本語のテキスト"`, `"emoji 🔑🙂 outside the BMP"`, `"e\u0301 combining, \u00e9 precomposed"`),
	}
}

// valueCase puts each value under a key of its own, then reads each back.
func valueCase(name, about string, values ...string) testCase {
	return testCase{GroupCore, name, about, func(c *caseRun) error {
		for i, v := range values {
			key := c.key("-" + strconv.Itoa(i))
			if err := c.putAs(key, v, "2xx: every JSON value but null is stored"); err != nil {
				return err
			}
			if err := c.expectValue(key, v); err != nil {
				return err
			}
		}
		return nil
	}}
}
