package conform

import (
	"fmt"
	"slices"
	"strings"
)

// The groups of the suite. The core is required; the others are kvclass's
// extensions, each reported and none required.
const (
	GroupCore       = "core"        // the seed's contract: required to join a class
	GroupJSONErrors = "json-errors" // every error is JSON with an "error" field
	GroupMessages   = "messages"    // the seed's exact messages
	GroupDelete     = "delete"      // DELETE /delete
	GroupState      = "state"       // GET /state?format=json
	GroupLimits     = "limits"      // 413 for a body over 1 MiB, 400 for a key over 1 KiB
	GroupVersions   = "versions"    // X-Kvclass-Version and the 409 for an older put
	GroupDigest     = "digest"      // GET /digest and /keys, for anti-entropy
)

// Extensions lists the extension groups in the order Run runs them.
func Extensions() []string {
	return []string{GroupJSONErrors, GroupMessages, GroupDelete, GroupState, GroupLimits, GroupVersions, GroupDigest}
}

// groupCases returns a group's cases.
func groupCases(group string) []testCase {
	switch group {
	case GroupCore:
		return coreCases()
	case GroupJSONErrors:
		return jsonErrorCases()
	case GroupMessages:
		return messageCases()
	case GroupDelete:
		return deleteCases()
	case GroupState:
		return stateCases()
	case GroupLimits:
		return limitCases()
	case GroupVersions:
		return versionCases()
	case GroupDigest:
		return digestCases()
	}
	return nil
}

// coreCases is the core, in the order it runs: health first, since a run
// learns from it whether anything answers at all.
func coreCases() []testCase {
	var cs []testCase
	cs = append(cs, basicCases()...)
	cs = append(cs, valueCases()...)
	cs = append(cs, badRequestCases()...)
	cs = append(cs, keyCases()...)
	cs = append(cs, concurrentCase())
	return cs
}

// selectCases returns the core and the named extension groups (all when
// groups is nil), in the suite's order.
func selectCases(groups []string) ([]testCase, error) {
	all := Extensions()
	for _, g := range groups {
		if g != GroupCore && !slices.Contains(all, g) {
			return nil, fmt.Errorf("no group %q: the groups are %s", g, strings.Join(all, ", "))
		}
	}
	cases := coreCases()
	for _, g := range all {
		if groups == nil || slices.Contains(groups, g) {
			cases = append(cases, groupCases(g)...)
		}
	}
	return cases, nil
}

// CoreCases returns the names of the core's cases, in order.
func CoreCases() []string {
	var names []string
	for _, c := range coreCases() {
		names = append(names, c.name)
	}
	return names
}
