package espeak_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/motcua/motcua/agent/speech"
	"github.com/motcua/motcua/devices/espeak"
)

// These tests run the real espeak-ng.

func newEngine(t testing.TB) *espeak.Engine {
	t.Helper()
	if _, err := exec.LookPath("espeak-ng"); err != nil {
		t.Fatalf("espeak-ng is not installed (packaging/install-deps.sh installs it): %v", err)
	}
	e, err := espeak.New(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	return e
}

const prompt = "Mời ông bà đặt thẻ căn cước lên máy đọc, rồi chờ một chút"

func render(t *testing.T, e *espeak.Engine, s speech.Settings) speech.WAVInfo {
	t.Helper()
	path := filepath.Join(t.TempDir(), "p.wav")
	if err := e.Synthesize(context.Background(), speech.Normalize(prompt, s.Voice), s, path); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	info, err := speech.ReadWAVInfo(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return info
}

// TestRendersEachVietnameseVoice renders a prompt with each Vietnamese
// voice at the slowest, normal and fastest steps: a 22.05 kHz mono 16-bit
// WAV that lasts about as long as the words take at that speed, and longer
// at each slower step.
func TestRendersEachVietnameseVoice(t *testing.T) {
	e := newEngine(t)
	words := len(strings.Fields(prompt))
	for _, v := range speech.VietnameseVoices {
		var last time.Duration
		for _, r := range []speech.Rate{speech.RateFastest, speech.RateNormal, speech.RateSlowest} {
			s := speech.Settings{Voice: v, Rate: r, Volume: speech.VolumeNormal}
			info := render(t, e, s)
			if info.SampleRate != 22050 || info.Channels != 1 || info.Bits != 16 {
				t.Errorf("%s step %d: %d Hz, %d channels, %d bits; want 22050 Hz mono 16-bit", v, r, info.SampleRate, info.Channels, info.Bits)
			}
			// espeak-ng reads Vietnamese syllables faster than its
			// nominal words per minute (about 0.7 of the time); allow
			// 0.4 to 1.3 of the nominal time.
			nominal := time.Duration(words) * time.Minute / time.Duration(r.WPM())
			d := info.Duration()
			t.Logf("%s step %d (%d wpm): %v, nominal %v", v, r, r.WPM(), d.Round(time.Millisecond), nominal.Round(time.Millisecond))
			if d < nominal*4/10 || d > nominal*13/10 {
				t.Errorf("%s step %d: lasts %v, want 0.4 to 1.3 of %v for %d words at %d wpm", v, r, d, nominal, words, r.WPM())
			}
			if d <= last*12/10 {
				t.Errorf("%s step %d: lasts %v, not clearly longer than the faster step's %v", v, r, d, last)
			}
			last = d
		}
	}
}

func TestHasTheThreeVietnameseVoices(t *testing.T) {
	e := newEngine(t)
	missing, err := e.MissingVoices(context.Background(), append(speech.VietnameseVoices, "xx-nowhere"))
	if err != nil {
		t.Fatal(err)
	}
	if len(missing) != 1 || missing[0] != "xx-nowhere" {
		t.Errorf("missing %v, want only xx-nowhere", missing)
	}
	if !strings.HasPrefix(e.ID(), "eSpeak NG") {
		t.Errorf("ID %q does not name espeak-ng", e.ID())
	}
}

// counting counts the engine's runs.
type counting struct {
	*espeak.Engine
	runs atomic.Int32
}

func (c *counting) Synthesize(ctx context.Context, text string, s speech.Settings, path string) error {
	c.runs.Add(1)
	return c.Engine.Synthesize(ctx, text, s, path)
}

// TestCachedPromptRunsNoEspeak: the second request for a prompt is played
// from the file espeak-ng wrote the first time; another voice or rate is
// rendered anew.
func TestCachedPromptRunsNoEspeak(t *testing.T) {
	c := &counting{Engine: newEngine(t)}
	cache, err := speech.NewCache(t.TempDir(), c)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	s := speech.DefaultSettings()
	text := speech.Normalize(prompt, s.Voice)
	p1, hit1, err := cache.Get(ctx, text, s)
	if err != nil {
		t.Fatal(err)
	}
	p2, hit2, err := cache.Get(ctx, text, s)
	if err != nil {
		t.Fatal(err)
	}
	if hit1 || !hit2 || p1 != p2 || c.runs.Load() != 1 {
		t.Fatalf("hits %v %v, same file %v, %d espeak-ng runs; want a miss, then a hit on the same file, 1 run", hit1, hit2, p1 == p2, c.runs.Load())
	}
	for _, s2 := range []speech.Settings{{Voice: speech.VoiceSouth, Rate: s.Rate, Volume: s.Volume}, {Voice: s.Voice, Rate: speech.RateFastest, Volume: s.Volume}} {
		if _, hit, err := cache.Get(ctx, text, s2); err != nil || hit {
			t.Errorf("%+v: hit %v, err %v; want a miss", s2, hit, err)
		}
	}
	if c.runs.Load() != 3 {
		t.Errorf("%d espeak-ng runs, want 3", c.runs.Load())
	}
}

func TestArgs(t *testing.T) {
	tests := []struct {
		s    speech.Settings
		want string
	}{
		{speech.DefaultSettings(), "-b 1 -v vi -s 130 -a 100 -w out.wav"},
		{speech.Settings{Voice: speech.VoiceSouth, Rate: speech.RateFastest, Volume: speech.VolumeQuietest}, "-b 1 -v vi-vn-x-south -s 260 -a 40 -w out.wav"},
		// 65 wpm is below espeak-ng's slowest: 80 wpm and a word gap.
		{speech.Settings{Voice: speech.VoiceCentral, Rate: speech.RateSlowest, Volume: speech.VolumeLoudest}, "-b 1 -v vi-vn-x-central -s 80 -g 4 -a 130 -w out.wav"},
	}
	for _, tt := range tests {
		if got := strings.Join(espeak.Args(tt.s, "out.wav"), " "); got != tt.want {
			t.Errorf("Args(%+v) = %q, want %q", tt.s, got, tt.want)
		}
	}
}

func TestNotInstalled(t *testing.T) {
	if _, err := espeak.New(context.Background(), "espeak-ng-not-here"); err != espeak.ErrNotInstalled {
		t.Errorf("New with no such program: %v, want ErrNotInstalled", err)
	}
}

// phonemes returns espeak-ng's phonemes for text in voice vi.
func phonemes(t *testing.T, text string) string {
	t.Helper()
	out, err := exec.Command("espeak-ng", "-v", "vi", "-q", "-x", text).Output()
	if err != nil {
		t.Fatalf("espeak-ng -x %q: %v", text, err)
	}
	return string(out)
}

// TestNormalisedTextIsReadRight: the forms espeak-ng reads wrongly (as its
// phonemes show) are read right once normalised.
func TestNormalisedTextIsReadRight(t *testing.T) {
	newEngine(t)
	tests := []struct {
		name, raw string
		wrong     string // in the raw reading, not in the normalised one
		right     string // in the normalised reading, not in the raw one
	}{
		// "năm mươi ngàn không trăm đồng"
		{"money", "50.000 đồng", "x,o1NtS'a1m", "N'i2n"},
		// read as hundreds ("trăm"), not digit by digit
		{"ID", "001204012345", "tS'@3m", "x,o#1N_| x,o#1N_| m'o6t"},
		// the slashes dropped: no "tháng"
		{"date", "12/05/2024", "x,o1N_| n'a1m", "t'a:3N"},
	}
	for _, tt := range tests {
		raw := phonemes(t, tt.raw)
		norm := phonemes(t, speech.Normalize(tt.raw, speech.VoiceNorth))
		if !strings.Contains(raw, tt.wrong) || strings.Contains(raw, tt.right) {
			t.Errorf("%s: espeak-ng reads %q as %q: its known misreading changed", tt.name, tt.raw, raw)
		}
		if strings.Contains(norm, tt.wrong) || !strings.Contains(norm, tt.right) {
			t.Errorf("%s: normalised, %q is read %q: want %q and not %q", tt.name, tt.raw, norm, tt.right, tt.wrong)
		}
	}
}

func TestRendersEnglish(t *testing.T) {
	e := newEngine(t)
	s := speech.Settings{Voice: speech.VoiceEnglish, Rate: speech.RateNormal, Volume: speech.VolumeNormal}
	path := filepath.Join(t.TempDir(), "en.wav")
	text := speech.Normalize("Please come back at 09h30 on 12/05/2024 and pay 50.000đ.", s.Voice)
	if err := e.Synthesize(context.Background(), text, s, path); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	info, err := speech.ReadWAVInfo(f)
	if err != nil || info.SampleRate != 22050 || info.Duration() < 2*time.Second {
		t.Errorf("%+v, %v: want a 22050 Hz WAV of a few seconds", info, err)
	}
}
