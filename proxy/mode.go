package proxy

import "fmt"

// Mode is how the proxy spreads keys over its nodes.
type Mode string

// The proxy's modes, as the seed named them.
const (
	Sharding    Mode = "sharding"    // each key on its owner
	Replication Mode = "replication" // each key on every node
)

// ParseMode is the one parser of a mode word: flags, the config file, the
// admin API and the demo all use it.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(s); m {
	case Sharding, Replication:
		return m, nil
	}
	return "", fmt.Errorf("unknown mode %q: use sharding or replication", s)
}

// String returns the mode's word.
func (m Mode) String() string { return string(m) }

// Set parses a flag value, so a *Mode is a flag.Value.
func (m *Mode) Set(s string) error {
	v, err := ParseMode(s)
	if err != nil {
		return err
	}
	*m = v
	return nil
}
