package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/motcua/motcua/agent/speech"
	"github.com/motcua/motcua/devices/audio"
	"github.com/motcua/motcua/devices/espeak"
)

const saySynopsis = "[--voice vi|vi-vn-x-central|vi-vn-x-south|en] [--rate 1..7] [--volume 1..5] [--out FILE.wav] TEXT"

// cmdSay speaks text as the kiosk would, for staff to try the voices: it
// prints the text as normalised for the engine, then plays it, or writes
// it to a WAV file.
func cmdSay(ctx context.Context, e *env, args []string) int {
	fs, setup := e.flags("say", saySynopsis, slog.LevelWarn)
	voice := fs.String("voice", string(speech.VoiceNorth), "vi (northern), vi-vn-x-central, vi-vn-x-south or en")
	rate := fs.String("rate", fmt.Sprint(int(speech.RateNormal)), "speed step from 1 (half speed) to 7 (twice); 4 is the kiosk's slow normal, 130 words a minute")
	volume := fs.String("volume", fmt.Sprint(int(speech.VolumeNormal)), "volume step from 1 (quiet) to 5 (loud)")
	out := fs.String("out", "", "write the speech to this WAV file instead of playing it")
	pos, rc := e.parse(fs, setup, args)
	if rc >= 0 {
		return rc
	}
	text := strings.Join(pos, " ")
	if strings.TrimSpace(text) == "" {
		fmt.Fprintln(e.stderr, "motcua say: no text to say")
		return exitUsage
	}
	var s speech.Settings
	var err error
	if s.Voice, err = speech.ParseVoice(*voice); err == nil {
		if s.Rate, err = speech.ParseRate(*rate); err == nil {
			s.Volume, err = speech.ParseVolume(*volume)
		}
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "motcua say: %v\n", err)
		return exitUsage
	}
	engine, err := espeak.New(ctx, "")
	if err != nil {
		return e.fail("%v", err)
	}
	spoken := speech.Normalize(text, s.Voice)
	fmt.Fprintln(e.stdout, spoken)
	if *out != "" {
		if err := engine.Synthesize(ctx, spoken, s, *out); err != nil {
			return e.fail("%v", err)
		}
		return exitOK
	}
	dir, err := os.MkdirTemp("", "motcua-say-")
	if err != nil {
		return e.fail("%v", err)
	}
	defer os.RemoveAll(dir)
	wav := filepath.Join(dir, "say.wav")
	if err := engine.Synthesize(ctx, spoken, s, wav); err != nil {
		return e.fail("%v", err)
	}
	err = audio.New(audio.Config{Logger: e.log}).Play(ctx, wav)
	switch {
	case errors.Is(err, speech.ErrNoAudio):
		return e.fail("%v: this machine cannot play sound (the kiosk carries on silently); write the speech to a file with --out FILE.wav", err)
	case ctx.Err() != nil:
		return e.fail("say interrupted (%v)", context.Cause(ctx))
	case err != nil:
		return e.fail("%v", err)
	}
	return exitOK
}
