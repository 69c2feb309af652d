//go:build !linux

package provision

import "syscall"

// childAttr puts a role in its own process group, so stopping it stops
// whatever it started.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
