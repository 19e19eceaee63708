package node

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/kvclass/kvclass/kvapi"
)

// digest answers GET /digest[?buckets=N]: the node's per-bucket hashes of
// key@version (kvapi.Digest), for the proxy's anti-entropy.
func (h *Handler) digest(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		kvapi.WriteError(w, kvapi.MethodNotAllowed(r.Method, "GET"))
		return
	}
	q := r.URL.Query()
	n, apiErr := bucketsParam(q)
	if apiErr != nil {
		kvapi.WriteError(w, apiErr)
		return
	}
	kvapi.WriteValue(w, http.StatusOK, h.store.Digest(n))
}

// keys answers GET /keys?bucket=B[&buckets=N][&after=K][&limit=L]: the
// keys of one bucket with their versions (kvapi.KeyList).
func (h *Handler) keys(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		kvapi.WriteError(w, kvapi.MethodNotAllowed(r.Method, "GET"))
		return
	}
	q := r.URL.Query()
	n, apiErr := bucketsParam(q)
	if apiErr != nil {
		kvapi.WriteError(w, apiErr)
		return
	}
	b, err := strconv.Atoi(q.Get("bucket"))
	if err != nil || b < 0 || b >= n {
		kvapi.WriteError(w, kvapi.Errorf(http.StatusBadRequest, "Please provide bucket: a number from 0 to "+strconv.Itoa(n-1)+" (with buckets="+strconv.Itoa(n)+")."))
		return
	}
	limit := kvapi.MaxKeysPage
	if s := q.Get("limit"); s != "" {
		if limit, err = strconv.Atoi(s); err != nil || limit < 1 || limit > kvapi.MaxKeysPage {
			kvapi.WriteError(w, kvapi.Errorf(http.StatusBadRequest, "limit must be a number from 1 to "+strconv.Itoa(kvapi.MaxKeysPage)+"."))
			return
		}
	}
	kvapi.WriteValue(w, http.StatusOK, h.store.BucketKeys(b, n, q.Get("after"), limit))
}

// bucketsParam returns the "buckets" parameter, kvapi.DefaultBuckets when
// absent.
func bucketsParam(q url.Values) (int, *kvapi.Error) {
	s := q.Get("buckets")
	if s == "" {
		return kvapi.DefaultBuckets, nil
	}
	n, err := strconv.Atoi(s)
	if err == nil {
		err = kvapi.CheckBuckets(n)
	}
	if err != nil {
		return 0, kvapi.Errorf(http.StatusBadRequest, "The "+strconv.Quote(kvapi.Truncate(s, 20))+" in ?buckets= is not a bucket count: "+kvapi.CheckBuckets(-1).Error()+".")
	}
	return n, nil
}
