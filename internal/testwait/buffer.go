package testwait

import (
	"bytes"
	"sync"
)

// Buffer is a bytes.Buffer that a test reads while other goroutines write
// to it: a process's output, a logger. A test waits on what it says with
// Seen or For. The zero value is ready to use.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns what was written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
