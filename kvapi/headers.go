package kvapi

// Headers kvclass adds to the seed's API.
const (
	// NodeHeader names the node(s) that served a request through the
	// proxy, comma-separated under replication.
	NodeHeader = "X-Kvclass-Node"
	// VersionHeader carries a value's version, HLC/ORIGIN, on put requests
	// (optional) and on get and put answers.
	VersionHeader = "X-Kvclass-Version"
	// MisplacedHeader names the node that holds a key the proxy did not
	// find on its owner (after a membership or placement change).
	MisplacedHeader = "X-Kvclass-Misplaced"
)
