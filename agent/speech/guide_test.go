package speech

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// fakeSynth writes a WAV-sized file holding the text and counts its runs.
type fakeSynth struct {
	mu   sync.Mutex
	runs int
}

func (f *fakeSynth) ID() string { return "fake 1" }

func (f *fakeSynth) Synthesize(ctx context.Context, text string, s Settings, path string) error {
	f.mu.Lock()
	f.runs++
	f.mu.Unlock()
	return os.WriteFile(path, append(make([]byte, wavHeaderSize), text...), 0o644)
}

func (f *fakeSynth) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.runs
}

// fakePlayer records what it plays. With block set it plays until its
// context ends; err is what it returns otherwise.
type fakePlayer struct {
	block   bool
	err     error
	started chan string

	mu     sync.Mutex
	events []string
}

func (p *fakePlayer) Play(ctx context.Context, path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	text := string(b[wavHeaderSize:])
	p.record("start " + text)
	if p.started != nil {
		p.started <- text
	}
	if p.block {
		<-ctx.Done()
		p.record("stop " + text)
		return ctx.Err()
	}
	return p.err
}

func (p *fakePlayer) record(e string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.events = append(p.events, e)
}

func (p *fakePlayer) log() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.events...)
}

func newTestGuide(t *testing.T, synth Synthesizer, player Player, log *slog.Logger) *Guide {
	t.Helper()
	g, err := NewGuide(GuideConfig{Synth: synth, Player: player, CacheDir: t.TempDir(), Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close() })
	return g
}

func TestCacheHitsTheFileAndMissesOnAChangedSetting(t *testing.T) {
	synth := &fakeSynth{}
	c, err := NewCache(t.TempDir(), synth)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	s := DefaultSettings()
	first, hit, err := c.Get(ctx, "Xin chào", s)
	if err != nil || hit || synth.count() != 1 {
		t.Fatalf("first Get: hit %v, err %v, %d runs; want a miss rendering once", hit, err, synth.count())
	}
	again, hit, err := c.Get(ctx, "Xin chào", s)
	if err != nil || !hit || again != first || synth.count() != 1 {
		t.Fatalf("second Get: %s hit %v, err %v, %d runs; want a hit on %s with no run", again, hit, err, synth.count(), first)
	}
	changed := map[string]Settings{
		"voice":  {Voice: VoiceSouth, Rate: s.Rate, Volume: s.Volume},
		"rate":   {Voice: s.Voice, Rate: RateSlowest, Volume: s.Volume},
		"volume": {Voice: s.Voice, Rate: s.Rate, Volume: VolumeLoudest},
	}
	for what, s2 := range changed {
		before := synth.count()
		p, hit, err := c.Get(ctx, "Xin chào", s2)
		if err != nil || hit || p == first || synth.count() != before+1 {
			t.Errorf("changed %s: hit %v, err %v, same file %v; want a miss rendering a new file", what, hit, err, p == first)
		}
	}
	if _, hit, _ := c.Get(ctx, "Xin chào ông bà", s); hit {
		t.Error("another text hit the cache")
	}
	// A rendering cut short leaves no file under the prompt's name.
	left, _ := filepath.Glob(filepath.Join(c.dir, "render-*"))
	if len(left) != 0 {
		t.Errorf("temporary renderings left: %v", left)
	}
}

// TestNewPromptCutsOffThePlayingOne: the second prompt stops the first
// and starts only once the first has stopped.
func TestNewPromptCutsOffThePlayingOne(t *testing.T) {
	player := &fakePlayer{block: true, started: make(chan string)}
	g := newTestGuide(t, &fakeSynth{}, player, nil)
	ctx := context.Background()
	first := make(chan error)
	go func() { first <- g.Say(ctx, "Mời ông bà chọn thủ tục") }()
	<-player.started
	second := make(chan error)
	go func() { second <- g.Say(ctx, "Đặt thẻ căn cước") }()
	if err := <-first; !errors.Is(err, ErrCutOff) {
		t.Fatalf("first prompt: %v, want ErrCutOff", err)
	}
	<-player.started
	g.Stop()
	if err := <-second; !errors.Is(err, ErrCutOff) {
		t.Fatalf("second prompt after Stop: %v, want ErrCutOff", err)
	}
	want := []string{"start Mời ông bà chọn thủ tục", "stop Mời ông bà chọn thủ tục", "start Đặt thẻ căn cước", "stop Đặt thẻ căn cước"}
	if got := player.log(); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("played %q, want %q", got, want)
	}
}

// TestNoAudioCarriesOnSilently: with no sound output a prompt returns nil,
// the guide reports itself silent and warns once, and speaks again when
// the output comes back.
func TestNoAudioCarriesOnSilently(t *testing.T) {
	var logs bytes.Buffer
	player := &fakePlayer{err: ErrNoAudio}
	g := newTestGuide(t, &fakeSynth{}, player, slog.New(slog.NewTextHandler(&logs, nil)))
	ctx := context.Background()
	for range 2 {
		if err := g.Say(ctx, "Xin chào"); err != nil {
			t.Fatalf("Say with no audio: %v, want nil", err)
		}
	}
	if !g.Silent() {
		t.Error("Silent() = false with no audio output")
	}
	if n := strings.Count(logs.String(), "level=WARN"); n != 1 {
		t.Errorf("warned %d times, want once:\n%s", n, logs.String())
	}
	player.err = nil
	if err := g.Say(ctx, "Xin chào"); err != nil || g.Silent() {
		t.Errorf("after the output came back: err %v, silent %v", err, g.Silent())
	}
}

func TestMuteCutsOffAndReplaySpeaksTheLastPrompt(t *testing.T) {
	player := &fakePlayer{block: true, started: make(chan string)}
	g := newTestGuide(t, &fakeSynth{}, player, nil)
	ctx := context.Background()
	done := make(chan error)
	go func() { done <- g.Say(ctx, "Một") }()
	<-player.started
	g.Mute(true)
	if err := <-done; !errors.Is(err, ErrCutOff) {
		t.Fatalf("prompt muted: %v, want ErrCutOff", err)
	}
	if err := g.SayParts(ctx, Fixed("Họ tên"), Live("Nguyễn Văn An")); err != nil {
		t.Fatalf("Say while muted: %v", err)
	}
	g.Mute(false)
	go func() { done <- g.Replay(ctx) }()
	if got := <-player.started; got != "Họ tên" {
		t.Fatalf("replay started with %q", got)
	}
	g.Stop()
	<-done
	want := "start Một|stop Một|start Họ tên|stop Họ tên"
	if got := strings.Join(player.log(), "|"); got != want {
		t.Errorf("played %s, want %s", got, want)
	}
}

// TestLivePartsAreNeverKept: a name is rendered for the moment and never
// left on disk, in the cache or elsewhere; the fixed part is cached.
func TestLivePartsAreNeverKept(t *testing.T) {
	synth := &fakeSynth{}
	g := newTestGuide(t, synth, &fakePlayer{}, nil)
	ctx := context.Background()
	for range 2 {
		if err := g.SayParts(ctx, Fixed("Họ tên"), Live("Nguyễn Văn An")); err != nil {
			t.Fatal(err)
		}
	}
	if synth.count() != 3 {
		t.Errorf("%d renderings, want 3 (the label once, the name each time)", synth.count())
	}
	for _, dir := range []string{g.cache.dir, g.liveDir} {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
			if bytes.Contains(b, []byte("Nguyễn")) {
				t.Errorf("%s holds the citizen's name", filepath.Join(dir, e.Name()))
			}
		}
	}
	if entries, _ := os.ReadDir(g.cache.dir); len(entries) != 1 {
		t.Errorf("cache holds %d files, want the label's only", len(entries))
	}
}

func TestSettingsAreCheckedAndUsed(t *testing.T) {
	player := &fakePlayer{}
	g := newTestGuide(t, &fakeSynth{}, player, nil)
	if err := g.SetRate(8); !errors.Is(err, ErrBadSetting) {
		t.Errorf("SetRate(8): %v, want ErrBadSetting", err)
	}
	if err := g.SetVoice("fr"); !errors.Is(err, ErrBadSetting) {
		t.Errorf(`SetVoice("fr"): %v, want ErrBadSetting`, err)
	}
	if err := g.SetVoice(VoiceEnglish); err != nil {
		t.Fatal(err)
	}
	if err := g.Say(context.Background(), "Fee 50.000đ"); err != nil {
		t.Fatal(err)
	}
	if got := player.log(); len(got) != 1 || got[0] != "start Fee 50000 dong" {
		t.Errorf("played %q: want the English normalisation", got)
	}
}

// TestIntroRepeatsAfterSilence: the intro is said again after each 15 s of
// silence, and a prompt in between ends the repeating.
func TestIntroRepeatsAfterSilence(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		player := &timedPlayer{}
		g := newTestGuide(t, &fakeSynth{}, player, nil)
		ctx := context.Background()
		start := time.Now()
		done := make(chan error)
		go func() { done <- g.Repeat(ctx, "Mời ông bà chạm vào màn hình", IntroRepeat) }()
		time.Sleep(40 * time.Second)
		if err := g.Say(ctx, "Chọn thủ tục"); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("Repeat: %v, want nil once another prompt took over", err)
			}
		case <-time.After(time.Minute):
			t.Error("the intro still repeats a minute after another prompt")
		}
		want := []string{"0s Mời ông bà chạm vào màn hình", "15s Mời ông bà chạm vào màn hình",
			"30s Mời ông bà chạm vào màn hình", "40s Chọn thủ tục"}
		got := player.at(start)
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("played %q, want %q", got, want)
		}
	})
}

// timedPlayer records when each prompt plays; it plays in no time.
type timedPlayer struct {
	mu    sync.Mutex
	plays []string
	when  []time.Time
}

func (p *timedPlayer) Play(ctx context.Context, path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.plays = append(p.plays, string(b[wavHeaderSize:]))
	p.when = append(p.when, time.Now())
	return nil
}

func (p *timedPlayer) at(start time.Time) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for i, s := range p.plays {
		out = append(out, p.when[i].Sub(start).String()+" "+s)
	}
	return out
}

// TestResetForgetsTheLastCitizen: after Reset, Replay says nothing (the
// last prompt held the previous citizen's name), and the settings and mute
// are the defaults again.
func TestResetForgetsTheLastCitizen(t *testing.T) {
	player := &fakePlayer{}
	g := newTestGuide(t, &fakeSynth{}, player, nil)
	ctx := context.Background()
	if err := g.SetSettings(Settings{Voice: VoiceSouth, Rate: RateFastest, Volume: VolumeLoudest}); err != nil {
		t.Fatal(err)
	}
	if err := g.SayParts(ctx, Fixed("Họ tên"), Live("Nguyễn Văn An")); err != nil {
		t.Fatal(err)
	}
	g.Mute(true)
	g.Reset()
	if err := g.Replay(ctx); err != nil {
		t.Fatal(err)
	}
	if got := player.log(); len(got) != 2 {
		t.Errorf("played %q: Replay after Reset spoke the previous citizen's prompt", got)
	}
	if g.Settings() != DefaultSettings() || g.Muted() {
		t.Errorf("after Reset: %+v, muted %v; want the defaults, unmuted", g.Settings(), g.Muted())
	}
}

// TestPruneRemovesTheLeastRecentlyUsed: a prompt played again is kept; the
// one longest unplayed goes first.
func TestPruneRemovesTheLeastRecentlyUsed(t *testing.T) {
	c, err := NewCache(t.TempDir(), &fakeSynth{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	s := DefaultSettings()
	var paths []string
	for i, text := range []string{"một một", "hai hai", "ba ba"} {
		p, _, err := c.Get(ctx, text, s)
		if err != nil {
			t.Fatal(err)
		}
		old := time.Now().Add(-time.Duration(10-i) * time.Hour)
		if err := os.Chtimes(p, old, old); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	if _, hit, _ := c.Get(ctx, "một một", s); !hit {
		t.Fatal("no hit")
	}
	fi, _ := os.Stat(paths[0])
	removed, err := c.Prune(2 * fi.Size())
	if err != nil || removed != 1 {
		t.Fatalf("Prune: removed %d, %v; want 1", removed, err)
	}
	for i, want := range []bool{true, false, true} {
		if _, err := os.Stat(paths[i]); (err == nil) != want {
			t.Errorf("prompt %d kept: %v, want %v", i, err == nil, want)
		}
	}
}

// TestNoEngineCarriesOnSilently: without espeak-ng a guide still works,
// silently, fixed and live prompts alike.
func TestNoEngineCarriesOnSilently(t *testing.T) {
	player := &fakePlayer{}
	g := newTestGuide(t, NoEngine(errors.New("espeak-ng is not installed")), player, nil)
	if err := g.SayParts(context.Background(), Fixed("Họ tên"), Live("Nguyễn Văn An")); err != nil {
		t.Fatalf("SayParts without an engine: %v, want nil", err)
	}
	if !g.Silent() || len(player.log()) != 0 {
		t.Errorf("silent %v, played %q; want silent and nothing played", g.Silent(), player.log())
	}
}
