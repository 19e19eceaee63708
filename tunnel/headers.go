package tunnel

import "regexp"

// ErrorCodeHeader is the response header in which ngrok's edge names the
// error when it answers a request itself (the endpoint is offline, a rate
// limit, the monthly cap) instead of passing it to the agent. A response that
// carries it did not come from the node.
const ErrorCodeHeader = "Ngrok-Error-Code"

// SkipWarningHeader, sent with any value, lets a request to a free-plan
// endpoint through without ngrok's browser warning page (ERR_NGROK_6024).
const SkipWarningHeader = "ngrok-skip-browser-warning"

// edgeCodePattern is the shape of a well-formed ngrok error code.
var edgeCodePattern = regexp.MustCompile(`^ERR_NGROK_[0-9]{1,6}$`)

// EdgeError turns the ngrok error code in a response's ErrorCodeHeader into a
// short reason for the /state page, e.g. "ngrok: endpoint offline
// (ERR_NGROK_3200)". It returns "" for an empty code; a value that is not an
// ngrok error code gives a generic reason without echoing it. ExplainEdgeCode
// gives the full line for a terminal.
func EdgeError(code string) string {
	if code == "" {
		return ""
	}
	if !edgeCodePattern.MatchString(code) {
		return "ngrok: edge error"
	}
	return "ngrok: " + lookup(code).reason + " (" + code + ")"
}
