package conform

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
)

// The anti-entropy endpoints' answers, as the suite reads them. They are
// spelled out here rather than taken from kvapi: the suite checks the wire
// independently of the code that writes it.
type (
	digestAnswer struct {
		Buckets int      `json:"buckets"`
		Hashes  []string `json:"hashes"`
	}
	keysAnswer struct {
		Keys []struct {
			Key     string `json:"key"`
			Version string `json:"version"`
			Deleted bool   `json:"deleted"`
		} `json:"keys"`
	}
)

// digestCases check the anti-entropy endpoints (DESIGN, "Versions and
// replication"): GET /digest answers {"buckets": N, "hashes": [N hex
// SHA-256 sums]}, where a key's bucket is the first 8 bytes of
// SHA-256(key), big-endian, mod N, and a bucket's hash is the lane-wise sum
// (four big-endian uint64 lanes, mod 2^64) of SHA-256(key + "@" + version)
// over its keys; GET /keys?bucket=B lists the bucket's keys with their
// versions. A put of a new key must add exactly its entry's hash to exactly
// its bucket. These need versions: without them, this group fails too.
func digestCases() []testCase {
	return []testCase{
		{GroupDigest, "digest", `GET /digest answers {"buckets": N, "hashes": [N hex SHA-256 sums]}`, func(c *caseRun) error {
			_, err := c.digest()
			return err
		}},
		{GroupDigest, "digest-put", "a put of a new key adds SHA-256(key@version) to its bucket's hash, lane by lane", func(c *caseRun) error {
			_, _, err := c.digestPut(c.key(""))
			return err
		}},
		{GroupDigest, "digest-keys", "GET /keys?bucket=B lists a key just put, with its version", func(c *caseRun) error {
			key := c.key("")
			bucket, version, err := c.digestPut(key)
			if err != nil {
				return err
			}
			expected := `200 {"keys": [..., {"key": ` + strconv.Quote(cut(key, 60)) + `, "version": "` + version + `", "deleted": false}]}`
			q := request{method: http.MethodGet, target: "/keys?bucket=" + strconv.Itoa(bucket), limit: maxStateAnswer}
			if _, err := c.expectStatusAs(q, "", http.StatusOK, expected); err != nil {
				return err
			}
			var list keysAnswer
			if json.Unmarshal(c.lastAns.body, &list) != nil {
				return c.wrongWhy(expected, "not that JSON")
			}
			for _, k := range list.Keys {
				if k.Key == key {
					if k.Version != version || k.Deleted {
						return c.wrongWhy(expected, "the key with another version, or deleted")
					}
					return nil
				}
			}
			return c.wrongWhy(expected, "the key is not listed")
		}},
	}
}

// digest gets /digest and checks its form.
func (c *caseRun) digest() (digestAnswer, error) {
	const expected = `200 {"buckets": N, "hashes": [N hex SHA-256 sums]}`
	var d digestAnswer
	q := request{method: http.MethodGet, target: "/digest", limit: maxStateAnswer}
	if _, err := c.expectStatusAs(q, "", http.StatusOK, expected); err != nil {
		return d, err
	}
	if json.Unmarshal(c.lastAns.body, &d) != nil || d.Buckets < 1 || d.Buckets&(d.Buckets-1) != 0 || len(d.Hashes) != d.Buckets {
		return d, c.wrongWhy(expected, "not that JSON, or N is not a power of two, or not N hashes")
	}
	for _, h := range d.Hashes {
		if b, err := hex.DecodeString(h); err != nil || len(b) != sha256.Size {
			return d, c.wrongWhy(expected, "a hash that is not 64 hex digits")
		}
	}
	return d, nil
}

// digestPut puts key, new on the node, and checks that the digest changed
// by the key's entry: it returns the key's bucket and version.
func (c *caseRun) digestPut(key string) (int, string, error) {
	before, err := c.digest()
	if err != nil {
		return 0, "", err
	}
	version, err := c.putVersion(key, `"digest"`)
	if err != nil {
		return 0, "", err
	}
	after, err := c.digest()
	if err != nil {
		return 0, "", err
	}
	if after.Buckets != before.Buckets {
		return 0, "", c.wrongWhy("the same bucket count as before", "another one")
	}
	b := bucketOf(key, after.Buckets)
	want := entryHash(key, version)
	got := laneDiff(after.Hashes[b], before.Hashes[b])
	if got != want {
		return 0, "", c.wrongWhy("bucket "+strconv.Itoa(b)+" of "+strconv.Itoa(after.Buckets)+" to grow by SHA-256("+strconv.Quote(cut(key, 40)+"@"+version)+")",
			"it grew by "+got)
	}
	return b, version, nil
}

// bucketOf is a key's bucket among n: the first 8 bytes of SHA-256(key),
// big-endian, mod n.
func bucketOf(key string, n int) int {
	sum := sha256.Sum256([]byte(key))
	return int(binary.BigEndian.Uint64(sum[:8]) % uint64(n))
}

// entryHash is SHA-256(key + "@" + version) in hex.
func entryHash(key, version string) string {
	sum := sha256.Sum256([]byte(key + "@" + version))
	return hex.EncodeToString(sum[:])
}

// laneDiff is a - b, lane by lane (four big-endian uint64s, mod 2^64), of
// two hex sums; "" when either is not one.
func laneDiff(a, b string) string {
	x, errA := hex.DecodeString(a)
	y, errB := hex.DecodeString(b)
	if errA != nil || errB != nil || len(x) != sha256.Size || len(y) != sha256.Size {
		return ""
	}
	out := make([]byte, sha256.Size)
	for i := 0; i < sha256.Size; i += 8 {
		binary.BigEndian.PutUint64(out[i:], binary.BigEndian.Uint64(x[i:])-binary.BigEndian.Uint64(y[i:]))
	}
	return hex.EncodeToString(out)
}
