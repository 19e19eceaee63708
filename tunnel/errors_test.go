package tunnel_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/kvclass/kvclass/tunnel"
)

// codedError is shaped like the SDK's errors: the edge's text plus a Code.
type codedError struct{ code, text string }

func (e codedError) Error() string { return e.text + "\r\n\r\n" + e.code + "\r\n" }
func (e codedError) Code() string  { return e.code }

func TestExplain(t *testing.T) {
	cases := []struct {
		name  string
		err   error
		wants []string
	}{
		{"no token", tunnel.ErrNoAuthtoken, []string{"export NGROK_AUTHTOKEN=", "dashboard.ngrok.com"}},
		{"token required by ngrok", codedError{"ERR_NGROK_4018", "Usage of ngrok requires a verified account and authtoken."}, []string{"export NGROK_AUTHTOKEN="}},
		{"malformed token", codedError{"ERR_NGROK_105", "The authtoken you specified does not look like a proper ngrok authtoken.\nYour authtoken: SECRET"}, []string{"rejected", "ERR_NGROK_105"}},
		{"agent limit", codedError{"ERR_NGROK_108", "Your account is limited to 3 simultaneous ngrok agent sessions."}, []string{"limit of 3 agent sessions", "NGROK_AUTHTOKEN", "earlier kvclass or ngrok", "own ngrok account", "--relay", "ERR_NGROK_108"}},
		{"agent limit without a number", codedError{"ERR_NGROK_108", "Your account is limited."}, []string{"3 on the free plan", "ERR_NGROK_108"}},
		{"session endpoints", codedError{"ERR_NGROK_324", "Your account may not run more than 3 endpoints over a single ngrok agent session."}, []string{"maximum of endpoints", "ERR_NGROK_324"}},
		{"account endpoints", codedError{"ERR_NGROK_18021", "You have exceeded the maximum number of concurrent endpoints allowed for this account."}, []string{"maximum of online endpoints", "3 on the free plan", "--relay", "ERR_NGROK_18021"}},
		{"rate limit", codedError{"ERR_NGROK_734", "You have exceeded your limit of 4000 requests per minute."}, []string{"rate limit", "wait a minute"}},
		{"monthly cap", codedError{"ERR_NGROK_727", "This ngrok account has reached its HTTP requests limit for the month."}, []string{"for the month", "20,000"}},
		{"domain required", codedError{"ERR_NGROK_15002", "Your account is on the Free plan, which requires you to register a Domain."}, []string{"registered domain", "--ngrok-url"}},
		{"code only in text", fmt.Errorf("failed to start tunnel: %w", errors.New("The endpoint 'https://a.ngrok-free.dev' is already online.\r\n\r\nERR_NGROK_334\r\n")), []string{"https://a.ngrok-free.dev", "already online", "NGROK_AUTHTOKEN", "earlier kvclass or ngrok", "own ngrok account", "--relay"}},
		{"unknown code", codedError{"ERR_NGROK_99999", "Something new happened.\nSecond line."}, []string{"Something new happened.", "ERR_NGROK_99999", "https://ngrok.com/docs/errors/err_ngrok_99999"}},
		{"dial", &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect: connection refused")}, []string{"cannot reach", "connection refused", "--ngrok-connect-url"}},
		{"dns", &net.DNSError{Name: "connect.ngrok-agent.com", Err: "no such host"}, []string{"cannot resolve connect.ngrok-agent.com"}},
		{"deadline", fmt.Errorf("dial: %w", context.DeadlineExceeded), []string{"no answer"}},
		{"other", errors.New("first line\nsecond line"), []string{"ngrok: first line second line"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := tunnel.Explain(c.err)
			if strings.ContainsAny(got, "\r\n") {
				t.Errorf("Explain = %q is not one line", got)
			}
			if strings.Contains(got, "SECRET") {
				t.Errorf("Explain = %q repeats the token", got)
			}
			for _, want := range c.wants {
				if !strings.Contains(got, want) {
					t.Errorf("Explain = %q lacks %q", got, want)
				}
			}
		})
	}
	if got := tunnel.Explain(nil); got != "" {
		t.Errorf("Explain(nil) = %q", got)
	}
}

func TestEdgeError(t *testing.T) {
	cases := map[string]string{
		"":                "",
		"ERR_NGROK_3200":  "ngrok: endpoint offline (ERR_NGROK_3200)",
		"ERR_NGROK_734":   "ngrok: request rate limit reached (ERR_NGROK_734)",
		"ERR_NGROK_727":   "ngrok: monthly request limit reached (ERR_NGROK_727)",
		"ERR_NGROK_8012":  "ngrok: agent could not reach the node (ERR_NGROK_8012)",
		"ERR_NGROK_12345": "ngrok: edge error (ERR_NGROK_12345)",
		"<script>":        "ngrok: edge error",
		"ERR_NGROK_1\nX":  "ngrok: edge error",
	}
	for code, want := range cases {
		if got := tunnel.EdgeError(code); got != want {
			t.Errorf("EdgeError(%q) = %q, want %q", code, got, want)
		}
	}
}
