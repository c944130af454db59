package main

import (
	"context"
	"log/slog"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/motcua/motcua/agent/i18n"
	"github.com/motcua/motcua/agent/kiosk"
	"github.com/motcua/motcua/agent/procedure"
	"github.com/motcua/motcua/agent/speech"
	"github.com/motcua/motcua/devices/espeak"
	"github.com/motcua/motcua/ui"
)

// fixedPrompts are the kiosk window's fixed prompts with the embedded
// catalog, from a headless window.
func fixedPrompts(t *testing.T) []i18n.Text {
	t.Helper()
	cat, err := procedure.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	u := ui.New(test.NewTempApp(t), kiosk.New(kiosk.Config{Catalog: cat}), nil, ui.Options{})
	t.Cleanup(u.Close)
	return u.FixedPrompts()
}

// TestFixedPromptsSpeakThroughEspeak renders every fixed prompt of the
// citizen screens the way `motcua run` does at its first start, through
// the real espeak-ng, Vietnamese with the configured voice and English
// with en, and checks that each WAV lasts about as long as its words take
// at the kiosk's speed: none silent, cut short or run on.
func TestFixedPromptsSpeakThroughEspeak(t *testing.T) {
	if _, err := exec.LookPath("espeak-ng"); err != nil {
		t.Skip("espeak-ng is not installed (packaging/install-deps.sh installs it)")
	}
	ctx := context.Background()
	engine, err := espeak.New(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	texts := fixedPrompts(t)
	data := t.TempDir()
	base := speech.Settings{Voice: speech.VoiceSouth, Rate: speech.RateNormal, Volume: speech.VolumeNormal}
	start := time.Now()
	prerender(ctx, slog.New(slog.DiscardHandler), data, engine, base, texts)
	t.Logf("%d prompts in two languages rendered in %v", len(texts), time.Since(start).Round(time.Millisecond))
	cache, err := speech.NewCache(voiceCacheDir(data), engine)
	if err != nil {
		t.Fatal(err)
	}
	en := base
	en.Voice = speech.VoiceEnglish
	for _, p := range texts {
		for _, r := range []struct {
			text string
			s    speech.Settings
		}{{p.VI, base}, {p.EN, en}} {
			if r.s.Voice == speech.VoiceEnglish && p.EN == p.VI {
				continue
			}
			text := speech.Normalize(r.text, r.s.Voice)
			f, err := os.Open(cache.Path(text, r.s))
			if err != nil {
				t.Errorf("%q (%s) was not rendered: %v", r.text, r.s.Voice, err)
				continue
			}
			info, err := speech.ReadWAVInfo(f)
			f.Close()
			if err != nil {
				t.Errorf("%q (%s): %v", r.text, r.s.Voice, err)
				continue
			}
			// espeak-ng reads Vietnamese syllables faster than its
			// nominal words per minute; short prompts carry a fixed
			// lead-in and tail.
			words := len(strings.Fields(text))
			nominal := time.Duration(words) * time.Minute / time.Duration(r.s.Rate.WPM())
			d := info.Duration()
			if d < nominal*3/10 || d > nominal*2+time.Second {
				t.Errorf("%q (%s, %d words): lasts %v, want about %v", r.text, r.s.Voice, words, d.Round(time.Millisecond), nominal.Round(time.Millisecond))
			}
		}
	}
}

// fakeSynth writes a tiny WAV for each text and records the voice of
// each rendering.
type fakeSynth struct {
	mu     sync.Mutex
	voices []speech.Voice
	texts  []string
}

func (f *fakeSynth) ID() string { return "fake" }

func (f *fakeSynth) Synthesize(_ context.Context, text string, s speech.Settings, path string) error {
	f.mu.Lock()
	f.voices = append(f.voices, s.Voice)
	f.texts = append(f.texts, text)
	f.mu.Unlock()
	// A 44-byte header and some silence.
	return os.WriteFile(path, append([]byte("RIFF\x00\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00\x22\x56\x00\x00\x44\xac\x00\x00\x02\x00\x10\x00data\x00\x01\x00\x00"), make([]byte, 256)...), 0o644)
}

// playedSink is a speech.Player that signals each file played.
type playedSink struct{ played chan string }

func (p *playedSink) Play(_ context.Context, path string) error {
	p.played <- path
	return nil
}

// TestKioskVoiceSpeaksInTheCitizensLanguage: a prompt in English is
// rendered with espeak-ng's en voice, one in Vietnamese with the
// configured voice; a live prompt is not kept in the cache; Reset puts
// the configured settings back after the session.
func TestKioskVoiceSpeaksInTheCitizensLanguage(t *testing.T) {
	synth := &fakeSynth{}
	sink := &playedSink{played: make(chan string, 8)}
	base := speech.Settings{Voice: speech.VoiceCentral, Rate: 3, Volume: 5}
	g, err := speech.NewGuide(speech.GuideConfig{Synth: synth, Player: sink, CacheDir: t.TempDir(), Settings: base})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	v := newKioskVoice(g, base, slog.New(slog.DiscardHandler))
	defer v.Close()
	say := func(p ui.Prompt) string {
		t.Helper()
		v.Speak(p)
		select {
		case path := <-sink.played:
			return path
		case <-time.After(10 * time.Second):
			t.Fatalf("%+v was not played", p)
		}
		return ""
	}
	say(ui.Prompt{Text: i18n.T("Chọn ngôn ngữ", "Choose a language"), Lang: "vi"})
	say(ui.Prompt{Text: i18n.T("Tiếp tục", "Continue"), Lang: "en"})
	live := say(ui.Prompt{Text: i18n.T("Phạm Thị Dung", "Phạm Thị Dung"), Lang: "vi", Live: true})
	if strings.HasPrefix(live, voiceCacheDir("")) || !strings.Contains(live, "live-") {
		t.Errorf("the live prompt played from %s, want a live file", live)
	}
	synth.mu.Lock()
	if want := []speech.Voice{speech.VoiceCentral, speech.VoiceEnglish, speech.VoiceCentral}; !slices.Equal(synth.voices, want) {
		t.Errorf("rendered with %v, want %v", synth.voices, want)
	}
	synth.mu.Unlock()
	v.Reset()
	say(ui.Prompt{Text: i18n.T("Dịch vụ công", "Public services"), Lang: "vi"})
	if got := g.Settings(); got != base {
		t.Errorf("after Reset the settings are %+v, want the configured %+v", got, base)
	}
}

// countingSink is a speech.Player that counts the files played.
type countingSink struct {
	mu sync.Mutex
	n  int
}

func (c *countingSink) Play(context.Context, string) error {
	c.mu.Lock()
	c.n++
	c.mu.Unlock()
	return nil
}

func (c *countingSink) played() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// TestIntroRepeatsAfterSilence: the attract screen's introduction (a
// prompt with Again) is said again after 15 s of silence, and no more
// once another prompt came.
func TestIntroRepeatsAfterSilence(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sink := &countingSink{}
		base := speech.DefaultSettings()
		g, err := speech.NewGuide(speech.GuideConfig{Synth: &fakeSynth{}, Player: sink, CacheDir: t.TempDir(), Settings: base})
		if err != nil {
			t.Fatal(err)
		}
		defer g.Close()
		v := newKioskVoice(g, base, slog.New(slog.DiscardHandler))
		defer v.Close()
		v.Speak(ui.Prompt{Text: i18n.T("Dịch vụ công", "Public services"), Lang: "vi", Again: ui.IntroAgain})
		synctest.Wait()
		if n := sink.played(); n != 1 {
			t.Fatalf("%d plays at once, want 1", n)
		}
		time.Sleep(ui.IntroAgain - time.Second)
		synctest.Wait()
		if n := sink.played(); n != 1 {
			t.Fatalf("%d plays before 15 s of silence, want 1", n)
		}
		time.Sleep(time.Second)
		synctest.Wait()
		if n := sink.played(); n != 2 {
			t.Fatalf("%d plays after 15 s of silence, want 2", n)
		}
		v.Speak(ui.Prompt{Text: i18n.T("Chọn ngôn ngữ", "Choose a language"), Lang: "vi"})
		synctest.Wait()
		time.Sleep(time.Minute)
		synctest.Wait()
		if n := sink.played(); n != 3 {
			t.Fatalf("%d plays a minute after another prompt, want 3", n)
		}
	})
}
