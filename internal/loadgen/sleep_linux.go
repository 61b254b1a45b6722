package loadgen

import (
	"syscall"
	"time"
)

// preciseSleep sleeps for d. The Go runtime rounds an idle sleep below a
// millisecond up to about a millisecond (its poller waits in whole
// milliseconds), which would show up as latency of an open-loop schedule;
// nanosleep(2) is accurate to about 0.1 ms. The goroutine blocks its thread
// meanwhile (the runtime hands its P to others).
func preciseSleep(d time.Duration) {
	if d > 2*time.Millisecond {
		time.Sleep(d - time.Millisecond)
		d = time.Millisecond
	}
	ts := syscall.NsecToTimespec(int64(d))
	syscall.Nanosleep(&ts, nil)
}
