package conform

import (
	"context"
	"net/http"
)

// CheckRequests is the most requests Check sends: 4 for its cases and a
// delete. Over ngrok each one counts against the free plan's quota.
const CheckRequests = 5

// checkKeySuffix follows the run's prefix in the one key Check writes: it
// holds every character the seed's proxy broke, so the 404 that names it
// shows whether the node decodes keys right.
const checkKeySuffix = "join a&b=c#d+e%41/f é-ключ-🔑"

// Failure is Check's verdict on a node that fails the contract: the first
// case it failed.
type Failure struct{ Result Result }

// Error is the case in one line, "core/get-missing: GET /get?key=...:
// expected 404 ..., got 200 ...", for the proxy's 422 to a joining node.
func (f *Failure) Error() string { return f.Result.Line() }

// checkCases is Check's cheap subset of the core: health, then the 404 and
// a put and get of a string, all on one key with every awkward character.
func checkCases() []testCase {
	key := func(c *caseRun) string { return c.prefix + checkKeySuffix }
	return []testCase{healthCase(), getMissingCase(key), putGetCase(key)}
}

// Check runs a cheap subset of the core against the node at baseURL (at
// most CheckRequests requests, within opts.Budget, DefaultCheckBudget by
// default): what the proxy asks of a node when it joins, so a half-finished
// implementation never corrupts a class's data. It uses opts.Client and
// opts.Header as given.
//
// It returns nil when the node passes, a *Failure naming the first failing
// case when it does not (nothing answering is a failure too), an error
// wrapping kvapi.ErrBadURL for a bad URL, or ctx's error. It writes one
// key, "kvclass-conform-<random>-join ...", and deletes it afterwards unless
// opts.Keep is set (best effort, within the budget: a node without DELETE
// /delete keeps it).
func Check(ctx context.Context, baseURL string, opts Options) error {
	if opts.Budget <= 0 {
		opts.Budget = DefaultCheckBudget
	}
	r, err := newRunner(baseURL, opts)
	if err != nil {
		return err
	}
	if opts.Client == nil {
		defer r.client.CloseIdleConnections()
	}
	var failure *Failure
	for _, tc := range checkCases() {
		if err := ctx.Err(); err != nil {
			return err
		}
		if r.budgetSpent() {
			failure = &Failure{skip(tc, "the check's time budget of "+r.budget.String()+" was spent")}
			break
		}
		if res, _ := r.runCase(ctx, tc); !res.Passed {
			failure = &Failure{res}
			break
		}
	}
	if !opts.Keep {
		for _, key := range r.writtenKeys() {
			r.do(ctx, request{method: http.MethodDelete, target: keyTarget("/delete", key)})
		}
	}
	if failure != nil {
		return failure
	}
	return nil
}
