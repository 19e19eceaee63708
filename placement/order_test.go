package placement

import (
	"slices"
	"testing"
)

// TestCompareNames: the registry's order of joined nodes. Digit runs compare
// as numbers (kv2 before kv10), the order is total (kv01 and kv1 differ), and
// it agrees with itself both ways round.
func TestCompareNames(t *testing.T) {
	ordered := []string{"", "0", "00", "1", "a", "a1", "a2", "a02b", "a10", "ab", "b", "kv01", "kv1", "kv2", "kv9", "kv10", "kv11", "kv100", "kv100a", "kv100b", "kv1000"}
	for i := range ordered {
		for j := range ordered {
			got := CompareNames(ordered[i], ordered[j])
			want := 0
			if i < j {
				want = -1
			} else if i > j {
				want = 1
			}
			if got != want {
				t.Errorf("CompareNames(%q, %q) = %d, want %d", ordered[i], ordered[j], got, want)
			}
		}
	}
	if CompareNames("kv01", "kv1") == 0 {
		t.Error("kv01 and kv1 compare equal; names must order totally")
	}
	shuffled := []string{"kv10", "kv2", "kv1", "kv30", "kv3", "alice", "kv100"}
	slices.SortFunc(shuffled, CompareNames)
	if want := []string{"alice", "kv1", "kv2", "kv3", "kv10", "kv30", "kv100"}; !slices.Equal(shuffled, want) {
		t.Errorf("sorted %v, want %v", shuffled, want)
	}
}

// TestChangeApply: a joiner goes after the config nodes, among the joined
// nodes by CompareNames, as the registry places it; a leaver's place closes.
func TestChangeApply(t *testing.T) {
	cases := []struct {
		nodes  []string
		change Change
		want   []string
		err    string
	}{
		{[]string{"kv1", "kv2", "kv3"}, Change{Join: "kv4"}, []string{"kv1", "kv2", "kv3", "kv4"}, ""},
		{[]string{"kv1", "kv2", "kv10"}, Change{Join: "kv3"}, []string{"kv1", "kv2", "kv3", "kv10"}, ""},
		{nil, Change{Join: "kv1"}, []string{"kv1"}, ""},
		// config nodes zed and abe keep the front, in file order
		{[]string{"zed", "abe", "kv1", "kv5"}, Change{Join: "aaa", Static: 2}, []string{"zed", "abe", "aaa", "kv1", "kv5"}, ""},
		{[]string{"zed", "abe", "kv1", "kv5"}, Change{Join: "kv2", Static: 2}, []string{"zed", "abe", "kv1", "kv2", "kv5"}, ""},
		{[]string{"kv1", "kv2", "kv3"}, Change{Leave: "kv2"}, []string{"kv1", "kv3"}, ""},
		{[]string{"kv1"}, Change{Leave: "kv1"}, []string{}, ""},
		{[]string{"kv1", "kv2"}, Change{Join: "kv2"}, nil, "kv2 is already a member"},
		{[]string{"kv1", "kv2"}, Change{Leave: "kv9"}, nil, "kv9 is not a member"},
		{[]string{"kv1"}, Change{}, nil, "name a node to join or to leave"},
		{[]string{"kv1"}, Change{Join: "a", Leave: "kv1"}, nil, "not both"},
		{[]string{"kv1"}, Change{Join: "a", Static: 2}, nil, "2 config nodes in a list of 1"},
	}
	for _, c := range cases {
		before := slices.Clone(c.nodes)
		got, err := c.change.Apply(c.nodes)
		if c.err != "" {
			if err == nil || !contains(err.Error(), c.err) {
				t.Errorf("%v %+v: error %v, want one saying %q", c.nodes, c.change, err, c.err)
			}
			continue
		}
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("%v %+v: %v, %v; want %v", c.nodes, c.change, got, err, c.want)
		}
		if !slices.Equal(c.nodes, before) {
			t.Errorf("Apply changed its input: %v, was %v", c.nodes, before)
		}
	}
}
