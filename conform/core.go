package conform

import (
	"net/http"
	"strconv"
	"sync"
)

// basicCases are the seed's walkthrough: health, a put and a get, a missing
// key, an overwrite.
func basicCases() []testCase {
	return []testCase{
		healthCase(),
		putGetCase(func(c *caseRun) string { return c.key("") }),
		getMissingCase(func(c *caseRun) string { return c.key("") }),
		{GroupCore, "overwrite", "a second put of a key replaces its value", func(c *caseRun) error {
			key := c.key("")
			if err := c.put(key, `"first"`); err != nil {
				return err
			}
			if err := c.put(key, `"second"`); err != nil {
				return err
			}
			return c.expectValue(key, `"second"`)
		}},
	}
}

// healthCase checks GET /health: 200, whatever the text.
func healthCase() testCase {
	return testCase{GroupCore, "health", "GET /health answers 200", func(c *caseRun) error {
		_, err := c.expectStatus(request{method: http.MethodGet, target: "/health"}, "", http.StatusOK)
		return err
	}}
}

// putGetCase is the seed's first curl: a put answers 200, and a get of its
// key answers 200 with the value. key names the key.
func putGetCase(key func(*caseRun) string) testCase {
	return testCase{GroupCore, "put-get", "a put answers 200, and a get of its key answers 200 with the value", func(c *caseRun) error {
		key := key(c)
		if _, err := c.expectStatus(putRequest(key, valueBody(`"hello"`)), key, http.StatusOK); err != nil {
			return err
		}
		return c.expectValueStatus(key, `"hello"`, http.StatusOK)
	}}
}

// getMissingCase checks the seed's 404 for a key never stored, which names
// the key as the node read it. key names the key.
func getMissingCase(key func(*caseRun) string) testCase {
	return testCase{GroupCore, "get-missing", `a key never stored is 404 with JSON {"error": ..., "key": KEY}`, func(c *caseRun) error {
		key := key(c)
		return c.expectNotFound(request{method: http.MethodGet, target: keyTarget("/get", key)}, key)
	}}
}

// badRequestCases are the seed's 400s. The core checks the status only, so
// a node may word its errors its own way: the json-errors group checks that
// the bodies are JSON, the messages group the seed's wording.
func badRequestCases() []testCase {
	return []testCase{
		{GroupCore, "put-no-key", "a put without a key is 400", func(c *caseRun) error {
			_, err := c.expectStatus(request{method: http.MethodPost, target: "/put", body: []byte(valueBody(`"v"`))}, "", http.StatusBadRequest)
			return err
		}},
		{GroupCore, "put-no-value", `a put of {} (no value) is 400`, func(c *caseRun) error {
			key := c.key("")
			_, err := c.expectStatus(putRequest(key, `{}`), key, http.StatusBadRequest)
			return err
		}},
		{GroupCore, "put-null-value", `a put of {"value": null} is 400`, func(c *caseRun) error {
			key := c.key("")
			_, err := c.expectStatus(putRequest(key, valueBody("null")), key, http.StatusBadRequest)
			return err
		}},
		{GroupCore, "get-no-key", "a get without a key is 400", func(c *caseRun) error {
			_, err := c.expectStatus(request{method: http.MethodGet, target: "/get"}, "", http.StatusBadRequest)
			return err
		}},
	}
}

// concurrentPuts is how many puts the concurrent case sends at once.
const concurrentPuts = 50

// concurrentCase sends concurrentPuts puts of different keys at once, then
// reads them all back at once: a store without a lock loses some, or
// crashes.
func concurrentCase() testCase {
	return testCase{GroupCore, "concurrent-puts", strconv.Itoa(concurrentPuts) + " puts of different keys sent at once are all stored", func(c *caseRun) error {
		keys := make([]string, concurrentPuts)
		for i := range keys {
			keys[i] = c.key("-" + strconv.Itoa(i))
		}
		c.last = request{method: http.MethodPost, target: keyTarget("/put", keys[0]) + " and " + strconv.Itoa(concurrentPuts-1) + " more at once"}
		if err := c.parallel(keys, func(i int, key string) (request, string, bool, answer) {
			q := putRequest(key, valueBody(strconv.Quote("value-"+strconv.Itoa(i))))
			c.wrote(key)
			a := c.do(c.ctx, q)
			return q, "2xx (one of " + strconv.Itoa(concurrentPuts) + " puts sent at once)", a.err == nil && a.status/100 == 2, a
		}); err != nil {
			return err
		}
		return c.parallel(keys, func(i int, key string) (request, string, bool, answer) {
			q := request{method: http.MethodGet, target: keyTarget("/get", key)}
			a := c.do(c.ctx, q)
			want := strconv.Quote("value-" + strconv.Itoa(i))
			ok := a.err == nil && a.status/100 == 2
			if ok {
				obj, isObj := decodeObject(a.body)
				ok = isObj && sameJSON(mustJSON(want), obj["value"])
			}
			return q, `2xx {"value": ` + want + `}, stored by one of ` + strconv.Itoa(concurrentPuts) + " puts sent at once", ok, a
		})
	}}
}

// parallel runs one request per key, all at once, and waits for them all
// (each is bounded by the request timeout); the first that fails is the
// case's failure.
func (c *caseRun) parallel(keys []string, one func(i int, key string) (request, string, bool, answer)) error {
	var mu sync.Mutex
	var first error
	var wg sync.WaitGroup
	for i, key := range keys {
		wg.Go(func() {
			q, expected, ok, a := one(i, key)
			if ok {
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if first == nil {
				c.last, c.lastAns = q, a
				first = c.wrong(expected)
			}
		})
	}
	wg.Wait()
	return first
}
