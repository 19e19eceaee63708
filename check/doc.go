// Package check is the library behind "kvclass load" and "kvclass check":
// it drives a kvclass proxy (or a node: both speak the same data API) over
// HTTP from the outside, the way a class's curl commands do.
//
// Load generates paced, open-loop traffic (puts and gets over a set of keys
// at a fixed rate) and reports the achieved rate, latency percentiles and
// errors by status, with a live progress line. RunLoad is its command-line
// entry point.
//
// Check runs concurrent clients that write unique values and read them back,
// records every operation (who, what, when, which node served it), and asks
// Porcupine (github.com/anishathalye/porcupine) whether the history is
// linearizable, key by key, within a time bound. When it is not, the Result
// explains the earliest and smallest anomaly in plain words ("stale read:
// GET key-1 at 7.967 s returned c0-111 from kv1, after PUT key-1=c1-157 was
// acknowledged at 7.944 s (by kv2,kv3)"). RunCheck is its command-line entry
// point; ExitCode maps its outcome to the process exit code. CheckHistory
// checks a recorded or hand-written history without any network.
//
// The package keeps no package-level mutable state: every run is a value, so
// tests run many of them at once against servers on ephemeral ports.
package check
