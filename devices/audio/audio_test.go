package audio_test

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/motcua/motcua/agent/speech"
	"github.com/motcua/motcua/devices/audio"
	"github.com/motcua/motcua/devices/espeak"
)

// slowPlayer is a player command that writes its pid next to the file it
// is given, then plays for an hour (sleeps): a real child to cut off.
var slowPlayer = []string{"sh", "-c", `echo $$ > "$1.pid.tmp" && mv "$1.pid.tmp" "$1.pid" && exec sleep 3600`, "sh"}

// cutOff waits for a prompt cut off to return; one whose player was not
// killed would play for an hour.
func cutOff(t *testing.T, done <-chan error, pid int, what string) {
	t.Helper()
	select {
	case err := <-done:
		if !errors.Is(err, speech.ErrCutOff) {
			t.Fatalf("%s: %v, want ErrCutOff", what, err)
		}
	case <-time.After(20 * time.Second):
		syscall.Kill(pid, syscall.SIGKILL)
		t.Fatalf("%s still plays 20 s after it was cut off: its player was not killed", what)
	}
}

// waitPid waits for the slow player of file to start and returns its pid.
func waitPid(t *testing.T, dir string) int {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		matches, _ := filepath.Glob(filepath.Join(dir, "*.pid"))
		for _, m := range matches {
			b, err := os.ReadFile(m)
			if err != nil {
				continue
			}
			os.Remove(m)
			pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
			if err != nil {
				t.Fatalf("%s: %v", m, err)
			}
			return pid
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("the player never started")
	return 0
}

// gone reports whether process pid no longer exists.
func gone(pid int) bool {
	return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}

func newGuide(t *testing.T, cacheDir string, player speech.Player) *speech.Guide {
	t.Helper()
	e, err := espeak.New(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	g, err := speech.NewGuide(speech.GuideConfig{Synth: e, Player: player, CacheDir: cacheDir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close() })
	return g
}

// TestNewPromptKillsThePlayingChild: with real espeak-ng renderings and a
// real player process, a new prompt kills the playing one's child before
// its own starts, and Stop kills the last.
func TestNewPromptKillsThePlayingChild(t *testing.T) {
	cache := t.TempDir()
	g := newGuide(t, cache, audio.New(audio.Config{Command: slowPlayer}))
	ctx := context.Background()
	first := make(chan error, 1)
	go func() { first <- g.Say(ctx, "Mời ông bà chọn thủ tục") }()
	pid1 := waitPid(t, cache)
	second := make(chan error, 1)
	go func() { second <- g.Say(ctx, "Đặt thẻ căn cước lên máy đọc") }()
	cutOff(t, first, pid1, "the first prompt")
	if !gone(pid1) {
		t.Errorf("the first prompt's player (pid %d) still runs after it was cut off", pid1)
	}
	pid2 := waitPid(t, cache)
	if pid2 == pid1 {
		t.Fatal("the second prompt did not start a player of its own")
	}
	g.Stop()
	cutOff(t, second, pid2, "the second prompt, after Stop")
	if !gone(pid2) {
		t.Errorf("the second prompt's player (pid %d) still runs after Stop", pid2)
	}
}

// TestPlayerPlaysToTheEnd: a player that finishes returns nil.
func TestPlayerPlaysToTheEnd(t *testing.T) {
	wav := filepath.Join(t.TempDir(), "p.wav")
	if err := os.WriteFile(wav, []byte("RIFF"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := audio.New(audio.Config{Command: []string{"sh", "-c", `test -f "$1"`, "sh"}})
	if err := p.Play(context.Background(), wav); err != nil {
		t.Errorf("Play: %v", err)
	}
	if err := p.Play(context.Background(), wav+".missing"); err == nil || errors.Is(err, speech.ErrNoAudio) {
		t.Errorf("Play of a player that fails: %v, want an error that is not ErrNoAudio", err)
	}
}

// TestNoAudioDeviceCarriesOnSilently: what aplay, paplay and pw-play say
// when there is no sound output is ErrNoAudio, and the guide carries on.
func TestNoAudioDeviceCarriesOnSilently(t *testing.T) {
	for _, msg := range []string{
		"aplay: main:831: audio open error: No such file or directory",
		"Connection failure: Connection refused",
		"error: can't connect: Host is down",
	} {
		p := audio.New(audio.Config{Command: []string{"sh", "-c", `echo "$0" >&2; exit 1`, msg}})
		err := p.Play(context.Background(), "x.wav")
		if !errors.Is(err, speech.ErrNoAudio) {
			t.Errorf("player saying %q: %v, want ErrNoAudio", msg, err)
		}
		g := newGuide(t, t.TempDir(), p)
		if err := g.Say(context.Background(), "Xin chào"); err != nil || !g.Silent() {
			t.Errorf("Say with no audio (%q): %v, silent %v; want nil and silent", msg, err, g.Silent())
		}
	}
}

func TestNoOutputOrNoPlayerIsNoAudio(t *testing.T) {
	found := func(name string) (string, error) { return "/usr/bin/" + name, nil }
	missing := func(name string) (string, error) { return "", exec.ErrNotFound }
	tests := []struct {
		name  string
		probe audio.Probe
	}{
		{"no sound card or server", audio.Probe{LookPath: found, ASoundCards: "testdata/asound-cards-none.txt", RuntimeDir: t.TempDir()}},
		{"no /proc/asound", audio.Probe{LookPath: found, ASoundCards: "/nonexistent", RuntimeDir: t.TempDir()}},
		{"no player program", audio.Probe{LookPath: missing, ASoundCards: "testdata/asound-cards-two.txt", RuntimeDir: t.TempDir()}},
	}
	for _, tt := range tests {
		err := audio.New(audio.Config{Probe: tt.probe}).Play(context.Background(), "x.wav")
		if !errors.Is(err, speech.ErrNoAudio) {
			t.Errorf("%s: %v, want ErrNoAudio", tt.name, err)
		}
	}
}

// TestRealPlayerWithoutSoundCard: on a machine with aplay and no sound
// output at all (CI), the real aplay reports no audio.
func TestRealPlayerWithoutSoundCard(t *testing.T) {
	probe := audio.SystemProbe()
	if len(probe.Outputs()) > 0 {
		t.Skipf("this machine has sound outputs: %v", probe.Outputs())
	}
	aplay, err := exec.LookPath("aplay")
	if err != nil {
		t.Skip("aplay is not installed")
	}
	e, err := espeak.New(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	wav := filepath.Join(t.TempDir(), "p.wav")
	if err := e.Synthesize(context.Background(), "xin chào", speech.DefaultSettings(), wav); err != nil {
		t.Fatal(err)
	}
	err = audio.New(audio.Config{Command: []string{aplay, "-q"}}).Play(context.Background(), wav)
	if !errors.Is(err, speech.ErrNoAudio) {
		t.Errorf("aplay without a sound card: %v, want ErrNoAudio", err)
	}
}

func TestCommandFollowsTheSoundServer(t *testing.T) {
	found := func(name string) (string, error) { return "/usr/bin/" + name, nil }
	withPipeWire := t.TempDir()
	l, err := net.Listen("unix", filepath.Join(withPipeWire, "pipewire-0"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	tests := []struct {
		name  string
		probe audio.Probe
		want  string
	}{
		{"PipeWire", audio.Probe{LookPath: found, ASoundCards: "testdata/asound-cards-two.txt", RuntimeDir: withPipeWire}, "/usr/bin/pw-play"},
		{"PulseAudio server", audio.Probe{LookPath: found, ASoundCards: "/nonexistent", RuntimeDir: t.TempDir(), PulseServer: "tcp:10.0.0.2"}, "/usr/bin/paplay"},
		{"ALSA only", audio.Probe{LookPath: found, ASoundCards: "testdata/asound-cards-two.txt", RuntimeDir: t.TempDir()}, "/usr/bin/aplay -q"},
	}
	for _, tt := range tests {
		if got := strings.Join(tt.probe.Command(), " "); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}
