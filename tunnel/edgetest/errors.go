package edgetest

import "fmt"

// Error codes this edge answers with. The texts follow ngrok's error pages
// (https://ngrok.com/docs/errors/) so the SDK surfaces them as it would from
// the real service.
const (
	codeAuthtokenRequired  = "ERR_NGROK_4018"  // no authtoken at all
	codeAuthtokenInvalid   = "ERR_NGROK_107"   // a token the account does not know
	codeAgentLimit         = "ERR_NGROK_108"   // too many simultaneous agent sessions on the account
	codeEndpointLimit      = "ERR_NGROK_18021" // too many online endpoints on the account
	codeDomainForeign      = "ERR_NGROK_320"   // the domain is reserved by another account
	codeEndpointOnline     = "ERR_NGROK_334"   // the URL is already online elsewhere
	codeRestartUnsupported = "ERR_NGROK_804"   // the agent does not support remote restarting
	codeStopUnsupported    = "ERR_NGROK_805"   // the agent does not support remote stopping
	codeEndpointOffline    = "ERR_NGROK_3200"  // public side: no agent serves the endpoint
)

// ngrokError formats msg the way ngrok's edge sends RPC errors: the message,
// a blank line, then the code on its own line. The SDK extracts the code with
// a regular expression over this text.
func ngrokError(code, format string, args ...any) string {
	return fmt.Sprintf(format, args...) + "\r\n\r\n" + code + "\r\n"
}

// Messages as ngrok's edge words them (ngrok's error pages, with the values
// filled in).
const (
	msgAgentLimit = "Your account is limited to %d simultaneous ngrok agent sessions.\n" +
		"Run multiple endpoints at the same time from a single agent by defining them in your agent configuration file and running `ngrok start --all`.\n" +
		"Read more about the agent configuration file: https://ngrok.com/docs/agent/config/\n" +
		"You can view your current agent sessions in the dashboard: https://dashboard.ngrok.com/agents. Upgrade to a paid plan to remove this limit:\n" +
		"https://dashboard.ngrok.com/billing/choose-a-plan"
	msgEndpointOnline = "The endpoint '%s' is already online. Either\n" +
		"1. stop your existing endpoint first, or\n" +
		"2. start both endpoints with `--pooling-enabled` to load balance between them."
	msgEndpointLimit = "You have exceeded the maximum number of concurrent endpoints allowed for this account. " +
		"Log into https://dashboard.ngrok.com/billing to review your usage and https://dashboard.ngrok.com/billing/choose-a-plan to view your subscription options."
	msgDomainForeign = "This domain is reserved for another account.\n" +
		"Failed to create an endpoint with the domain %s for the account edgetest.\n" +
		"Reserve a name on your dashboard: https://dashboard.ngrok.com/domains/new"
	msgStopUnsupported    = "This ngrok agent does not support remote stopping: %s."
	msgRestartUnsupported = "This ngrok agent does not support remote restarting: %s."
	msgEndpointStopped    = "The endpoint %s was stopped from the ngrok dashboard."
)
