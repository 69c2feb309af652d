package s3server

import "syscall"

// childAttr has the kernel end the server when `berth up` dies, so no
// server outlives it unsupervised.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}
