package tunnel

import (
	"context"
	"log/slog"
)

// debugHandler passes the SDK's log records on at debug level. The SDK logs
// every failed reconnect attempt as an error with the edge's raw message;
// the tunnel reports the same events once, explained, at info and warn.
type debugHandler struct {
	next slog.Handler
}

// Enabled reports whether the next handler takes debug records.
func (h debugHandler) Enabled(ctx context.Context, _ slog.Level) bool {
	return h.next.Enabled(ctx, slog.LevelDebug)
}

// Handle passes r on at debug level.
func (h debugHandler) Handle(ctx context.Context, r slog.Record) error {
	r.Level = slog.LevelDebug
	return h.next.Handle(ctx, r)
}

// WithAttrs returns a debugHandler over the next handler with attrs.
func (h debugHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return debugHandler{h.next.WithAttrs(attrs)}
}

// WithGroup returns a debugHandler over the next handler with the group.
func (h debugHandler) WithGroup(name string) slog.Handler {
	return debugHandler{h.next.WithGroup(name)}
}
