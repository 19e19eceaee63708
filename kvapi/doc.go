// Package kvapi is kvclass's wire contract: what a node, the proxy and a
// client say to each other over HTTP. It holds the seed-compatible data API
// (requests, answers, error bodies, limits and their parsing), the headers
// kvclass adds, and the registry's join protocol that a node speaks to the
// proxy. Node and proxy both parse and answer through this package, so a bad
// request gets the same answer from either, and the proxy rejects it before
// it calls any node.
//
// kvapi is a leaf: it imports nothing of kvclass.
package kvapi
