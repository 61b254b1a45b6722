package app_test

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/verifyfn/verifyfn/shared/app"
)

// countingWriter records what was written and how many writes it took.
type countingWriter struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	writes int
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.writes++
	return w.buf.Write(p)
}

func (w *countingWriter) snapshot() (string, int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String(), w.writes
}

// TestLogBufferKeepsEveryLine logs from many goroutines and checks that,
// after Close, every line arrived whole, each goroutine's in order, in
// fewer writes than lines.
func TestLogBufferKeepsEveryLine(t *testing.T) {
	var w countingWriter
	b := app.NewLogBuffer(&w, time.Hour) // only size and Close flush
	logger := app.NewLogger(b, "info")
	const goroutines, lines = 8, 2000
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range lines {
				logger.Info("request", "g", g, "i", i)
			}
		})
	}
	wg.Wait()
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	out, writes := w.snapshot()
	got := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(got) != goroutines*lines {
		t.Fatalf("%d lines, want %d", len(got), goroutines*lines)
	}
	next := make([]int, goroutines)
	for _, l := range got {
		var g, i int
		if !strings.HasPrefix(l, `{"time":`) || !strings.HasSuffix(l, "}") {
			t.Fatalf("broken line %q", l)
		}
		if _, err := fmt.Sscanf(l[strings.Index(l, `"g":`):], `"g":%d,"i":%d}`, &g, &i); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		if i != next[g] {
			t.Fatalf("goroutine %d: line %d after %d", g, i, next[g]-1)
		}
		next[g]++
	}
	if writes >= len(got)/10 {
		t.Errorf("%d writes for %d lines: not batched", writes, len(got))
	}
	// After Close a line goes straight through.
	logger.Info("late")
	if out, _ := w.snapshot(); !strings.Contains(out, `"msg":"late"`) {
		t.Error("a line logged after Close did not arrive")
	}
}

// TestLogBufferFlushesWhenIdle checks that a lone line arrives without
// Flush or Close.
func TestLogBufferFlushesWhenIdle(t *testing.T) {
	var w countingWriter
	b := app.NewLogBuffer(&w, 10*time.Millisecond)
	defer b.Close()
	b.Write([]byte("one line\n"))
	// A hang guard, not a speed bound: the line is due after 10 ms.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if out, _ := w.snapshot(); out == "one line\n" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the line was not written within 10 s")
		}
	}
	b.Write([]byte("two\n"))
	if err := b.Flush(); err != nil {
		t.Fatal(err)
	}
	if out, _ := w.snapshot(); out != "one line\ntwo\n" {
		t.Errorf("after Flush: %q", out)
	}
}
