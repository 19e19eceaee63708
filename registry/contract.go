package registry

import (
	"context"
	"errors"
	"net/http"

	"github.com/kvclass/kvclass/conform"
	"github.com/kvclass/kvclass/kvapi"
	"github.com/kvclass/kvclass/tunnel"
)

// This file is the join-time contract check: the proxy runs a cheap part of
// the node contract (conform.Check) against every node that joins, so a
// half-finished implementation is refused before it holds any of the
// class's keys.

// checkContract runs conform.Check against the node at base through client
// (the probe client, which dials through the URL policy, or a relay's), as
// the registry's user agent, within JoinProbeTimeout: at most
// conform.CheckRequests requests, one key written and deleted. It returns
// nil when the node passes or the check is off (SkipContractCheck), a
// *conform.Failure naming the first failing case, or why the check could
// not run.
func (r *Registry) checkContract(ctx context.Context, client *http.Client, base string) error {
	if r.opts.SkipContractCheck {
		return nil
	}
	h := http.Header{}
	ua := r.opts.UserAgent
	if ua == "" {
		ua = "kvclass"
	}
	h.Set("User-Agent", ua)
	h.Set(tunnel.SkipWarningHeader, "1") // a free ngrok endpoint's warning page is not the node
	// One budget bounds the whole check, as one timeout bounds the probe: a
	// node slow to answer one request (a loaded laptop, two ngrok hops)
	// may take it all.
	return conform.Check(ctx, base, conform.Options{Client: client, Header: h, Budget: r.opts.JoinProbeTimeout, Timeout: r.opts.JoinProbeTimeout})
}

// contractRefusal is the 422 that refuses a node failing the check: "your
// node fails the contract: <the failing case's line>; <hint>".
func contractRefusal(err error, hint string) *kvapi.Error {
	var f *conform.Failure
	if errors.As(err, &f) {
		return refuse(http.StatusUnprocessableEntity, "your node fails the contract: %s; %s", f.Error(), hint)
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return refuse(http.StatusUnprocessableEntity, "your node did not finish the contract check in time; %s", hint)
	}
	return refuse(http.StatusUnprocessableEntity, "cannot check your node against the contract: %v; %s", err, hint)
}

// contractCase names the case a failed check failed, "core/get-missing",
// or "" when err is no *conform.Failure.
func contractCase(err error) string {
	var f *conform.Failure
	if errors.As(err, &f) {
		return f.Result.ID()
	}
	return ""
}
