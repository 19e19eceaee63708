package conform

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/kvclass/kvclass/kvapi"
)

// checkerOrigin is the ORIGIN of the versions the suite sends.
const checkerOrigin = "kvclass-conform"

// versionCases check versions (DESIGN, "Versions and replication"): every
// put and get answer carries X-Kvclass-Version: HLC/ORIGIN; a put carrying
// an older version changes nothing and is 409 {"error", "version": STORED};
// a put carrying a newer one is stored with it. A node without versions
// fails this group, and may still join.
func versionCases() []testCase {
	return []testCase{
		{GroupVersions, "version-on-put", "a put answer carries " + kvapi.VersionHeader + ": HLC/ORIGIN", func(c *caseRun) error {
			_, err := c.putVersion(c.key(""), `"v1"`)
			return err
		}},
		{GroupVersions, "version-on-get", "a get answer carries the version the put answered", func(c *caseRun) error {
			key := c.key("")
			v, err := c.putVersion(key, `"v1"`)
			if err != nil {
				return err
			}
			return c.expectVersioned(key, `"v1"`, v)
		}},
		{GroupVersions, "version-older-put", "a put with an older version changes nothing and is 409 naming the stored version", func(c *caseRun) error {
			key := c.key("")
			v, err := c.putVersion(key, `"kept"`)
			if err != nil {
				return err
			}
			q := putRequest(key, valueBody(`"stale"`))
			q.header = http.Header{kvapi.VersionHeader: {"1/" + checkerOrigin}}
			expected := `409 {"error": ..., "version": "` + v + `"}`
			if _, err := c.expectStatus(q, key, http.StatusConflict); err != nil {
				return err
			}
			if obj, ok := decodeObject(c.lastAns.body); !ok || obj["version"] != v {
				return c.wrongWhy(expected, `no "version" naming the stored one`)
			}
			return c.expectVersioned(key, `"kept"`, v)
		}},
		{GroupVersions, "version-newer-put", "a put with a newer version is stored with that version", func(c *caseRun) error {
			key := c.key("")
			v, err := c.putVersion(key, `"old"`)
			if err != nil {
				return err
			}
			hlc, _, _ := parseVersion(v)
			newer := strconv.FormatUint(hlc+1, 10) + "/" + checkerOrigin
			q := putRequest(key, valueBody(`"new"`))
			q.header = http.Header{kvapi.VersionHeader: {newer}}
			if _, err := c.expectStatus(q, key, http.StatusOK); err != nil {
				return err
			}
			return c.expectVersioned(key, `"new"`, newer)
		}},
	}
}

// putVersion stores value under key and returns the version the answer
// carries.
func (c *caseRun) putVersion(key, value string) (string, error) {
	expected := "200 with " + kvapi.VersionHeader + ": HLC/ORIGIN"
	if _, err := c.expectStatus(putRequest(key, valueBody(value)), key, http.StatusOK); err != nil {
		return "", err
	}
	v := c.lastAns.header.Get(kvapi.VersionHeader)
	if _, _, ok := parseVersion(v); !ok {
		return "", c.wrongWhy(expected, versionSeen(v))
	}
	return v, nil
}

// expectVersioned gets key and expects value with version v.
func (c *caseRun) expectVersioned(key, value, v string) error {
	if err := c.expectValue(key, value); err != nil {
		return err
	}
	if got := c.lastAns.header.Get(kvapi.VersionHeader); got != v {
		return c.wrongWhy(`2xx {"value": `+value+`} with `+kvapi.VersionHeader+": "+v, versionSeen(got))
	}
	return nil
}

// versionSeen says what version header an answer carried.
func versionSeen(v string) string {
	if v == "" {
		return "no " + kvapi.VersionHeader + " header"
	}
	return kvapi.VersionHeader + ": " + strconv.Quote(cut(v, 60))
}

// parseVersion splits HLC/ORIGIN: a decimal uint64 and a non-empty name.
func parseVersion(v string) (hlc uint64, origin string, ok bool) {
	num, origin, found := strings.Cut(v, "/")
	hlc, err := strconv.ParseUint(num, 10, 64)
	return hlc, origin, found && err == nil && origin != ""
}
