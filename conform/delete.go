package conform

import "net/http"

// deleteCases check DELETE /delete, kvclass's addition to the seed's API.
// Run deletes the keys it wrote only when the "delete" case passes.
func deleteCases() []testCase {
	return []testCase{
		{GroupDelete, "delete", "DELETE /delete?key=KEY answers 200, and the key is gone (a get is 404)", func(c *caseRun) error {
			key := c.key("")
			if err := c.put(key, `"doomed"`); err != nil {
				return err
			}
			if _, err := c.expectStatus(request{method: http.MethodDelete, target: keyTarget("/delete", key)}, "", http.StatusOK); err != nil {
				return err
			}
			return c.expectMissing(key)
		}},
		{GroupDelete, "delete-missing", `deleting a key never stored is 404 {"error": ..., "key": KEY}, as for a get`, func(c *caseRun) error {
			key := c.key("")
			return c.expectNotFound(request{method: http.MethodDelete, target: keyTarget("/delete", key)}, key)
		}},
		{GroupDelete, "delete-no-key", "a delete without a key is 400", func(c *caseRun) error {
			_, err := c.expectStatus(request{method: http.MethodDelete, target: "/delete"}, "", http.StatusBadRequest)
			return err
		}},
	}
}
