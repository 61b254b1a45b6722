//go:build !linux

package loadgen

import "syscall"

// childAttr: without Pdeathsig the harness's deferred cleanup kills its
// children.
func childAttr() *syscall.SysProcAttr { return nil }
