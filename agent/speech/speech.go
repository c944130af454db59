// Package speech is the kiosk's voice guidance without any engine or sound
// device: the voices and the speed and volume steps a citizen chooses from,
// the normaliser that rewrites dates, times, numbers and money into words a
// speech engine reads correctly, the cache of rendered prompts, and Guide,
// which speaks one prompt at a time. The engine (devices/espeak) and the
// playback (devices/audio) implement Synthesizer and Player.
package speech

import (
	"context"
	"errors"
	"fmt"
	"github.com/motcua/motcua/agent/numwords"
	"math"
	"strconv"
)

// Voice names a speech voice the citizen chooses: the three Vietnamese
// dialects espeak-ng has, and English.
type Voice string

// The voices a kiosk offers.
const (
	VoiceNorth   Voice = "vi"              // Vietnamese, northern (Hà Nội)
	VoiceCentral Voice = "vi-vn-x-central" // Vietnamese, central (Huế)
	VoiceSouth   Voice = "vi-vn-x-south"   // Vietnamese, southern (Sài Gòn)
	VoiceEnglish Voice = "en"
)

// Voices lists the voices in the order a screen offers them.
var Voices = []Voice{VoiceNorth, VoiceCentral, VoiceSouth, VoiceEnglish}

// VietnameseVoices are the Vietnamese voices, which doctor checks for.
var VietnameseVoices = []Voice{VoiceNorth, VoiceCentral, VoiceSouth}

// ErrBadSetting is wrapped by the errors for a voice, rate or volume out of
// range.
var ErrBadSetting = errors.New("bad speech setting")

// ParseVoice returns the voice named s.
func ParseVoice(s string) (Voice, error) {
	for _, v := range Voices {
		if string(v) == s {
			return v, nil
		}
	}
	return "", fmt.Errorf("%w: voice %q: want one of vi, vi-vn-x-central, vi-vn-x-south, en", ErrBadSetting, s)
}

// Lang is the voice's language: "vi" or "en".
func (v Voice) Lang() string {
	if v == VoiceEnglish {
		return "en"
	}
	return "vi"
}

// Dialect returns the voice's dialect for reading numbers: the south says
// "lẻ" and "ngàn" where the north and centre say "linh" and "nghìn".
func (v Voice) dialect() numwords.Dialect {
	if v == VoiceSouth {
		return numwords.South
	}
	return numwords.North
}

// Rate is a speed step from 1 (slowest, half the normal speed) to 7
// (fastest, twice the normal speed); RateNormal, step 4, is the default.
// The steps grow by the same ratio (the cube root of 2, about 26%), so each
// step sounds as much faster as the one before.
type Rate int

// The speed steps.
const (
	RateSlowest Rate = 1
	RateNormal  Rate = 4
	RateFastest Rate = 7
)

// NormalWPM is the speed of RateNormal in words per minute: slow, for
// older citizens (espeak-ng's own default is 175).
const NormalWPM = 130

// ParseRate returns the rate step written as "1" to "7".
func ParseRate(s string) (Rate, error) {
	n, err := strconv.Atoi(s)
	if err != nil || Rate(n) < RateSlowest || Rate(n) > RateFastest {
		return 0, fmt.Errorf("%w: rate %q: want a step from 1 (slowest) to 7 (fastest)", ErrBadSetting, s)
	}
	return Rate(n), nil
}

// Valid reports whether r is one of the seven steps.
func (r Rate) Valid() bool { return r >= RateSlowest && r <= RateFastest }

// Percent is the step's speed as a share of the normal speed: 50, 63, 79,
// 100, 126, 159, 200.
func (r Rate) Percent() int { return int(math.Round(100 * r.factor())) }

func (r Rate) factor() float64 { return math.Pow(2, float64(r-RateNormal)/3) }

// WPM is the step's speed in words per minute: 65 to 260.
func (r Rate) WPM() int { return int(math.Round(NormalWPM * r.factor())) }

// Volume is a loudness step from 1 (quiet) to 5 (loud); VolumeNormal, step
// 4, is the engine's normal loudness.
type Volume int

// The volume steps.
const (
	VolumeQuietest Volume = 1
	VolumeNormal   Volume = 4
	VolumeLoudest  Volume = 5
)

// ParseVolume returns the volume step written as "1" to "5".
func ParseVolume(s string) (Volume, error) {
	n, err := strconv.Atoi(s)
	if err != nil || Volume(n) < VolumeQuietest || Volume(n) > VolumeLoudest {
		return 0, fmt.Errorf("%w: volume %q: want a step from 1 (quiet) to 5 (loud)", ErrBadSetting, s)
	}
	return Volume(n), nil
}

// Valid reports whether v is one of the five steps.
func (v Volume) Valid() bool { return v >= VolumeQuietest && v <= VolumeLoudest }

// Percent is the step's loudness as a share of the engine's normal one:
// 40, 60, 80, 100, 130. Above about 130 espeak-ng's output clips.
func (v Volume) Percent() int {
	return [...]int{40, 60, 80, 100, 130}[v-VolumeQuietest]
}

// Settings are the citizen's choices for speech.
type Settings struct {
	Voice  Voice
	Rate   Rate
	Volume Volume
}

// DefaultSettings are a new session's: northern Vietnamese, slow, at normal
// volume.
func DefaultSettings() Settings {
	return Settings{Voice: VoiceNorth, Rate: RateNormal, Volume: VolumeNormal}
}

// Check returns an error wrapping ErrBadSetting naming what is out of range.
func (s Settings) Check() error {
	if _, err := ParseVoice(string(s.Voice)); err != nil {
		return err
	}
	if !s.Rate.Valid() {
		return fmt.Errorf("%w: rate %d: want a step from 1 (slowest) to 7 (fastest)", ErrBadSetting, s.Rate)
	}
	if !s.Volume.Valid() {
		return fmt.Errorf("%w: volume %d: want a step from 1 (quiet) to 5 (loud)", ErrBadSetting, s.Volume)
	}
	return nil
}

// Synthesizer renders text, already normalised, to a WAV file. espeak-ng
// (devices/espeak) is the one implementation; a site can plug in another.
type Synthesizer interface {
	// Synthesize writes text spoken with s to a new WAV file at path.
	Synthesize(ctx context.Context, text string, s Settings, path string) error
	// ID names the engine and its version; the prompt cache keys on it, so
	// upgrading the engine renders the prompts again.
	ID() string
}

// Player plays a WAV file on the sound output. devices/audio implements it.
type Player interface {
	// Play returns when the file has played, or at once with ctx's error
	// when ctx ends, having stopped the sound. It returns an error wrapping
	// ErrNoAudio when there is no sound output.
	Play(ctx context.Context, path string) error
}

// ErrNoAudio is wrapped by a Player's error when the machine has no sound
// output: the kiosk then carries on silently.
var ErrNoAudio = errors.New("no audio output")

// ErrCutOff is returned by Guide.Say for a prompt that a newer one, Stop or
// Mute cut off.
var ErrCutOff = errors.New("prompt cut off")
