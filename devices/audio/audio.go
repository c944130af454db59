// Package audio plays WAV files through a child process (pw-play, paplay
// or aplay, whichever the machine has): the kiosk's speech.Player. A
// prompt is cut off by killing its child. With no sound output, Play
// returns an error wrapping speech.ErrNoAudio and the kiosk carries on
// silently.
package audio

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/motcua/motcua/agent/speech"
)

// Config configures a Player.
type Config struct {
	// Command plays one WAV file, given after its arguments. Empty: the
	// player for the sound server found (pw-play for PipeWire, paplay for
	// PulseAudio), else aplay.
	Command []string
	// Probe finds the sound outputs; one without LookPath looks at this
	// machine's.
	Probe  Probe
	Logger *slog.Logger
}

// Player plays WAV files, one child process each.
type Player struct {
	argv  []string
	probe Probe
	log   *slog.Logger
	auto  bool
}

// New returns a player. It never fails: a machine without a player
// program or a sound output gets one whose Play returns ErrNoAudio.
func New(cfg Config) *Player {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Probe.LookPath == nil {
		cfg.Probe = SystemProbe()
	}
	p := &Player{argv: cfg.Command, probe: cfg.Probe, log: cfg.Logger}
	if len(p.argv) == 0 {
		p.argv = cfg.Probe.Command()
		p.auto = true
	}
	return p
}

// Command is the player command, or nil when there is none.
func (p *Player) Command() []string { return p.argv }

// Play plays the WAV file at path and returns when it has played. When
// ctx ends first, the child is killed and Play returns ctx's cause once it
// is gone, so the next prompt never overlaps this one.
func (p *Player) Play(ctx context.Context, path string) error {
	if len(p.argv) == 0 {
		return fmt.Errorf("no player program (pw-play, paplay or aplay): %w", speech.ErrNoAudio)
	}
	if p.auto {
		if outs := p.probe.Outputs(); len(outs) == 0 {
			return fmt.Errorf("no ALSA card, PulseAudio or PipeWire: %w", speech.ErrNoAudio)
		}
	}
	cmd := exec.CommandContext(ctx, p.argv[0], append(p.argv[1:len(p.argv):len(p.argv)], path)...)
	cmd.WaitDelay = time.Second
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	p.log.Debug("play", "command", p.argv, "file", path)
	err := cmd.Run()
	switch {
	case ctx.Err() != nil:
		return fmt.Errorf("%s: %w", p.argv[0], context.Cause(ctx))
	case err == nil:
		return nil
	case noDevice.MatchString(stderr.String()):
		return fmt.Errorf("%s: %s: %w", p.argv[0], lastLine(stderr.String()), speech.ErrNoAudio)
	case errors.Is(err, exec.ErrNotFound):
		return fmt.Errorf("%s: %w: %w", p.argv[0], err, speech.ErrNoAudio)
	}
	return fmt.Errorf("%s %s: %v: %s", p.argv[0], path, err, lastLine(stderr.String()))
}

// noDevice matches what aplay, paplay and pw-play say when there is no
// sound output to open.
var noDevice = regexp.MustCompile(`audio open error|cannot find card|Unknown PCM|No such device|Connection failure|Connection refused|can't connect|Host is down|pa_context_connect`)

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

// Probe finds the machine's sound outputs.
type Probe struct {
	LookPath    func(string) (string, error)
	ASoundCards string // /proc/asound/cards
	RuntimeDir  string // $XDG_RUNTIME_DIR, where PulseAudio's and PipeWire's sockets are
	PulseServer string // $PULSE_SERVER
}

// SystemProbe looks at this machine.
func SystemProbe() Probe {
	rt := os.Getenv("XDG_RUNTIME_DIR")
	if rt == "" {
		rt = fmt.Sprintf("/run/user/%d", os.Getuid())
	}
	return Probe{LookPath: exec.LookPath, ASoundCards: "/proc/asound/cards", RuntimeDir: rt, PulseServer: os.Getenv("PULSE_SERVER")}
}

// Output is one sound output found.
type Output struct {
	Kind string // "alsa", "pulseaudio" or "pipewire"
	Name string
}

// alsaCard is a card's line in /proc/asound/cards: " 0 [PCH ]: HDA-Intel - HDA Intel PCH".
var alsaCard = regexp.MustCompile(`^\s*(\d+)\s+\[[^\]]*\]:\s*(?:.*? - )?(.*)$`)

// Outputs lists the sound outputs found: ALSA cards, and PulseAudio's and
// PipeWire's servers.
func (p Probe) Outputs() []Output {
	var outs []Output
	if p.PipeWire() {
		outs = append(outs, Output{"pipewire", "PipeWire socket"})
	}
	if p.PulseServer != "" {
		outs = append(outs, Output{"pulseaudio", "PulseAudio server " + p.PulseServer})
	} else if isSocket(filepath.Join(p.RuntimeDir, "pulse", "native")) {
		outs = append(outs, Output{"pulseaudio", "PulseAudio socket"})
	}
	if f, err := os.Open(p.ASoundCards); err == nil {
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if m := alsaCard.FindStringSubmatch(sc.Text()); m != nil {
				outs = append(outs, Output{"alsa", fmt.Sprintf("ALSA card %s (%s)", m[1], strings.TrimSpace(m[2]))})
			}
		}
	}
	return outs
}

// PipeWire reports whether PipeWire's socket is there.
func (p Probe) PipeWire() bool { return isSocket(filepath.Join(p.RuntimeDir, "pipewire-0")) }

// Command returns the player for the sound server found, or nil when no
// player program is installed: pw-play under PipeWire, paplay under
// PulseAudio, otherwise aplay (ALSA), then whichever exists.
func (p Probe) Command() []string {
	var order []string
	for _, o := range p.Outputs() {
		switch o.Kind {
		case "pipewire":
			order = append(order, "pw-play")
		case "pulseaudio":
			order = append(order, "paplay")
		}
	}
	order = append(order, "aplay", "pw-play", "paplay")
	for _, name := range order {
		if path, err := p.LookPath(name); err == nil {
			if name == "aplay" {
				return []string{path, "-q"}
			}
			return []string{path}
		}
	}
	return nil
}

func isSocket(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode()&os.ModeSocket != 0
}
