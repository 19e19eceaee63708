// Package web is kvclass's live page: the embedded HTML, CSS and JavaScript
// served at /state and /assets/, and the websocket Hub at /ws that streams a
// Snapshot of every node and its keys, then batches of Events, to every
// viewer. The node and the proxy both mount it; docs/EVENTS.md describes the
// wire schema. The proxy also mounts JoinPage at /join: how a student gets
// kvclass (ListDownloads of the instructor's release folder) and joins, with
// a QR code of the page's address for the projector.
package web
