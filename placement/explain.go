package placement

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"unicode"
)

// Explanation is the arithmetic behind one key's owners, for `kvclass where`
// and the page's "why is this key here". Exactly one of Modulo, Ring and
// Rendezvous is set (none when there are no nodes). 64-bit numbers are JSON
// strings, since JavaScript numbers cannot hold them.
type Explanation struct {
	// Key is the key explained.
	Key string `json:"key"`
	// Strategy is the rule applied.
	Strategy Strategy `json:"placement"`
	// N is the node count.
	N int `json:"n"`
	// Owners are the owners' names, primary first; empty with no nodes.
	Owners []string `json:"owners"`
	// Modulo is the arithmetic under Modulo.
	Modulo *ModuloMath `json:"modulo,omitempty"`
	// Ring is the arithmetic under Ring.
	Ring *RingMath `json:"ring,omitempty"`
	// Rendezvous is every node's score under Rendezvous, best first: the
	// first len(Owners) are the owners.
	Rendezvous []Score `json:"rendezvous,omitempty"`
}

// ModuloMath is int(SHA-256(key)) mod N written out.
type ModuloMath struct {
	// SHA256 is the key's digest in hex (64 digits).
	SHA256 string `json:"sha256"`
	// Decimal is the digest as one big-endian number, in decimal.
	Decimal string `json:"decimal"`
	// Remainder is Decimal mod N: the primary's index in the node order.
	// Replicas take the next positions, wrapping.
	Remainder int `json:"remainder"`
}

// RingMath is the key's point and the ring points that chose its owners.
type RingMath struct {
	// VNodes is the points per node.
	VNodes int `json:"vnodes"`
	// KeyPoint is h(key), where the key sits.
	KeyPoint uint64 `json:"key_point,string"`
	// KeyPointHex is KeyPoint in hex.
	KeyPointHex string `json:"key_point_hex"`
	// Points holds, for each owner in order, the first of its points met
	// clockwise from KeyPoint; Points[0] is the point at or after KeyPoint.
	Points []RingPoint `json:"points"`
}

// RingPoint is one point on the ring.
type RingPoint struct {
	// Point is h(Node + "#" + VNode).
	Point uint64 `json:"point,string"`
	// Hex is Point in hex.
	Hex string `json:"hex"`
	// Node is the point's node.
	Node string `json:"node"`
	// VNode is i in h(Node + "#" + i).
	VNode int `json:"vnode"`
	// Wrapped tells that the walk passed the top of the ring (2^64-1) and
	// went on from 0 to reach this point.
	Wrapped bool `json:"wrapped,omitempty"`
}

// Score is one node's rendezvous score for a key.
type Score struct {
	// Node is the node's name.
	Node string `json:"node"`
	// Score is h(Node + "\x00" + key).
	Score uint64 `json:"score,string"`
	// Hex is Score in hex.
	Hex string `json:"hex"`
}

// Explain returns the arithmetic that places key under t.
func (t *Table) Explain(key string) Explanation {
	e := Explanation{Key: key, Strategy: t.cfg.Strategy, N: len(t.nodes), Owners: []string{}}
	if len(t.nodes) == 0 {
		return e
	}
	var idx []int
	switch t.cfg.Strategy {
	case Ring:
		p := h(key)
		m := &RingMath{VNodes: t.cfg.VNodes, KeyPoint: p, KeyPointHex: hex64(p)}
		idx = t.ring.owners(p, len(t.nodes), t.replicas, nil, func(i int) {
			s := t.ring.slots[i]
			m.Points = append(m.Points, RingPoint{
				Point: t.ring.points[i], Hex: hex64(t.ring.points[i]),
				Node: t.nodes[s.node], VNode: int(s.vnode),
				Wrapped: t.ring.points[i] < p,
			})
		})
		e.Ring = m
	case Rendezvous:
		var sc scorer
		scores := make([]uint64, len(t.nodes))
		for i, p := range t.prefixes {
			scores[i] = sc.score(p, key)
		}
		rank := pickTop(t.nodes, scores, len(t.nodes), nil, nil)
		for _, i := range rank {
			e.Rendezvous = append(e.Rendezvous, Score{Node: t.nodes[i], Score: scores[i], Hex: hex64(scores[i])})
		}
		idx = rank[:t.replicas]
	default:
		sum := sha256.Sum256([]byte(key))
		r := modSum(&sum, len(t.nodes))
		e.Modulo = &ModuloMath{
			SHA256:    hex.EncodeToString(sum[:]),
			Decimal:   new(big.Int).SetBytes(sum[:]).String(),
			Remainder: r,
		}
		idx = moduloOwners(key, len(t.nodes), t.replicas, nil)
	}
	for _, i := range idx {
		e.Owners = append(e.Owners, t.nodes[i])
	}
	return e
}

// String renders e on one line, e.g. "SHA-256(key-7) mod 3 = 0 → kv1".
// Replicas follow the primary in parentheses: "→ kv1 (then kv2)".
func (e Explanation) String() string {
	k := quoteKey(e.Key)
	if len(e.Owners) == 0 {
		return k + ": no nodes yet, so no owner"
	}
	var b strings.Builder
	switch {
	case e.Ring != nil:
		p := e.Ring.Points[0]
		fmt.Fprintf(&b, "h(%s) = %s → ", k, e.Ring.KeyPointHex)
		if p.Wrapped {
			b.WriteString("past the top, wraps to ")
		} else {
			b.WriteString("next point ")
		}
		fmt.Fprintf(&b, "%s (%s#%d)", p.Hex, p.Node, p.VNode)
	case len(e.Rendezvous) > 0:
		s := e.Rendezvous[0]
		fmt.Fprintf(&b, "largest h(node + \"\\x00\" + %s) of %d nodes: %s (%s's)", k, e.N, s.Hex, s.Node)
	case e.Modulo != nil:
		fmt.Fprintf(&b, "SHA-256(%s) mod %d = %d", k, e.N, e.Modulo.Remainder)
	}
	b.WriteString(" → ")
	b.WriteString(e.Owners[0])
	if len(e.Owners) > 1 {
		b.WriteString(" (then ")
		b.WriteString(strings.Join(e.Owners[1:], ", "))
		b.WriteString(")")
	}
	return b.String()
}

// Rule states cfg's rule over n nodes in words, for the page and `kvclass
// where`, e.g. "owner = nodes[ int(SHA-256(key)) mod 3 ]". With no nodes it
// says so instead of dividing by zero.
func Rule(cfg Config, n int) string {
	cfg, err := cfg.Normalize()
	if err != nil {
		return "invalid placement: " + err.Error()
	}
	if n <= 0 {
		return "no nodes yet: keys get their owners when the first node joins"
	}
	var s string
	switch cfg.Strategy {
	case Ring:
		s = fmt.Sprintf("ring: %s per node, owner = first point at or after h(key)", plural(cfg.VNodes, "point", "points"))
	case Rendezvous:
		s = `rendezvous: owner = the node with the largest h(name + "\x00" + key)`
	default:
		s = fmt.Sprintf("owner = nodes[ int(SHA-256(key)) mod %d ]", n)
	}
	r := min(cfg.Replicas, n)
	if r == 1 {
		return s
	}
	switch cfg.Strategy {
	case Ring:
		return s + fmt.Sprintf(", plus the next %s clockwise", plural(r-1, "distinct node", "distinct nodes"))
	case Rendezvous:
		return s + fmt.Sprintf(", plus the next %s", plural(r-1, "largest score", "largest scores"))
	default:
		return s + fmt.Sprintf(", plus the next %s in node order (mod %d)", plural(r-1, "position", "positions"), n)
	}
}

// Rule is Rule(t.Config(), t.Len()).
func (t *Table) Rule() string { return Rule(t.cfg, len(t.nodes)) }

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

func hex64(v uint64) string { return fmt.Sprintf("0x%016x", v) }

// quoteKey returns key as is when it reads unambiguously on one line, and
// Go-quoted otherwise (empty, spaces, control characters).
func quoteKey(key string) string {
	if key == "" {
		return `""`
	}
	for _, r := range key {
		if !unicode.IsGraphic(r) || unicode.IsSpace(r) || r == unicode.ReplacementChar {
			return strconv.Quote(key)
		}
	}
	return key
}
