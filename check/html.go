package check

import (
	"context"
	"fmt"
	"time"

	"github.com/anishathalye/porcupine"
)

// WriteHTML writes Porcupine's visualization of the history ops to the file
// path: one row per client, one tab per key, each operation labelled with
// what it did and the node that served it ("get() → "c0-3" @kv2"), and the
// longest orders Porcupine found. Its search is bounded by timeout (0
// means DefaultCheckTimeout); a search cut short still draws what it found.
func WriteHTML(path string, ops []Op, timeout time.Duration) error {
	if timeout <= 0 {
		timeout = DefaultCheckTimeout
	}
	hist := append([]Op(nil), ops...)
	sortOps(hist)
	var end time.Duration
	ptrs := make([]*Op, len(hist))
	for i := range hist {
		end = max(end, hist[i].Return, hist[i].Call)
		ptrs[i] = &hist[i]
	}
	model := registerModel(context.Background())
	_, info := porcupine.CheckOperationsVerbose(model, porcupineOps(checkedOps(ptrs, end)), timeout)
	if err := porcupine.VisualizePath(model, info, path); err != nil {
		return fmt.Errorf("writing the visualization to %s: %w (pass --html a path in a writable folder)", path, err)
	}
	return nil
}
