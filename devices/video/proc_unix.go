//go:build unix

package video

import (
	"io"
	"net"
	"os/exec"
	"path/filepath"
	"syscall"
)

// ipcSupported says whether the player can talk to mpv over its IPC socket
// here.
const ipcSupported = true

// ipcPath is where mpv listens for IPC: a Unix socket in dir.
func ipcPath(dir string) string { return filepath.Join(dir, "ipc.sock") }

func dialIPC(path string) (io.ReadWriteCloser, error) { return net.Dial("unix", path) }

// setProcessGroup makes mpv lead a process group of its own, so that
// killGroup reaches whatever it starts as well, and has it killed when the
// kiosk dies, where the system can.
func setProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	dieWithParent(cmd.SysProcAttr)
}

// killGroup kills mpv's process group.
func killGroup(cmd *exec.Cmd) error {
	return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
}
