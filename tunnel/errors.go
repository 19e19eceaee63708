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
	"unicode/utf8"
)

// ngrok error codes kvclass recognises. Each is documented at
// https://ngrok.com/docs/errors/err_ngrok_NNN.
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
	CodeEndpointOnline     = "ERR_NGROK_334"   // the URL is already online in another agent
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
	CodeMonthlyLimit      = "ERR_NGROK_727"  // the account used its HTTP requests for the month (free plan: 20,000)
	CodeRequestRateLimit  = "ERR_NGROK_734"  // too many requests per interval (free plan: 4,000 a minute)
	CodeAccountRateLimit  = "ERR_NGROK_1214" // the account is rate limited
)

// authtokenURL is where a student finds an authtoken.
const authtokenURL = "https://dashboard.ngrok.com/get-started/your-authtoken"

// ErrNoAuthtoken is returned by Listen when Options.Authtoken is empty; it
// never dials.
var ErrNoAuthtoken = errors.New("ngrok: no authtoken: copy yours from " + authtokenURL + " and run export NGROK_AUTHTOKEN=<your token>")

// Error is a failure to publish through ngrok, explained in one line that says
// what to do. Listen's errors are of this type (or ErrNoAuthtoken, or a
// context error).
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
	return describe(err, target{})
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
	return &Error{Code: errorCode(err), msg: describe(err, t), err: err}
}

// describe builds the one-line explanation of err.
func describe(err error, t target) string {
	service := "the ngrok service"
	if t.connectAddr != "" {
		service = "the ngrok service at " + t.connectAddr
	}
	requested := "the requested URL"
	if t.url != "" {
		requested = t.url
	}

	if errors.Is(err, ErrNoAuthtoken) {
		return ErrNoAuthtoken.Error()
	}
	if code := errorCode(err); code != "" {
		return describeCode(code, err, requested)
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

// describeCode explains an ngrok error code.
func describeCode(code string, err error, requested string) string {
	switch code {
	case CodeAuthtokenRequired:
		return ErrNoAuthtoken.Error()
	case CodeAuthtokenMalformed, CodeAuthtokenV1, CodeAuthtokenInvalid:
		return fmt.Sprintf("ngrok: the authtoken in NGROK_AUTHTOKEN was rejected (%s): copy it again from %s and run export NGROK_AUTHTOKEN=<your token>", code, authtokenURL)
	case CodeAgentLimit:
		return fmt.Sprintf("ngrok: this ngrok account already runs its maximum of agents (%s; 3 on the free plan): stop another kvclass or ngrok on this account (see https://dashboard.ngrok.com/agents) or use another account", code)
	case CodeSessionEndpoints, CodeAccountEndpoints:
		return fmt.Sprintf("ngrok: this ngrok account already has its maximum of online endpoints (%s; 3 on the free plan): stop another kvclass or ngrok on this account (see https://dashboard.ngrok.com/endpoints) or use another account", code)
	case CodeEndpointOnline:
		return fmt.Sprintf("ngrok: %s is already online in another agent (%s): stop the other kvclass or ngrok using it, or choose another --ngrok-url", requested, code)
	case CodeDomainForeign:
		return fmt.Sprintf("ngrok: the domain of %s is reserved by another ngrok account (%s): use your own domain from https://dashboard.ngrok.com/domains, or leave out --ngrok-url", requested, code)
	case CodeSubdomainReserve, CodeBaseDomainPlan:
		return fmt.Sprintf("ngrok: this ngrok account may not use the domain of %s (%s): use your own domain from https://dashboard.ngrok.com/domains, or leave out --ngrok-url", requested, code)
	case CodeDomainRequired:
		return fmt.Sprintf("ngrok: this ngrok plan needs a registered domain (%s): copy or register one at https://dashboard.ngrok.com/domains and pass it as --ngrok-url", code)
	case CodeEndpointRateLimit, CodeRequestRateLimit, CodeConnRateLimit, CodeAccountRateLimit:
		return fmt.Sprintf("ngrok: rate limit reached (%s): wait a minute and start again", code)
	case CodeMonthlyLimit:
		return fmt.Sprintf("ngrok: this ngrok account used up its HTTP requests for the month (%s; 20,000 on the free plan): use another account or see https://dashboard.ngrok.com/billing", code)
	case CodeIPBlocked:
		return fmt.Sprintf("ngrok: ngrok refuses agents from this network (%s): try another network", code)
	}
	msg := ngrokMessage(err)
	if msg == "" {
		return fmt.Sprintf("ngrok: error %s: see https://ngrok.com/docs/errors/%s", code, strings.ToLower(code))
	}
	return fmt.Sprintf("ngrok: %s (%s): see https://ngrok.com/docs/errors/%s", msg, code, strings.ToLower(code))
}

// codePattern finds an ngrok error code in error text; the SDK itself finds
// codes in the edge's messages this way.
var codePattern = regexp.MustCompile(`ERR_NGROK_[0-9]+`)

// errorCode returns the ngrok error code err carries, or "". The SDK exposes
// it as Code() (ngrok.Error) on Listen errors and as ErrorCode() on session
// errors reported through events; the text is the fallback.
func errorCode(err error) string {
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

// ngrokMessage returns the first line of the edge's message in err, without
// the SDK's prefixes and the code.
func ngrokMessage(err error) string {
	var legacy interface{ Msg() string }
	text := err.Error()
	if errors.As(err, &legacy) {
		text = legacy.Msg()
	}
	for line := range strings.SplitSeq(text, "\n") {
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
