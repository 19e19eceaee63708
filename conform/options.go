package conform

import (
	"net/http"
	"time"
)

// Defaults of Options.
const (
	// DefaultTimeout is how long one request may take, answer included.
	DefaultTimeout = 2 * time.Second
	// DefaultMaxAnswer is the largest answer body read, in bytes.
	DefaultMaxAnswer = 1 << 20
	// DefaultCheckBudget is how long Check may take in all.
	DefaultCheckBudget = 5 * time.Second
)

// KeyPrefix starts every key the suite writes, so a node's owner (and the
// page) can tell the checker's keys from the class's.
const KeyPrefix = "kvclass-conform-"

// giveUpAfter is how many cases in a row may get no answer at all before
// the rest of a run is not run: a hung server fails in seconds, not minutes.
const giveUpAfter = 3

// Options configures Run and Check. The zero value is ready to use.
type Options struct {
	// Client sends the requests; nil uses a client of the run's own. It
	// should not follow redirects: a redirected put is not a put. The
	// proxy passes its client for joined nodes, which dials through its
	// URL policy.
	Client *http.Client

	// Header is added to every request: User-Agent, and
	// ngrok-skip-browser-warning for nodes behind ngrok.
	Header http.Header

	// Timeout bounds each request, its answer included; default
	// DefaultTimeout.
	Timeout time.Duration

	// MaxAnswer is the largest answer body read, in bytes; default
	// DefaultMaxAnswer. A larger answer fails its case.
	MaxAnswer int64

	// Budget bounds the whole run: a case that would start after it is
	// spent is not run, and no request outlives it. Zero means no budget
	// for Run and DefaultCheckBudget for Check.
	Budget time.Duration

	// Groups names the extension groups Run runs, in addition to the core:
	// nil runs them all, an empty list none. Check ignores it.
	Groups []string

	// Keep leaves the keys a run wrote on the node. By default they are
	// deleted when the node passes the delete group (Run) or answers a
	// delete with 200 (Check).
	Keep bool

	// OnResult, if set, is called with each case's result as it ends, in
	// order, from the goroutine that called Run: "kvclass conform" prints
	// lines as they come.
	OnResult func(Result)
}

func (o Options) timeout() time.Duration {
	if o.Timeout > 0 {
		return o.Timeout
	}
	return DefaultTimeout
}

func (o Options) maxAnswer() int64 {
	if o.MaxAnswer > 0 {
		return o.MaxAnswer
	}
	return DefaultMaxAnswer
}

// newClient returns a client for a run that was given none: it does not
// follow redirects, and keeps enough idle connections for the concurrent
// case.
func newClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = concurrentPuts
	return &http.Client{
		Transport:     t,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}
