package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// xvfb starts a virtual X display of 1280x800 for one test and returns
// its name (":N"); the test is skipped where Xvfb is not installed.
func xvfb(t testing.TB) string {
	t.Helper()
	return xvfbSized(t, "1280x800x24")
}

// xvfbSized is xvfb with a screen of the given geometry (WxHxDEPTH).
func xvfbSized(t testing.TB, screen string) string {
	t.Helper()
	path, err := exec.LookPath("Xvfb")
	if err != nil {
		t.Skip("Xvfb is not installed (packaging/install-deps.sh installs it)")
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	cmd := exec.Command(path, "-displayfd", "3", "-screen", "0", screen, "-nolisten", "tcp")
	cmd.ExtraFiles = []*os.File{w}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	got := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(r).ReadString('\n')
		got <- strings.TrimSpace(line)
	}()
	select {
	case n := <-got:
		if n == "" {
			t.Fatal("Xvfb did not say its display")
		}
		return ":" + n
	case <-time.After(30 * time.Second):
		t.Fatal("Xvfb did not start")
	}
	return ""
}

// With no display, run says so on stderr and runs headless as before.
func TestRunWithoutDisplayRunsHeadless(t *testing.T) {
	a := startAgent(t, t.TempDir())
	if !strings.Contains(a.stdout, "HEADLESS") {
		t.Errorf("run did not say it is headless:\n%s", a.stdout)
	}
	a.waitLog(t, "no display (neither DISPLAY nor WAYLAND_DISPLAY is set): running headless")
	a.stop(t)
}

// This build opens X11 windows (Fyne without its wayland tag): a Wayland
// session without XWayland (WAYLAND_DISPLAY set, DISPLAY not) made GLFW
// panic after the agent had started; run says so and runs headless.
func TestRunWaylandWithoutXWaylandRunsHeadless(t *testing.T) {
	t.Setenv("WAYLAND_DISPLAY", "wayland-0")
	a := startAgent(t, t.TempDir())
	if !strings.Contains(a.stdout, "HEADLESS") {
		t.Errorf("run did not say it is headless:\n%s", a.stdout)
	}
	a.waitLog(t, "WAYLAND_DISPLAY is set but not DISPLAY")
	a.stop(t)
}

// A DISPLAY no X server answers (a stale one from an ssh session, an X
// server that died) made GLFW panic after the agent had started; run
// says the display cannot be reached and runs headless.
func TestRunUnreachableDisplayRunsHeadless(t *testing.T) {
	t.Setenv("DISPLAY", ":97")
	a := startAgent(t, t.TempDir())
	if !strings.Contains(a.stdout, "HEADLESS") {
		t.Errorf("run did not say it is headless:\n%s", a.stdout)
	}
	a.waitLog(t, "the X display :97 does not answer")
	a.stop(t)
}

// With a display, run opens the window on the citizen's attract screen,
// or the counter's with --mode counter, on the embedded defaults, and a
// signal closes it and stops the agent.
func TestRunOpensTheWindow(t *testing.T) {
	t.Setenv("DISPLAY", xvfb(t))
	for _, c := range []struct {
		args   []string
		screen string
	}{
		{nil, "mode=kiosk kiosk=false screen=attract"},
		{[]string{"--mode", "counter"}, "mode=counter kiosk=false screen=counter:first-run"},
	} {
		a := startAgent(t, t.TempDir(), c.args...)
		if !strings.Contains(a.stdout, "window on X11 :") || strings.Contains(a.stdout, "HEADLESS") {
			t.Errorf("run %v did not say it opened the window:\n%s", c.args, a.stdout)
		}
		a.waitLog(t, `msg="window shown"`, c.screen)
		a.stop(t)
	}
}

// [window] in the configuration file chooses the layout and fullscreen
// when the flags do not: a counter PC is set up once, in its file, and
// `motcua run` opens the counter; --mode still overrides the file.
func TestRunOpensTheWindowTheConfigFileNames(t *testing.T) {
	t.Setenv("DISPLAY", xvfb(t))
	cfg := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(cfg, []byte("[window]\nmode = \"counter\"\nfullscreen = true\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args   []string
		screen string
	}{
		{[]string{"--config", cfg}, "mode=counter kiosk=true screen=counter:first-run"},
		{[]string{"--config", cfg, "--mode", "kiosk", "--kiosk=false"}, "mode=kiosk kiosk=false screen=attract"},
	} {
		a := startAgent(t, t.TempDir(), c.args...)
		a.waitLog(t, `msg="window shown"`, c.screen)
		a.stop(t)
	}
}

// --kiosk makes the window fullscreen (a normal window is 1280x800);
// staff quit it with Ctrl+Alt+Q, which stops the agent cleanly.
func TestKioskWindowQuitsOnStaffKeys(t *testing.T) {
	xdotool, err := exec.LookPath("xdotool")
	if err != nil {
		t.Skip("xdotool is not installed (packaging/install-deps.sh installs it)")
	}
	t.Setenv("DISPLAY", xvfbSized(t, "1600x900x24"))
	geometry := func() string {
		t.Helper()
		out, err := exec.Command(xdotool, "search", "--sync", "--onlyvisible", "--name", "Một cửa", "getwindowgeometry").CombinedOutput()
		if err != nil {
			t.Fatalf("xdotool: %v\n%s", err, out)
		}
		return string(out)
	}
	a := startAgent(t, t.TempDir())
	a.waitLog(t, `msg="window shown"`, "kiosk=false")
	if g := geometry(); !strings.Contains(g, "Geometry: 1280x800") {
		t.Errorf("the normal window is not 1280x800:\n%s", g)
	}
	a.stop(t)

	a = startAgent(t, t.TempDir(), "--kiosk")
	a.waitLog(t, `msg="window shown"`, "kiosk=true", "screen=attract")
	if g := geometry(); !strings.Contains(g, "Geometry: 1600x900") {
		t.Errorf("the kiosk window is not fullscreen on a 1600x900 screen:\n%s", g)
	}
	if out, err := exec.Command(xdotool, "key", "ctrl+alt+q").CombinedOutput(); err != nil {
		t.Fatalf("xdotool: %v\n%s", err, out)
	}
	a.waitLog(t, `msg="window closing"`, "Ctrl+Alt+Q")
	done := make(chan error, 1)
	var last []string
	go func() {
		for l := range a.logs {
			last = append(last, l)
		}
		done <- a.cmd.Wait()
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run exited with %v; it said last:\n%s", err, strings.Join(last, "\n"))
		}
	case <-time.After(30 * time.Second):
		t.Fatal("run did not stop after Ctrl+Alt+Q")
	}
}

// Fyne reads the user's language while it is initialized; in the C
// locale (LANG=C.UTF-8, as CI runs) it logged an error on every command
// until internal/langenv gave it one.
func TestNoFyneLocaleErrorInTheCLocale(t *testing.T) {
	for _, loc := range []string{"C.UTF-8", "C.utf8", "C", "POSIX"} {
		r := cliEnv(t, t.TempDir(), []string{"LANG=" + loc, "LC_ALL=" + loc, "LANGUAGE="}, "procedures")
		if r.code != 0 || strings.Contains(r.stderr, "Fyne error") {
			t.Errorf("LC_ALL=%s: exit %d, stderr:\n%s", loc, r.code, r.stderr)
		}
	}
}

func TestWindowLocale(t *testing.T) {
	installed := []string{"C", "C.utf8", "POSIX", "en_US.utf8", "vi_VN", "vi_VN.utf8"}
	for _, c := range []struct {
		env       map[string]string
		available []string
		want      string
	}{
		{map[string]string{"LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}, installed, "en_US.UTF-8"},
		{map[string]string{"LANG": "C.UTF-8"}, []string{"vi_VN.utf8"}, "vi_VN.UTF-8"},
		{map[string]string{}, installed, "en_US.UTF-8"},
		{map[string]string{"LANG": "vi_VN.UTF-8"}, installed, ""},
		{map[string]string{"LC_CTYPE": "en_GB.utf8", "LANG": "C"}, installed, ""},
		{map[string]string{"LC_ALL": "POSIX", "LANG": "vi_VN.UTF-8"}, installed, "en_US.UTF-8"},
		{map[string]string{"LANG": "C.UTF-8"}, []string{"C", "C.utf8", "vi_VN"}, ""},
	} {
		got := windowLocale(func(k string) string { return c.env[k] }, c.available)
		if got != c.want {
			t.Errorf("windowLocale(%v, %v) = %q, want %q", c.env, c.available, got, c.want)
		}
	}
}

func TestDisplay(t *testing.T) {
	for _, c := range []struct {
		env  map[string]string
		want string
		why  string
	}{
		{map[string]string{}, "", "neither DISPLAY nor WAYLAND_DISPLAY is set"},
		{map[string]string{"DISPLAY": ":0"}, "X11 :0", ""},
		{map[string]string{"WAYLAND_DISPLAY": "wayland-0", "DISPLAY": ":1"}, "X11 :1", ""},
		{map[string]string{"WAYLAND_DISPLAY": "wayland-0"}, "", "WAYLAND_DISPLAY is set but not DISPLAY"},
	} {
		got, why := display(func(k string) string { return c.env[k] }, func(string) error { return nil })
		if got != c.want || !strings.Contains(why, c.why) {
			t.Errorf("display(%v) = %q, %q; want %q, %q", c.env, got, why, c.want, c.why)
		}
	}
}

func TestX11Answers(t *testing.T) {
	if err := x11Answers(xvfb(t)); err != nil {
		t.Errorf("a running Xvfb: %v", err)
	}
	for _, d := range []string{":96", "unix:95.0", "127.0.0.1:94", "nonsense", ":x"} {
		if err := x11Answers(d); err == nil {
			t.Errorf("%s answers, want an error", d)
		}
	}
}

func TestRunBadMode(t *testing.T) {
	r := cli(t, t.TempDir(), "", "run", "--mode", "desk")
	if want := fmt.Sprintf("--mode %q: not kiosk or counter", "desk"); r.code != exitUsage || !strings.Contains(r.stderr, want) {
		t.Errorf("run --mode desk: %+v", r)
	}
}
