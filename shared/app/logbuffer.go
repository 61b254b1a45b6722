package app

import (
	"io"
	"sync"
	"time"
)

// LogBuffer batches the lines a long-running server logs: each Write (one
// slog record) is appended to a buffer that goes to the underlying writer in
// one write when it holds MaxLogBuffer bytes, at the latest interval after
// its first line, on Flush and on Close. Under load that is one system call
// per few hundred lines instead of one per line; when idle a line waits at
// most interval. Lines are written whole and in order. After Close, writes
// go straight through. A process killed without running Close loses at most
// the last interval's lines.
type LogBuffer struct {
	w        io.Writer
	interval time.Duration

	mu      sync.Mutex // guards buf, spare, pending, closed
	buf     []byte
	spare   []byte
	pending bool // a timed flush is scheduled
	closed  bool

	flushMu sync.Mutex // serialises writes to w, so that batches keep their order
}

// MaxLogBuffer is the size at which a LogBuffer writes its lines at once.
const MaxLogBuffer = 64 << 10

// NewLogBuffer returns a LogBuffer writing to w at the latest interval after
// a line was logged.
func NewLogBuffer(w io.Writer, interval time.Duration) *LogBuffer {
	return &LogBuffer{w: w, interval: interval, buf: make([]byte, 0, MaxLogBuffer)}
}

// Write appends p (one whole line) to the buffer.
func (b *LogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		b.flushMu.Lock()
		defer b.flushMu.Unlock()
		return b.w.Write(p)
	}
	b.buf = append(b.buf, p...)
	full := len(b.buf) >= MaxLogBuffer
	if !full && !b.pending {
		b.pending = true
		time.AfterFunc(b.interval, func() { b.Flush() })
	}
	b.mu.Unlock()
	if full {
		b.Flush()
	}
	return len(p), nil
}

// Flush writes what is buffered.
func (b *LogBuffer) Flush() error {
	b.flushMu.Lock()
	defer b.flushMu.Unlock()
	b.mu.Lock()
	out := b.buf
	b.buf, b.spare = b.spare[:0], nil
	b.pending = false
	b.mu.Unlock()
	var err error
	if len(out) > 0 {
		_, err = b.w.Write(out)
	}
	b.mu.Lock()
	if b.spare == nil {
		b.spare = out[:0]
	}
	b.mu.Unlock()
	return err
}

// Close writes what is buffered; later writes go straight through. It does
// not close the underlying writer.
func (b *LogBuffer) Close() error {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	return b.Flush()
}
