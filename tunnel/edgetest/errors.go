package edgetest

import "fmt"

// Error codes this edge answers with. The texts follow ngrok's error pages
// (https://ngrok.com/docs/errors/) so the SDK surfaces them as it would from
// the real service.
const (
	codeAuthtokenRequired = "ERR_NGROK_4018"  // no authtoken at all
	codeAuthtokenInvalid  = "ERR_NGROK_107"   // a token the account does not know
	codeAgentLimit        = "ERR_NGROK_108"   // too many simultaneous agent sessions
	codeEndpointLimit     = "ERR_NGROK_18021" // too many online endpoints on the account
	codeDomainForeign     = "ERR_NGROK_320"   // the domain is reserved by another account
	codeEndpointOnline    = "ERR_NGROK_334"   // the URL is already online elsewhere
	codeEndpointOffline   = "ERR_NGROK_3200"  // public side: no agent serves the endpoint
)

// ngrokError formats msg the way ngrok's edge sends RPC errors: the message,
// a blank line, then the code on its own line. The SDK extracts the code with
// a regular expression over this text.
func ngrokError(code, format string, args ...any) string {
	return fmt.Sprintf(format, args...) + "\r\n\r\n" + code + "\r\n"
}
