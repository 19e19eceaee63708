package webtest

import (
	"context"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"
)

// ConsoleLog records what a tab writes to its console: console API calls,
// uncaught exceptions, and the browser's own log (failed loads, CSP
// violations).
type ConsoleLog struct {
	mu   sync.Mutex
	msgs []chromedp.ConsoleMessage
}

// RecordConsole starts recording the console of the tab of ctx until the
// test ends. Call it before navigating: earlier messages are lost.
func RecordConsole(t testing.TB, ctx context.Context) *ConsoleLog {
	t.Helper()
	lctx, cancel := context.WithCancel(ctx)
	messages := chromedp.Console(lctx) // subscribes now
	c := &ConsoleLog{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m, err := range messages {
			if err != nil {
				return
			}
			c.mu.Lock()
			c.msgs = append(c.msgs, m)
			c.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return c
}

// Messages returns every message recorded so far.
func (c *ConsoleLog) Messages() []chromedp.ConsoleMessage {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]chromedp.ConsoleMessage(nil), c.msgs...)
}

// Problems returns the errors and exceptions recorded so far, as text with
// their source location: a healthy page has none.
func (c *ConsoleLog) Problems() []string {
	var out []string
	for _, m := range c.Messages() {
		if m.Type == chromedp.ConsoleError || m.IsException() {
			s := m.String()
			if m.URL != "" {
				s += " (" + m.URL + ")"
			}
			out = append(out, s)
		}
	}
	return out
}
