//go:build !race

package placement

// raceEnabled tells tests that the race detector is on, so heavy ones use
// fewer keys.
const raceEnabled = false
