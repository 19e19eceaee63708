// Package conform is kvclass's node contract as a test suite that runs
// against any HTTP server: a student's node in Python, Go, Node or anything
// else, a kvclass node, or a proxy.
//
// The suite is a list of cases in groups. The core is the seed's contract
// (put, get, health, the 400s and the 404 that names the key, values of
// every JSON type, awkward keys, concurrent puts); a node must pass all of it
// to join a class, and the original Flask node does. The extensions are
// kvclass's additions (JSON errors, the seed's exact messages, delete,
// state, limits, versions, digests): each is reported, none is required.
//
// Every request has its own timeout and every answer a size limit, so a
// case never hangs: a server that does not answer, or answers without end,
// fails the case with "no answer within 2s" or "answer larger than N
// bytes". After three cases in a row got no answer at all, the rest are not
// run.
//
// Run runs the suite and returns a Report ("kvclass conform URL" prints it).
// Check runs a cheap subset of the core within a total budget, for the
// proxy to call when a node joins. Both write keys named
// "kvclass-conform-<random>-..." and delete them afterwards when the node
// supports DELETE /delete.
//
// conform imports only kvapi of kvclass: the proxy imports it, and node and
// proxy stay peers.
package conform
