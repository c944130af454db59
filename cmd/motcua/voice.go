package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/motcua/motcua/agent/i18n"
	"github.com/motcua/motcua/agent/speech"
	"github.com/motcua/motcua/devices/audio"
	"github.com/motcua/motcua/devices/espeak"
	"github.com/motcua/motcua/internal/config"
	"github.com/motcua/motcua/ui"
)

// speechOutEnv, when set to a folder, makes `motcua run` write each prompt
// it would play to a numbered WAV file there instead of playing it, and
// log it; the Xvfb test asserts what was spoken that way.
const speechOutEnv = "MOTCUA_SPEECH_OUT"

// voiceCacheDir is where the rendered fixed prompts are kept.
func voiceCacheDir(dataDir string) string { return filepath.Join(dataDir, "voice-cache") }

// voiceSettings are the [voice] section's settings for agent/speech.
func voiceSettings(c config.Voice) (speech.Settings, error) {
	v, err := speech.ParseVoice(c.Voice)
	if err != nil {
		return speech.Settings{}, err
	}
	s := speech.Settings{Voice: v, Rate: speech.Rate(c.Rate), Volume: speech.Volume(c.Volume)}
	return s, s.Check()
}

// kioskVoice is the window's ui.Speaker (and ui.SpeakerControls): it
// says each prompt through a speech.Guide on one goroutine of its own, in
// the order asked. Speak returns at once; a new prompt cuts off the one
// being said, and a prompt still waiting when a newer one comes is
// dropped. English prompts use espeak-ng's en voice, the others the
// configured Vietnamese one.
type kioskVoice struct {
	guide *speech.Guide
	base  speech.Settings
	log   *slog.Logger
	// asked is when the last prompt was asked for, for the latency the
	// file sink logs.
	asked atomic.Int64

	mu     sync.Mutex
	queue  []voiceJob
	cancel context.CancelFunc // the job running, nil when none
	wake   chan struct{}
	done   chan struct{}
	stop   context.CancelFunc
}

var (
	_ ui.Speaker         = (*kioskVoice)(nil)
	_ ui.SpeakerControls = (*kioskVoice)(nil)
)

// voiceJob is one thing for the voice's goroutine to do.
type voiceJob struct {
	kind   voiceKind
	prompt ui.Prompt
	muted  bool
}

type voiceKind int

const (
	jobSpeak voiceKind = iota
	jobMute
	jobStop
	jobReset
)

// newKioskVoice starts the voice's goroutine; Close stops it.
func newKioskVoice(g *speech.Guide, base speech.Settings, log *slog.Logger) *kioskVoice {
	ctx, stop := context.WithCancel(context.Background())
	v := &kioskVoice{guide: g, base: base, log: log, wake: make(chan struct{}, 1), done: make(chan struct{}), stop: stop}
	go v.run(ctx)
	return v
}

// Speak says p, cutting off what is being said.
func (v *kioskVoice) Speak(p ui.Prompt) {
	v.asked.Store(time.Now().UnixNano())
	v.submit(voiceJob{kind: jobSpeak, prompt: p})
}

// Mute stops what is being said and says nothing until unmuted.
func (v *kioskVoice) Mute(m bool) { v.submit(voiceJob{kind: jobMute, muted: m}) }

// Stop cuts off what is being said.
func (v *kioskVoice) Stop() { v.submit(voiceJob{kind: jobStop}) }

// Reset ends the session's speech: what was said, the mute, and the
// settings, which go back to the configured ones.
func (v *kioskVoice) Reset() { v.submit(voiceJob{kind: jobReset}) }

func (v *kioskVoice) submit(j voiceJob) {
	v.mu.Lock()
	if j.kind == jobSpeak {
		// Only the newest prompt is worth saying.
		kept := v.queue[:0]
		for _, q := range v.queue {
			if q.kind != jobSpeak {
				kept = append(kept, q)
			}
		}
		v.queue = kept
	}
	v.queue = append(v.queue, j)
	if v.cancel != nil {
		v.cancel()
	}
	v.mu.Unlock()
	select {
	case v.wake <- struct{}{}:
	default:
	}
}

// Close stops the voice: the prompt being said is cut off.
func (v *kioskVoice) Close() {
	v.stop()
	<-v.done
	v.guide.Stop()
}

func (v *kioskVoice) run(ctx context.Context) {
	defer close(v.done)
	for {
		select {
		case <-ctx.Done():
			return
		case <-v.wake:
		}
		for {
			v.mu.Lock()
			if len(v.queue) == 0 || ctx.Err() != nil {
				v.cancel = nil
				v.mu.Unlock()
				break
			}
			j := v.queue[0]
			v.queue = v.queue[1:]
			jctx, cancel := context.WithCancel(ctx)
			v.cancel = cancel
			v.mu.Unlock()
			v.do(jctx, j)
			cancel()
		}
	}
}

func (v *kioskVoice) do(ctx context.Context, j voiceJob) {
	switch j.kind {
	case jobMute:
		v.guide.Mute(j.muted)
	case jobStop:
		v.guide.Stop()
	case jobReset:
		v.guide.Reset()
		if err := v.guide.SetSettings(v.base); err != nil {
			v.log.Warn("voice settings", "err", err)
		}
	case jobSpeak:
		p := j.prompt
		s := v.base
		if p.Lang == "en" {
			s.Voice = speech.VoiceEnglish
		}
		if err := v.guide.SetSettings(s); err != nil {
			v.log.Warn("voice settings", "err", err)
			return
		}
		text := p.Text.In(p.Lang)
		var err error
		switch {
		case p.Again > 0:
			err = v.guide.Repeat(ctx, text, p.Again)
		case p.Live:
			err = v.guide.SayLive(ctx, text)
		default:
			err = v.guide.Say(ctx, text)
		}
		if err != nil && !errors.Is(err, speech.ErrCutOff) && ctx.Err() == nil {
			v.log.Warn("prompt not spoken", "err", err, "live", p.Live)
		}
	}
}

// startVoice builds the kiosk's voice from the [voice] section: espeak-ng,
// the sound output (or, with $MOTCUA_SPEECH_OUT, a folder of WAV files),
// and the prompt cache in DATADIR/voice-cache. Nil, with a warning, when
// the voice is disabled or cannot be built: the kiosk carries on silent.
// With no sound output the Guide itself carries on silently.
func startVoice(ctx context.Context, e *env, c config.Voice) (*kioskVoice, speech.Synthesizer) {
	if !c.Enabled {
		e.log.Info("voice disabled in the configuration ([voice] enabled = false)")
		return nil, nil
	}
	base, err := voiceSettings(c)
	if err != nil {
		e.log.Warn("voice off: bad [voice] settings", "err", err)
		return nil, nil
	}
	engine, err := espeak.New(ctx, "")
	if err != nil {
		e.log.Warn("voice off: the screens are not read aloud", "err", err)
		return nil, nil
	}
	var player speech.Player = audio.New(audio.Config{Logger: e.log})
	var sink *fileSink
	if dir := os.Getenv(speechOutEnv); dir != "" {
		sink = &fileSink{dir: dir, log: e.log}
		player = sink
		e.log.Info("prompts written to files instead of played", "dir", dir, "env", speechOutEnv)
	}
	g, err := speech.NewGuide(speech.GuideConfig{Synth: engine, Player: player, CacheDir: voiceCacheDir(e.dataDir),
		Settings: base, Logger: e.log.With("component", "voice")})
	if err != nil {
		e.log.Warn("voice off", "err", err)
		return nil, nil
	}
	v := newKioskVoice(g, base, e.log.With("component", "voice"))
	if sink != nil {
		sink.asked = &v.asked
	}
	return v, engine
}

// prerender renders the fixed prompts into the prompt cache, the
// Vietnamese ones with the configured voice and the English ones with en,
// so that the screens' prompts play at once. It runs in the background at
// start; what it renders is kept for the next starts.
func prerender(ctx context.Context, log *slog.Logger, dataDir string, synth speech.Synthesizer, base speech.Settings, texts []i18n.Text) {
	cache, err := speech.NewCache(voiceCacheDir(dataDir), synth)
	if err != nil {
		log.Warn("prompts not prerendered", "err", err)
		return
	}
	en := base
	en.Voice = speech.VoiceEnglish
	start, rendered := time.Now(), 0
	for _, t := range texts {
		for _, r := range []struct {
			text string
			s    speech.Settings
		}{{t.VI, base}, {t.EN, en}} {
			if r.s.Voice == speech.VoiceEnglish && t.EN == t.VI {
				continue // one text for both: said in Vietnamese
			}
			text := speech.Normalize(r.text, r.s.Voice)
			if text == "" {
				continue
			}
			_, hit, err := cache.Get(ctx, text, r.s)
			if err != nil {
				if ctx.Err() == nil {
					log.Warn("prompts not prerendered", "err", err)
				}
				return
			}
			if !hit {
				rendered++
			}
		}
	}
	log.Info("fixed prompts ready", "prompts", len(texts), "rendered", rendered, "took", time.Since(start).Round(time.Millisecond))
}

// fileSink is a speech.Player that writes each prompt to a numbered WAV
// file in dir instead of playing it, and logs it with how long after
// Speak it came: a test's sound card.
type fileSink struct {
	dir   string
	log   *slog.Logger
	asked *atomic.Int64
	n     atomic.Int64
}

func (f *fileSink) Play(ctx context.Context, path string) error {
	n := f.n.Add(1)
	out := filepath.Join(f.dir, fmt.Sprintf("prompt-%04d.wav", n))
	if err := copyFile(path, out); err != nil {
		return fmt.Errorf("speech sink: %w", err)
	}
	var after time.Duration
	if f.asked != nil {
		after = time.Since(time.Unix(0, f.asked.Load()))
	}
	f.log.Info("prompt played", "file", out, "after_speak", after.Round(100*time.Microsecond))
	return ctx.Err()
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
