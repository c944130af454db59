package video

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The sample video is made once, by EnsureSample into a fresh data
// directory, and shared by the tests that check it and those that play it.
var (
	sampleOnce sync.Once
	sampleDir  string // the data directory
	samplePath string
	sampleMade bool
	sampleErr  error
)

func TestMain(m *testing.M) {
	if file := os.Getenv(kioskEnv); file != "" {
		kiosk(file) // never returns
	}
	code := m.Run()
	if sampleDir != "" {
		os.RemoveAll(sampleDir)
	}
	os.Exit(code)
}

// sample returns the path of the sample video, made with the real ffmpeg
// and espeak-ng.
func sample(t testing.TB) string {
	t.Helper()
	sampleOnce.Do(func() {
		if sampleDir, sampleErr = os.MkdirTemp("", "motcua-video-test-"); sampleErr != nil {
			return
		}
		samplePath, sampleMade, sampleErr = EnsureSample(context.Background(), sampleDir, nil)
	})
	if sampleErr != nil {
		t.Fatalf("EnsureSample: %v", sampleErr)
	}
	return samplePath
}

// probe is what ffprobe says about a media file.
type probe struct {
	Streams []struct {
		CodecType string `json:"codec_type"`
		CodecName string `json:"codec_name"`
		Width     int    `json:"width"`
		Height    int    `json:"height"`
		Duration  string `json:"duration"`
	} `json:"streams"`
	Format struct {
		Duration string `json:"duration"`
	} `json:"format"`
}

func ffprobe(t *testing.T, path string) probe {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-show_streams", "-show_format", "-of", "json", path).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", path, err)
	}
	var p probe
	if err := json.Unmarshal(out, &p); err != nil {
		t.Fatal(err)
	}
	return p
}

func parseFloat(t *testing.T, s string) float64 {
	t.Helper()
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("number %q: %v", s, err)
	}
	return f
}

// meanVolume is the mean volume of a file's sound, in dB, as ffmpeg's
// volumedetect filter measures it.
func meanVolume(t *testing.T, path string) float64 {
	t.Helper()
	out, err := exec.Command("ffmpeg", "-hide_banner", "-nostdin", "-i", path, "-map", "0:a", "-af", "volumedetect", "-f", "null", "-").CombinedOutput()
	if err != nil {
		t.Fatalf("ffmpeg volumedetect: %v\n%s", err, out)
	}
	_, rest, ok := strings.Cut(string(out), "mean_volume: ")
	if !ok {
		t.Fatalf("ffmpeg measured no volume:\n%s", out)
	}
	return parseFloat(t, strings.TrimSuffix(strings.Fields(rest)[0], "dB"))
}

// EnsureSample makes DATADIR/videos/birth-registration.mp4: an H.264 video
// of the slides with an AAC voice-over, each lasting the whole video, of a
// few hundred kilobytes, readable by the kiosk's user, and nothing else
// in the folder.
func TestEnsureSampleMakesAPlayableVideo(t *testing.T) {
	path := sample(t)
	if want := filepath.Join(sampleDir, "videos", "birth-registration.mp4"); path != want || !sampleMade {
		t.Fatalf("EnsureSample = %s, made %v; want %s made now", path, sampleMade, want)
	}
	p := ffprobe(t, path)
	total := parseFloat(t, p.Format.Duration)
	// Four slides of one or two spoken sentences each.
	if total < 15 || total > 90 {
		t.Errorf("duration %.1fs, want 15s to 90s", total)
	}
	kinds := map[string]string{}
	for _, s := range p.Streams {
		kinds[s.CodecType] = s.CodecName
		if d := parseFloat(t, s.Duration); d < total-1 {
			t.Errorf("%s stream lasts %.1fs of the video's %.1fs", s.CodecType, d, total)
		}
		if s.CodecType == "video" && (s.Width != 1280 || s.Height != 720) {
			t.Errorf("video is %dx%d, want 1280x720", s.Width, s.Height)
		}
	}
	if kinds["video"] != "h264" || kinds["audio"] != "aac" || len(p.Streams) != 2 {
		t.Errorf("streams %v, want one h264 video and one aac audio", kinds)
	}
	// The voice-over is heard: silence measures -91 dB.
	if mean := meanVolume(t, path); mean < -35 {
		t.Errorf("the voice-over's mean volume is %.1f dB, want speech (above -35 dB)", mean)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() < 50<<10 || fi.Size() > 2<<20 {
		t.Errorf("size %d bytes, want a few hundred KB", fi.Size())
	}
	if fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644 so the kiosk session's user can read it", fi.Mode().Perm())
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("videos folder holds %d files, want only the sample", len(entries))
	}
	t.Logf("sample: %.1fs, %d KB", total, fi.Size()>>10)
}

// EnsureSample leaves a video already in place alone: staff may have put a
// better one there under the same name.
func TestEnsureSampleKeepsAnExistingVideo(t *testing.T) {
	dataDir := t.TempDir()
	path := filepath.Join(dataDir, "videos", SampleFile)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("staff's own video"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, made, err := EnsureSample(context.Background(), dataDir, nil)
	if err != nil || got != path || made {
		t.Fatalf("EnsureSample = %s, %v, %v; want %s kept", got, made, err, path)
	}
	if b, _ := os.ReadFile(path); string(b) != "staff's own video" {
		t.Errorf("the existing video was replaced")
	}
}

// Every letter on the slides is in the font: no Vietnamese letter is drawn
// as a missing-glyph box.
func TestSampleSlidesHaveEveryGlyph(t *testing.T) {
	fs, err := loadFaces(720)
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range SampleSlides {
		for _, r := range s.Title + s.Body + footer(i+1, len(SampleSlides)) {
			if _, ok := fs.body.GlyphAdvance(r); !ok {
				t.Errorf("slide %d: no glyph for %q", i+1, r)
			}
		}
		if s.Speech == "" {
			t.Errorf("slide %d says nothing", i+1)
		}
	}
}

// A video that cannot be made leaves nothing behind, and a missing program
// is named.
func TestMakeFailures(t *testing.T) {
	ctx := context.Background()
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	tests := []struct {
		name  string
		ctx   context.Context
		maker Maker
		want  error
	}{
		{"no ffmpeg", ctx, Maker{FFmpeg: "motcua-no-such-ffmpeg"}, ErrNoFFmpeg},
		{"no espeak-ng", ctx, Maker{Espeak: "motcua-no-such-espeak"}, ErrNoEspeak},
		{"ffmpeg fails", ctx, Maker{FFmpeg: "false"}, nil},
		{"cancelled", cancelled, Maker{}, context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			out := filepath.Join(dir, "guide.mp4")
			err := tt.maker.Make(tt.ctx, out, SampleSlides[:1])
			if err == nil || (tt.want != nil && !errors.Is(err, tt.want)) {
				t.Fatalf("Make = %v, want an error wrapping %v", err, tt.want)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Errorf("left %d file(s) behind, e.g. %s", len(entries), entries[0].Name())
			}
		})
	}
}

// wavFile builds a PCM WAV file: mono 16-bit at rate, with n bytes of
// sound; dataSize is what the header says the data holds.
func wavFile(rate, n int, dataSize uint32) []byte {
	le := binary.LittleEndian
	b := []byte("RIFF\x00\x00\x00\x00WAVEfmt ")
	b = le.AppendUint32(b, 16)
	b = le.AppendUint16(b, 1) // PCM
	b = le.AppendUint16(b, 1) // mono
	b = le.AppendUint32(b, uint32(rate))
	b = le.AppendUint32(b, uint32(rate*2)) // bytes per second
	b = le.AppendUint16(b, 2)
	b = le.AppendUint16(b, 16)
	b = append(b, "data"...)
	b = le.AppendUint32(b, dataSize)
	return append(b, make([]byte, n)...)
}

func TestWavDuration(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		want time.Duration
		err  bool
	}{
		{"two seconds", wavFile(22050, 88200, 88200), 2 * time.Second, false},
		{"size unset by a stream", wavFile(22050, 44100, 0xffffffff), time.Second, false},
		{"silent", wavFile(22050, 0, 0), 0, true},
		{"not a wav", []byte("ID3 something else entirely"), 0, true},
		{"no data", wavFile(22050, 0, 0)[:36], 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "x.wav")
			if err := os.WriteFile(path, tt.data, 0o644); err != nil {
				t.Fatal(err)
			}
			got, err := wavDuration(path)
			if (err != nil) != tt.err || got != tt.want {
				t.Fatalf("wavDuration = %v, %v; want %v (error %v)", got, err, tt.want, tt.err)
			}
		})
	}
}
