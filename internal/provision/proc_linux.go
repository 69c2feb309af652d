package provision

import "syscall"

// childAttr puts a role in its own process group, so stopping it stops
// whatever it started, and has the kernel end it when the control plane
// dies, so no role outlives it unsupervised.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}
