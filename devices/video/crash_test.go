//go:build linux

package video

import (
	"bufio"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A kiosk that crashes (SIGKILL: no chance to stop anything) takes its
// video with it, so none is left playing over the screen of the kiosk that
// restarts.
func TestMPVDiesWithTheKiosk(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), kioskEnv+"="+sample(t))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("the kiosk said nothing: %v", err)
	}
	mpv, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		t.Fatalf("the kiosk said %q", line)
	}
	if !alive(mpv) {
		t.Fatal("mpv is not running")
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	// The kernel kills mpv as the kiosk dies; wait for it to be gone, and
	// give up (failing) before the test binary's deadline.
	giveUp := time.Now().Add(30 * time.Second)
	if d, ok := t.Deadline(); ok && d.Add(-10*time.Second).Before(giveUp) {
		giveUp = d.Add(-10 * time.Second)
	}
	for alive(mpv) {
		if time.Now().After(giveUp) {
			syscall.Kill(mpv, syscall.SIGKILL)
			t.Fatalf("mpv (pid %d) outlived the kiosk", mpv)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
