package kvapi

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"
)

// This file is the registry's wire protocol, spoken by the proxy's registry
// and the node's join client; docs/REGISTRY.md describes it for readers of
// the wire.

// Registry endpoints on the proxy.
const (
	PathJoin      = "/registry/join"
	PathHeartbeat = "/registry/heartbeat"
	PathLeave     = "/registry/leave"
	PathWS        = "/registry/ws"
	PathRelay     = "/registry/relay"
)

// JoinRequest is the body of POST /registry/join and the first message on
// /registry/ws.
type JoinRequest struct {
	Name   string `json:"name"`
	URL    string `json:"url"`
	Token  string `json:"token"`
	Secret string `json:"secret,omitempty"`
	// Relay asks to be reached through the proxy's relay (GET
	// /registry/relay) instead of at a URL; URL is then empty.
	Relay bool `json:"relay,omitempty"`
	// Own says the node is a student's own implementation behind kvclass's
	// sidecar (kvclass node --upstream): the first product of its Server
	// header ("Werkzeug/3.0.1"), or "own" when it sends none; empty for
	// kvclass's own node. The page shows it; see OwnProduct.
	Own string `json:"own,omitempty"`
}

// RelayHello is the first message on /registry/relay: the joined node's
// name and secret. The proxy answers with a JoinReply (Secret empty) or a
// RegistryError, then the websocket carries the relay's byte stream.
type RelayHello struct {
	Name   string `json:"name"`
	Secret string `json:"secret"`
}

// RelayURL is how a node reached through the relay is named where a URL
// would be: "relay:NAME".
func RelayURL(name string) string { return "relay:" + name }

// JoinReply admits a node: its name, the secret that proves it from now on,
// and how often it must heartbeat.
type JoinReply struct {
	Name        string `json:"name"`
	Secret      string `json:"secret"`
	HeartbeatMS int64  `json:"heartbeat_ms"`
}

// NodeRequest is the body of POST /registry/heartbeat and /registry/leave.
type NodeRequest struct {
	Name   string `json:"name"`
	Secret string `json:"secret"`
	// Reason says why a leaving node stops, when it is not its owner's
	// Ctrl-C (its public URL is gone, say); the page shows it.
	Reason string `json:"reason,omitempty"`
}

// RegistryError is the registry's error body. Status is set on the
// websocket, where there is no HTTP status line.
type RegistryError struct {
	Error  string `json:"error"`
	Status int    `json:"status,omitempty"`
}

// Leave is a node's last message on its websocket: {"type": "leave"},
// with a reason when it is not its owner's Ctrl-C.
type Leave struct {
	Type   string `json:"type"` // LeaveType
	Reason string `json:"reason,omitempty"`
}

// LeaveType is the "type" of a Leave.
const LeaveType = "leave"

// Status is a node's report of its own health on its websocket, sent when
// it changes: {"type": "status", "up": false, "reason": "upstream:
// connection refused"} marks the node down with that reason while it stays
// joined and keeps heartbeating; {"type": "status", "up": true} marks it up
// again. kvclass's sidecar (kvclass node --upstream) sends it when the
// student's server behind it stops or starts answering. A rejoined node
// starts up: a node that is down sends its Status again after each join.
type Status struct {
	Type   string `json:"type"` // StatusType
	Up     bool   `json:"up"`
	Reason string `json:"reason,omitempty"` // why it is down, at most MaxReasonLen bytes
}

// StatusType is the "type" of a Status.
const StatusType = "status"

// MaxReasonLen bounds a leaving node's reason.
const MaxReasonLen = 200

// Websocket close codes the registry sends, besides the standard ones.
const (
	CloseKicked   = 4001 // the instructor removed the node
	CloseReplaced = 4002 // a newer connection took the node's place
	CloseLeft     = 4003 // the node left over HTTP
	// CloseRefused closes a node's relay whose node fails the contract at
	// join; the close text names the failing case. The node connects
	// again with backoff: its owner may fix the server meanwhile.
	CloseRefused = 4004
)

// MissedBeats is how many heartbeat intervals may pass before a node is
// marked down; a node gives up on a silent proxy after one more.
const MissedBeats = 3

// MaxNameLen is the longest node name.
const MaxNameLen = 32

// ErrBadName is wrapped by CheckName's refusals.
var ErrBadName = errors.New("bad node name")

// CheckName reports whether name may be used by a node: 1 to 32 characters,
// ASCII letters, digits, '-' and '_', starting with a letter or a digit.
// Names show on the projected page and in shell commands, so they are kept
// short and free of spaces and quotes.
func CheckName(name string) error {
	if name == "" {
		return fmt.Errorf("%w: the name is empty", ErrBadName)
	}
	if len(name) > MaxNameLen {
		return fmt.Errorf("%w: %q is longer than %d characters", ErrBadName, Truncate(name, 40), MaxNameLen)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if alnum || i > 0 && (c == '-' || c == '_') {
			continue
		}
		return fmt.Errorf("%w: %q: use 1-%d letters, digits, '-' and '_', starting with a letter or digit", ErrBadName, Truncate(name, 40), MaxNameLen)
	}
	return nil
}

// Bounds of a node secret's length.
const (
	MinSecretLen = 16
	MaxSecretLen = 128
)

// ValidSecret reports whether s has the form of a node secret: 16 to 128
// characters of base64url.
func ValidSecret(s string) bool {
	if len(s) < MinSecretLen || len(s) > MaxSecretLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// MaxURLLen bounds the length of a node URL.
const MaxURLLen = 1024

// ErrBadURL is wrapped by every refusal of a URL's form: scheme, host,
// userinfo, query, path.
var ErrBadURL = errors.New("bad URL")

// ParseNodeURL checks that rawURL has the form of a node's base URL,
// http(s)://host[:port] with nothing after it, and returns it in normal form
// (lower-case scheme and host, no trailing slash).
func ParseNodeURL(rawURL string) (*url.URL, error) {
	if rawURL == "" {
		return nil, fmt.Errorf("%w: the URL is empty", ErrBadURL)
	}
	if len(rawURL) > MaxURLLen {
		return nil, fmt.Errorf("%w: the URL is longer than %d bytes", ErrBadURL, MaxURLLen)
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		var urlErr *url.Error
		if errors.As(err, &urlErr) {
			err = urlErr.Err
		}
		return nil, fmt.Errorf("%w: %v", ErrBadURL, err)
	}
	u.Scheme = strings.ToLower(u.Scheme)
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("%w: %q: only http:// and https:// URLs are accepted", ErrBadURL, rawURL)
	case u.Opaque != "":
		return nil, fmt.Errorf("%w: %q: write it as http://host:port", ErrBadURL, rawURL)
	case u.User != nil:
		return nil, fmt.Errorf("%w: a node URL may not carry a user name or password", ErrBadURL)
	case u.Hostname() == "":
		return nil, fmt.Errorf("%w: %q has no host", ErrBadURL, rawURL)
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return nil, fmt.Errorf("%w: a node URL may not have a query or a fragment", ErrBadURL)
	}
	if port := u.Port(); port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("%w: port %q is not a port number", ErrBadURL, port)
		}
	} else if strings.HasSuffix(u.Host, ":") {
		return nil, fmt.Errorf("%w: %q has an empty port", ErrBadURL, rawURL)
	}
	u.Host = strings.ToLower(u.Host)
	if strings.Trim(u.Path, "/") != "" {
		return nil, fmt.Errorf("%w: %q: a node URL has no path; write it as scheme://host:port", ErrBadURL, rawURL)
	}
	u.Path, u.RawPath = "", ""
	return u, nil
}

// Truncate cuts s to at most n bytes on a character boundary, adding "...",
// for messages that quote what a client sent.
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}
