package tunnel

import (
	"context"
	"log/slog"
)

// sdkHandler passes the SDK's warnings on at warn level and the rest of its
// log at debug. The SDK logs every failed reconnect attempt as an error with
// the edge's raw message; the tunnel reports the same events once,
// explained, at info and warn, so those stay at debug. Its warnings (an
// outdated Go toolchain, a deprecation notice, a failed answer to the
// dashboard) are meant for the user.
type sdkHandler struct {
	next slog.Handler
}

// level is the level the SDK's record of level l is passed on at.
func (h sdkHandler) level(l slog.Level) slog.Level {
	if l == slog.LevelWarn {
		return slog.LevelWarn
	}
	return slog.LevelDebug
}

// Enabled reports whether the next handler takes records of the level l is
// passed on at.
func (h sdkHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, h.level(l))
}

// Handle passes r on at its new level.
func (h sdkHandler) Handle(ctx context.Context, r slog.Record) error {
	r.Level = h.level(r.Level)
	return h.next.Handle(ctx, r)
}

// WithAttrs returns an sdkHandler over the next handler with attrs.
func (h sdkHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return sdkHandler{h.next.WithAttrs(attrs)}
}

// WithGroup returns an sdkHandler over the next handler with the group.
func (h sdkHandler) WithGroup(name string) slog.Handler {
	return sdkHandler{h.next.WithGroup(name)}
}
