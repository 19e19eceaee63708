#!/usr/bin/env python3
"""Reference implementation of kvclass placement, written from the formulas
in placement/doc.go (not from the Go code), and the generator of golden.json:

    python3 placement/testdata/reference.py > placement/testdata/golden.json

TestGolden checks the Go package against golden.json without needing python.

h(s) = the first 8 bytes of SHA-256(s) as a big-endian unsigned 64-bit number.
"""
import bisect
import hashlib
import json
import sys


def sha(s):
    return hashlib.sha256(s.encode("utf-8")).digest()


def h(s):
    return int.from_bytes(sha(s)[:8], "big")


def modulo(nodes, key, r):
    """nodes[int(SHA-256(key)) mod N], then the next positions, wrapping."""
    n = len(nodes)
    i = int.from_bytes(sha(key), "big") % n
    return [(i + j) % n for j in range(min(r, n))]


def ring(nodes, vnodes):
    """Every node's points h(name + "#" + i), sorted; equal points by name
    (Python compares str by code point, which is UTF-8 byte order)."""
    return sorted((h(f"{x}#{i}"), x, nodes.index(x)) for x in nodes for i in range(vnodes))


def ring_owners(points, n, key, r):
    """The first r distinct nodes at or after h(key), clockwise, wrapping."""
    start = bisect.bisect_left(points, (h(key),))
    out = []
    for j in range(len(points)):
        _, _, idx = points[(start + j) % len(points)]
        if idx not in out:
            out.append(idx)
            if len(out) == min(r, n):
                break
    return out


def rendezvous(nodes, key, r):
    """The r largest h(name + "\\x00" + key), ties by the smaller name."""
    ranked = sorted(range(len(nodes)), key=lambda i: (-h(nodes[i] + "\x00" + key), nodes[i]))
    return ranked[: min(r, len(nodes))]


def keys():
    ks = [f"key-{i}" for i in range(976)]
    ks += [
        "", " ", "kek", "ключ", "日本語のキー", "a&b #+%/ c", "emoji 🙂", "nul\x00byte",
        "x" * 300, "y" * 600, "z" * 1024,
        # keys that sit exactly on a ring point: "at or after" must pick that point
        "kv1#0", "kv2#5", "kv3#63", "kv10#1", "alice#0", "bob#1",
        "kv1", "kv2", "kv3", "#", "\x00", "kv1\x00key-1", "KEY-1",
    ]
    assert len(ks) == 1000 and len(set(ks)) == 1000
    return ks


def main():
    ks = keys()
    lists = [
        ["kv1", "kv2", "kv3"],
        ["alice", "bob", "kv2", "kv10", "kv9", "carol-laptop", "d_4", "узел"],
    ]
    out = []
    for nodes in lists:
        cases = [("modulo", 0, [modulo(nodes, k, 3) for k in ks])]
        for v in (1, 2, 64):
            pts = ring(nodes, v)
            cases.append(("ring", v, [ring_owners(pts, len(nodes), k, 3) for k in ks]))
        cases.append(("rendezvous", 0, [rendezvous(nodes, k, 3) for k in ks]))
        out.append((nodes, cases))

    w = sys.stdout.write
    w('{\n"about": "owners (indices into nodes, primary first, replicas 3) of each key; written by reference.py",\n')
    w('"keys": [\n' + ",\n".join(json.dumps(k) for k in ks) + "\n],\n")
    w('"lists": [\n')
    for li, (nodes, cases) in enumerate(out):
        w('{"nodes": ' + json.dumps(nodes, ensure_ascii=False) + ', "cases": [\n')
        for ci, (name, v, owners) in enumerate(cases):
            w('{"placement": "%s", "vnodes": %d, "replicas": 3, "owners": [\n' % (name, v))
            w(",\n".join(json.dumps(o, separators=(",", ":")) for o in owners))
            w("\n]}" + ("," if ci < len(cases) - 1 else "") + "\n")
        w("]}" + ("," if li < len(out) - 1 else "") + "\n")
    w("]\n}\n")


if __name__ == "__main__":
    main()
