package conform

import (
	"os"
	"strings"
	"testing"
)

// TestDocsNameEveryCase keeps docs/OWN-NODE.md in step with the suite:
// both its English and its Russian half name every case, and the key the
// join check writes.
func TestDocsNameEveryCase(t *testing.T) {
	b, err := os.ReadFile("../docs/OWN-NODE.md")
	if err != nil {
		t.Fatal(err)
	}
	en, ru, ok := strings.Cut(string(b), "\n## Русский\n")
	if !ok {
		t.Fatal(`docs/OWN-NODE.md has no "## Русский" section`)
	}
	all := append(coreCases(), allExtensionCases()...)
	for half, text := range map[string]string{"English": en, "Russian": ru} {
		for _, c := range all {
			if !strings.Contains(text, "`"+c.name+"`") {
				t.Errorf("the %s half of docs/OWN-NODE.md does not name the case `%s` (%s)", half, c.name, c.group)
			}
		}
		for _, g := range Extensions() {
			if !strings.Contains(text, "`"+g+"`") {
				t.Errorf("the %s half of docs/OWN-NODE.md does not name the group `%s`", half, g)
			}
		}
		if !strings.Contains(text, checkKeySuffix) {
			t.Errorf("the %s half of docs/OWN-NODE.md does not show the key the join check writes (%q)", half, checkKeySuffix)
		}
	}
}

// TestCaseNamesUnique: a case's name names its keys, so names are unique
// across the suite.
func TestCaseNamesUnique(t *testing.T) {
	seen := map[string]string{}
	for _, c := range append(coreCases(), allExtensionCases()...) {
		if g, dup := seen[c.name]; dup {
			t.Errorf("case %s is in %s and %s", c.name, g, c.group)
		}
		seen[c.name] = c.group
		if c.about == "" {
			t.Errorf("case %s says nothing about what it checks", c.name)
		}
	}
}
