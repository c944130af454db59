package speech

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// Part is a piece of a prompt: fixed text from the screens, rendered once
// and cached, or live text (a name, a number the citizen gave), rendered
// each time and never kept on disk.
type Part struct {
	Text string
	Live bool
}

// Fixed is a part of a prompt that every citizen hears alike.
func Fixed(text string) Part { return Part{Text: text} }

// Live is a part of a prompt that holds the citizen's own data.
func Live(text string) Part { return Part{Text: text, Live: true} }

// Speaker is what the screens call to speak. Guide implements it; a test
// of the screens can stand in for it.
type Speaker interface {
	Say(ctx context.Context, text string) error
	SayLive(ctx context.Context, text string) error
	SayParts(ctx context.Context, parts ...Part) error
	Repeat(ctx context.Context, text string, after time.Duration) error
	Replay(ctx context.Context) error
	Stop()
	Mute(muted bool)
	Muted() bool
	SetSettings(s Settings) error
	Settings() Settings
	Reset()
}

var _ Speaker = (*Guide)(nil)

// GuideConfig configures a Guide.
type GuideConfig struct {
	Synth  Synthesizer
	Player Player
	// CacheDir keeps the rendered fixed prompts.
	CacheDir string
	// CacheLimit bounds the cache's size at start (least recently used
	// prompts go first); 0 means DefaultCacheLimit.
	CacheLimit int64
	// Settings are the initial ones; the zero value means DefaultSettings.
	Settings Settings
	Logger   *slog.Logger
}

// Guide speaks one prompt at a time: a new prompt cuts off the one
// playing, and waits until its sound has stopped before its own starts.
// Say and its kin block until the prompt has played; the screens call
// them from a goroutine. With no sound output the guide carries on
// silently: a prompt returns nil, and Silent reports it.
type Guide struct {
	synth   Synthesizer
	player  Player
	cache   *Cache
	liveDir string
	log     *slog.Logger

	mu       sync.Mutex
	settings Settings
	muted    bool
	silent   bool
	last     []Part
	cur      *playing
	spoken   uint64 // prompts started, for Repeat
}

// playing is the prompt that has the speaker.
type playing struct {
	cancel context.CancelCauseFunc
	done   chan struct{}
}

// NewGuide returns a guide; Close removes its live renderings' directory.
func NewGuide(cfg GuideConfig) (*Guide, error) {
	if cfg.Synth == nil || cfg.Player == nil {
		return nil, errors.New("speech guide: a synthesizer and a player are required")
	}
	if cfg.Settings == (Settings{}) {
		cfg.Settings = DefaultSettings()
	}
	if err := cfg.Settings.Check(); err != nil {
		return nil, fmt.Errorf("speech guide: %w", err)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	cache, err := NewCache(cfg.CacheDir, cfg.Synth)
	if err != nil {
		return nil, fmt.Errorf("speech guide: %w", err)
	}
	if cfg.CacheLimit == 0 {
		cfg.CacheLimit = DefaultCacheLimit
	}
	if n, err := cache.Prune(cfg.CacheLimit); err != nil {
		cfg.Logger.Warn("prompt cache not pruned", "err", err)
	} else if n > 0 {
		cfg.Logger.Info("prompt cache pruned", "removed", n, "limit", cfg.CacheLimit)
	}
	live, err := os.MkdirTemp("", "motcua-speech-")
	if err != nil {
		return nil, fmt.Errorf("speech guide: %w", err)
	}
	return &Guide{synth: cfg.Synth, player: cfg.Player, cache: cache, liveDir: live,
		log: cfg.Logger, settings: cfg.Settings}, nil
}

// Close stops the prompt playing and removes the live renderings.
func (g *Guide) Close() error {
	g.Stop()
	return os.RemoveAll(g.liveDir)
}

// Say speaks a fixed prompt.
func (g *Guide) Say(ctx context.Context, text string) error {
	return g.SayParts(ctx, Fixed(text))
}

// SayLive speaks text that holds the citizen's own data.
func (g *Guide) SayLive(ctx context.Context, text string) error {
	return g.SayParts(ctx, Live(text))
}

// SayParts speaks the parts one after another as one prompt ("read this
// screen": each label fixed, each value live). It cuts off the prompt
// playing, and returns nil when the prompt has played (or there is no
// sound output, or the guide is muted), ErrCutOff when a newer prompt,
// Stop or Mute cut it off, or ctx's error.
func (g *Guide) SayParts(ctx context.Context, parts ...Part) error {
	g.mu.Lock()
	g.last = parts
	g.spoken++
	prev := g.cur
	g.cur = nil
	if g.muted {
		g.mu.Unlock()
		g.cut(prev)
		return nil
	}
	me := &playing{done: make(chan struct{})}
	pctx, cancel := context.WithCancelCause(ctx)
	me.cancel = cancel
	g.cur = me
	settings := g.settings
	g.mu.Unlock()
	defer func() {
		cancel(nil)
		g.mu.Lock()
		if g.cur == me {
			g.cur = nil
		}
		g.mu.Unlock()
		close(me.done)
	}()
	g.cut(prev)
	for _, p := range parts {
		if err := g.speak(pctx, p, settings); err != nil {
			if errors.Is(context.Cause(pctx), ErrCutOff) {
				return ErrCutOff
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return err
		}
	}
	return nil
}

// cut stops a prompt and waits until its sound has stopped.
func (g *Guide) cut(p *playing) {
	if p != nil {
		p.cancel(ErrCutOff)
		<-p.done
	}
}

// speak renders one part and plays it.
func (g *Guide) speak(ctx context.Context, p Part, s Settings) error {
	text := Normalize(p.Text, s.Voice)
	if text == "" {
		return nil
	}
	path, done, err := g.render(ctx, p, text, s)
	if err == nil {
		defer done()
		err = g.player.Play(ctx, path)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	switch {
	case errors.Is(err, ErrNoAudio):
		if !g.silent {
			g.log.Warn("no audio output: the kiosk carries on silently", "err", err)
		}
		g.silent = true
		return nil
	case err == nil && g.silent:
		g.log.Info("audio output back: speaking again")
		g.silent = false
	}
	return err
}

// render returns the WAV file of a part: from the cache for a fixed part,
// rendered into the live directory for a live one, which done removes.
func (g *Guide) render(ctx context.Context, p Part, text string, s Settings) (path string, done func(), err error) {
	if !p.Live {
		if path, _, err = g.cache.Get(ctx, text, s); err != nil {
			return "", nil, fmt.Errorf("speak %q: %w", p.Text, err)
		}
		return path, func() {}, nil
	}
	f, err := os.CreateTemp(g.liveDir, "live-*.wav")
	if err != nil {
		return "", nil, fmt.Errorf("speak: %w", err)
	}
	f.Close()
	done = func() { os.Remove(f.Name()) }
	if err := g.synth.Synthesize(ctx, text, s, f.Name()); err != nil {
		done()
		return "", nil, fmt.Errorf("speak: %w", err)
	}
	return f.Name(), done, nil
}

// NoEngine is a Synthesizer for a machine without a speech engine: each
// prompt fails with why, wrapping ErrNoAudio, so a Guide over it carries
// on silently (and reports Silent) as it does without a sound output.
func NoEngine(why error) Synthesizer { return noEngine{why} }

type noEngine struct{ why error }

func (n noEngine) ID() string { return "none" }

func (n noEngine) Synthesize(context.Context, string, Settings, string) error {
	return fmt.Errorf("no speech engine: %v: %w", n.why, ErrNoAudio)
}

// Reset readies the guide for the next citizen: it stops the prompt
// playing, forgets the last one (which may hold the previous citizen's
// name), unmutes, and sets the default voice, speed and volume back.
func (g *Guide) Reset() {
	g.mu.Lock()
	prev := g.cur
	g.cur = nil
	g.last = nil
	g.muted = false
	g.settings = DefaultSettings()
	g.mu.Unlock()
	g.cut(prev)
}

// Replay speaks the last prompt again.
func (g *Guide) Replay(ctx context.Context) error {
	g.mu.Lock()
	last := g.last
	g.mu.Unlock()
	if last == nil {
		return nil
	}
	return g.SayParts(ctx, last...)
}

// Stop cuts off the prompt playing, if any.
func (g *Guide) Stop() {
	g.mu.Lock()
	prev := g.cur
	g.cur = nil
	g.mu.Unlock()
	g.cut(prev)
}

// Mute silences the guide (cutting off the prompt playing) or lets it
// speak again. While muted, prompts are remembered for Replay.
func (g *Guide) Mute(muted bool) {
	g.mu.Lock()
	g.muted = muted
	g.mu.Unlock()
	if muted {
		g.Stop()
	}
}

// Muted reports whether the guide is muted.
func (g *Guide) Muted() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.muted
}

// Silent reports whether the last prompt found no sound output.
func (g *Guide) Silent() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.silent
}

// Settings returns the current voice, rate and volume.
func (g *Guide) Settings() Settings {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.settings
}

// SetSettings changes the voice, rate and volume for the next prompt.
func (g *Guide) SetSettings(s Settings) error {
	if err := s.Check(); err != nil {
		return err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.settings = s
	return nil
}

// SetVoice changes the voice for the next prompt.
func (g *Guide) SetVoice(v Voice) error {
	s := g.Settings()
	s.Voice = v
	return g.SetSettings(s)
}

// SetRate changes the speed step for the next prompt.
func (g *Guide) SetRate(r Rate) error {
	s := g.Settings()
	s.Rate = r
	return g.SetSettings(s)
}

// SetVolume changes the volume step for the next prompt.
func (g *Guide) SetVolume(v Volume) error {
	s := g.Settings()
	s.Volume = v
	return g.SetSettings(s)
}

// Prerender renders the fixed prompts with the current settings into the
// cache (at install or first start), so that none waits for the engine
// when a screen first speaks it. It returns how many it rendered anew.
func (g *Guide) Prerender(ctx context.Context, texts []string) (int, error) {
	s := g.Settings()
	rendered := 0
	for _, t := range texts {
		text := Normalize(t, s.Voice)
		if text == "" {
			continue
		}
		_, hit, err := g.cache.Get(ctx, text, s)
		if err != nil {
			return rendered, fmt.Errorf("prerender %q: %w", t, err)
		}
		if !hit {
			rendered++
		}
	}
	return rendered, nil
}

// Repeat speaks a screen's intro, then again each time after of silence
// follow it (IntroRepeat for a kiosk), until ctx ends or another prompt is
// spoken: a prompt the citizen's touch brings ends the repeating. It
// returns nil when another prompt took over, else ctx's error.
func (g *Guide) Repeat(ctx context.Context, text string, after time.Duration) error {
	for {
		err := g.Say(ctx, text)
		switch {
		case errors.Is(err, ErrCutOff):
			return nil
		case err != nil:
			return err
		}
		g.mu.Lock()
		mark := g.spoken
		g.mu.Unlock()
		t := time.NewTimer(after)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		g.mu.Lock()
		other := g.spoken != mark
		g.mu.Unlock()
		if other {
			return nil
		}
	}
}

// IntroRepeat is how long a kiosk screen waits in silence before saying
// its intro again.
const IntroRepeat = 15 * time.Second
