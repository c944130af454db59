package video

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// kioskEnv, set to a video file, makes the test binary a kiosk that plays
// it and prints mpv's process id.
const kioskEnv = "MOTCUA_VIDEO_TEST_KIOSK"

// kiosk plays file headless, over and over, prints mpv's pid and waits to
// be killed.
func kiosk(file string) {
	p := New(Config{Args: append([]string{"--loop-file=inf"}, headless...), Timeout: time.Hour})
	pb, err := p.Start(context.Background(), file)
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	fmt.Println(pb.cmd.Process.Pid)
	select {}
}

// headless are the mpv options that play without a display or a sound card.
var headless = []string{"--vo=null", "--ao=null"}

// testPlayer returns a Player running the real mpv headless, with extra
// options, logging to the test. Its timeout and grace period are long, so a
// playback that ends early was stopped for the reason the test expects, not
// by a timer; tests that want a timer to fire use fireOn.
func testPlayer(t *testing.T, extra ...string) *Player {
	t.Helper()
	if _, err := exec.LookPath("mpv"); err != nil {
		t.Fatal("mpv is not installed: run packaging/install-deps.sh")
	}
	return New(Config{
		Args:    append(append([]string{}, headless...), extra...),
		Timeout: time.Hour,
		Grace:   time.Minute,
		Logger:  slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
}

// fireOn makes p's timer for duration d fire when fire is closed; other
// timers are real.
func fireOn(p *Player, d time.Duration, fire <-chan struct{}) {
	p.after = func(got time.Duration) <-chan time.Time {
		if got != d {
			return time.After(got)
		}
		c := make(chan time.Time, 1)
		go func() { <-fire; c <- time.Now() }()
		return c
	}
}

// The sample video plays to its end by itself (sped up), and the player
// is free again afterwards.
func TestPlayEndsByItself(t *testing.T) {
	p := testPlayer(t, "--speed=20")
	p.cfg.Dir = filepath.Dir(sample(t))
	end, err := p.Play(t.Context(), SampleFile)
	if err != nil {
		t.Fatal(err)
	}
	if end.Reason != Finished || end.ExitCode != 0 || end.Killed {
		t.Fatalf("End = %+v; want finished with exit status 0", end)
	}
	if p.Playing() {
		t.Error("Playing after the video ended")
	}
	t.Logf("played %v", end.Played)
}

// Each way of stopping a playing video asks mpv to quit over its IPC
// socket, which it does: its exit status is the one the quit command
// names, and it was not killed.
func TestStopsOverIPC(t *testing.T) {
	tests := []struct {
		name string
		want Reason
		stop func(t *testing.T, p *Player, pb *Playback, cancel, timeout func())
	}{
		{"Stop", Stopped, func(t *testing.T, p *Player, pb *Playback, _, _ func()) {
			if err := pb.Stop(t.Context()); err != nil {
				t.Fatal(err)
			}
		}},
		{"Player.Stop", Stopped, func(t *testing.T, p *Player, pb *Playback, _, _ func()) {
			if err := p.Stop(t.Context()); err != nil {
				t.Fatal(err)
			}
		}},
		{"context cancelled", Cancelled, func(t *testing.T, p *Player, pb *Playback, cancel, _ func()) { cancel() }},
		{"timeout", TimedOut, func(t *testing.T, p *Player, pb *Playback, _, timeout func()) { timeout() }},
		{"tap", Tapped, func(t *testing.T, p *Player, pb *Playback, _, _ func()) {
			// A tap on mpv's window is a left click; press it through a
			// second IPC connection once the stop keys are bound. A loaded
			// machine's mpv may drop a click that comes while it is still
			// starting the playback (the video then played to its end,
			// 37 s, in 4 of about 10 runs with both cores busy), so the
			// click is pressed again every 250 ms until mpv exits and
			// closes the socket, as a citizen taps again (and as
			// TestTapOnTheWindowStopsTheVideo clicks).
			<-pb.ipc.bound
			conn, err := net.Dial("unix", ipcPath(pb.dir))
			if err != nil {
				t.Fatal(err)
			}
			go func() {
				defer conn.Close()
				for {
					if _, err := conn.Write([]byte(`{"command":["keypress","MBTN_LEFT"]}` + "\n")); err != nil {
						return
					}
					time.Sleep(250 * time.Millisecond)
				}
			}()
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := testPlayer(t)
			fire := make(chan struct{})
			fireOn(p, time.Hour, fire)
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			pb, err := p.Start(ctx, sample(t))
			if err != nil {
				t.Fatal(err)
			}
			tt.stop(t, p, pb, cancel, func() { close(fire) })
			end, err := pb.Wait()
			if err != nil {
				t.Fatal(err)
			}
			if end.Reason != tt.want || end.ExitCode != QuitExitCode || end.Killed {
				t.Fatalf("End = %+v; want %s with exit status %d (quit over IPC), not killed", end, tt.want, QuitExitCode)
			}
			if _, err := os.Stat(pb.dir); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("the IPC socket's folder is left behind: %v", err)
			}
			t.Logf("stopped after %v", end.Played)
		})
	}
}

// An mpv that does not answer on its IPC socket is killed, with what it
// started, once the grace period is over.
func TestStopKillsAnMPVThatDoesNotQuit(t *testing.T) {
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "child.pid")
	fake := filepath.Join(dir, "mpv")
	script := "#!/bin/sh\nsleep 600 &\necho $! > " + pidFile + "\nwait\n"
	if err := os.WriteFile(fake, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	p := New(Config{Command: fake, Grace: time.Minute, Logger: slog.New(slog.NewTextHandler(t.Output(), nil))})
	grace := make(chan struct{})
	fireOn(p, time.Minute, grace)
	pb, err := p.Start(t.Context(), sample(t))
	if err != nil {
		t.Fatal(err)
	}
	child := waitForPID(t, pidFile, pb)
	stopped := make(chan error, 1)
	go func() { stopped <- pb.Stop(t.Context()) }()
	select {
	case <-pb.Done():
		t.Fatal("the playback ended before the grace period was over")
	case err := <-stopped:
		t.Fatalf("Stop returned %v before the grace period was over", err)
	default:
	}
	close(grace)
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	end, err := pb.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if end.Reason != Stopped || !end.Killed || end.ExitCode != -1 {
		t.Fatalf("End = %+v; want stopped and killed", end)
	}
	if alive(child) {
		t.Errorf("mpv's child %d outlived it", child)
	}
}

// waitForPID reads the pid the fake mpv writes once it has started its
// child.
func waitForPID(t *testing.T, path string, pb *Playback) int {
	t.Helper()
	for {
		if b, err := os.ReadFile(path); err == nil && strings.HasSuffix(string(b), "\n") {
			pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
			if err != nil {
				t.Fatal(err)
			}
			return pid
		}
		select {
		case <-pb.Done():
			t.Fatal("the fake mpv exited")
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// alive reports whether process pid runs (a zombie does not).
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// "pid (comm) S ...": the state follows the command's closing paren.
	s := string(b)
	i := strings.LastIndex(s, ")")
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}

// Available tells the videos there are from those there are not, by the
// catalog's file name in the videos folder or by path.
func TestAvailable(t *testing.T) {
	dir := filepath.Dir(sample(t))
	p := New(Config{Dir: dir})
	empty := filepath.Join(t.TempDir(), "empty.mp4")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		file string
		want bool
	}{
		{SampleFile, true},
		{sample(t), true},
		{"death-registration.mp4", false},
		{"", false},
		{empty, false},
	}
	for _, tt := range tests {
		if got := p.Available(tt.file); got != tt.want {
			t.Errorf("Available(%q) = %v, want %v", tt.file, got, tt.want)
		}
	}
}

// What cannot be played is an error that says why.
func TestPlayRefuses(t *testing.T) {
	dir := t.TempDir()
	notVideo := filepath.Join(dir, "notes.mp4")
	if err := os.WriteFile(notVideo, []byte("these are not the frames you are looking for\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		command string
		file    string
		want    error
		says    string
	}{
		{"missing file", "", filepath.Join(dir, "birth-registration.mp4"), fs.ErrNotExist, "birth-registration.mp4"},
		{"a folder", "", dir, nil, "is not a file"},
		{"no mpv", "motcua-no-such-mpv", sample(t), ErrNoMPV, "apt-get install mpv"},
		{"not a video", "", notVideo, ErrUnplayable, "mpv cannot play the file: Failed to recognize file format"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := testPlayer(t)
			if tt.command != "" {
				p.cfg.Command = tt.command
			}
			_, err := p.Play(t.Context(), tt.file)
			if err == nil || (tt.want != nil && !errors.Is(err, tt.want)) || !strings.Contains(err.Error(), tt.says) {
				t.Fatalf("Play = %v; want an error wrapping %v that says %q", err, tt.want, tt.says)
			}
			if p.Playing() {
				t.Error("Playing after a refused video")
			}
		})
	}
}

// One video plays at a time: a second Start is refused until the first
// is over.
func TestStartWhilePlayingIsRefused(t *testing.T) {
	p := testPlayer(t)
	if err := p.Stop(t.Context()); err != nil {
		t.Fatalf("Stop with nothing playing: %v", err)
	}
	pb, err := p.Start(t.Context(), sample(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Start(t.Context(), sample(t)); !errors.Is(err, ErrBusy) {
		t.Errorf("second Start = %v, want ErrBusy", err)
	}
	if err := pb.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	pb2, err := p.Start(t.Context(), sample(t))
	if err != nil {
		t.Fatalf("Start after the first video stopped: %v", err)
	}
	if err := pb2.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
}
