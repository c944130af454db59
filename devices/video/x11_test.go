package video

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// xvfb starts a virtual X display of the given size for the test, without
// a window manager (as a bare kiosk session), and points DISPLAY at it.
func xvfb(t *testing.T, size string) {
	t.Helper()
	for _, prog := range []string{"Xvfb", "xdotool"} {
		if _, err := exec.LookPath(prog); err != nil {
			t.Skipf("%s is not installed (packaging/install-deps.sh installs xvfb and xdotool)", prog)
		}
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	cmd := exec.Command("Xvfb", "-displayfd", "3", "-screen", "0", size+"x24", "-nolisten", "tcp")
	cmd.ExtraFiles = []*os.File{w}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil {
		t.Fatalf("Xvfb did not say its display: %v", err)
	}
	t.Setenv("DISPLAY", ":"+strings.TrimSpace(line))
	t.Setenv("WAYLAND_DISPLAY", "")
}

// xdotool runs xdotool and returns what it printed.
func xdotool(t *testing.T, ctx context.Context, args ...string) string {
	t.Helper()
	out, err := exec.CommandContext(ctx, "xdotool", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("xdotool %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// On a real X display without a window manager, mpv's window covers the
// whole screen, and a click on it (a tap) stops the video over the IPC
// socket.
func TestTapOnTheWindowStopsTheVideo(t *testing.T) {
	xvfb(t, "800x600")
	p := testPlayer(t)
	p.cfg.Args = []string{"--ao=null"} // a real video output
	pb, err := p.Start(t.Context(), sample(t))
	if err != nil {
		t.Fatal(err)
	}
	defer pb.Stop(context.Background())
	<-pb.ipc.bound
	win := strings.Fields(xdotool(t, t.Context(), "search", "--sync", "--onlyvisible", "--name", "^motcua$"))[0]
	geometry := xdotool(t, t.Context(), "getwindowgeometry", win)
	if !strings.Contains(geometry, "Position: 0,0") || !strings.Contains(geometry, "Geometry: 800x600") {
		t.Errorf("mpv's window does not cover the 800x600 screen:\n%s", geometry)
	}
	// A loaded machine may map the window before mpv takes input: tap
	// again until the video ends (a tap only ever asks it to quit).
	for tapped := false; !tapped; {
		xdotool(t, t.Context(), "mousemove", "400", "300", "click", "1")
		select {
		case <-pb.Done():
			tapped = true
		case <-time.After(3 * time.Second):
		}
	}
	end, err := pb.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if end.Reason != Tapped || end.ExitCode != QuitExitCode || end.Killed {
		t.Fatalf("End = %+v; want tapped, quit over IPC", end)
	}
}
