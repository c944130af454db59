// Package espeak speaks through espeak-ng, run as a child process that
// writes a WAV file: the one speech.Synthesizer the kiosk ships with.
package espeak

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/motcua/motcua/agent/i18n"
	"github.com/motcua/motcua/agent/speech"
)

// Errors. Each is an *i18n.Error, so doctor and the screens can say what
// to do in Vietnamese.
var (
	ErrNotInstalled = &i18n.Error{Code: "speech_not_installed", Msg: i18n.T(
		"Chưa cài phần mềm đọc tiếng Việt (gói espeak-ng). Hãy báo cán bộ kỹ thuật.",
		"espeak-ng is not installed (Debian package espeak-ng)")}
	ErrNoVoice = &i18n.Error{Code: "speech_no_voice", Msg: i18n.T(
		"Phần mềm đọc thiếu giọng tiếng Việt: cài lại gói espeak-ng-data.",
		"espeak-ng lacks the voice: reinstall the Debian package espeak-ng-data")}
)

// Engine runs espeak-ng.
type Engine struct {
	path    string
	version string
}

// New finds espeak-ng on PATH (command "" means "espeak-ng") and asks its
// version, which names the engine in the prompt cache.
func New(ctx context.Context, command string) (*Engine, error) {
	if command == "" {
		command = "espeak-ng"
	}
	path, err := exec.LookPath(command)
	if err != nil {
		return nil, ErrNotInstalled
	}
	out, err := run(ctx, path, nil, "--version")
	if err != nil {
		return nil, err
	}
	// "eSpeak NG text-to-speech: 1.51  Data at: /usr/lib/..."
	version, _, _ := strings.Cut(strings.TrimSpace(string(out)), "  Data at:")
	return &Engine{path: path, version: version}, nil
}

// Path is the espeak-ng program run.
func (e *Engine) Path() string { return e.path }

// ID names espeak-ng and its version.
func (e *Engine) ID() string { return e.version }

// minWPM is the slowest espeak-ng speaks; slower steps add a gap between
// words instead.
const minWPM = 80

// gapUnit is how long one unit of espeak-ng's word gap (-g) lasts at
// minWPM, measured with espeak-ng 1.51's Vietnamese voices.
const gapUnit = 40 * time.Millisecond

// Args are espeak-ng's arguments for s, writing a WAV to path (or to
// standard output when path is "-"); the text comes on standard input.
func Args(s speech.Settings, path string) []string {
	wpm := s.Rate.WPM()
	args := []string{"-b", "1", "-v", string(s.Voice)}
	if wpm < minWPM {
		// At the slowest step espeak-ng speaks no slower: pad each word.
		extra := time.Duration(float64(time.Minute)/float64(wpm) - float64(time.Minute)/minWPM)
		gap := int(math.Round(float64(extra) / float64(gapUnit)))
		args = append(args, "-s", fmt.Sprint(minWPM), "-g", fmt.Sprint(gap))
	} else {
		args = append(args, "-s", fmt.Sprint(wpm))
	}
	args = append(args, "-a", fmt.Sprint(s.Volume.Percent()))
	if path == "-" {
		return append(args, "--stdout")
	}
	return append(args, "-w", path)
}

// Synthesize writes text spoken with s to a WAV file at path.
func (e *Engine) Synthesize(ctx context.Context, text string, s speech.Settings, path string) error {
	if err := s.Check(); err != nil {
		return err
	}
	if _, err := run(ctx, e.path, strings.NewReader(text), Args(s, path)...); err != nil {
		return err
	}
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("espeak-ng wrote no %s: %w", path, err)
	}
	if fi.Size() <= 44 {
		return fmt.Errorf("espeak-ng wrote no sound for %q with voice %s", text, s.Voice)
	}
	return nil
}

// Voices lists the voices (the language column of espeak-ng --voices:
// "vi", "vi-vn-x-central", "en-us"...) this espeak-ng has.
func (e *Engine) Voices(ctx context.Context) ([]string, error) {
	out, err := run(ctx, e.path, nil, "--voices")
	if err != nil {
		return nil, err
	}
	var voices []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		// " 5  vi              --/M      Vietnamese_(Northern) aav/vi"
		f := strings.Fields(sc.Text())
		if len(f) >= 2 && f[0] != "Pty" {
			voices = append(voices, f[1])
		}
	}
	return voices, nil
}

// MissingVoices returns which of want this espeak-ng does not have.
func (e *Engine) MissingVoices(ctx context.Context, want []speech.Voice) ([]speech.Voice, error) {
	have, err := e.Voices(ctx)
	if err != nil {
		return nil, err
	}
	set := make(map[string]bool, len(have))
	for _, v := range have {
		set[strings.ToLower(v)] = true
	}
	var missing []speech.Voice
	for _, v := range want {
		if !set[strings.ToLower(string(v))] {
			missing = append(missing, v)
		}
	}
	return missing, nil
}

// run runs espeak-ng and returns its standard output; a failure says what
// espeak-ng said.
func run(ctx context.Context, path string, stdin *strings.Reader, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.WaitDelay = time.Second
	if stdin != nil {
		cmd.Stdin = stdin
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("espeak-ng: %w", context.Cause(ctx))
		}
		msg := strings.TrimSpace(stderr.String())
		if strings.Contains(msg, "voice does not exist") || strings.Contains(msg, "Failed to read voice") {
			return nil, fmt.Errorf("espeak-ng %s: %s: %w", strings.Join(args, " "), msg, ErrNoVoice)
		}
		return nil, fmt.Errorf("espeak-ng %s: %v: %s", strings.Join(args, " "), err, msg)
	}
	return stdout.Bytes(), nil
}
