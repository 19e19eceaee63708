package conform

import "strconv"

// awkwardKey is a key a naive server mangles, and the key a typical bug
// would confuse it with ("" for none).
type awkwardKey struct {
	name, about string
	suffix      string // after the run's prefix and the case's name
	shadow      string // a different key the bug would read it as
}

// awkwardKeys are the keys the seed's proxy broke by pasting them into the
// node's URL unescaped. Each holds one kind of trouble only, so a failing
// case names the trouble.
func awkwardKeys() []awkwardKey {
	return []awkwardKey{
		{name: "key-ampersand", about: `a key with "&" is one key, not cut where a query parameter would start`, suffix: "-a&b=c", shadow: "-a"},
		{name: "key-hash", about: `a key with "#" is one key, not cut where a URL fragment would start`, suffix: "-a#b", shadow: "-a"},
		{name: "key-plus", about: `a key with "+" keeps it: "a+b" and "a b" are different keys`, suffix: "-a+b", shadow: "-a b"},
		{name: "key-percent", about: `a key with "%" is decoded once, not twice: "a%41b" is not "aAb"`, suffix: "-100%-a%41b", shadow: "-100%-aAb"},
		{name: "key-slash", about: `a key with "/" is one key, not a path`, suffix: "-dir/sub/file"},
		{name: "key-space", about: "a key with spaces keeps them", suffix: "-a b  c "},
		{name: "key-unicode", about: "a non-ASCII key is read as UTF-8: ключ, 日本, é, 🔑", suffix: "-ключ-日本-é-🔑"},
	}
}

// keyCases are the awkward keys' cases.
func keyCases() []testCase {
	var cs []testCase
	for _, k := range awkwardKeys() {
		cs = append(cs, testCase{GroupCore, k.name, k.about, func(c *caseRun) error {
			return c.awkward(c.key(k.suffix), shadowKey(c, k.shadow))
		}})
	}
	return cs
}

func shadowKey(c *caseRun, suffix string) string {
	if suffix == "" {
		return ""
	}
	return c.key(suffix)
}

// awkward checks that key survives: before it is stored, a get of it is a
// 404 (naming it as sent, if the answer names a key), even when shadow, the
// key a buggy decoder would read it as, is stored; then it stores and reads
// back, and shadow still holds its own value.
func (c *caseRun) awkward(key, shadow string) error {
	if shadow != "" {
		if err := c.put(shadow, strconv.Quote("shadow")); err != nil {
			return err
		}
	}
	if err := c.expectMissing(key); err != nil {
		if shadow != "" && c.lastAns.err == nil && c.lastAns.status/100 == 2 {
			return c.wrongWhy("404: the key "+strconv.Quote(cut(key, 60))+" was never stored",
				"the node read it as "+strconv.Quote(cut(shadow, 60))+", stored just before")
		}
		return err
	}
	if err := c.put(key, strconv.Quote("awkward")); err != nil {
		return err
	}
	if err := c.expectValue(key, strconv.Quote("awkward")); err != nil {
		return err
	}
	if shadow != "" {
		return c.expectValue(shadow, strconv.Quote("shadow"))
	}
	return nil
}
