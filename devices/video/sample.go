package video

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/motcua/motcua/devices/printer"
	"golang.org/x/image/font"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
)

// Errors of the sample maker.
var (
	// ErrNoFFmpeg is returned (wrapped) when ffmpeg is not installed.
	ErrNoFFmpeg = errors.New("ffmpeg is not installed (Debian: apt-get install ffmpeg)")
	// ErrNoEspeak is returned (wrapped) when espeak-ng is not installed.
	ErrNoEspeak = errors.New("espeak-ng is not installed (Debian: apt-get install espeak-ng)")
)

// DirName is the data directory's folder that holds the instructional
// videos the catalog names.
const DirName = "videos"

// Dir returns the videos folder of the data directory dataDir.
func Dir(dataDir string) string { return filepath.Join(dataDir, DirName) }

// SampleFile is the sample video's file name: the one the embedded catalog
// names for birth registration.
const SampleFile = "birth-registration.mp4"

// Slide is one still picture of a slide video with what the voice says
// over it.
type Slide struct {
	Title string // drawn large at the top
	Body  string // drawn below the title, wrapped
	// Speech is read aloud while the slide shows; the slide stays as long
	// as the speech lasts, plus a short pause.
	Speech string
}

// SampleSlides are the slides of the sample video: how to register a birth
// at the kiosk, in Vietnamese.
var SampleSlides = []Slide{
	{
		Title:  "Đăng ký khai sinh",
		Body:   "Hướng dẫn làm thủ tục khai sinh cho trẻ tại máy một cửa, trong ba bước.",
		Speech: "Xin chào. Đây là hướng dẫn đăng ký khai sinh cho trẻ tại máy một cửa, trong ba bước.",
	},
	{
		Title:  "Bước 1: Người đi khai sinh",
		Body:   "Đặt căn cước công dân của cha hoặc mẹ vào đầu đọc thẻ. Máy tự điền họ tên và nơi cư trú.",
		Speech: "Bước một. Đặt căn cước công dân của cha hoặc mẹ vào đầu đọc thẻ. Máy sẽ tự điền họ tên và nơi cư trú.",
	},
	{
		Title:  "Bước 2: Thông tin của trẻ",
		Body:   "Nhập họ tên, ngày sinh, giới tính và nơi sinh của trẻ. Nếu có mã giấy chứng sinh điện tử, hãy nhập mã đó.",
		Speech: "Bước hai. Nhập họ tên, ngày sinh, giới tính và nơi sinh của trẻ. Nếu có mã giấy chứng sinh điện tử, hãy nhập mã đó.",
	},
	{
		Title:  "Bước 3: Giấy tờ và biên nhận",
		Body:   "Đặt giấy chứng sinh lên máy quét, kiểm tra lại rồi nộp hồ sơ. Giữ biên nhận để tra cứu. Miễn lệ phí nếu khai sinh trong 60 ngày.",
		Speech: "Bước ba. Đặt giấy chứng sinh lên máy quét, kiểm tra lại rồi nộp hồ sơ. Giữ biên nhận để tra cứu. Miễn lệ phí nếu khai sinh trong sáu mươi ngày.",
	},
}

// Maker renders slide videos: each slide is drawn into a PNG, its speech
// is spoken by espeak-ng into a WAV, and ffmpeg joins them into an
// H.264/AAC MP4.
type Maker struct {
	// FFmpeg and Espeak are the programs to run; "" means "ffmpeg" and
	// "espeak-ng" on $PATH.
	FFmpeg, Espeak string
	// Voice is espeak-ng's voice; "" means "vi" (Northern Vietnamese).
	Voice string
	// Width and Height are the frame size; 0 means 1280x720.
	Width, Height int
	// Logger receives progress; nil discards it.
	Logger *slog.Logger
}

// pause is the silence after each slide's speech.
const pause = 800 * time.Millisecond

// Make renders slides into the video out. out is written whole or not at
// all: the video is made in a temporary file next to it and renamed into
// place, so a failure or a crash never leaves half a video where a player
// would find it.
func (m Maker) Make(ctx context.Context, out string, slides []Slide) error {
	if len(slides) == 0 {
		return errors.New("make video: no slides")
	}
	if m.FFmpeg == "" {
		m.FFmpeg = "ffmpeg"
	}
	if m.Espeak == "" {
		m.Espeak = "espeak-ng"
	}
	if m.Voice == "" {
		m.Voice = "vi"
	}
	if m.Width == 0 || m.Height == 0 {
		m.Width, m.Height = 1280, 720
	}
	log := m.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ffmpeg, err := exec.LookPath(m.FFmpeg)
	if err != nil {
		return fmt.Errorf("make video: %w", ErrNoFFmpeg)
	}
	espeak, err := exec.LookPath(m.Espeak)
	if err != nil {
		return fmt.Errorf("make video: %w", ErrNoEspeak)
	}
	work, err := os.MkdirTemp("", "motcua-video-")
	if err != nil {
		return fmt.Errorf("make video: %w", err)
	}
	defer os.RemoveAll(work)

	faces, err := loadFaces(m.Height)
	if err != nil {
		return fmt.Errorf("make video: %w", err)
	}
	// Inputs alternate: slide i's picture is input 2i, its speech 2i+1.
	var args []string
	var filter strings.Builder
	var total time.Duration
	for i, s := range slides {
		pic := filepath.Join(work, fmt.Sprintf("slide%d.png", i+1))
		if err := writePNG(pic, drawSlide(faces, m.Width, m.Height, s, i+1, len(slides))); err != nil {
			return fmt.Errorf("make video: slide %d: %w", i+1, err)
		}
		wav := filepath.Join(work, fmt.Sprintf("slide%d.wav", i+1))
		if err := run(ctx, espeak, "-v", m.Voice, "-s", "145", "-w", wav, s.Speech); err != nil {
			return fmt.Errorf("make video: slide %d speech: %w", i+1, err)
		}
		spoken, err := wavDuration(wav)
		if err != nil {
			return fmt.Errorf("make video: slide %d speech: %w", i+1, err)
		}
		d := spoken + pause
		total += d
		secs := strconv.FormatFloat(d.Seconds(), 'f', 3, 64)
		args = append(args, "-loop", "1", "-framerate", "5", "-t", secs, "-i", pic, "-i", wav)
		fmt.Fprintf(&filter, "[%d:a]apad,atrim=0:%s,aresample=44100[a%d];", 2*i+1, secs, i)
	}
	for i := range slides {
		fmt.Fprintf(&filter, "[%d:v][a%d]", 2*i, i)
	}
	fmt.Fprintf(&filter, "concat=n=%d:v=1:a=1[v][a]", len(slides))

	dir := filepath.Dir(out)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("make video: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".making-*.mp4")
	if err != nil {
		return fmt.Errorf("make video: %w", err)
	}
	tmp.Close()
	defer os.Remove(tmp.Name()) // a no-op once renamed
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("make video: %w", err)
	}
	args = append([]string{"-hide_banner", "-nostdin", "-loglevel", "error", "-y"}, args...)
	args = append(args,
		"-filter_complex", filter.String(), "-map", "[v]", "-map", "[a]",
		"-c:v", "libx264", "-preset", "veryfast", "-tune", "stillimage", "-crf", "30",
		"-pix_fmt", "yuv420p", "-r", "5", "-g", "50",
		"-c:a", "aac", "-b:a", "64k", "-ac", "1",
		"-movflags", "+faststart", "-f", "mp4", tmp.Name())
	start := time.Now()
	if err := run(ctx, ffmpeg, args...); err != nil {
		var te *toolError
		if errors.As(err, &te) && strings.Contains(te.stderr, "No space left on device") {
			// Said as the system would, so that callers explain it as
			// they do any other full disk.
			return fmt.Errorf("make video: %w: %w", &fs.PathError{Op: "write", Path: out, Err: syscall.ENOSPC}, err)
		}
		return fmt.Errorf("make video: %w", err)
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return fmt.Errorf("make video: %w", err)
	}
	log.Info("made video", "file", out, "slides", len(slides), "duration", total.Round(100*time.Millisecond), "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// MakeSample renders the sample video (SampleSlides) into dir/SampleFile,
// replacing any there, and returns its path.
func MakeSample(ctx context.Context, dir string, log *slog.Logger) (string, error) {
	out := filepath.Join(dir, SampleFile)
	if err := (Maker{Logger: log}).Make(ctx, out, SampleSlides); err != nil {
		return "", err
	}
	return out, nil
}

// EnsureSample makes the sample video in the data directory's videos folder
// (DATADIR/videos/birth-registration.mp4) when it is not there yet, for
// `motcua run` to call at start so that the video guidance can be tried
// without downloads. It returns the video's path; made reports whether it
// was made now. A kiosk without ffmpeg or espeak-ng gets an error wrapping
// ErrNoFFmpeg or ErrNoEspeak, which is worth a warning, not a refusal to
// start.
func EnsureSample(ctx context.Context, dataDir string, log *slog.Logger) (path string, made bool, err error) {
	path = filepath.Join(Dir(dataDir), SampleFile)
	if _, err := os.Stat(path); err == nil {
		return path, false, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", false, fmt.Errorf("sample video: %w", err)
	}
	if _, err := MakeSample(ctx, Dir(dataDir), log); err != nil {
		return "", false, err
	}
	return path, true, nil
}

// run runs a program, returning a *toolError that carries what it wrote
// to standard error when it fails.
func run(ctx context.Context, prog string, args ...string) error {
	cmd := exec.CommandContext(ctx, prog, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.WaitDelay = 2 * time.Second
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("%s: %w", filepath.Base(prog), ctx.Err())
		}
		return &toolError{prog: filepath.Base(prog), stderr: stderr.String(), err: err}
	}
	return nil
}

// toolError is a program that failed.
type toolError struct {
	prog   string
	stderr string
	err    error
}

func (e *toolError) Error() string {
	lines := strings.Split(strings.TrimSpace(e.stderr), "\n")
	if last := strings.TrimSpace(lines[len(lines)-1]); last != "" {
		return fmt.Sprintf("%s: %s: %v", e.prog, last, e.err)
	}
	return fmt.Sprintf("%s: %v", e.prog, e.err)
}

func (e *toolError) Unwrap() error { return e.err }

// wavDuration reads how long a PCM WAV file plays from its header.
func wavDuration(path string) (time.Duration, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	if len(b) < 12 || string(b[0:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return 0, fmt.Errorf("%s is not a WAV file", filepath.Base(path))
	}
	var byteRate uint32
	for p := 12; p+8 <= len(b); {
		id, size := string(b[p:p+4]), int(binary.LittleEndian.Uint32(b[p+4:p+8]))
		body := b[p+8:]
		switch id {
		case "fmt ":
			if len(body) >= 12 {
				byteRate = binary.LittleEndian.Uint32(body[8:12])
			}
		case "data":
			// A streamed WAV may leave the size unset: count what is there.
			size = min(size, len(body))
			if byteRate == 0 {
				return 0, fmt.Errorf("%s has no format before its data", filepath.Base(path))
			}
			if size == 0 {
				return 0, fmt.Errorf("%s holds no sound", filepath.Base(path))
			}
			return time.Duration(int64(size) * int64(time.Second) / int64(byteRate)), nil
		}
		p += 8 + size + size%2
	}
	return 0, fmt.Errorf("%s has no data chunk", filepath.Base(path))
}

// faces are the slide fonts.
type faces struct{ title, body, small font.Face }

// loadFaces loads the receipt font (DejaVu Sans, found where the printer
// looks for it: it has every Vietnamese letter) at sizes for a frame height
// pixels high.
func loadFaces(height int) (faces, error) {
	var f *opentype.Font
	for _, p := range printer.FontPaths {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		if f, err = opentype.Parse(b); err != nil {
			return faces{}, fmt.Errorf("font %s: %w", p, err)
		}
		break
	}
	if f == nil {
		return faces{}, printer.ErrNoFont
	}
	face := func(px float64) (font.Face, error) {
		return opentype.NewFace(f, &opentype.FaceOptions{Size: px, DPI: 72, Hinting: font.HintingFull})
	}
	var fs faces
	var err error
	scale := float64(height) / 720
	if fs.title, err = face(60 * scale); err != nil {
		return faces{}, err
	}
	if fs.body, err = face(42 * scale); err != nil {
		return faces{}, err
	}
	if fs.small, err = face(24 * scale); err != nil {
		return faces{}, err
	}
	return fs, nil
}

// Slide colours: white on the deep blue of public-service signs, with the
// title in yellow.
var (
	slideBackground = color.RGBA{0x0b, 0x3d, 0x91, 0xff}
	slideTitle      = color.RGBA{0xff, 0xd5, 0x4f, 0xff}
	slideText       = color.White
)

// drawSlide draws slide n of count.
func drawSlide(fs faces, width, height int, s Slide, n, count int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, width, height))
	draw.Draw(img, img.Bounds(), image.NewUniform(slideBackground), image.Point{}, draw.Src)
	margin := width / 16
	y := height / 6
	write := func(face font.Face, c color.Color, s string, gap int) {
		m := face.Metrics()
		for _, line := range printer.Wrap(face, s, width-2*margin) {
			y += m.Ascent.Ceil()
			d := font.Drawer{Dst: img, Src: image.NewUniform(c), Face: face, Dot: fixed.P(margin, y)}
			d.DrawString(line)
			y += m.Descent.Ceil() + gap
		}
	}
	write(fs.title, slideTitle, s.Title, height/40)
	y += height / 20
	write(fs.body, slideText, s.Body, height/60)
	y = height - height/10
	write(fs.small, slideText, footer(n, count), 0)
	return img
}

// footer is the line at the bottom of slide n of count.
func footer(n, count int) string {
	return fmt.Sprintf("%d / %d   ·   Chạm vào màn hình để quay lại", n, count)
}

func writePNG(path string, img image.Image) error {
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		return err
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
}
