package placement

import (
	"fmt"
	"strings"
)

// Strategy names a placement rule. The zero value means Modulo. A Strategy
// reads and writes itself as text, so a flag (flag.TextVar), the config
// file's `placement:` and the admin API's JSON all parse it the same way.
type Strategy string

// The strategies, by the words users type.
const (
	// Modulo is the seed's rule and the default: nodes[int(SHA-256(key)) mod N].
	Modulo Strategy = "modulo"
	// Ring is consistent hashing with virtual nodes.
	Ring Strategy = "ring"
	// Rendezvous is highest-random-weight hashing.
	Rendezvous Strategy = "rendezvous"
)

// Strategies lists every strategy in the order the page and the what-if
// report show them.
func Strategies() []Strategy { return []Strategy{Modulo, Ring, Rendezvous} }

// ParseStrategy reads a strategy as a user typed it (case and surrounding
// spaces ignored). Its error lists the valid words, for flags, the config
// file and the admin API alike.
func ParseStrategy(s string) (Strategy, error) {
	switch st := Strategy(strings.ToLower(strings.TrimSpace(s))); st {
	case Modulo, Ring, Rendezvous:
		return st, nil
	}
	if strings.TrimSpace(s) == "" {
		return "", fmt.Errorf("placement is empty: use modulo, ring or rendezvous")
	}
	return "", fmt.Errorf("unknown placement %q: use modulo, ring or rendezvous", s)
}

// String returns the strategy's word; the zero value says "modulo".
func (s Strategy) String() string {
	if s == "" {
		return string(Modulo)
	}
	return string(s)
}

// MarshalText writes the strategy's word (the zero value as "modulo").
func (s Strategy) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText parses a strategy with ParseStrategy.
func (s *Strategy) UnmarshalText(b []byte) error {
	st, err := ParseStrategy(string(b))
	if err != nil {
		return err
	}
	*s = st
	return nil
}

// Defaults and limits of Config.
const (
	// DefaultVNodes is the ring's points per node when Config.VNodes is 0.
	DefaultVNodes = 64
	// MaxVNodes bounds Config.VNodes: 256 nodes × 1024 points is a 4 MiB table.
	MaxVNodes = 1024
	// MaxReplicas bounds Config.Replicas. Any value at or above the node
	// count means "every node" (R is capped at N when placing).
	MaxReplicas = 1024
)

// Config chooses a placement. The zero value is the seed's: modulo, one
// owner per key. Its JSON form is the admin API's body
// ({"placement": "ring", "vnodes": 64}) and the state file's.
type Config struct {
	// Strategy is the rule; "" means Modulo.
	Strategy Strategy `json:"placement,omitempty" yaml:"placement,omitempty"`
	// VNodes is the ring's points per node, 1..MaxVNodes; 0 means
	// DefaultVNodes. Other strategies ignore it.
	VNodes int `json:"vnodes,omitempty" yaml:"vnodes,omitempty"`
	// Replicas is the owners per key, 1..MaxReplicas; 0 means 1. It is
	// capped at the node count when placing.
	Replicas int `json:"replicas,omitempty" yaml:"replicas,omitempty"`
}

// Normalize returns c with its defaults filled in (Strategy Modulo, VNodes
// DefaultVNodes, Replicas 1), or an error that says which value to change.
func (c Config) Normalize() (Config, error) {
	if c.Strategy == "" {
		c.Strategy = Modulo
	} else {
		st, err := ParseStrategy(string(c.Strategy))
		if err != nil {
			return Config{}, err
		}
		c.Strategy = st
	}
	switch {
	case c.VNodes == 0:
		c.VNodes = DefaultVNodes
	case c.VNodes < 0 || c.VNodes > MaxVNodes:
		return Config{}, fmt.Errorf("vnodes must be between 1 and %d (got %d; leave it out for %d)", MaxVNodes, c.VNodes, DefaultVNodes)
	}
	switch {
	case c.Replicas == 0:
		c.Replicas = 1
	case c.Replicas < 0 || c.Replicas > MaxReplicas:
		return Config{}, fmt.Errorf("replicas must be between 1 and %d (got %d; leave it out for 1, or give the node count for every node)", MaxReplicas, c.Replicas)
	}
	return c, nil
}

// Validate reports whether c is usable, with an error that says which value
// to change.
func (c Config) Validate() error {
	_, err := c.Normalize()
	return err
}
