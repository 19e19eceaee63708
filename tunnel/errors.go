package tunnel

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// ngrok error codes kvclass recognises. Each is documented at
// https://ngrok.com/docs/errors/err_ngrok_NNN; codes is what kvclass says
// about each.
const (
	// Agent session (Listen) errors.
	CodeAuthtokenMalformed = "ERR_NGROK_105"   // the authtoken does not look like an ngrok authtoken
	CodeAuthtokenV1        = "ERR_NGROK_106"   // an ngrok v1 authtoken, no longer accepted
	CodeAuthtokenInvalid   = "ERR_NGROK_107"   // well formed but unknown, reset or revoked
	CodeAuthtokenRequired  = "ERR_NGROK_4018"  // no authtoken: ngrok needs a verified account
	CodeAgentLimit         = "ERR_NGROK_108"   // the account runs its maximum of agent sessions (free plan: 3)
	CodeSessionEndpoints   = "ERR_NGROK_324"   // too many endpoints on one agent session
	CodeAccountEndpoints   = "ERR_NGROK_18021" // too many online endpoints on the account (free plan: 3)
	CodeEndpointRateLimit  = "ERR_NGROK_351"   // endpoints created too fast
	CodeDomainForeign      = "ERR_NGROK_320"   // the domain is reserved by another account
	CodeEndpointOnline     = "ERR_NGROK_334"   // the URL is already online in another session
	CodeSubdomainReserve   = "ERR_NGROK_354"   // a nested subdomain of an ngrok domain must be reserved first
	CodeBaseDomainPlan     = "ERR_NGROK_15000" // the plan may not start endpoints on that base domain
	CodeDomainRequired     = "ERR_NGROK_15002" // the plan needs a registered domain before any endpoint
	CodeIPBlocked          = "ERR_NGROK_9040"  // ngrok refuses agents from this IP address

	// Edge answers to HTTP requests, in the Ngrok-Error-Code response header.
	CodeEndpointOffline   = "ERR_NGROK_3200" // no agent serves the endpoint
	CodeBadUpstreamAnswer = "ERR_NGROK_3004" // the agent's upstream sent an invalid HTTP response
	CodeAgentForward      = "ERR_NGROK_3210" // the edge could not forward the connection to the agent
	CodeUpstreamRefused   = "ERR_NGROK_8012" // the agent could not connect to its upstream
	CodeBrowserWarning    = "ERR_NGROK_6024" // the free plan's warning page shown to browsers
	CodeConnRateLimit     = "ERR_NGROK_702"  // too many connections a minute on the session
	CodeMonthlyBandwidth  = "ERR_NGROK_725"  // the account used its data transfer for the month (free plan: 1 GB)
	CodeMonthlyLimit      = "ERR_NGROK_727"  // the account used its HTTP requests for the month (free plan: 20,000)
	CodeRequestRateLimit  = "ERR_NGROK_734"  // too many requests per interval (free plan: 4,000 a minute)
	CodeAccountRateLimit  = "ERR_NGROK_1214" // the account is rate limited
)

// URLs a message points to.
const (
	authtokenURL = "https://dashboard.ngrok.com/get-started/your-authtoken"
	agentsURL    = "https://dashboard.ngrok.com/agents"
	endpointsURL = "https://dashboard.ngrok.com/endpoints"
	domainsURL   = "https://dashboard.ngrok.com/domains"
	billingURL   = "https://dashboard.ngrok.com/billing"
)

// ownAccount is the advice when an account's one URL or its agents are
// taken: on the free plan nobody can share an account.
const ownAccount = "every student needs their own ngrok account (free at https://dashboard.ngrok.com/signup), or can join with --relay, which needs none"

// ErrNoAuthtoken is returned by Listen when Options.Authtoken is empty; it
// never dials.
var ErrNoAuthtoken = errors.New("ngrok: no authtoken: copy yours from " + authtokenURL + " and run export NGROK_AUTHTOKEN=<your token>")

// Error is a failure to publish through ngrok, explained in one line that says
// what to do. Listen's errors are of this type (or ErrNoAuthtoken, or a
// context error), and so is a final error of Accept.
type Error struct {
	// Code is the ngrok error code (ERR_NGROK_...), if ngrok sent one.
	Code string
	msg  string
	err  error
}

// Error returns the one-line explanation.
func (e *Error) Error() string { return e.msg }

// Unwrap returns the SDK's error.
func (e *Error) Unwrap() error { return e.err }

// Explain returns a one-line explanation of err for a terminal: what went
// wrong and what to do. It recognises the SDK's ngrok error codes, network
// and certificate failures; anything else is reduced to its first line.
func Explain(err error) string {
	if err == nil {
		return ""
	}
	var te *Error
	if errors.As(err, &te) {
		return te.msg
	}
	return describe(err, target{}, 0)
}

// ExplainEdgeCode explains, in one line for a terminal, an answer that
// ngrok's edge made itself to an HTTP request for url: code is the value of
// the response's ErrorCodeHeader (an endpoint offline, a rate limit, a
// monthly cap). It says what happened and what to do; a value that is not an
// ngrok error code gives a generic line without echoing it.
func ExplainEdgeCode(code, url string) string {
	if !edgeCodePattern.MatchString(code) {
		return fmt.Sprintf("ngrok answered for %s with an error: check that the kvclass behind it runs", url)
	}
	return "ngrok: " + lookup(code).explain(facts{code: code, url: url, edge: true})
}

// target is what a failed Listen was trying to reach, for the explanation.
type target struct {
	url         string // Options.URL
	connectAddr string // edge host:port
}

// explain wraps err in an *Error whose message is describe's.
func explain(err error, t target) error {
	if err == nil {
		return nil
	}
	var te *Error
	if errors.As(err, &te) || errors.Is(err, ErrNoAuthtoken) {
		return err
	}
	return &Error{Code: errorCode(err), msg: describe(err, t, 0), err: err}
}

// explainAfter is explain for an error that persisted through a wait of
// waited for ngrok to release a URL or an agent session.
func explainAfter(err error, t target, waited time.Duration) error {
	var te *Error
	if errors.As(err, &te) {
		err = te.err
	}
	return &Error{Code: errorCode(err), msg: describe(err, t, waited), err: err}
}

// describe builds the one-line explanation of err; waited is how long
// Listen waited for ngrok to release what err says is held, if it did.
func describe(err error, t target, waited time.Duration) string {
	service := "the ngrok service"
	if t.connectAddr != "" {
		service = "the ngrok service at " + t.connectAddr
	}

	if errors.Is(err, ErrNoAuthtoken) {
		return ErrNoAuthtoken.Error()
	}
	if code := errorCode(err); code != "" {
		f := facts{code: code, err: err, url: reportedURL(err, t), requested: t.url != "", waited: waited}
		return "ngrok: " + lookup(code).explain(f)
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return fmt.Sprintf("ngrok: cannot resolve %s (%s): check the internet connection or --ngrok-connect-url", dnsErr.Name, dnsErr.Err)
	}
	if isCertificateError(err) {
		return fmt.Sprintf("ngrok: %s presented a TLS certificate this machine does not trust (%s): if a school proxy inspects TLS, or for a local edge, pass its CA with --ngrok-ca FILE",
			service, oneLine(rootCause(err)))
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Op == "dial" {
		return fmt.Sprintf("ngrok: cannot reach %s (%s): check the internet connection, a firewall, or --ngrok-connect-url", service, oneLine(opErr.Err))
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Sprintf("ngrok: no answer from %s in time: check the internet connection, a firewall, or --ngrok-connect-url", service)
	}
	return "ngrok: " + oneLine(err)
}

// facts are what an explanation of a code may use.
type facts struct {
	code      string
	err       error         // the SDK's error; nil for an edge answer
	url       string        // the URL concerned: the one ngrok reported or was asked for
	requested bool          // the URL came from --ngrok-url
	waited    time.Duration // how long Listen waited for a release, if it did
	edge      bool          // an answer the edge made to an HTTP request
}

// codeInfo is what kvclass says about one ngrok error code.
type codeInfo struct {
	// reason is a few words for the /state page (EdgeError).
	reason string
	// explain is the one-line explanation, after "ngrok: ".
	explain func(f facts) string
}

// codes is the one table of ngrok error codes: both Listen's errors and the
// edge's answers to requests are explained from it.
var codes = map[string]codeInfo{
	CodeAuthtokenRequired: {"authtoken required", func(facts) string {
		return strings.TrimPrefix(ErrNoAuthtoken.Error(), "ngrok: ")
	}},
	CodeAuthtokenMalformed: {"authtoken rejected", tokenRejected},
	CodeAuthtokenV1:        {"authtoken rejected", tokenRejected},
	CodeAuthtokenInvalid:   {"authtoken rejected", tokenRejected},
	CodeAgentLimit: {"agent limit reached", func(f facts) string {
		limit := "its limit of agent sessions (3 on the free plan)"
		if m := agentMax.FindStringSubmatch(message(f.err)); m != nil {
			limit = "its limit of " + m[1] + " agent sessions"
		}
		still, after := "already", ""
		if f.waited > 0 {
			still, after = "still", " after waiting "+f.waited.String()
		}
		return fmt.Sprintf("this ngrok account %s runs %s%s (%s): someone else is using this NGROK_AUTHTOKEN, or an earlier kvclass or ngrok still runs on this account (see %s); %s",
			still, limit, after, f.code, agentsURL, ownAccount)
	}},
	CodeEndpointOnline: {"URL already online", func(f facts) string {
		still, where := "already", "in another session"
		if f.waited > 0 {
			still = "still"
			where += " after waiting " + f.waited.String()
		}
		if f.requested {
			return fmt.Sprintf("%s is %s online %s of this ngrok account (%s): someone else is using this NGROK_AUTHTOKEN, or an earlier kvclass or ngrok still runs with this URL (see %s): stop it, or pass another of your domains as --ngrok-url",
				f.url, still, where, f.code, endpointsURL)
		}
		return fmt.Sprintf("%s, the one URL of this ngrok account, is %s online %s (%s): someone else is using this NGROK_AUTHTOKEN, or an earlier kvclass or ngrok still runs on this account (see %s); %s",
			f.url, still, where, f.code, endpointsURL, ownAccount)
	}},
	CodeAccountEndpoints: {"endpoint limit reached", func(f facts) string {
		return fmt.Sprintf("this ngrok account already has its maximum of online endpoints (%s; 3 on the free plan): stop another kvclass or ngrok on this account (see %s); %s",
			f.code, endpointsURL, ownAccount)
	}},
	CodeSessionEndpoints: {"endpoint limit reached", func(f facts) string {
		return fmt.Sprintf("this ngrok agent session already runs its maximum of endpoints (%s): stop the other endpoints of this agent (see %s)", f.code, endpointsURL)
	}},
	CodeEndpointRateLimit: {"endpoint rate limit reached", func(f facts) string {
		return fmt.Sprintf("this ngrok account reached its rate limit for starting endpoints (%s): wait a minute and start again", f.code)
	}},
	CodeDomainForeign: {"domain of another account", func(f facts) string {
		return fmt.Sprintf("the domain of %s is reserved by another ngrok account (%s): use your own domain from %s, or leave out --ngrok-url", f.url, f.code, domainsURL)
	}},
	CodeSubdomainReserve: {"domain not allowed", domainNotAllowed},
	CodeBaseDomainPlan:   {"domain not allowed", domainNotAllowed},
	CodeDomainRequired: {"domain required", func(f facts) string {
		return fmt.Sprintf("this ngrok plan needs a registered domain (%s): copy or register one at %s and pass it as --ngrok-url", f.code, domainsURL)
	}},
	CodeIPBlocked: {"network refused", func(f facts) string {
		return fmt.Sprintf("ngrok refuses agents from this network (%s): try another network", f.code)
	}},

	CodeEndpointOffline: {"endpoint offline", func(f facts) string {
		return fmt.Sprintf("no agent serves %s (%s, endpoint offline): check that the kvclass behind it still runs and that %s is its current URL", f.url, f.code, f.url)
	}},
	CodeUpstreamRefused: {"agent could not reach the node", func(f facts) string {
		return fmt.Sprintf("the ngrok agent behind %s could not reach its local server (%s): the kvclass behind it is stopping or broken; restart it", f.url, f.code)
	}},
	CodeBadUpstreamAnswer: {"invalid response from the node", func(f facts) string {
		return fmt.Sprintf("the server behind %s sent an invalid HTTP answer (%s): check the program behind it", f.url, f.code)
	}},
	CodeAgentForward: {"could not forward to the agent", func(f facts) string {
		return fmt.Sprintf("ngrok could not reach the agent behind %s (%s): its network may be down; it reconnects by itself, try again in a minute", f.url, f.code)
	}},
	CodeBrowserWarning: {"browser warning page", func(f facts) string {
		return fmt.Sprintf("ngrok answered %s with its browser warning page (%s): send the header ngrok-skip-browser-warning (kvclass does), or open the URL in a browser once and click Visit Site", f.url, f.code)
	}},
	CodeConnRateLimit: {"connection rate limit reached", func(f facts) string {
		return fmt.Sprintf("the ngrok account behind %s reached its connection rate limit (%s): wait a minute and try again", accountURL(f), f.code)
	}},
	CodeRequestRateLimit: {"request rate limit reached", func(f facts) string {
		return fmt.Sprintf("the ngrok account behind %s reached its request rate limit (%s; 4,000 a minute on the free plan): wait a minute, then send fewer requests", accountURL(f), f.code)
	}},
	CodeAccountRateLimit: {"request rate limit reached", func(f facts) string {
		return fmt.Sprintf("the ngrok account behind %s reached a rate limit (%s): wait a minute, then send fewer requests", accountURL(f), f.code)
	}},
	CodeMonthlyLimit: {"monthly request limit reached", func(f facts) string {
		return fmt.Sprintf("the ngrok account behind %s used up its HTTP requests for the month (%s; 20,000 on the free plan): nothing gets through it until next month; its owner needs another account or a paid plan (%s)", accountURL(f), f.code, billingURL)
	}},
	CodeMonthlyBandwidth: {"monthly data transfer limit reached", func(f facts) string {
		return fmt.Sprintf("the ngrok account behind %s used up its data transfer for the month (%s; 1 GB on the free plan): nothing gets through it until next month; its owner needs another account or a paid plan (%s)", accountURL(f), f.code, billingURL)
	}},
}

// tokenRejected explains an authtoken ngrok refused.
func tokenRejected(f facts) string {
	return fmt.Sprintf("the authtoken in NGROK_AUTHTOKEN was rejected (%s): copy it again from %s and run export NGROK_AUTHTOKEN=<your token>", f.code, authtokenURL)
}

// domainNotAllowed explains a domain the plan may not use.
func domainNotAllowed(f facts) string {
	return fmt.Sprintf("this ngrok account may not use the domain of %s (%s): use your own domain from %s, or leave out --ngrok-url", f.url, f.code, domainsURL)
}

// accountURL names the URL in a message, or "this URL".
func accountURL(f facts) string { return cmpOr(f.url, "this URL") }

// cmpOr returns a unless it is empty, else b.
func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// lookup returns what kvclass says about code; an unknown code is
// explained by ngrok's own message and error page.
func lookup(code string) codeInfo {
	if info, ok := codes[code]; ok {
		return info
	}
	page := "https://ngrok.com/docs/errors/" + strings.ToLower(code)
	return codeInfo{reason: "edge error", explain: func(f facts) string {
		if f.edge {
			return fmt.Sprintf("ngrok answered for %s with %s: see %s", accountURL(f), f.code, page)
		}
		if msg := ngrokMessage(f.err); msg != "" {
			return fmt.Sprintf("%s (%s): see %s", msg, f.code, page)
		}
		return fmt.Sprintf("error %s: see %s", f.code, page)
	}}
}

// trimPrefix drops the "ngrok: " an explanation starts with, to nest it in
// another.
func trimPrefix(msg string) string { return strings.TrimPrefix(msg, "ngrok: ") }

var (
	// codePattern finds an ngrok error code in error text; the SDK itself
	// finds codes in the edge's messages this way.
	codePattern = regexp.MustCompile(`ERR_NGROK_[0-9]+`)
	// quotedURL finds the URL ngrok names in a message, as in "The endpoint
	// 'https://x.ngrok-free.dev' is already online."
	quotedURL = regexp.MustCompile(`'(https?://[^'\s]+)'`)
	// agentMax finds the agent limit in ERR_NGROK_108's message.
	agentMax = regexp.MustCompile(`limited to ([0-9]+) simultaneous`)
)

// reportedURL returns the URL ngrok named in err, else the one asked for,
// else a description.
func reportedURL(err error, t target) string {
	if err != nil {
		if m := quotedURL.FindStringSubmatch(message(err)); m != nil {
			return m[1]
		}
	}
	return cmpOr(t.url, "this account's URL")
}

// errorCode returns the ngrok error code err carries, or "". The SDK exposes
// it as Code() (ngrok.Error) on Listen errors and as ErrorCode() on session
// errors reported through events; the text is the fallback.
func errorCode(err error) string {
	if err == nil {
		return ""
	}
	var te *Error
	if errors.As(err, &te) && te.Code != "" {
		return te.Code
	}
	var coded interface{ Code() string }
	if errors.As(err, &coded) && coded.Code() != "" {
		return coded.Code()
	}
	var legacy interface{ ErrorCode() string }
	if errors.As(err, &legacy) && legacy.ErrorCode() != "" {
		return legacy.ErrorCode()
	}
	return codePattern.FindString(err.Error())
}

// message returns the edge's message in err, or err's text.
func message(err error) string {
	if err == nil {
		return ""
	}
	var te *Error
	if errors.As(err, &te) && te.err != nil {
		err = te.err // the SDK's error, not kvclass's explanation of it
	}
	var legacy interface{ Msg() string }
	if errors.As(err, &legacy) {
		return legacy.Msg()
	}
	return err.Error()
}

// ngrokMessage returns the first line of the edge's message in err, without
// the SDK's prefixes and the code.
func ngrokMessage(err error) string {
	for line := range strings.SplitSeq(message(err), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || codePattern.MatchString(line) {
			continue
		}
		return clip(line)
	}
	return ""
}

// isCertificateError reports whether err is a failed verification of the
// edge's TLS certificate.
func isCertificateError(err error) bool {
	var (
		verifyErr    *tls.CertificateVerificationError
		authorityErr x509.UnknownAuthorityError
		hostErr      x509.HostnameError
		invalidErr   x509.CertificateInvalidError
	)
	return errors.As(err, &verifyErr) || errors.As(err, &authorityErr) ||
		errors.As(err, &hostErr) || errors.As(err, &invalidErr)
}

// rootCause returns the innermost error of a chain of single wraps.
func rootCause(err error) error {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err
		}
		err = next
	}
}

// oneLine returns err's text on one line, clipped.
func oneLine(err error) string {
	return clip(strings.Join(strings.Fields(err.Error()), " "))
}

// clip shortens s to a length that fits a terminal line.
func clip(s string) string {
	const max = 200
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
