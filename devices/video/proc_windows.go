//go:build windows

package video

import (
	"errors"
	"io"
	"os/exec"
	"path/filepath"
)

// ipcSupported says whether the player can talk to mpv over its IPC socket
// here. mpv listens on a named pipe on Windows, which this package does not
// dial yet: a stop kills mpv at once, and taps do not stop it (mpv's own
// keys are off, so only a timeout or the kiosk does).
const ipcSupported = false

// ipcPath is the named pipe mpv would listen on.
func ipcPath(dir string) string { return `\\.\pipe\` + filepath.Base(dir) }

func dialIPC(string) (io.ReadWriteCloser, error) { return nil, errors.ErrUnsupported }

func setProcessGroup(*exec.Cmd) {}

// killGroup kills mpv.
func killGroup(cmd *exec.Cmd) error { return cmd.Process.Kill() }
