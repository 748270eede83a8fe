// Package obstest helps tests look at what code logs.
package obstest

import (
	"bytes"
	"sync"
)

// Buffer collects log output written from many goroutines or processes at
// once, such as the lines of several Lambda runtimes; unlike bytes.Buffer
// it is safe for concurrent use.
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

// String returns everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
