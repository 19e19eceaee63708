package placement

import (
	"encoding/json"
	"math/big"
	"slices"
	"strings"
	"testing"
)

func TestExplainString(t *testing.T) {
	kv3 := []string{"kv1", "kv2", "kv3"}
	cases := []struct {
		cfg   Config
		nodes []string
		key   string
		want  string
	}{
		// python3 -c 'import hashlib;print(int(hashlib.sha256(b"key-7").hexdigest(),16)%3)'  → 0
		{Config{}, kv3, "key-7", "SHA-256(key-7) mod 3 = 0 → kv1"},
		{Config{Replicas: 2}, kv3, "key-7", "SHA-256(key-7) mod 3 = 0 → kv1 (then kv2)"},
		// python3 -c 'import hashlib;print(int(hashlib.sha256(b"key-0").hexdigest(),16)%3)'  → 2
		{Config{Replicas: 3}, kv3, "key-0", "SHA-256(key-0) mod 3 = 2 → kv3 (then kv1, kv2)"},
		{Config{}, kv3, "", `SHA-256("") mod 3 = 1 → kv2`},
		{Config{}, kv3, "a b", `SHA-256("a b") mod 3 = 1 → kv2`},
		{Config{}, kv3, "ключ", "SHA-256(ключ) mod 3 = 2 → kv3"},
		{Config{}, nil, "key-7", "key-7: no nodes yet, so no owner"},
		// h = lambda s: int.from_bytes(hashlib.sha256(s.encode()).digest()[:8], "big")
		// h("key-7") = 0x78ed7d2bf2a8c4af; points: kv3#0 0x26b7053b580a072c,
		// kv1#0 0x870a6612f1155d11, kv2#0 0xb9658323c7318dc5.
		{Config{Strategy: Ring, VNodes: 1}, kv3, "key-7", "h(key-7) = 0x78ed7d2bf2a8c4af → next point 0x870a6612f1155d11 (kv1#0) → kv1"},
		{Config{Strategy: Ring, VNodes: 1, Replicas: 3}, kv3, "key-7", "h(key-7) = 0x78ed7d2bf2a8c4af → next point 0x870a6612f1155d11 (kv1#0) → kv1 (then kv2, kv3)"},
		// h("key-0") = 0xd5ead6fdd3d16630 is above every point: it wraps to kv3#0.
		{Config{Strategy: Ring, VNodes: 1}, kv3, "key-0", "h(key-0) = 0xd5ead6fdd3d16630 → past the top, wraps to 0x26b7053b580a072c (kv3#0) → kv3"},
		// python3 -c 'import hashlib;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");print(sorted(((hex(h(x+"\0"+"key-7")),x) for x in ["kv1","kv2","kv3"]),reverse=True))'
		// [('0xa5ab944a4f44d0f8', 'kv3'), ('0x91fd4354ff3e2905', 'kv1'), ('0x52b96d71d74a1683', 'kv2')]
		{Config{Strategy: Rendezvous}, kv3, "key-7", `largest h(node + "\x00" + key-7) of 3 nodes: 0xa5ab944a4f44d0f8 (kv3's) → kv3`},
		{Config{Strategy: Rendezvous, Replicas: 2}, kv3, "key-7", `largest h(node + "\x00" + key-7) of 3 nodes: 0xa5ab944a4f44d0f8 (kv3's) → kv3 (then kv1)`},
	}
	for _, c := range cases {
		if got := mustNew(t, c.cfg, c.nodes).Explain(c.key).String(); got != c.want {
			t.Errorf("%+v %q:\n got %s\nwant %s", c.cfg, c.key, got, c.want)
		}
	}
}

// TestExplainArithmetic: the explanation's numbers are the formulas', and
// its owners are Owners'.
func TestExplainArithmetic(t *testing.T) {
	nodes := names("kv", 5)
	for _, st := range Strategies() {
		for _, r := range []int{1, 3} {
			tab := mustNew(t, Config{Strategy: st, VNodes: 8, Replicas: r}, nodes)
			for _, key := range append(seqKeys(200), "", "kv1#0", strings.Repeat("k", 700)) {
				e := tab.Explain(key)
				var want []string
				for _, i := range tab.Owners(key, nil) {
					want = append(want, nodes[i])
				}
				if !slices.Equal(e.Owners, want) || e.N != 5 || e.Strategy != st || e.Key != key {
					t.Fatalf("%s %q: explanation %+v, owners %v", st, key, e, want)
				}
				switch st {
				case Modulo:
					d, ok := new(big.Int).SetString(e.Modulo.Decimal, 10)
					x, ok2 := new(big.Int).SetString(e.Modulo.SHA256, 16)
					if !ok || !ok2 || d.Cmp(x) != 0 || new(big.Int).Mod(d, big.NewInt(5)).Int64() != int64(e.Modulo.Remainder) || nodes[e.Modulo.Remainder] != e.Owners[0] {
						t.Fatalf("%q: %+v", key, e.Modulo)
					}
				case Ring:
					m := e.Ring
					if m.KeyPoint != h(key) || len(m.Points) != r {
						t.Fatalf("%q: %+v", key, m)
					}
					// Brute force: the first point at or after the key's.
					best, bestName := uint64(0), ""
					lowest, lowestName := ^uint64(0), ""
					for _, n := range nodes {
						for i := range 8 {
							p := vnodePoint(n, i)
							if p >= m.KeyPoint && (bestName == "" || p < best) {
								best, bestName = p, n
							}
							if p <= lowest {
								lowest, lowestName = p, n
							}
						}
					}
					if bestName == "" {
						best, bestName = lowest, lowestName
					}
					p := m.Points[0]
					if p.Point != best || p.Node != bestName || p.Wrapped != (best < m.KeyPoint) || vnodePoint(p.Node, p.VNode) != p.Point {
						t.Fatalf("%q: first point %+v, brute force %x on %s", key, p, best, bestName)
					}
					for j, q := range m.Points {
						if q.Node != e.Owners[j] || vnodePoint(q.Node, q.VNode) != q.Point {
							t.Fatalf("%q: point %d %+v, owners %v", key, j, q, e.Owners)
						}
					}
				case Rendezvous:
					if len(e.Rendezvous) != 5 {
						t.Fatalf("%q: %d scores", key, len(e.Rendezvous))
					}
					for j, s := range e.Rendezvous {
						if s.Score != h(s.Node+"\x00"+key) || j > 0 && s.Score > e.Rendezvous[j-1].Score || j < r && s.Node != e.Owners[j] {
							t.Fatalf("%q: scores %+v, owners %v", key, e.Rendezvous, e.Owners)
						}
					}
				}
			}
		}
	}
}

// TestExplainJSON: 64-bit numbers travel as strings (JavaScript numbers
// would round them), and only the strategy's own part is present.
func TestExplainJSON(t *testing.T) {
	e := mustNew(t, Config{Strategy: Ring, VNodes: 1}, []string{"kv1", "kv2", "kv3"}).Explain("key-7")
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"key":"key-7"`, `"placement":"ring"`, `"n":3`, `"owners":["kv1"]`, `"key_point":"` + big.NewInt(0).SetUint64(h("key-7")).String() + `"`, `"key_point_hex":"0x78ed7d2bf2a8c4af"`, `"node":"kv1","vnode":0`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("JSON %s lacks %s", b, want)
		}
	}
	if strings.Contains(string(b), "modulo") || strings.Contains(string(b), "rendezvous") {
		t.Errorf("JSON %s carries another strategy's part", b)
	}
	b, _ = json.Marshal(mustNew(t, Config{}, nil).Explain("k"))
	if string(b) != `{"key":"k","placement":"modulo","n":0,"owners":[]}` {
		t.Errorf("no nodes: %s", b)
	}
}

func TestRule(t *testing.T) {
	cases := []struct {
		cfg  Config
		n    int
		want string
	}{
		{Config{}, 3, "owner = nodes[ int(SHA-256(key)) mod 3 ]"},
		{Config{Replicas: 2}, 3, "owner = nodes[ int(SHA-256(key)) mod 3 ], plus the next 1 position in node order (mod 3)"},
		{Config{Replicas: 9}, 3, "owner = nodes[ int(SHA-256(key)) mod 3 ], plus the next 2 positions in node order (mod 3)"},
		{Config{Strategy: Ring}, 3, "ring: 64 points per node, owner = first point at or after h(key)"},
		{Config{Strategy: Ring, VNodes: 1, Replicas: 3}, 5, "ring: 1 point per node, owner = first point at or after h(key), plus the next 2 distinct nodes clockwise"},
		{Config{Strategy: Rendezvous}, 3, `rendezvous: owner = the node with the largest h(name + "\x00" + key)`},
		{Config{Strategy: Rendezvous, Replicas: 2}, 3, `rendezvous: owner = the node with the largest h(name + "\x00" + key), plus the next 1 largest score`},
		{Config{}, 0, "no nodes yet: keys get their owners when the first node joins"},
		{Config{Strategy: Ring}, 0, "no nodes yet: keys get their owners when the first node joins"},
		{Config{VNodes: -1}, 3, "invalid placement: vnodes must be between 1 and 1024"},
	}
	for _, c := range cases {
		got := Rule(c.cfg, c.n)
		if !strings.HasPrefix(got, c.want) || !strings.HasPrefix(c.want, "invalid") && got != c.want {
			t.Errorf("Rule(%+v, %d) = %q, want %q", c.cfg, c.n, got, c.want)
		}
		if strings.Contains(got, "mod 0") {
			t.Errorf("Rule(%+v, %d) divides by zero: %q", c.cfg, c.n, got)
		}
	}
	if got := mustNew(t, Config{}, []string{"a", "b"}).Rule(); got != "owner = nodes[ int(SHA-256(key)) mod 2 ]" {
		t.Errorf("Table.Rule: %q", got)
	}
}
