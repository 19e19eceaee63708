package kvapi

import (
	"bytes"
	"sync"
)

// Buffers is a pool of buffers for request bodies and answers, shared by
// the requests of one handler. The zero value is ready to use.
type Buffers struct{ pool sync.Pool }

// Get returns an empty buffer.
func (b *Buffers) Get() *bytes.Buffer {
	if buf, ok := b.pool.Get().(*bytes.Buffer); ok {
		return buf
	}
	return new(bytes.Buffer)
}

// Put returns buf to the pool; one grown past 64 KiB by a large body is
// dropped, so the pool does not hold on to it.
func (b *Buffers) Put(buf *bytes.Buffer) {
	if buf.Cap() <= 64<<10 {
		buf.Reset()
		b.pool.Put(buf)
	}
}
