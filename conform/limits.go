package conform

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/kvclass/kvclass/kvapi"
)

// limitCases check kvclass's bounds on what a client may send, which keep
// one student's curl from filling another's laptop: a body over 1 MiB is
// 413, a key over 1 KiB is 400.
func limitCases() []testCase {
	return []testCase{
		{GroupLimits, "body-too-large", "a put body over " + strconv.Itoa(kvapi.DefaultMaxBody) + " bytes is 413", func(c *caseRun) error {
			key := c.key("")
			pad := kvapi.DefaultMaxBody + 1 - len(valueBody(`""`))
			body := valueBody(`"` + strings.Repeat("x", pad) + `"`)
			_, err := c.expectStatus(putRequest(key, body), key, http.StatusRequestEntityTooLarge)
			return err
		}},
		{GroupLimits, "key-too-long", "a key over " + strconv.Itoa(kvapi.DefaultMaxKey) + " bytes is 400", func(c *caseRun) error {
			key := c.key("-")
			key += strings.Repeat("k", kvapi.DefaultMaxKey+1-len(key))
			_, err := c.expectStatus(putRequest(key, valueBody(`"v"`)), key, http.StatusBadRequest)
			return err
		}},
	}
}
