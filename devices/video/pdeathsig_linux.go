package video

import "syscall"

// dieWithParent has the kernel kill the child when the kiosk dies, however
// it dies.
func dieWithParent(attr *syscall.SysProcAttr) { attr.Pdeathsig = syscall.SIGKILL }
