package espeak_test

import (
	"context"
	"testing"

	"github.com/motcua/motcua/agent/speech"
)

// silentPlayer plays in no time, so a benchmark measures what a prompt
// waits for before its sound starts.
type silentPlayer struct{}

func (silentPlayer) Play(context.Context, string) error { return nil }

// Prompts of the kiosk: a short instruction, and a long one (about 10 s
// spoken at the normal step) with a date, a time and an amount of money.
var benchPrompts = map[string]string{
	"short": "Mời ông bà đặt thẻ căn cước lên máy đọc",
	"long": "Hồ sơ của ông bà đã được gửi. Lệ phí là 50.000 đồng. Mời ông bà quay lại nhận kết quả " +
		"vào 9:30 ngày 12/05/2024 tại bộ phận một cửa, và mang theo giấy hẹn này.",
}

// BenchmarkPromptLatency measures, with the real espeak-ng, the time from
// Say until the player is handed the file: from the cache (a fixed prompt
// already rendered) and live (a name or number, rendered each time).
func BenchmarkPromptLatency(b *testing.B) {
	e := newEngine(b)
	for _, size := range []string{"short", "long"} {
		text := benchPrompts[size]
		g, err := speech.NewGuide(speech.GuideConfig{Synth: e, Player: silentPlayer{}, CacheDir: b.TempDir()})
		if err != nil {
			b.Fatal(err)
		}
		ctx := context.Background()
		b.Run(size+"/cached", func(b *testing.B) {
			if err := g.Say(ctx, text); err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if err := g.Say(ctx, text); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(size+"/live", func(b *testing.B) {
			for b.Loop() {
				if err := g.SayLive(ctx, text); err != nil {
					b.Fatal(err)
				}
			}
		})
		g.Close()
	}
}

// BenchmarkNormalize measures the normaliser alone on the long prompt.
func BenchmarkNormalize(b *testing.B) {
	for b.Loop() {
		speech.Normalize(benchPrompts["long"], speech.VoiceNorth)
	}
}
