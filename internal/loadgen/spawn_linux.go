package loadgen

import "syscall"

// childAttr makes a spawned server die with the harness, even if the
// harness is killed without running its deferred cleanup.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
