package placement

import (
	"strconv"
	"strings"
	"testing"
)

// The vectors below were computed by python3 from the formulas alone; each
// row's comment is the exact command that printed its answer.

// TestModuloMatchesTheSeed: int(SHA-256(key)) mod n, the seed's formula,
// including moduli far above any node count (the Horner arithmetic).
func TestModuloMatchesTheSeed(t *testing.T) {
	vectors := []struct {
		key   string
		n     int
		owner int
	}{
		// python3 -c 'import hashlib;print(int(hashlib.sha256("key-0".encode()).hexdigest(),16)%1)'
		{"key-0", 1, 0},
		// python3 -c 'import hashlib;print(int(hashlib.sha256("key-0".encode()).hexdigest(),16)%2)'
		{"key-0", 2, 0},
		// python3 -c 'import hashlib;print(int(hashlib.sha256("key-0".encode()).hexdigest(),16)%3)'
		{"key-0", 3, 2},
		// python3 -c 'import hashlib;print(int(hashlib.sha256("key-0".encode()).hexdigest(),16)%5)'
		{"key-0", 5, 3},
		// python3 -c 'import hashlib;print(int(hashlib.sha256("key-0".encode()).hexdigest(),16)%7)'
		{"key-0", 7, 1},
		// python3 -c 'import hashlib;print(int(hashlib.sha256("key-0".encode()).hexdigest(),16)%40)'
		{"key-0", 40, 28},
		// python3 -c 'import hashlib;print(int(hashlib.sha256("key-0".encode()).hexdigest(),16)%256)'
		{"key-0", 256, 52},
		// python3 -c 'import hashlib;print(int(hashlib.sha256("key-0".encode()).hexdigest(),16)%1000003)'
		{"key-0", 1000003, 596140},
		// python3 -c 'import hashlib;print(int(hashlib.sha256("key-1".encode()).hexdigest(),16)%1)'
		{"key-1", 1, 0},
		// python3 -c 'import hashlib;print(int(hashlib.sha256("key-1".encode()).hexdigest(),16)%2)'
		{"key-1", 2, 0},
		// python3 -c 'import hashlib;print(int(hashlib.sha256("key-1".encode()).hexdigest(),16)%3)'
		{"key-1", 3, 1},
		// python3 -c 'import hashlib;print(int(hashlib.sha256("key-1".encode()).hexdigest(),16)%5)'
		{"key-1", 5, 0},
		// python3 -c 'import hashlib;print(int(hashlib.sha256("key-1".encode()).hexdigest(),16)%7)'
		{"key-1", 7, 2},
		// python3 -c 'import hashlib;print(int(hashlib.sha256("key-1".encode()).hexdigest(),16)%40)'
		{"key-1", 40, 20},
		// python3 -c 'import hashlib;print(int(hashlib.sha256("key-1".encode()).hexdigest(),16)%256)'
		{"key-1", 256, 68},
		// python3 -c 'import hashlib;print(int(hashlib.sha256("key-1".encode()).hexdigest(),16)%1000003)'
		{"key-1", 1000003, 204674},
		// python3 -c 'import hashlib;print(int(hashlib.sha256("key-7".encode()).hexdigest(),16)%1)'
		{"key-7", 1, 0},
		// python3 -c 'import hashlib;print(int(hashlib.sha256("key-7".encode()).hexdigest(),16)%2)'
		{"key-7", 2, 0},
		// python3 -c 'import hashlib;print(int(hashlib.sha256("key-7".encode()).hexdigest(),16)%3)'
		{"key-7", 3, 0},
		// python3 -c 'import hashlib;print(int(hashlib.sha256("key-7".encode()).hexdigest(),16)%5)'
		{"key-7", 5, 0},
		// python3 -c 'import hashlib;print(int(hashlib.sha256("key-7".encode()).hexdigest(),16)%7)'
		{"key-7", 7, 5},
		// python3 -c 'import hashlib;print(int(hashlib.sha256("key-7".encode()).hexdigest(),16)%40)'
		{"key-7", 40, 30},
		// python3 -c 'import hashlib;print(int(hashlib.sha256("key-7".encode()).hexdigest(),16)%256)'
		{"key-7", 256, 230},
		// python3 -c 'import hashlib;print(int(hashlib.sha256("key-7".encode()).hexdigest(),16)%1000003)'
		{"key-7", 1000003, 903970},
		// python3 -c 'import hashlib;print(int(hashlib.sha256("key-20".encode()).hexdigest(),16)%1)'
		{"key-20", 1, 0},
		// python3 -c 'import hashlib;print(int(hashlib.sha256("key-20".encode()).hexdigest(),16)%2)'
		{"key-20", 2, 1},
		// python3 -c 'import hashlib;print(int(hashlib.sha256("key-20".encode()).hexdigest(),16)%3)'
		{"key-20", 3, 0},
		// python3 -c 'import hashlib;print(int(hashlib.sha256("key-20".encode()).hexdigest(),16)%5)'
		{"key-20", 5, 0},
		// python3 -c 'import hashlib;print(int(hashlib.sha256("key-20".encode()).hexdigest(),16)%7)'
		{"key-20", 7, 3},
		// python3 -c 'import hashlib;print(int(hashlib.sha256("key-20".encode()).hexdigest(),16)%40)'
		{"key-20", 40, 15},
		// python3 -c 'import hashlib;print(int(hashlib.sha256("key-20".encode()).hexdigest(),16)%256)'
		{"key-20", 256, 199},
		// python3 -c 'import hashlib;print(int(hashlib.sha256("key-20".encode()).hexdigest(),16)%1000003)'
		{"key-20", 1000003, 477131},
		// python3 -c 'import hashlib;print(int(hashlib.sha256("kek".encode()).hexdigest(),16)%1)'
		{"kek", 1, 0},
		// python3 -c 'import hashlib;print(int(hashlib.sha256("kek".encode()).hexdigest(),16)%2)'
		{"kek", 2, 1},
		// python3 -c 'import hashlib;print(int(hashlib.sha256("kek".encode()).hexdigest(),16)%3)'
		{"kek", 3, 1},
		// python3 -c 'import hashlib;print(int(hashlib.sha256("kek".encode()).hexdigest(),16)%5)'
		{"kek", 5, 0},
		// python3 -c 'import hashlib;print(int(hashlib.sha256("kek".encode()).hexdigest(),16)%7)'
		{"kek", 7, 2},
		// python3 -c 'import hashlib;print(int(hashlib.sha256("kek".encode()).hexdigest(),16)%40)'
		{"kek", 40, 35},
		// python3 -c 'import hashlib;print(int(hashlib.sha256("kek".encode()).hexdigest(),16)%256)'
		{"kek", 256, 83},
		// python3 -c 'import hashlib;print(int(hashlib.sha256("kek".encode()).hexdigest(),16)%1000003)'
		{"kek", 1000003, 781288},
		// python3 -c 'import hashlib;print(int(hashlib.sha256("".encode()).hexdigest(),16)%1)'
		{"", 1, 0},
		// python3 -c 'import hashlib;print(int(hashlib.sha256("".encode()).hexdigest(),16)%2)'
		{"", 2, 1},
		// python3 -c 'import hashlib;print(int(hashlib.sha256("".encode()).hexdigest(),16)%3)'
		{"", 3, 1},
		// python3 -c 'import hashlib;print(int(hashlib.sha256("".encode()).hexdigest(),16)%5)'
		{"", 5, 4},
		// python3 -c 'import hashlib;print(int(hashlib.sha256("".encode()).hexdigest(),16)%7)'
		{"", 7, 1},
		// python3 -c 'import hashlib;print(int(hashlib.sha256("".encode()).hexdigest(),16)%40)'
		{"", 40, 29},
		// python3 -c 'import hashlib;print(int(hashlib.sha256("".encode()).hexdigest(),16)%256)'
		{"", 256, 85},
		// python3 -c 'import hashlib;print(int(hashlib.sha256("".encode()).hexdigest(),16)%1000003)'
		{"", 1000003, 597209},
		// python3 -c 'import hashlib;print(int(hashlib.sha256("ключ".encode()).hexdigest(),16)%1)'
		{"ключ", 1, 0},
		// python3 -c 'import hashlib;print(int(hashlib.sha256("ключ".encode()).hexdigest(),16)%2)'
		{"ключ", 2, 0},
		// python3 -c 'import hashlib;print(int(hashlib.sha256("ключ".encode()).hexdigest(),16)%3)'
		{"ключ", 3, 2},
		// python3 -c 'import hashlib;print(int(hashlib.sha256("ключ".encode()).hexdigest(),16)%5)'
		{"ключ", 5, 0},
		// python3 -c 'import hashlib;print(int(hashlib.sha256("ключ".encode()).hexdigest(),16)%7)'
		{"ключ", 7, 5},
		// python3 -c 'import hashlib;print(int(hashlib.sha256("ключ".encode()).hexdigest(),16)%40)'
		{"ключ", 40, 30},
		// python3 -c 'import hashlib;print(int(hashlib.sha256("ключ".encode()).hexdigest(),16)%256)'
		{"ключ", 256, 190},
		// python3 -c 'import hashlib;print(int(hashlib.sha256("ключ".encode()).hexdigest(),16)%1000003)'
		{"ключ", 1000003, 75241},
		// python3 -c 'import hashlib;print(int(hashlib.sha256("a&b #+%/ c".encode()).hexdigest(),16)%1)'
		{"a&b #+%/ c", 1, 0},
		// python3 -c 'import hashlib;print(int(hashlib.sha256("a&b #+%/ c".encode()).hexdigest(),16)%2)'
		{"a&b #+%/ c", 2, 1},
		// python3 -c 'import hashlib;print(int(hashlib.sha256("a&b #+%/ c".encode()).hexdigest(),16)%3)'
		{"a&b #+%/ c", 3, 2},
		// python3 -c 'import hashlib;print(int(hashlib.sha256("a&b #+%/ c".encode()).hexdigest(),16)%5)'
		{"a&b #+%/ c", 5, 0},
		// python3 -c 'import hashlib;print(int(hashlib.sha256("a&b #+%/ c".encode()).hexdigest(),16)%7)'
		{"a&b #+%/ c", 7, 6},
		// python3 -c 'import hashlib;print(int(hashlib.sha256("a&b #+%/ c".encode()).hexdigest(),16)%40)'
		{"a&b #+%/ c", 40, 25},
		// python3 -c 'import hashlib;print(int(hashlib.sha256("a&b #+%/ c".encode()).hexdigest(),16)%256)'
		{"a&b #+%/ c", 256, 89},
		// python3 -c 'import hashlib;print(int(hashlib.sha256("a&b #+%/ c".encode()).hexdigest(),16)%1000003)'
		{"a&b #+%/ c", 1000003, 646475},
		// python3 -c 'import hashlib;print(int(hashlib.sha256("日本語のキー".encode()).hexdigest(),16)%1)'
		{"日本語のキー", 1, 0},
		// python3 -c 'import hashlib;print(int(hashlib.sha256("日本語のキー".encode()).hexdigest(),16)%2)'
		{"日本語のキー", 2, 0},
		// python3 -c 'import hashlib;print(int(hashlib.sha256("日本語のキー".encode()).hexdigest(),16)%3)'
		{"日本語のキー", 3, 2},
		// python3 -c 'import hashlib;print(int(hashlib.sha256("日本語のキー".encode()).hexdigest(),16)%5)'
		{"日本語のキー", 5, 2},
		// python3 -c 'import hashlib;print(int(hashlib.sha256("日本語のキー".encode()).hexdigest(),16)%7)'
		{"日本語のキー", 7, 3},
		// python3 -c 'import hashlib;print(int(hashlib.sha256("日本語のキー".encode()).hexdigest(),16)%40)'
		{"日本語のキー", 40, 2},
		// python3 -c 'import hashlib;print(int(hashlib.sha256("日本語のキー".encode()).hexdigest(),16)%256)'
		{"日本語のキー", 256, 106},
		// python3 -c 'import hashlib;print(int(hashlib.sha256("日本語のキー".encode()).hexdigest(),16)%1000003)'
		{"日本語のキー", 1000003, 16082},
		// python3 -c 'import hashlib;print(int(hashlib.sha256(("x"*300).encode()).hexdigest(),16)%1000003)'
		{strings.Repeat("x", 300), 1000003, 804055},
	}
	for _, v := range vectors {
		if got := modIndex(v.key, v.n); got != v.owner {
			t.Errorf("int(SHA-256(%q)) mod %d = %d, python says %d", v.key, v.n, got, v.owner)
		}
	}
}

// seedPlacement is where the seed's proxy put the 21 keys of its
// walkthrough loop (for i in {0..20}) over kv1, kv2, kv3: index into that list.
//
// python3 -c 'import hashlib;print([int(hashlib.sha256(f"key-{i}".encode()).hexdigest(),16)%3 for i in range(21)])'
var seedPlacement = [21]int{2, 1, 0, 0, 1, 2, 2, 0, 2, 0, 1, 0, 2, 1, 1, 1, 0, 2, 2, 2, 0}

func TestModuloSeedWalkthrough(t *testing.T) {
	tab, err := New(Config{}, []string{"kv1", "kv2", "kv3"})
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range seedPlacement {
		key := "key-" + strconv.Itoa(i)
		if got := tab.Owner(key); got != want {
			t.Errorf("%s on node %d, the seed put it on %d", key, got, want)
		}
	}
}

// TestOwnersVectors: owners (primary first) under each strategy, vnodes and
// replica count, as python3 computed them.
func TestOwnersVectors(t *testing.T) {
	vectors := []struct {
		strategy Strategy
		vnodes   int
		replicas int
		nodes    []string
		key      string
		owners   string // names, primary first, comma-separated
	}{
		// python3 -c 'import hashlib;n=["kv1","kv2","kv3"];i=int(hashlib.sha256("key-0".encode()).hexdigest(),16)%len(n);print(",".join(n[(i+j)%len(n)] for j in range(1)))'
		{Modulo, 0, 1, []string{"kv1", "kv2", "kv3"}, "key-0", "kv3"},
		// python3 -c 'import hashlib;n=["kv1","kv2","kv3"];i=int(hashlib.sha256("key-0".encode()).hexdigest(),16)%len(n);print(",".join(n[(i+j)%len(n)] for j in range(2)))'
		{Modulo, 0, 2, []string{"kv1", "kv2", "kv3"}, "key-0", "kv3,kv1"},
		// python3 -c 'import hashlib;n=["kv1","kv2","kv3"];i=int(hashlib.sha256("key-0".encode()).hexdigest(),16)%len(n);print(",".join(n[(i+j)%len(n)] for j in range(3)))'
		{Modulo, 0, 3, []string{"kv1", "kv2", "kv3"}, "key-0", "kv3,kv1,kv2"},
		// python3 -c 'import hashlib;n=["kv1","kv2","kv3"];i=int(hashlib.sha256("key-1".encode()).hexdigest(),16)%len(n);print(",".join(n[(i+j)%len(n)] for j in range(1)))'
		{Modulo, 0, 1, []string{"kv1", "kv2", "kv3"}, "key-1", "kv2"},
		// python3 -c 'import hashlib;n=["kv1","kv2","kv3"];i=int(hashlib.sha256("key-1".encode()).hexdigest(),16)%len(n);print(",".join(n[(i+j)%len(n)] for j in range(2)))'
		{Modulo, 0, 2, []string{"kv1", "kv2", "kv3"}, "key-1", "kv2,kv3"},
		// python3 -c 'import hashlib;n=["kv1","kv2","kv3"];i=int(hashlib.sha256("key-1".encode()).hexdigest(),16)%len(n);print(",".join(n[(i+j)%len(n)] for j in range(3)))'
		{Modulo, 0, 3, []string{"kv1", "kv2", "kv3"}, "key-1", "kv2,kv3,kv1"},
		// python3 -c 'import hashlib;n=["kv1","kv2","kv3"];i=int(hashlib.sha256("key-7".encode()).hexdigest(),16)%len(n);print(",".join(n[(i+j)%len(n)] for j in range(1)))'
		{Modulo, 0, 1, []string{"kv1", "kv2", "kv3"}, "key-7", "kv1"},
		// python3 -c 'import hashlib;n=["kv1","kv2","kv3"];i=int(hashlib.sha256("key-7".encode()).hexdigest(),16)%len(n);print(",".join(n[(i+j)%len(n)] for j in range(2)))'
		{Modulo, 0, 2, []string{"kv1", "kv2", "kv3"}, "key-7", "kv1,kv2"},
		// python3 -c 'import hashlib;n=["kv1","kv2","kv3"];i=int(hashlib.sha256("key-7".encode()).hexdigest(),16)%len(n);print(",".join(n[(i+j)%len(n)] for j in range(3)))'
		{Modulo, 0, 3, []string{"kv1", "kv2", "kv3"}, "key-7", "kv1,kv2,kv3"},
		// python3 -c 'import hashlib;n=["kv1","kv2","kv3"];i=int(hashlib.sha256("key-20".encode()).hexdigest(),16)%len(n);print(",".join(n[(i+j)%len(n)] for j in range(1)))'
		{Modulo, 0, 1, []string{"kv1", "kv2", "kv3"}, "key-20", "kv1"},
		// python3 -c 'import hashlib;n=["kv1","kv2","kv3"];i=int(hashlib.sha256("key-20".encode()).hexdigest(),16)%len(n);print(",".join(n[(i+j)%len(n)] for j in range(2)))'
		{Modulo, 0, 2, []string{"kv1", "kv2", "kv3"}, "key-20", "kv1,kv2"},
		// python3 -c 'import hashlib;n=["kv1","kv2","kv3"];i=int(hashlib.sha256("key-20".encode()).hexdigest(),16)%len(n);print(",".join(n[(i+j)%len(n)] for j in range(3)))'
		{Modulo, 0, 3, []string{"kv1", "kv2", "kv3"}, "key-20", "kv1,kv2,kv3"},
		// python3 -c 'import hashlib;n=["kv1","kv2","kv3"];i=int(hashlib.sha256("kek".encode()).hexdigest(),16)%len(n);print(",".join(n[(i+j)%len(n)] for j in range(1)))'
		{Modulo, 0, 1, []string{"kv1", "kv2", "kv3"}, "kek", "kv2"},
		// python3 -c 'import hashlib;n=["kv1","kv2","kv3"];i=int(hashlib.sha256("kek".encode()).hexdigest(),16)%len(n);print(",".join(n[(i+j)%len(n)] for j in range(2)))'
		{Modulo, 0, 2, []string{"kv1", "kv2", "kv3"}, "kek", "kv2,kv3"},
		// python3 -c 'import hashlib;n=["kv1","kv2","kv3"];i=int(hashlib.sha256("kek".encode()).hexdigest(),16)%len(n);print(",".join(n[(i+j)%len(n)] for j in range(3)))'
		{Modulo, 0, 3, []string{"kv1", "kv2", "kv3"}, "kek", "kv2,kv3,kv1"},
		// python3 -c 'import hashlib;n=["kv1","kv2","kv3"];i=int(hashlib.sha256("ключ".encode()).hexdigest(),16)%len(n);print(",".join(n[(i+j)%len(n)] for j in range(1)))'
		{Modulo, 0, 1, []string{"kv1", "kv2", "kv3"}, "ключ", "kv3"},
		// python3 -c 'import hashlib;n=["kv1","kv2","kv3"];i=int(hashlib.sha256("ключ".encode()).hexdigest(),16)%len(n);print(",".join(n[(i+j)%len(n)] for j in range(2)))'
		{Modulo, 0, 2, []string{"kv1", "kv2", "kv3"}, "ключ", "kv3,kv1"},
		// python3 -c 'import hashlib;n=["kv1","kv2","kv3"];i=int(hashlib.sha256("ключ".encode()).hexdigest(),16)%len(n);print(",".join(n[(i+j)%len(n)] for j in range(3)))'
		{Modulo, 0, 3, []string{"kv1", "kv2", "kv3"}, "ключ", "kv3,kv1,kv2"},
		// python3 -c 'import hashlib;n=["kv1","kv2","kv3","kv4","kv10"];i=int(hashlib.sha256("key-0".encode()).hexdigest(),16)%len(n);print(",".join(n[(i+j)%len(n)] for j in range(1)))'
		{Modulo, 0, 1, []string{"kv1", "kv2", "kv3", "kv4", "kv10"}, "key-0", "kv4"},
		// python3 -c 'import hashlib;n=["kv1","kv2","kv3","kv4","kv10"];i=int(hashlib.sha256("key-0".encode()).hexdigest(),16)%len(n);print(",".join(n[(i+j)%len(n)] for j in range(2)))'
		{Modulo, 0, 2, []string{"kv1", "kv2", "kv3", "kv4", "kv10"}, "key-0", "kv4,kv10"},
		// python3 -c 'import hashlib;n=["kv1","kv2","kv3","kv4","kv10"];i=int(hashlib.sha256("key-0".encode()).hexdigest(),16)%len(n);print(",".join(n[(i+j)%len(n)] for j in range(3)))'
		{Modulo, 0, 3, []string{"kv1", "kv2", "kv3", "kv4", "kv10"}, "key-0", "kv4,kv10,kv1"},
		// python3 -c 'import hashlib;n=["kv1","kv2","kv3","kv4","kv10"];i=int(hashlib.sha256("key-1".encode()).hexdigest(),16)%len(n);print(",".join(n[(i+j)%len(n)] for j in range(1)))'
		{Modulo, 0, 1, []string{"kv1", "kv2", "kv3", "kv4", "kv10"}, "key-1", "kv1"},
		// python3 -c 'import hashlib;n=["kv1","kv2","kv3","kv4","kv10"];i=int(hashlib.sha256("key-1".encode()).hexdigest(),16)%len(n);print(",".join(n[(i+j)%len(n)] for j in range(2)))'
		{Modulo, 0, 2, []string{"kv1", "kv2", "kv3", "kv4", "kv10"}, "key-1", "kv1,kv2"},
		// python3 -c 'import hashlib;n=["kv1","kv2","kv3","kv4","kv10"];i=int(hashlib.sha256("key-1".encode()).hexdigest(),16)%len(n);print(",".join(n[(i+j)%len(n)] for j in range(3)))'
		{Modulo, 0, 3, []string{"kv1", "kv2", "kv3", "kv4", "kv10"}, "key-1", "kv1,kv2,kv3"},
		// python3 -c 'import hashlib;n=["kv1","kv2","kv3","kv4","kv10"];i=int(hashlib.sha256("key-7".encode()).hexdigest(),16)%len(n);print(",".join(n[(i+j)%len(n)] for j in range(1)))'
		{Modulo, 0, 1, []string{"kv1", "kv2", "kv3", "kv4", "kv10"}, "key-7", "kv1"},
		// python3 -c 'import hashlib;n=["kv1","kv2","kv3","kv4","kv10"];i=int(hashlib.sha256("key-7".encode()).hexdigest(),16)%len(n);print(",".join(n[(i+j)%len(n)] for j in range(2)))'
		{Modulo, 0, 2, []string{"kv1", "kv2", "kv3", "kv4", "kv10"}, "key-7", "kv1,kv2"},
		// python3 -c 'import hashlib;n=["kv1","kv2","kv3","kv4","kv10"];i=int(hashlib.sha256("key-7".encode()).hexdigest(),16)%len(n);print(",".join(n[(i+j)%len(n)] for j in range(3)))'
		{Modulo, 0, 3, []string{"kv1", "kv2", "kv3", "kv4", "kv10"}, "key-7", "kv1,kv2,kv3"},
		// python3 -c 'import hashlib;n=["kv1","kv2","kv3","kv4","kv10"];i=int(hashlib.sha256("key-20".encode()).hexdigest(),16)%len(n);print(",".join(n[(i+j)%len(n)] for j in range(1)))'
		{Modulo, 0, 1, []string{"kv1", "kv2", "kv3", "kv4", "kv10"}, "key-20", "kv1"},
		// python3 -c 'import hashlib;n=["kv1","kv2","kv3","kv4","kv10"];i=int(hashlib.sha256("key-20".encode()).hexdigest(),16)%len(n);print(",".join(n[(i+j)%len(n)] for j in range(2)))'
		{Modulo, 0, 2, []string{"kv1", "kv2", "kv3", "kv4", "kv10"}, "key-20", "kv1,kv2"},
		// python3 -c 'import hashlib;n=["kv1","kv2","kv3","kv4","kv10"];i=int(hashlib.sha256("key-20".encode()).hexdigest(),16)%len(n);print(",".join(n[(i+j)%len(n)] for j in range(3)))'
		{Modulo, 0, 3, []string{"kv1", "kv2", "kv3", "kv4", "kv10"}, "key-20", "kv1,kv2,kv3"},
		// python3 -c 'import hashlib;n=["kv1","kv2","kv3","kv4","kv10"];i=int(hashlib.sha256("kek".encode()).hexdigest(),16)%len(n);print(",".join(n[(i+j)%len(n)] for j in range(1)))'
		{Modulo, 0, 1, []string{"kv1", "kv2", "kv3", "kv4", "kv10"}, "kek", "kv1"},
		// python3 -c 'import hashlib;n=["kv1","kv2","kv3","kv4","kv10"];i=int(hashlib.sha256("kek".encode()).hexdigest(),16)%len(n);print(",".join(n[(i+j)%len(n)] for j in range(2)))'
		{Modulo, 0, 2, []string{"kv1", "kv2", "kv3", "kv4", "kv10"}, "kek", "kv1,kv2"},
		// python3 -c 'import hashlib;n=["kv1","kv2","kv3","kv4","kv10"];i=int(hashlib.sha256("kek".encode()).hexdigest(),16)%len(n);print(",".join(n[(i+j)%len(n)] for j in range(3)))'
		{Modulo, 0, 3, []string{"kv1", "kv2", "kv3", "kv4", "kv10"}, "kek", "kv1,kv2,kv3"},
		// python3 -c 'import hashlib;n=["kv1","kv2","kv3","kv4","kv10"];i=int(hashlib.sha256("ключ".encode()).hexdigest(),16)%len(n);print(",".join(n[(i+j)%len(n)] for j in range(1)))'
		{Modulo, 0, 1, []string{"kv1", "kv2", "kv3", "kv4", "kv10"}, "ключ", "kv1"},
		// python3 -c 'import hashlib;n=["kv1","kv2","kv3","kv4","kv10"];i=int(hashlib.sha256("ключ".encode()).hexdigest(),16)%len(n);print(",".join(n[(i+j)%len(n)] for j in range(2)))'
		{Modulo, 0, 2, []string{"kv1", "kv2", "kv3", "kv4", "kv10"}, "ключ", "kv1,kv2"},
		// python3 -c 'import hashlib;n=["kv1","kv2","kv3","kv4","kv10"];i=int(hashlib.sha256("ключ".encode()).hexdigest(),16)%len(n);print(",".join(n[(i+j)%len(n)] for j in range(3)))'
		{Modulo, 0, 3, []string{"kv1", "kv2", "kv3", "kv4", "kv10"}, "ключ", "kv1,kv2,kv3"},
		// python3 -c 'import hashlib,bisect;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3"];p=sorted((h(f"{x}#{i}"),x) for x in n for i in range(1));s=bisect.bisect_left(p,(h("key-0"),));o=[];[o.append(x) for _,x in p[s:]+p[:s] if x not in o];print(",".join(o[:1]))'
		{Ring, 1, 1, []string{"kv1", "kv2", "kv3"}, "key-0", "kv3"},
		// python3 -c 'import hashlib,bisect;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3"];p=sorted((h(f"{x}#{i}"),x) for x in n for i in range(1));s=bisect.bisect_left(p,(h("key-0"),));o=[];[o.append(x) for _,x in p[s:]+p[:s] if x not in o];print(",".join(o[:2]))'
		{Ring, 1, 2, []string{"kv1", "kv2", "kv3"}, "key-0", "kv3,kv1"},
		// python3 -c 'import hashlib,bisect;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3"];p=sorted((h(f"{x}#{i}"),x) for x in n for i in range(1));s=bisect.bisect_left(p,(h("key-0"),));o=[];[o.append(x) for _,x in p[s:]+p[:s] if x not in o];print(",".join(o[:3]))'
		{Ring, 1, 3, []string{"kv1", "kv2", "kv3"}, "key-0", "kv3,kv1,kv2"},
		// python3 -c 'import hashlib,bisect;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3"];p=sorted((h(f"{x}#{i}"),x) for x in n for i in range(1));s=bisect.bisect_left(p,(h("key-1"),));o=[];[o.append(x) for _,x in p[s:]+p[:s] if x not in o];print(",".join(o[:1]))'
		{Ring, 1, 1, []string{"kv1", "kv2", "kv3"}, "key-1", "kv3"},
		// python3 -c 'import hashlib,bisect;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3"];p=sorted((h(f"{x}#{i}"),x) for x in n for i in range(1));s=bisect.bisect_left(p,(h("key-1"),));o=[];[o.append(x) for _,x in p[s:]+p[:s] if x not in o];print(",".join(o[:2]))'
		{Ring, 1, 2, []string{"kv1", "kv2", "kv3"}, "key-1", "kv3,kv1"},
		// python3 -c 'import hashlib,bisect;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3"];p=sorted((h(f"{x}#{i}"),x) for x in n for i in range(1));s=bisect.bisect_left(p,(h("key-1"),));o=[];[o.append(x) for _,x in p[s:]+p[:s] if x not in o];print(",".join(o[:3]))'
		{Ring, 1, 3, []string{"kv1", "kv2", "kv3"}, "key-1", "kv3,kv1,kv2"},
		// python3 -c 'import hashlib,bisect;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3"];p=sorted((h(f"{x}#{i}"),x) for x in n for i in range(1));s=bisect.bisect_left(p,(h("key-7"),));o=[];[o.append(x) for _,x in p[s:]+p[:s] if x not in o];print(",".join(o[:1]))'
		{Ring, 1, 1, []string{"kv1", "kv2", "kv3"}, "key-7", "kv1"},
		// python3 -c 'import hashlib,bisect;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3"];p=sorted((h(f"{x}#{i}"),x) for x in n for i in range(1));s=bisect.bisect_left(p,(h("key-7"),));o=[];[o.append(x) for _,x in p[s:]+p[:s] if x not in o];print(",".join(o[:2]))'
		{Ring, 1, 2, []string{"kv1", "kv2", "kv3"}, "key-7", "kv1,kv2"},
		// python3 -c 'import hashlib,bisect;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3"];p=sorted((h(f"{x}#{i}"),x) for x in n for i in range(1));s=bisect.bisect_left(p,(h("key-7"),));o=[];[o.append(x) for _,x in p[s:]+p[:s] if x not in o];print(",".join(o[:3]))'
		{Ring, 1, 3, []string{"kv1", "kv2", "kv3"}, "key-7", "kv1,kv2,kv3"},
		// python3 -c 'import hashlib,bisect;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3"];p=sorted((h(f"{x}#{i}"),x) for x in n for i in range(1));s=bisect.bisect_left(p,(h("key-20"),));o=[];[o.append(x) for _,x in p[s:]+p[:s] if x not in o];print(",".join(o[:1]))'
		{Ring, 1, 1, []string{"kv1", "kv2", "kv3"}, "key-20", "kv2"},
		// python3 -c 'import hashlib,bisect;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3"];p=sorted((h(f"{x}#{i}"),x) for x in n for i in range(1));s=bisect.bisect_left(p,(h("key-20"),));o=[];[o.append(x) for _,x in p[s:]+p[:s] if x not in o];print(",".join(o[:2]))'
		{Ring, 1, 2, []string{"kv1", "kv2", "kv3"}, "key-20", "kv2,kv3"},
		// python3 -c 'import hashlib,bisect;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3"];p=sorted((h(f"{x}#{i}"),x) for x in n for i in range(1));s=bisect.bisect_left(p,(h("key-20"),));o=[];[o.append(x) for _,x in p[s:]+p[:s] if x not in o];print(",".join(o[:3]))'
		{Ring, 1, 3, []string{"kv1", "kv2", "kv3"}, "key-20", "kv2,kv3,kv1"},
		// python3 -c 'import hashlib,bisect;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3"];p=sorted((h(f"{x}#{i}"),x) for x in n for i in range(1));s=bisect.bisect_left(p,(h("kek"),));o=[];[o.append(x) for _,x in p[s:]+p[:s] if x not in o];print(",".join(o[:1]))'
		{Ring, 1, 1, []string{"kv1", "kv2", "kv3"}, "kek", "kv2"},
		// python3 -c 'import hashlib,bisect;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3"];p=sorted((h(f"{x}#{i}"),x) for x in n for i in range(1));s=bisect.bisect_left(p,(h("kek"),));o=[];[o.append(x) for _,x in p[s:]+p[:s] if x not in o];print(",".join(o[:2]))'
		{Ring, 1, 2, []string{"kv1", "kv2", "kv3"}, "kek", "kv2,kv3"},
		// python3 -c 'import hashlib,bisect;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3"];p=sorted((h(f"{x}#{i}"),x) for x in n for i in range(1));s=bisect.bisect_left(p,(h("kek"),));o=[];[o.append(x) for _,x in p[s:]+p[:s] if x not in o];print(",".join(o[:3]))'
		{Ring, 1, 3, []string{"kv1", "kv2", "kv3"}, "kek", "kv2,kv3,kv1"},
		// python3 -c 'import hashlib,bisect;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3"];p=sorted((h(f"{x}#{i}"),x) for x in n for i in range(1));s=bisect.bisect_left(p,(h("ключ"),));o=[];[o.append(x) for _,x in p[s:]+p[:s] if x not in o];print(",".join(o[:1]))'
		{Ring, 1, 1, []string{"kv1", "kv2", "kv3"}, "ключ", "kv3"},
		// python3 -c 'import hashlib,bisect;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3"];p=sorted((h(f"{x}#{i}"),x) for x in n for i in range(1));s=bisect.bisect_left(p,(h("ключ"),));o=[];[o.append(x) for _,x in p[s:]+p[:s] if x not in o];print(",".join(o[:2]))'
		{Ring, 1, 2, []string{"kv1", "kv2", "kv3"}, "ключ", "kv3,kv1"},
		// python3 -c 'import hashlib,bisect;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3"];p=sorted((h(f"{x}#{i}"),x) for x in n for i in range(1));s=bisect.bisect_left(p,(h("ключ"),));o=[];[o.append(x) for _,x in p[s:]+p[:s] if x not in o];print(",".join(o[:3]))'
		{Ring, 1, 3, []string{"kv1", "kv2", "kv3"}, "ключ", "kv3,kv1,kv2"},
		// python3 -c 'import hashlib,bisect;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3"];p=sorted((h(f"{x}#{i}"),x) for x in n for i in range(2));s=bisect.bisect_left(p,(h("key-0"),));o=[];[o.append(x) for _,x in p[s:]+p[:s] if x not in o];print(",".join(o[:1]))'
		{Ring, 2, 1, []string{"kv1", "kv2", "kv3"}, "key-0", "kv1"},
		// python3 -c 'import hashlib,bisect;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3"];p=sorted((h(f"{x}#{i}"),x) for x in n for i in range(2));s=bisect.bisect_left(p,(h("key-0"),));o=[];[o.append(x) for _,x in p[s:]+p[:s] if x not in o];print(",".join(o[:2]))'
		{Ring, 2, 2, []string{"kv1", "kv2", "kv3"}, "key-0", "kv1,kv3"},
		// python3 -c 'import hashlib,bisect;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3"];p=sorted((h(f"{x}#{i}"),x) for x in n for i in range(2));s=bisect.bisect_left(p,(h("key-0"),));o=[];[o.append(x) for _,x in p[s:]+p[:s] if x not in o];print(",".join(o[:3]))'
		{Ring, 2, 3, []string{"kv1", "kv2", "kv3"}, "key-0", "kv1,kv3,kv2"},
		// python3 -c 'import hashlib,bisect;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3"];p=sorted((h(f"{x}#{i}"),x) for x in n for i in range(2));s=bisect.bisect_left(p,(h("key-1"),));o=[];[o.append(x) for _,x in p[s:]+p[:s] if x not in o];print(",".join(o[:1]))'
		{Ring, 2, 1, []string{"kv1", "kv2", "kv3"}, "key-1", "kv1"},
		// python3 -c 'import hashlib,bisect;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3"];p=sorted((h(f"{x}#{i}"),x) for x in n for i in range(2));s=bisect.bisect_left(p,(h("key-1"),));o=[];[o.append(x) for _,x in p[s:]+p[:s] if x not in o];print(",".join(o[:2]))'
		{Ring, 2, 2, []string{"kv1", "kv2", "kv3"}, "key-1", "kv1,kv3"},
		// python3 -c 'import hashlib,bisect;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3"];p=sorted((h(f"{x}#{i}"),x) for x in n for i in range(2));s=bisect.bisect_left(p,(h("key-1"),));o=[];[o.append(x) for _,x in p[s:]+p[:s] if x not in o];print(",".join(o[:3]))'
		{Ring, 2, 3, []string{"kv1", "kv2", "kv3"}, "key-1", "kv1,kv3,kv2"},
		// python3 -c 'import hashlib,bisect;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3"];p=sorted((h(f"{x}#{i}"),x) for x in n for i in range(2));s=bisect.bisect_left(p,(h("key-7"),));o=[];[o.append(x) for _,x in p[s:]+p[:s] if x not in o];print(",".join(o[:1]))'
		{Ring, 2, 1, []string{"kv1", "kv2", "kv3"}, "key-7", "kv1"},
		// python3 -c 'import hashlib,bisect;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3"];p=sorted((h(f"{x}#{i}"),x) for x in n for i in range(2));s=bisect.bisect_left(p,(h("key-7"),));o=[];[o.append(x) for _,x in p[s:]+p[:s] if x not in o];print(",".join(o[:2]))'
		{Ring, 2, 2, []string{"kv1", "kv2", "kv3"}, "key-7", "kv1,kv2"},
		// python3 -c 'import hashlib,bisect;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3"];p=sorted((h(f"{x}#{i}"),x) for x in n for i in range(2));s=bisect.bisect_left(p,(h("key-7"),));o=[];[o.append(x) for _,x in p[s:]+p[:s] if x not in o];print(",".join(o[:3]))'
		{Ring, 2, 3, []string{"kv1", "kv2", "kv3"}, "key-7", "kv1,kv2,kv3"},
		// python3 -c 'import hashlib,bisect;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3"];p=sorted((h(f"{x}#{i}"),x) for x in n for i in range(2));s=bisect.bisect_left(p,(h("key-20"),));o=[];[o.append(x) for _,x in p[s:]+p[:s] if x not in o];print(",".join(o[:1]))'
		{Ring, 2, 1, []string{"kv1", "kv2", "kv3"}, "key-20", "kv2"},
		// python3 -c 'import hashlib,bisect;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3"];p=sorted((h(f"{x}#{i}"),x) for x in n for i in range(2));s=bisect.bisect_left(p,(h("key-20"),));o=[];[o.append(x) for _,x in p[s:]+p[:s] if x not in o];print(",".join(o[:2]))'
		{Ring, 2, 2, []string{"kv1", "kv2", "kv3"}, "key-20", "kv2,kv1"},
		// python3 -c 'import hashlib,bisect;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3"];p=sorted((h(f"{x}#{i}"),x) for x in n for i in range(2));s=bisect.bisect_left(p,(h("key-20"),));o=[];[o.append(x) for _,x in p[s:]+p[:s] if x not in o];print(",".join(o[:3]))'
		{Ring, 2, 3, []string{"kv1", "kv2", "kv3"}, "key-20", "kv2,kv1,kv3"},
		// python3 -c 'import hashlib,bisect;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3"];p=sorted((h(f"{x}#{i}"),x) for x in n for i in range(2));s=bisect.bisect_left(p,(h("kek"),));o=[];[o.append(x) for _,x in p[s:]+p[:s] if x not in o];print(",".join(o[:1]))'
		{Ring, 2, 1, []string{"kv1", "kv2", "kv3"}, "kek", "kv2"},
		// python3 -c 'import hashlib,bisect;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3"];p=sorted((h(f"{x}#{i}"),x) for x in n for i in range(2));s=bisect.bisect_left(p,(h("kek"),));o=[];[o.append(x) for _,x in p[s:]+p[:s] if x not in o];print(",".join(o[:2]))'
		{Ring, 2, 2, []string{"kv1", "kv2", "kv3"}, "kek", "kv2,kv1"},
		// python3 -c 'import hashlib,bisect;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3"];p=sorted((h(f"{x}#{i}"),x) for x in n for i in range(2));s=bisect.bisect_left(p,(h("kek"),));o=[];[o.append(x) for _,x in p[s:]+p[:s] if x not in o];print(",".join(o[:3]))'
		{Ring, 2, 3, []string{"kv1", "kv2", "kv3"}, "kek", "kv2,kv1,kv3"},
		// python3 -c 'import hashlib,bisect;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3"];p=sorted((h(f"{x}#{i}"),x) for x in n for i in range(2));s=bisect.bisect_left(p,(h("ключ"),));o=[];[o.append(x) for _,x in p[s:]+p[:s] if x not in o];print(",".join(o[:1]))'
		{Ring, 2, 1, []string{"kv1", "kv2", "kv3"}, "ключ", "kv3"},
		// python3 -c 'import hashlib,bisect;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3"];p=sorted((h(f"{x}#{i}"),x) for x in n for i in range(2));s=bisect.bisect_left(p,(h("ключ"),));o=[];[o.append(x) for _,x in p[s:]+p[:s] if x not in o];print(",".join(o[:2]))'
		{Ring, 2, 2, []string{"kv1", "kv2", "kv3"}, "ключ", "kv3,kv1"},
		// python3 -c 'import hashlib,bisect;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3"];p=sorted((h(f"{x}#{i}"),x) for x in n for i in range(2));s=bisect.bisect_left(p,(h("ключ"),));o=[];[o.append(x) for _,x in p[s:]+p[:s] if x not in o];print(",".join(o[:3]))'
		{Ring, 2, 3, []string{"kv1", "kv2", "kv3"}, "ключ", "kv3,kv1,kv2"},
		// python3 -c 'import hashlib,bisect;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3"];p=sorted((h(f"{x}#{i}"),x) for x in n for i in range(64));s=bisect.bisect_left(p,(h("key-0"),));o=[];[o.append(x) for _,x in p[s:]+p[:s] if x not in o];print(",".join(o[:1]))'
		{Ring, 64, 1, []string{"kv1", "kv2", "kv3"}, "key-0", "kv2"},
		// python3 -c 'import hashlib,bisect;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3"];p=sorted((h(f"{x}#{i}"),x) for x in n for i in range(64));s=bisect.bisect_left(p,(h("key-0"),));o=[];[o.append(x) for _,x in p[s:]+p[:s] if x not in o];print(",".join(o[:2]))'
		{Ring, 64, 2, []string{"kv1", "kv2", "kv3"}, "key-0", "kv2,kv3"},
		// python3 -c 'import hashlib,bisect;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3"];p=sorted((h(f"{x}#{i}"),x) for x in n for i in range(64));s=bisect.bisect_left(p,(h("key-0"),));o=[];[o.append(x) for _,x in p[s:]+p[:s] if x not in o];print(",".join(o[:3]))'
		{Ring, 64, 3, []string{"kv1", "kv2", "kv3"}, "key-0", "kv2,kv3,kv1"},
		// python3 -c 'import hashlib,bisect;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3"];p=sorted((h(f"{x}#{i}"),x) for x in n for i in range(64));s=bisect.bisect_left(p,(h("key-1"),));o=[];[o.append(x) for _,x in p[s:]+p[:s] if x not in o];print(",".join(o[:1]))'
		{Ring, 64, 1, []string{"kv1", "kv2", "kv3"}, "key-1", "kv1"},
		// python3 -c 'import hashlib,bisect;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3"];p=sorted((h(f"{x}#{i}"),x) for x in n for i in range(64));s=bisect.bisect_left(p,(h("key-1"),));o=[];[o.append(x) for _,x in p[s:]+p[:s] if x not in o];print(",".join(o[:2]))'
		{Ring, 64, 2, []string{"kv1", "kv2", "kv3"}, "key-1", "kv1,kv2"},
		// python3 -c 'import hashlib,bisect;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3"];p=sorted((h(f"{x}#{i}"),x) for x in n for i in range(64));s=bisect.bisect_left(p,(h("key-1"),));o=[];[o.append(x) for _,x in p[s:]+p[:s] if x not in o];print(",".join(o[:3]))'
		{Ring, 64, 3, []string{"kv1", "kv2", "kv3"}, "key-1", "kv1,kv2,kv3"},
		// python3 -c 'import hashlib,bisect;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3"];p=sorted((h(f"{x}#{i}"),x) for x in n for i in range(64));s=bisect.bisect_left(p,(h("key-7"),));o=[];[o.append(x) for _,x in p[s:]+p[:s] if x not in o];print(",".join(o[:1]))'
		{Ring, 64, 1, []string{"kv1", "kv2", "kv3"}, "key-7", "kv2"},
		// python3 -c 'import hashlib,bisect;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3"];p=sorted((h(f"{x}#{i}"),x) for x in n for i in range(64));s=bisect.bisect_left(p,(h("key-7"),));o=[];[o.append(x) for _,x in p[s:]+p[:s] if x not in o];print(",".join(o[:2]))'
		{Ring, 64, 2, []string{"kv1", "kv2", "kv3"}, "key-7", "kv2,kv1"},
		// python3 -c 'import hashlib,bisect;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3"];p=sorted((h(f"{x}#{i}"),x) for x in n for i in range(64));s=bisect.bisect_left(p,(h("key-7"),));o=[];[o.append(x) for _,x in p[s:]+p[:s] if x not in o];print(",".join(o[:3]))'
		{Ring, 64, 3, []string{"kv1", "kv2", "kv3"}, "key-7", "kv2,kv1,kv3"},
		// python3 -c 'import hashlib,bisect;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3"];p=sorted((h(f"{x}#{i}"),x) for x in n for i in range(64));s=bisect.bisect_left(p,(h("key-20"),));o=[];[o.append(x) for _,x in p[s:]+p[:s] if x not in o];print(",".join(o[:1]))'
		{Ring, 64, 1, []string{"kv1", "kv2", "kv3"}, "key-20", "kv3"},
		// python3 -c 'import hashlib,bisect;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3"];p=sorted((h(f"{x}#{i}"),x) for x in n for i in range(64));s=bisect.bisect_left(p,(h("key-20"),));o=[];[o.append(x) for _,x in p[s:]+p[:s] if x not in o];print(",".join(o[:2]))'
		{Ring, 64, 2, []string{"kv1", "kv2", "kv3"}, "key-20", "kv3,kv1"},
		// python3 -c 'import hashlib,bisect;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3"];p=sorted((h(f"{x}#{i}"),x) for x in n for i in range(64));s=bisect.bisect_left(p,(h("key-20"),));o=[];[o.append(x) for _,x in p[s:]+p[:s] if x not in o];print(",".join(o[:3]))'
		{Ring, 64, 3, []string{"kv1", "kv2", "kv3"}, "key-20", "kv3,kv1,kv2"},
		// python3 -c 'import hashlib,bisect;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3"];p=sorted((h(f"{x}#{i}"),x) for x in n for i in range(64));s=bisect.bisect_left(p,(h("kek"),));o=[];[o.append(x) for _,x in p[s:]+p[:s] if x not in o];print(",".join(o[:1]))'
		{Ring, 64, 1, []string{"kv1", "kv2", "kv3"}, "kek", "kv3"},
		// python3 -c 'import hashlib,bisect;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3"];p=sorted((h(f"{x}#{i}"),x) for x in n for i in range(64));s=bisect.bisect_left(p,(h("kek"),));o=[];[o.append(x) for _,x in p[s:]+p[:s] if x not in o];print(",".join(o[:2]))'
		{Ring, 64, 2, []string{"kv1", "kv2", "kv3"}, "kek", "kv3,kv2"},
		// python3 -c 'import hashlib,bisect;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3"];p=sorted((h(f"{x}#{i}"),x) for x in n for i in range(64));s=bisect.bisect_left(p,(h("kek"),));o=[];[o.append(x) for _,x in p[s:]+p[:s] if x not in o];print(",".join(o[:3]))'
		{Ring, 64, 3, []string{"kv1", "kv2", "kv3"}, "kek", "kv3,kv2,kv1"},
		// python3 -c 'import hashlib,bisect;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3"];p=sorted((h(f"{x}#{i}"),x) for x in n for i in range(64));s=bisect.bisect_left(p,(h("ключ"),));o=[];[o.append(x) for _,x in p[s:]+p[:s] if x not in o];print(",".join(o[:1]))'
		{Ring, 64, 1, []string{"kv1", "kv2", "kv3"}, "ключ", "kv3"},
		// python3 -c 'import hashlib,bisect;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3"];p=sorted((h(f"{x}#{i}"),x) for x in n for i in range(64));s=bisect.bisect_left(p,(h("ключ"),));o=[];[o.append(x) for _,x in p[s:]+p[:s] if x not in o];print(",".join(o[:2]))'
		{Ring, 64, 2, []string{"kv1", "kv2", "kv3"}, "ключ", "kv3,kv1"},
		// python3 -c 'import hashlib,bisect;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3"];p=sorted((h(f"{x}#{i}"),x) for x in n for i in range(64));s=bisect.bisect_left(p,(h("ключ"),));o=[];[o.append(x) for _,x in p[s:]+p[:s] if x not in o];print(",".join(o[:3]))'
		{Ring, 64, 3, []string{"kv1", "kv2", "kv3"}, "ключ", "kv3,kv1,kv2"},
		// python3 -c 'import hashlib,bisect;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3","kv4","kv10"];p=sorted((h(f"{x}#{i}"),x) for x in n for i in range(1));s=bisect.bisect_left(p,(h("key-0"),));o=[];[o.append(x) for _,x in p[s:]+p[:s] if x not in o];print(",".join(o[:1]))'
		{Ring, 1, 1, []string{"kv1", "kv2", "kv3", "kv4", "kv10"}, "key-0", "kv3"},
		// python3 -c 'import hashlib,bisect;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3","kv4","kv10"];p=sorted((h(f"{x}#{i}"),x) for x in n for i in range(1));s=bisect.bisect_left(p,(h("key-0"),));o=[];[o.append(x) for _,x in p[s:]+p[:s] if x not in o];print(",".join(o[:2]))'
		{Ring, 1, 2, []string{"kv1", "kv2", "kv3", "kv4", "kv10"}, "key-0", "kv3,kv10"},
		// python3 -c 'import hashlib,bisect;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3","kv4","kv10"];p=sorted((h(f"{x}#{i}"),x) for x in n for i in range(1));s=bisect.bisect_left(p,(h("key-0"),));o=[];[o.append(x) for _,x in p[s:]+p[:s] if x not in o];print(",".join(o[:3]))'
		{Ring, 1, 3, []string{"kv1", "kv2", "kv3", "kv4", "kv10"}, "key-0", "kv3,kv10,kv4"},
		// python3 -c 'import hashlib,bisect;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3","kv4","kv10"];p=sorted((h(f"{x}#{i}"),x) for x in n for i in range(1));s=bisect.bisect_left(p,(h("key-1"),));o=[];[o.append(x) for _,x in p[s:]+p[:s] if x not in o];print(",".join(o[:1]))'
		{Ring, 1, 1, []string{"kv1", "kv2", "kv3", "kv4", "kv10"}, "key-1", "kv3"},
		// python3 -c 'import hashlib,bisect;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3","kv4","kv10"];p=sorted((h(f"{x}#{i}"),x) for x in n for i in range(1));s=bisect.bisect_left(p,(h("key-1"),));o=[];[o.append(x) for _,x in p[s:]+p[:s] if x not in o];print(",".join(o[:2]))'
		{Ring, 1, 2, []string{"kv1", "kv2", "kv3", "kv4", "kv10"}, "key-1", "kv3,kv10"},
		// python3 -c 'import hashlib,bisect;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3","kv4","kv10"];p=sorted((h(f"{x}#{i}"),x) for x in n for i in range(1));s=bisect.bisect_left(p,(h("key-1"),));o=[];[o.append(x) for _,x in p[s:]+p[:s] if x not in o];print(",".join(o[:3]))'
		{Ring, 1, 3, []string{"kv1", "kv2", "kv3", "kv4", "kv10"}, "key-1", "kv3,kv10,kv4"},
		// python3 -c 'import hashlib,bisect;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3","kv4","kv10"];p=sorted((h(f"{x}#{i}"),x) for x in n for i in range(1));s=bisect.bisect_left(p,(h("key-7"),));o=[];[o.append(x) for _,x in p[s:]+p[:s] if x not in o];print(",".join(o[:1]))'
		{Ring, 1, 1, []string{"kv1", "kv2", "kv3", "kv4", "kv10"}, "key-7", "kv4"},
		// python3 -c 'import hashlib,bisect;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3","kv4","kv10"];p=sorted((h(f"{x}#{i}"),x) for x in n for i in range(1));s=bisect.bisect_left(p,(h("key-7"),));o=[];[o.append(x) for _,x in p[s:]+p[:s] if x not in o];print(",".join(o[:2]))'
		{Ring, 1, 2, []string{"kv1", "kv2", "kv3", "kv4", "kv10"}, "key-7", "kv4,kv1"},
		// python3 -c 'import hashlib,bisect;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3","kv4","kv10"];p=sorted((h(f"{x}#{i}"),x) for x in n for i in range(1));s=bisect.bisect_left(p,(h("key-7"),));o=[];[o.append(x) for _,x in p[s:]+p[:s] if x not in o];print(",".join(o[:3]))'
		{Ring, 1, 3, []string{"kv1", "kv2", "kv3", "kv4", "kv10"}, "key-7", "kv4,kv1,kv2"},
		// python3 -c 'import hashlib,bisect;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3","kv4","kv10"];p=sorted((h(f"{x}#{i}"),x) for x in n for i in range(1));s=bisect.bisect_left(p,(h("key-20"),));o=[];[o.append(x) for _,x in p[s:]+p[:s] if x not in o];print(",".join(o[:1]))'
		{Ring, 1, 1, []string{"kv1", "kv2", "kv3", "kv4", "kv10"}, "key-20", "kv2"},
		// python3 -c 'import hashlib,bisect;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3","kv4","kv10"];p=sorted((h(f"{x}#{i}"),x) for x in n for i in range(1));s=bisect.bisect_left(p,(h("key-20"),));o=[];[o.append(x) for _,x in p[s:]+p[:s] if x not in o];print(",".join(o[:2]))'
		{Ring, 1, 2, []string{"kv1", "kv2", "kv3", "kv4", "kv10"}, "key-20", "kv2,kv3"},
		// python3 -c 'import hashlib,bisect;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3","kv4","kv10"];p=sorted((h(f"{x}#{i}"),x) for x in n for i in range(1));s=bisect.bisect_left(p,(h("key-20"),));o=[];[o.append(x) for _,x in p[s:]+p[:s] if x not in o];print(",".join(o[:3]))'
		{Ring, 1, 3, []string{"kv1", "kv2", "kv3", "kv4", "kv10"}, "key-20", "kv2,kv3,kv10"},
		// python3 -c 'import hashlib,bisect;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3","kv4","kv10"];p=sorted((h(f"{x}#{i}"),x) for x in n for i in range(1));s=bisect.bisect_left(p,(h("kek"),));o=[];[o.append(x) for _,x in p[s:]+p[:s] if x not in o];print(",".join(o[:1]))'
		{Ring, 1, 1, []string{"kv1", "kv2", "kv3", "kv4", "kv10"}, "kek", "kv2"},
		// python3 -c 'import hashlib,bisect;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3","kv4","kv10"];p=sorted((h(f"{x}#{i}"),x) for x in n for i in range(1));s=bisect.bisect_left(p,(h("kek"),));o=[];[o.append(x) for _,x in p[s:]+p[:s] if x not in o];print(",".join(o[:2]))'
		{Ring, 1, 2, []string{"kv1", "kv2", "kv3", "kv4", "kv10"}, "kek", "kv2,kv3"},
		// python3 -c 'import hashlib,bisect;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3","kv4","kv10"];p=sorted((h(f"{x}#{i}"),x) for x in n for i in range(1));s=bisect.bisect_left(p,(h("kek"),));o=[];[o.append(x) for _,x in p[s:]+p[:s] if x not in o];print(",".join(o[:3]))'
		{Ring, 1, 3, []string{"kv1", "kv2", "kv3", "kv4", "kv10"}, "kek", "kv2,kv3,kv10"},
		// python3 -c 'import hashlib,bisect;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3","kv4","kv10"];p=sorted((h(f"{x}#{i}"),x) for x in n for i in range(1));s=bisect.bisect_left(p,(h("ключ"),));o=[];[o.append(x) for _,x in p[s:]+p[:s] if x not in o];print(",".join(o[:1]))'
		{Ring, 1, 1, []string{"kv1", "kv2", "kv3", "kv4", "kv10"}, "ключ", "kv3"},
		// python3 -c 'import hashlib,bisect;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3","kv4","kv10"];p=sorted((h(f"{x}#{i}"),x) for x in n for i in range(1));s=bisect.bisect_left(p,(h("ключ"),));o=[];[o.append(x) for _,x in p[s:]+p[:s] if x not in o];print(",".join(o[:2]))'
		{Ring, 1, 2, []string{"kv1", "kv2", "kv3", "kv4", "kv10"}, "ключ", "kv3,kv10"},
		// python3 -c 'import hashlib,bisect;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3","kv4","kv10"];p=sorted((h(f"{x}#{i}"),x) for x in n for i in range(1));s=bisect.bisect_left(p,(h("ключ"),));o=[];[o.append(x) for _,x in p[s:]+p[:s] if x not in o];print(",".join(o[:3]))'
		{Ring, 1, 3, []string{"kv1", "kv2", "kv3", "kv4", "kv10"}, "ключ", "kv3,kv10,kv4"},
		// python3 -c 'import hashlib,bisect;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3","kv4","kv10"];p=sorted((h(f"{x}#{i}"),x) for x in n for i in range(2));s=bisect.bisect_left(p,(h("key-0"),));o=[];[o.append(x) for _,x in p[s:]+p[:s] if x not in o];print(",".join(o[:1]))'
		{Ring, 2, 1, []string{"kv1", "kv2", "kv3", "kv4", "kv10"}, "key-0", "kv1"},
		// python3 -c 'import hashlib,bisect;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3","kv4","kv10"];p=sorted((h(f"{x}#{i}"),x) for x in n for i in range(2));s=bisect.bisect_left(p,(h("key-0"),));o=[];[o.append(x) for _,x in p[s:]+p[:s] if x not in o];print(",".join(o[:2]))'
		{Ring, 2, 2, []string{"kv1", "kv2", "kv3", "kv4", "kv10"}, "key-0", "kv1,kv3"},
		// python3 -c 'import hashlib,bisect;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3","kv4","kv10"];p=sorted((h(f"{x}#{i}"),x) for x in n for i in range(2));s=bisect.bisect_left(p,(h("key-0"),));o=[];[o.append(x) for _,x in p[s:]+p[:s] if x not in o];print(",".join(o[:3]))'
		{Ring, 2, 3, []string{"kv1", "kv2", "kv3", "kv4", "kv10"}, "key-0", "kv1,kv3,kv4"},
		// python3 -c 'import hashlib,bisect;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3","kv4","kv10"];p=sorted((h(f"{x}#{i}"),x) for x in n for i in range(2));s=bisect.bisect_left(p,(h("key-1"),));o=[];[o.append(x) for _,x in p[s:]+p[:s] if x not in o];print(",".join(o[:1]))'
		{Ring, 2, 1, []string{"kv1", "kv2", "kv3", "kv4", "kv10"}, "key-1", "kv1"},
		// python3 -c 'import hashlib,bisect;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3","kv4","kv10"];p=sorted((h(f"{x}#{i}"),x) for x in n for i in range(2));s=bisect.bisect_left(p,(h("key-1"),));o=[];[o.append(x) for _,x in p[s:]+p[:s] if x not in o];print(",".join(o[:2]))'
		{Ring, 2, 2, []string{"kv1", "kv2", "kv3", "kv4", "kv10"}, "key-1", "kv1,kv3"},
		// python3 -c 'import hashlib,bisect;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3","kv4","kv10"];p=sorted((h(f"{x}#{i}"),x) for x in n for i in range(2));s=bisect.bisect_left(p,(h("key-1"),));o=[];[o.append(x) for _,x in p[s:]+p[:s] if x not in o];print(",".join(o[:3]))'
		{Ring, 2, 3, []string{"kv1", "kv2", "kv3", "kv4", "kv10"}, "key-1", "kv1,kv3,kv4"},
		// python3 -c 'import hashlib,bisect;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3","kv4","kv10"];p=sorted((h(f"{x}#{i}"),x) for x in n for i in range(2));s=bisect.bisect_left(p,(h("key-7"),));o=[];[o.append(x) for _,x in p[s:]+p[:s] if x not in o];print(",".join(o[:1]))'
		{Ring, 2, 1, []string{"kv1", "kv2", "kv3", "kv4", "kv10"}, "key-7", "kv4"},
		// python3 -c 'import hashlib,bisect;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3","kv4","kv10"];p=sorted((h(f"{x}#{i}"),x) for x in n for i in range(2));s=bisect.bisect_left(p,(h("key-7"),));o=[];[o.append(x) for _,x in p[s:]+p[:s] if x not in o];print(",".join(o[:2]))'
		{Ring, 2, 2, []string{"kv1", "kv2", "kv3", "kv4", "kv10"}, "key-7", "kv4,kv1"},
		// python3 -c 'import hashlib,bisect;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3","kv4","kv10"];p=sorted((h(f"{x}#{i}"),x) for x in n for i in range(2));s=bisect.bisect_left(p,(h("key-7"),));o=[];[o.append(x) for _,x in p[s:]+p[:s] if x not in o];print(",".join(o[:3]))'
		{Ring, 2, 3, []string{"kv1", "kv2", "kv3", "kv4", "kv10"}, "key-7", "kv4,kv1,kv2"},
		// python3 -c 'import hashlib,bisect;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3","kv4","kv10"];p=sorted((h(f"{x}#{i}"),x) for x in n for i in range(2));s=bisect.bisect_left(p,(h("key-20"),));o=[];[o.append(x) for _,x in p[s:]+p[:s] if x not in o];print(",".join(o[:1]))'
		{Ring, 2, 1, []string{"kv1", "kv2", "kv3", "kv4", "kv10"}, "key-20", "kv2"},
		// python3 -c 'import hashlib,bisect;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3","kv4","kv10"];p=sorted((h(f"{x}#{i}"),x) for x in n for i in range(2));s=bisect.bisect_left(p,(h("key-20"),));o=[];[o.append(x) for _,x in p[s:]+p[:s] if x not in o];print(",".join(o[:2]))'
		{Ring, 2, 2, []string{"kv1", "kv2", "kv3", "kv4", "kv10"}, "key-20", "kv2,kv10"},
		// python3 -c 'import hashlib,bisect;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3","kv4","kv10"];p=sorted((h(f"{x}#{i}"),x) for x in n for i in range(2));s=bisect.bisect_left(p,(h("key-20"),));o=[];[o.append(x) for _,x in p[s:]+p[:s] if x not in o];print(",".join(o[:3]))'
		{Ring, 2, 3, []string{"kv1", "kv2", "kv3", "kv4", "kv10"}, "key-20", "kv2,kv10,kv1"},
		// python3 -c 'import hashlib,bisect;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3","kv4","kv10"];p=sorted((h(f"{x}#{i}"),x) for x in n for i in range(2));s=bisect.bisect_left(p,(h("kek"),));o=[];[o.append(x) for _,x in p[s:]+p[:s] if x not in o];print(",".join(o[:1]))'
		{Ring, 2, 1, []string{"kv1", "kv2", "kv3", "kv4", "kv10"}, "kek", "kv2"},
		// python3 -c 'import hashlib,bisect;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3","kv4","kv10"];p=sorted((h(f"{x}#{i}"),x) for x in n for i in range(2));s=bisect.bisect_left(p,(h("kek"),));o=[];[o.append(x) for _,x in p[s:]+p[:s] if x not in o];print(",".join(o[:2]))'
		{Ring, 2, 2, []string{"kv1", "kv2", "kv3", "kv4", "kv10"}, "kek", "kv2,kv1"},
		// python3 -c 'import hashlib,bisect;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3","kv4","kv10"];p=sorted((h(f"{x}#{i}"),x) for x in n for i in range(2));s=bisect.bisect_left(p,(h("kek"),));o=[];[o.append(x) for _,x in p[s:]+p[:s] if x not in o];print(",".join(o[:3]))'
		{Ring, 2, 3, []string{"kv1", "kv2", "kv3", "kv4", "kv10"}, "kek", "kv2,kv1,kv3"},
		// python3 -c 'import hashlib,bisect;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3","kv4","kv10"];p=sorted((h(f"{x}#{i}"),x) for x in n for i in range(2));s=bisect.bisect_left(p,(h("ключ"),));o=[];[o.append(x) for _,x in p[s:]+p[:s] if x not in o];print(",".join(o[:1]))'
		{Ring, 2, 1, []string{"kv1", "kv2", "kv3", "kv4", "kv10"}, "ключ", "kv3"},
		// python3 -c 'import hashlib,bisect;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3","kv4","kv10"];p=sorted((h(f"{x}#{i}"),x) for x in n for i in range(2));s=bisect.bisect_left(p,(h("ключ"),));o=[];[o.append(x) for _,x in p[s:]+p[:s] if x not in o];print(",".join(o[:2]))'
		{Ring, 2, 2, []string{"kv1", "kv2", "kv3", "kv4", "kv10"}, "ключ", "kv3,kv4"},
		// python3 -c 'import hashlib,bisect;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3","kv4","kv10"];p=sorted((h(f"{x}#{i}"),x) for x in n for i in range(2));s=bisect.bisect_left(p,(h("ключ"),));o=[];[o.append(x) for _,x in p[s:]+p[:s] if x not in o];print(",".join(o[:3]))'
		{Ring, 2, 3, []string{"kv1", "kv2", "kv3", "kv4", "kv10"}, "ключ", "kv3,kv4,kv10"},
		// python3 -c 'import hashlib,bisect;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3","kv4","kv10"];p=sorted((h(f"{x}#{i}"),x) for x in n for i in range(64));s=bisect.bisect_left(p,(h("key-0"),));o=[];[o.append(x) for _,x in p[s:]+p[:s] if x not in o];print(",".join(o[:1]))'
		{Ring, 64, 1, []string{"kv1", "kv2", "kv3", "kv4", "kv10"}, "key-0", "kv10"},
		// python3 -c 'import hashlib,bisect;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3","kv4","kv10"];p=sorted((h(f"{x}#{i}"),x) for x in n for i in range(64));s=bisect.bisect_left(p,(h("key-0"),));o=[];[o.append(x) for _,x in p[s:]+p[:s] if x not in o];print(",".join(o[:3]))'
		{Ring, 64, 3, []string{"kv1", "kv2", "kv3", "kv4", "kv10"}, "key-0", "kv10,kv2,kv4"},
		// python3 -c 'import hashlib,bisect;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3","kv4","kv10"];p=sorted((h(f"{x}#{i}"),x) for x in n for i in range(64));s=bisect.bisect_left(p,(h("key-1"),));o=[];[o.append(x) for _,x in p[s:]+p[:s] if x not in o];print(",".join(o[:1]))'
		{Ring, 64, 1, []string{"kv1", "kv2", "kv3", "kv4", "kv10"}, "key-1", "kv1"},
		// python3 -c 'import hashlib,bisect;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3","kv4","kv10"];p=sorted((h(f"{x}#{i}"),x) for x in n for i in range(64));s=bisect.bisect_left(p,(h("key-1"),));o=[];[o.append(x) for _,x in p[s:]+p[:s] if x not in o];print(",".join(o[:3]))'
		{Ring, 64, 3, []string{"kv1", "kv2", "kv3", "kv4", "kv10"}, "key-1", "kv1,kv2,kv10"},
		// python3 -c 'import hashlib,bisect;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3","kv4","kv10"];p=sorted((h(f"{x}#{i}"),x) for x in n for i in range(64));s=bisect.bisect_left(p,(h("key-7"),));o=[];[o.append(x) for _,x in p[s:]+p[:s] if x not in o];print(",".join(o[:1]))'
		{Ring, 64, 1, []string{"kv1", "kv2", "kv3", "kv4", "kv10"}, "key-7", "kv2"},
		// python3 -c 'import hashlib,bisect;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3","kv4","kv10"];p=sorted((h(f"{x}#{i}"),x) for x in n for i in range(64));s=bisect.bisect_left(p,(h("key-7"),));o=[];[o.append(x) for _,x in p[s:]+p[:s] if x not in o];print(",".join(o[:3]))'
		{Ring, 64, 3, []string{"kv1", "kv2", "kv3", "kv4", "kv10"}, "key-7", "kv2,kv10,kv1"},
		// python3 -c 'import hashlib,bisect;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3","kv4","kv10"];p=sorted((h(f"{x}#{i}"),x) for x in n for i in range(64));s=bisect.bisect_left(p,(h("key-20"),));o=[];[o.append(x) for _,x in p[s:]+p[:s] if x not in o];print(",".join(o[:1]))'
		{Ring, 64, 1, []string{"kv1", "kv2", "kv3", "kv4", "kv10"}, "key-20", "kv4"},
		// python3 -c 'import hashlib,bisect;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3","kv4","kv10"];p=sorted((h(f"{x}#{i}"),x) for x in n for i in range(64));s=bisect.bisect_left(p,(h("key-20"),));o=[];[o.append(x) for _,x in p[s:]+p[:s] if x not in o];print(",".join(o[:3]))'
		{Ring, 64, 3, []string{"kv1", "kv2", "kv3", "kv4", "kv10"}, "key-20", "kv4,kv10,kv3"},
		// python3 -c 'import hashlib,bisect;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3","kv4","kv10"];p=sorted((h(f"{x}#{i}"),x) for x in n for i in range(64));s=bisect.bisect_left(p,(h("kek"),));o=[];[o.append(x) for _,x in p[s:]+p[:s] if x not in o];print(",".join(o[:1]))'
		{Ring, 64, 1, []string{"kv1", "kv2", "kv3", "kv4", "kv10"}, "kek", "kv3"},
		// python3 -c 'import hashlib,bisect;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3","kv4","kv10"];p=sorted((h(f"{x}#{i}"),x) for x in n for i in range(64));s=bisect.bisect_left(p,(h("kek"),));o=[];[o.append(x) for _,x in p[s:]+p[:s] if x not in o];print(",".join(o[:3]))'
		{Ring, 64, 3, []string{"kv1", "kv2", "kv3", "kv4", "kv10"}, "kek", "kv3,kv10,kv2"},
		// python3 -c 'import hashlib,bisect;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3","kv4","kv10"];p=sorted((h(f"{x}#{i}"),x) for x in n for i in range(64));s=bisect.bisect_left(p,(h("ключ"),));o=[];[o.append(x) for _,x in p[s:]+p[:s] if x not in o];print(",".join(o[:1]))'
		{Ring, 64, 1, []string{"kv1", "kv2", "kv3", "kv4", "kv10"}, "ключ", "kv3"},
		// python3 -c 'import hashlib,bisect;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3","kv4","kv10"];p=sorted((h(f"{x}#{i}"),x) for x in n for i in range(64));s=bisect.bisect_left(p,(h("ключ"),));o=[];[o.append(x) for _,x in p[s:]+p[:s] if x not in o];print(",".join(o[:3]))'
		{Ring, 64, 3, []string{"kv1", "kv2", "kv3", "kv4", "kv10"}, "ключ", "kv3,kv10,kv4"},
		// python3 -c 'import hashlib;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3"];print(",".join(sorted(n,key=lambda x:(-h(x+"\0"+"key-0"),x))[:1]))'
		{Rendezvous, 0, 1, []string{"kv1", "kv2", "kv3"}, "key-0", "kv1"},
		// python3 -c 'import hashlib;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3"];print(",".join(sorted(n,key=lambda x:(-h(x+"\0"+"key-0"),x))[:2]))'
		{Rendezvous, 0, 2, []string{"kv1", "kv2", "kv3"}, "key-0", "kv1,kv2"},
		// python3 -c 'import hashlib;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3"];print(",".join(sorted(n,key=lambda x:(-h(x+"\0"+"key-0"),x))[:3]))'
		{Rendezvous, 0, 3, []string{"kv1", "kv2", "kv3"}, "key-0", "kv1,kv2,kv3"},
		// python3 -c 'import hashlib;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3"];print(",".join(sorted(n,key=lambda x:(-h(x+"\0"+"key-1"),x))[:1]))'
		{Rendezvous, 0, 1, []string{"kv1", "kv2", "kv3"}, "key-1", "kv3"},
		// python3 -c 'import hashlib;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3"];print(",".join(sorted(n,key=lambda x:(-h(x+"\0"+"key-1"),x))[:2]))'
		{Rendezvous, 0, 2, []string{"kv1", "kv2", "kv3"}, "key-1", "kv3,kv1"},
		// python3 -c 'import hashlib;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3"];print(",".join(sorted(n,key=lambda x:(-h(x+"\0"+"key-1"),x))[:3]))'
		{Rendezvous, 0, 3, []string{"kv1", "kv2", "kv3"}, "key-1", "kv3,kv1,kv2"},
		// python3 -c 'import hashlib;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3"];print(",".join(sorted(n,key=lambda x:(-h(x+"\0"+"key-7"),x))[:1]))'
		{Rendezvous, 0, 1, []string{"kv1", "kv2", "kv3"}, "key-7", "kv3"},
		// python3 -c 'import hashlib;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3"];print(",".join(sorted(n,key=lambda x:(-h(x+"\0"+"key-7"),x))[:2]))'
		{Rendezvous, 0, 2, []string{"kv1", "kv2", "kv3"}, "key-7", "kv3,kv1"},
		// python3 -c 'import hashlib;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3"];print(",".join(sorted(n,key=lambda x:(-h(x+"\0"+"key-7"),x))[:3]))'
		{Rendezvous, 0, 3, []string{"kv1", "kv2", "kv3"}, "key-7", "kv3,kv1,kv2"},
		// python3 -c 'import hashlib;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3"];print(",".join(sorted(n,key=lambda x:(-h(x+"\0"+"key-20"),x))[:1]))'
		{Rendezvous, 0, 1, []string{"kv1", "kv2", "kv3"}, "key-20", "kv3"},
		// python3 -c 'import hashlib;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3"];print(",".join(sorted(n,key=lambda x:(-h(x+"\0"+"key-20"),x))[:2]))'
		{Rendezvous, 0, 2, []string{"kv1", "kv2", "kv3"}, "key-20", "kv3,kv2"},
		// python3 -c 'import hashlib;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3"];print(",".join(sorted(n,key=lambda x:(-h(x+"\0"+"key-20"),x))[:3]))'
		{Rendezvous, 0, 3, []string{"kv1", "kv2", "kv3"}, "key-20", "kv3,kv2,kv1"},
		// python3 -c 'import hashlib;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3"];print(",".join(sorted(n,key=lambda x:(-h(x+"\0"+"kek"),x))[:1]))'
		{Rendezvous, 0, 1, []string{"kv1", "kv2", "kv3"}, "kek", "kv1"},
		// python3 -c 'import hashlib;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3"];print(",".join(sorted(n,key=lambda x:(-h(x+"\0"+"kek"),x))[:2]))'
		{Rendezvous, 0, 2, []string{"kv1", "kv2", "kv3"}, "kek", "kv1,kv3"},
		// python3 -c 'import hashlib;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3"];print(",".join(sorted(n,key=lambda x:(-h(x+"\0"+"kek"),x))[:3]))'
		{Rendezvous, 0, 3, []string{"kv1", "kv2", "kv3"}, "kek", "kv1,kv3,kv2"},
		// python3 -c 'import hashlib;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3"];print(",".join(sorted(n,key=lambda x:(-h(x+"\0"+"ключ"),x))[:1]))'
		{Rendezvous, 0, 1, []string{"kv1", "kv2", "kv3"}, "ключ", "kv3"},
		// python3 -c 'import hashlib;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3"];print(",".join(sorted(n,key=lambda x:(-h(x+"\0"+"ключ"),x))[:2]))'
		{Rendezvous, 0, 2, []string{"kv1", "kv2", "kv3"}, "ключ", "kv3,kv2"},
		// python3 -c 'import hashlib;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3"];print(",".join(sorted(n,key=lambda x:(-h(x+"\0"+"ключ"),x))[:3]))'
		{Rendezvous, 0, 3, []string{"kv1", "kv2", "kv3"}, "ключ", "kv3,kv2,kv1"},
		// python3 -c 'import hashlib;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3","kv4","kv10"];print(",".join(sorted(n,key=lambda x:(-h(x+"\0"+"key-0"),x))[:1]))'
		{Rendezvous, 0, 1, []string{"kv1", "kv2", "kv3", "kv4", "kv10"}, "key-0", "kv1"},
		// python3 -c 'import hashlib;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3","kv4","kv10"];print(",".join(sorted(n,key=lambda x:(-h(x+"\0"+"key-0"),x))[:2]))'
		{Rendezvous, 0, 2, []string{"kv1", "kv2", "kv3", "kv4", "kv10"}, "key-0", "kv1,kv2"},
		// python3 -c 'import hashlib;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3","kv4","kv10"];print(",".join(sorted(n,key=lambda x:(-h(x+"\0"+"key-0"),x))[:3]))'
		{Rendezvous, 0, 3, []string{"kv1", "kv2", "kv3", "kv4", "kv10"}, "key-0", "kv1,kv2,kv10"},
		// python3 -c 'import hashlib;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3","kv4","kv10"];print(",".join(sorted(n,key=lambda x:(-h(x+"\0"+"key-1"),x))[:1]))'
		{Rendezvous, 0, 1, []string{"kv1", "kv2", "kv3", "kv4", "kv10"}, "key-1", "kv10"},
		// python3 -c 'import hashlib;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3","kv4","kv10"];print(",".join(sorted(n,key=lambda x:(-h(x+"\0"+"key-1"),x))[:2]))'
		{Rendezvous, 0, 2, []string{"kv1", "kv2", "kv3", "kv4", "kv10"}, "key-1", "kv10,kv3"},
		// python3 -c 'import hashlib;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3","kv4","kv10"];print(",".join(sorted(n,key=lambda x:(-h(x+"\0"+"key-1"),x))[:3]))'
		{Rendezvous, 0, 3, []string{"kv1", "kv2", "kv3", "kv4", "kv10"}, "key-1", "kv10,kv3,kv4"},
		// python3 -c 'import hashlib;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3","kv4","kv10"];print(",".join(sorted(n,key=lambda x:(-h(x+"\0"+"key-7"),x))[:1]))'
		{Rendezvous, 0, 1, []string{"kv1", "kv2", "kv3", "kv4", "kv10"}, "key-7", "kv4"},
		// python3 -c 'import hashlib;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3","kv4","kv10"];print(",".join(sorted(n,key=lambda x:(-h(x+"\0"+"key-7"),x))[:2]))'
		{Rendezvous, 0, 2, []string{"kv1", "kv2", "kv3", "kv4", "kv10"}, "key-7", "kv4,kv3"},
		// python3 -c 'import hashlib;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3","kv4","kv10"];print(",".join(sorted(n,key=lambda x:(-h(x+"\0"+"key-7"),x))[:3]))'
		{Rendezvous, 0, 3, []string{"kv1", "kv2", "kv3", "kv4", "kv10"}, "key-7", "kv4,kv3,kv1"},
		// python3 -c 'import hashlib;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3","kv4","kv10"];print(",".join(sorted(n,key=lambda x:(-h(x+"\0"+"key-20"),x))[:1]))'
		{Rendezvous, 0, 1, []string{"kv1", "kv2", "kv3", "kv4", "kv10"}, "key-20", "kv10"},
		// python3 -c 'import hashlib;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3","kv4","kv10"];print(",".join(sorted(n,key=lambda x:(-h(x+"\0"+"key-20"),x))[:2]))'
		{Rendezvous, 0, 2, []string{"kv1", "kv2", "kv3", "kv4", "kv10"}, "key-20", "kv10,kv3"},
		// python3 -c 'import hashlib;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3","kv4","kv10"];print(",".join(sorted(n,key=lambda x:(-h(x+"\0"+"key-20"),x))[:3]))'
		{Rendezvous, 0, 3, []string{"kv1", "kv2", "kv3", "kv4", "kv10"}, "key-20", "kv10,kv3,kv2"},
		// python3 -c 'import hashlib;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3","kv4","kv10"];print(",".join(sorted(n,key=lambda x:(-h(x+"\0"+"kek"),x))[:1]))'
		{Rendezvous, 0, 1, []string{"kv1", "kv2", "kv3", "kv4", "kv10"}, "kek", "kv1"},
		// python3 -c 'import hashlib;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3","kv4","kv10"];print(",".join(sorted(n,key=lambda x:(-h(x+"\0"+"kek"),x))[:2]))'
		{Rendezvous, 0, 2, []string{"kv1", "kv2", "kv3", "kv4", "kv10"}, "kek", "kv1,kv3"},
		// python3 -c 'import hashlib;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3","kv4","kv10"];print(",".join(sorted(n,key=lambda x:(-h(x+"\0"+"kek"),x))[:3]))'
		{Rendezvous, 0, 3, []string{"kv1", "kv2", "kv3", "kv4", "kv10"}, "kek", "kv1,kv3,kv4"},
		// python3 -c 'import hashlib;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3","kv4","kv10"];print(",".join(sorted(n,key=lambda x:(-h(x+"\0"+"ключ"),x))[:1]))'
		{Rendezvous, 0, 1, []string{"kv1", "kv2", "kv3", "kv4", "kv10"}, "ключ", "kv3"},
		// python3 -c 'import hashlib;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3","kv4","kv10"];print(",".join(sorted(n,key=lambda x:(-h(x+"\0"+"ключ"),x))[:2]))'
		{Rendezvous, 0, 2, []string{"kv1", "kv2", "kv3", "kv4", "kv10"}, "ключ", "kv3,kv2"},
		// python3 -c 'import hashlib;h=lambda s:int.from_bytes(hashlib.sha256(s.encode()).digest()[:8],"big");n=["kv1","kv2","kv3","kv4","kv10"];print(",".join(sorted(n,key=lambda x:(-h(x+"\0"+"ключ"),x))[:3]))'
		{Rendezvous, 0, 3, []string{"kv1", "kv2", "kv3", "kv4", "kv10"}, "ключ", "kv3,kv2,kv10"},
	}
	for _, v := range vectors {
		tab, err := New(Config{Strategy: v.strategy, VNodes: v.vnodes, Replicas: v.replicas}, v.nodes)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, i := range tab.Owners(v.key, nil) {
			names = append(names, v.nodes[i])
		}
		if got := strings.Join(names, ","); got != v.owners {
			t.Errorf("%s vnodes=%d replicas=%d over %v: owners of %q = %s, python says %s", v.strategy, v.vnodes, v.replicas, v.nodes, v.key, got, v.owners)
		}
		if got, want := tab.Owner(v.key), tab.Owners(v.key, nil)[0]; got != want {
			t.Errorf("%s: Owner(%q) = %d, Owners[0] = %d", v.strategy, v.key, got, want)
		}
	}
}
