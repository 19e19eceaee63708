package check

import (
	"context"
	"fmt"
	"hash/fnv"
	"sort"
	"strings"
	"time"

	"github.com/anishathalye/porcupine"
)

// This file turns a recorded history into Porcupine's terms: a register per
// key whose initial state is "absent", puts that set it, gets that read it.

// regState is one key's register: absent, or holding a value.
type regState struct {
	present bool
	value   string
}

// regInput is what an operation asked for.
type regInput struct {
	key   string
	put   bool
	value string // put: the value written
}

// regOutput is what an operation answered. nodes and note are for the
// visualization only; Step ignores them.
type regOutput struct {
	found bool   // get: the key had a value
	value string // get: the value read
	nodes string
	note  string // "outcome unknown: 502" for a put that may have applied
}

// registerModel is the sequential specification Porcupine checks against:
// a put stores its value; a get reads the stored value, or finds none when
// nothing was stored. Histories are partitioned by key (each key is an
// independent register), which keeps the search small.
//
// Once ctx ends every step fails, so a search still running gives up at
// once (Porcupine has no context of its own); a result reached after ctx
// ended means nothing and is discarded by the caller. The visualization
// replays steps and must get a context that never ends.
func registerModel(ctx context.Context) porcupine.Model {
	return porcupine.Model{
		Partition: partitionByKey,
		Init:      func() any { return regState{} },
		Step: func(state, input, output any) (bool, any) {
			if ctx.Err() != nil {
				return false, state
			}
			st := state.(regState)
			in := input.(regInput)
			if in.put {
				return true, regState{present: true, value: in.value}
			}
			out := output.(regOutput)
			if out.found {
				return st.present && st.value == out.value, st
			}
			return !st.present, st
		},
		Equal: func(a, b any) bool { return a.(regState) == b.(regState) },
		Hash: func(state any) uint64 {
			st := state.(regState)
			if !st.present {
				return 0
			}
			h := fnv.New64a()
			h.Write([]byte(st.value))
			return h.Sum64() | 1
		},
		DescribeOperation: func(input, output any) string {
			in := input.(regInput)
			out := output.(regOutput)
			var s string
			if in.put {
				s = fmt.Sprintf("put(%q)", in.value)
			} else if out.found {
				s = fmt.Sprintf("get() → %q", out.value)
			} else {
				s = "get() → not found"
			}
			if out.nodes != "" {
				s += " @" + out.nodes
			}
			if out.note != "" {
				s += " (" + out.note + ")"
			}
			return s
		},
		DescribeState: func(state any) string {
			st := state.(regState)
			if !st.present {
				return "absent"
			}
			return fmt.Sprintf("%q", st.value)
		},
		DescribeOperationMetadata: func(info any) string {
			if s, ok := info.(string); ok {
				return s
			}
			return ""
		},
	}
}

// partitionByKey splits a history into one partition per key, in key order.
func partitionByKey(history []porcupine.Operation) [][]porcupine.Operation {
	byKey := map[string][]porcupine.Operation{}
	for _, op := range history {
		k := op.Input.(regInput).key
		byKey[k] = append(byKey[k], op)
	}
	keys := make([]string, 0, len(byKey))
	for k := range byKey {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([][]porcupine.Operation, len(keys))
	for i, k := range keys {
		out[i] = byKey[k]
	}
	return out
}

// cop is an operation as checked: its effect and the interval in which it
// may take effect.
type cop struct {
	op    *Op
	put   bool
	value string // written, or read when found
	found bool   // get: read a value; false: found the key absent
	acked bool   // put: acknowledged (Done); false: MaybeApplied
	call  time.Duration
	ret   time.Duration // for a MaybeApplied put, the end of the history
}

// checkedOps returns the operations of ops that enter the check, in call
// order: every Done operation, and every MaybeApplied put with its return
// moved to end. Failed gets and puts that were NotApplied are left out.
func checkedOps(ops []*Op, end time.Duration) []cop {
	out := make([]cop, 0, len(ops))
	for _, o := range ops {
		c := cop{op: o, put: o.Kind == OpPut, value: o.Value, found: o.Found, call: o.Call, ret: o.Return}
		switch o.Outcome() {
		case NotApplied:
			continue
		case Done:
			c.acked = c.put
		case MaybeApplied:
			c.ret = end
		}
		if c.ret < c.call {
			c.ret = c.call
		}
		out = append(out, c)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].call < out[j].call })
	return out
}

// porcupineOps converts checked operations to Porcupine's.
func porcupineOps(cops []cop) []porcupine.Operation {
	out := make([]porcupine.Operation, len(cops))
	for i, c := range cops {
		o := c.op
		note := ""
		if c.put && !c.acked {
			note = "outcome unknown: " + o.failure()
		}
		out[i] = porcupine.Operation{
			ClientId: o.Client,
			Input:    regInput{key: o.Key, put: c.put, value: c.value},
			Call:     int64(c.call),
			Output:   regOutput{found: c.found, value: c.value, nodes: nodeList(o.Nodes), note: note},
			Return:   int64(c.ret),
			Metadata: metadata(o),
		}
	}
	return out
}

// metadata is the tooltip of an operation in the visualization.
func metadata(o *Op) string {
	var parts []string
	parts = append(parts, fmt.Sprintf("client %d", o.Client), o.Key)
	if o.Status != 0 {
		parts = append(parts, fmt.Sprintf("HTTP %d", o.Status))
	}
	if len(o.Nodes) > 0 {
		parts = append(parts, "served by "+nodeList(o.Nodes))
	}
	if o.Version != "" {
		parts = append(parts, "version "+o.Version)
	}
	if o.Error != "" {
		parts = append(parts, o.Error)
	}
	parts = append(parts, fmt.Sprintf("%.3f–%.3f s", o.Call.Seconds(), o.Return.Seconds()))
	return strings.Join(parts, ", ")
}
