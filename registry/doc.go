// Package registry is kvclass's live membership.
//
// On the proxy side, a Registry holds the config file's nodes and the nodes
// that joined over the network, each up or down, in the order placement
// relies on: config nodes in file order, then joined nodes by name. Nodes
// join with the class code over one websocket (GET /registry/ws) that then
// carries their heartbeats as pings and their leave, so a node behind an
// ngrok tunnel spends one HTTP request per session rather than one per
// heartbeat. A node that misses heartbeats or stops is marked down and keeps
// its place; only a first join, an instructor's kick or the long expiry
// change the list. Joined nodes' URLs pass a Policy (no link-local or cloud
// metadata addresses; private ones only with --allow-private), checked at
// join and again at dial time. A joining node must answer GET /health and
// pass the node contract's cheap check (conform.Check: at most five
// requests, one key written and deleted), or it is refused with 422 naming
// the failing case. A joined node may report itself down with a reason
// ({"type": "status"}), as kvclass's sidecar does when the student's server
// behind it stops answering: it stays joined, down, until it reports up.
//
// On the node side, Join returns a Session that keeps the node in the class:
// it pings, and rejoins with backoff after any failure, presenting its
// secret so a restarted proxy gives it back its place.
//
// LoadSecrets keeps the proxy's class code and admin token in a state file.
// docs/REGISTRY.md documents the wire protocol.
package registry
