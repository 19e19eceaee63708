package check

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// NgrokDomains are the domains under which ngrok publishes endpoints. A
// target whose host is one of them, or under one of them, is an ngrok URL:
// every request to it counts against the ngrok account's quota, so load and
// check refuse rates that would break the free plan unless forced. The list
// is read, never written, by this package; it is a variable only so that
// documentation tools show it.
var NgrokDomains = []string{
	"ngrok-free.app",
	"ngrok-free.dev",
	"ngrok-free.pizza",
	"ngrok.app",
	"ngrok.dev",
	"ngrok.io",
	"ngrok.pizza",
	"ngrok.pro",
}

// Limits of ngrok's free plan.
const (
	// NgrokFreePerMinute is the free plan's request rate limit; above it the
	// edge answers ERR_NGROK_734 instead of forwarding.
	NgrokFreePerMinute = 4000
	// NgrokFreePerMonth is the free plan's monthly request quota; past it
	// the edge answers ERR_NGROK_727 until the month ends.
	NgrokFreePerMonth = 20000
)

// IsNgrokHost reports whether host (a host name, without a port) is an
// ngrok URL's host, one under NgrokDomains.
func IsNgrokHost(host string) bool {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	for _, d := range NgrokDomains {
		if host == d || strings.HasSuffix(host, "."+d) {
			return true
		}
	}
	return false
}

// guardRate refuses, for an ngrok host, a rate (requests per second) above
// the free plan's limit, unless force. what names the command ("load").
func guardRate(t target, rate float64, force bool, what string) error {
	if force || !IsNgrokHost(t.host()) {
		return nil
	}
	perMin := rate * 60
	if perMin <= NgrokFreePerMinute {
		return nil
	}
	maxRate := math.Floor(float64(NgrokFreePerMinute)/60*10) / 10
	return fmt.Errorf("refusing to %s %s at %s requests/s (%s a minute): it is an ngrok URL, and ngrok's free plan "+
		"allows %s requests a minute (above that its edge answers ERR_NGROK_734) and %s a month; "+
		"pass --rate %g or less, or --force if the account's plan allows more",
		what, t.base, fmtFloat(rate), fmtInt(int64(math.Round(perMin))), fmtInt(NgrokFreePerMinute),
		fmtInt(NgrokFreePerMonth), maxRate)
}

// costLine says how many requests a run of rate requests/s for d will send
// and, against an ngrok URL, what share of the free plan's monthly quota
// that is.
func costLine(t target, rate float64, d time.Duration) string {
	n := plannedRequests(rate, d)
	s := fmt.Sprintf("This run sends about %s requests to %s (%s/s for %s).",
		fmtInt(n), t.base, fmtFloat(rate), d)
	if IsNgrokHost(t.host()) {
		share := float64(n) / NgrokFreePerMonth * 100
		s += fmt.Sprintf(" It is an ngrok URL: that is %.1f%% of the free plan's %s requests a month", share, fmtInt(NgrokFreePerMonth))
		if n > NgrokFreePerMonth {
			s += ", MORE than the whole month's quota"
		}
		s += "."
	}
	return s
}

// fmtInt writes n with thousands separators: 20,000.
func fmtInt(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// fmtFloat writes a rate without needless decimals: 500, 66.7.
func fmtFloat(f float64) string {
	if f == math.Trunc(f) {
		return fmtInt(int64(f))
	}
	return fmt.Sprintf("%.1f", f)
}
