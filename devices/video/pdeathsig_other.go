//go:build unix && !linux

package video

import "syscall"

// dieWithParent does nothing where the system cannot kill a child with its
// parent.
func dieWithParent(*syscall.SysProcAttr) {}
