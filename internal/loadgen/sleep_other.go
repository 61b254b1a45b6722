//go:build !linux

package loadgen

import "time"

// preciseSleep sleeps for d (time.Sleep; see sleep_linux.go).
func preciseSleep(d time.Duration) { time.Sleep(d) }
