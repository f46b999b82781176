package testkit

import (
	"bytes"
	"sync"
)

// LogBuffer collects what a logger writes, for a test to read while other goroutines (servers,
// subscriptions, client pools) may still be writing: a bytes.Buffer behind a mutex.
type LogBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write implements io.Writer.
func (l *LogBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String returns everything written so far.
func (l *LogBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Bytes returns a copy of everything written so far, as a buffer the caller may read from (for a
// json.Decoder or a line scanner) while writing goes on.
func (l *LogBuffer) Bytes() *bytes.Buffer {
	l.mu.Lock()
	defer l.mu.Unlock()
	return bytes.NewBuffer(bytes.Clone(l.b.Bytes()))
}
