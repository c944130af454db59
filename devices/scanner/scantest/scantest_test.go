package scantest

import (
	"context"
	"errors"
	"image"
	"math"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/unicode/norm"
)

func TestAccuracy(t *testing.T) {
	tests := []struct {
		name     string
		ref, got string
		want     float64
	}{
		{"identical", "Ủy ban nhân dân", "Ủy ban nhân dân", 1},
		{"one substitution in ten runes", "0123456789", "0123456x89", 0.9},
		{"whitespace and newlines", "Kính gửi:  Ủy ban\nnhân dân", " Kính\tgửi: Ủy\n\nban nhân  dân\n", 1},
		{"NFD against NFC", "Nguyễn Thị Ánh Tuyết", norm.NFD.String("Nguyễn Thị Ánh Tuyết"), 1},
		{"NFC against NFD", norm.NFD.String("số định danh"), "số định danh", 1},
		{"empty got", "phường Ỷ La", "", 0},
		{"garbage longer than ref", "abc", "xyzxyzxyzxyz", 0},
		{"diacritic dropped", "số 12345", "so 12345", 1 - 1.0/8},
		{"one insertion", "đồng", "đồngg", 0.75},
		{"one deletion", "đồng", "đồg", 0.75},
		{"both empty", "", " \n", 1},
		{"empty ref", "", "x", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Accuracy(tt.ref, tt.got); math.Abs(got-tt.want) > 1e-9 {
				t.Errorf("Accuracy(%q, %q) = %v, want %v", tt.ref, tt.got, got, tt.want)
			}
		})
	}
}

func TestLevenshteinFast(t *testing.T) {
	ref := []rune(Text)
	got := []rune(strings.ToUpper(Text))
	start := time.Now()
	d := levenshtein(ref, got)
	if el := time.Since(start); el > 100*time.Millisecond {
		t.Errorf("levenshtein on %d runes took %v, want under 100ms", len(ref), el)
	}
	if d == 0 || d > len(ref) {
		t.Errorf("distance %d, want between 1 and %d", d, len(ref))
	}
}

// TestText checks that Text covers the Vietnamese alphabet: every vowel
// with every tone in lower case, and the special letters and every tone in
// upper case.
func TestText(t *testing.T) {
	if !norm.NFC.IsNormalString(Text) {
		t.Error("Text is not in NFC")
	}
	vowels := []string{"a", "ă", "â", "e", "ê", "i", "o", "ô", "ơ", "u", "ư", "y"}
	tones := []string{"", "\u0301", "\u0300", "\u0309", "\u0303", "\u0323"}
	for _, v := range vowels {
		for _, tone := range tones {
			if c := norm.NFC.String(v + tone); !strings.Contains(Text, c) {
				t.Errorf("Text has no %q", c)
			}
		}
	}
	for _, c := range []string{"đ", "Đ", "Ă", "Â", "Ê", "Ô", "Ơ", "Ư", "Á", "À", "Ả", "Ã", "Ạ"} {
		if !strings.Contains(Text, c) {
			t.Errorf("Text has no %q", c)
		}
	}
	if n := len([]rune(Text)); n < 1200 || n > 3000 {
		t.Errorf("Text has %d runes, want a half to two-thirds of a page", n)
	}
}

func renderText(t *testing.T) *image.Gray {
	t.Helper()
	page, err := RenderPage(Text, 200, 11)
	if errors.Is(err, ErrNoFont) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	return page
}

// inkBounds returns the smallest rectangle holding every pixel darker than
// mid-grey, and how many there are.
func inkBounds(img *image.Gray) (image.Rectangle, int) {
	var r image.Rectangle
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if img.GrayAt(x, y).Y < 128 {
				r = r.Union(image.Rect(x, y, x+1, y+1))
				n++
			}
		}
	}
	return r, n
}

func TestRenderPage(t *testing.T) {
	page := renderText(t)
	if got, want := page.Bounds(), image.Rect(0, 0, 1654, 2339); got != want {
		t.Fatalf("A4 at 200 dpi is %v, want %v", got, want)
	}
	margin := mmToPx(marginMM, 200) // 157 px
	inside := image.Rect(margin, margin, 1654-margin, 2339-margin)
	ink, n := inkBounds(page)
	share := float64(n) / float64(inside.Dx()*inside.Dy())
	t.Logf("ink %v (text area %v), %.1f%% of the text area dark, text fills %.0f%% of its height",
		ink, inside, 100*share, 100*float64(ink.Dy())/float64(inside.Dy()))
	if !ink.In(inside) {
		t.Errorf("ink at %v, outside the margins %v", ink, inside)
	}
	if share < 0.02 || share > 0.2 {
		t.Errorf("%.1f%% of the text area is dark, want a few percent", 100*share)
	}
	// Half to two-thirds of the page, and the full width of the column.
	if ink.Dy() < inside.Dy()/2 || ink.Dy() > inside.Dy()*3/4 {
		t.Errorf("text is %d px high, want half to two-thirds of %d", ink.Dy(), inside.Dy())
	}
	if ink.Dx() < inside.Dx()*9/10 {
		t.Errorf("text is %d px wide, want close to the column's %d", ink.Dx(), inside.Dx())
	}
}

func TestRenderPageErrors(t *testing.T) {
	renderText(t) // skips without the font
	tests := []struct {
		name string
		text string
		dpi  int
		pt   float64
	}{
		{"too long for the page", strings.Repeat(Text+"\n\n", 3), 200, 11},
		{"too large to fit", Text, 200, 40},
		{"word wider than the column", strings.Repeat("đ", 200), 200, 11},
		{"zero dpi", Text, 0, 11},
		{"no size", Text, 200, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if img, err := RenderPage(tt.text, tt.dpi, tt.pt); err == nil {
				t.Errorf("RenderPage rendered a %v page, want an error", img.Bounds())
			}
		})
	}
}

func TestRenderPageParagraphs(t *testing.T) {
	renderText(t)
	// Two one-line paragraphs are further apart than two lines of one
	// paragraph that wraps; single newlines do not break lines.
	lineTops := func(text string) []int {
		page, err := RenderPage(text, 200, 11)
		if err != nil {
			t.Fatal(err)
		}
		// A line starts at ink after at least 8 blank rows: less than the
		// leading, more than the gap between a letter and its diacritics.
		var tops []int
		blank := 8
		for y := 0; y < page.Bounds().Dy(); y++ {
			dark := false
			for x := 0; x < page.Bounds().Dx() && !dark; x++ {
				dark = page.GrayAt(x, y).Y < 128
			}
			switch {
			case !dark:
				blank++
			case blank >= 8:
				tops = append(tops, y)
				blank = 0
			default:
				blank = 0
			}
		}
		return tops
	}
	wrapped := lineTops(strings.Repeat("Hồ sơ đăng ký thường trú. ", 4)) // wraps once
	pars := lineTops("Hồ sơ đăng ký.\n\nHồ sơ đăng ký.")
	joined := lineTops("Hồ sơ\nđăng ký.")
	if len(wrapped) != 2 || len(pars) != 2 || len(joined) != 1 {
		t.Fatalf("got %d, %d and %d lines, want 2, 2 and 1", len(wrapped), len(pars), len(joined))
	}
	if lineGap, parGap := wrapped[1]-wrapped[0], pars[1]-pars[0]; parGap <= lineGap {
		t.Errorf("paragraphs %d px apart, lines %d px: want a paragraph break", parGap, lineGap)
	}
}

func TestRenderPageNoFont(t *testing.T) {
	saved := FontPaths
	defer func() { FontPaths = saved }()
	FontPaths = []string{"/nonexistent/NotoSerif-Regular.ttf"}
	if _, err := RenderPage(Text, 200, 11); !errors.Is(err, ErrNoFont) {
		t.Errorf("err = %v, want ErrNoFont", err)
	}
}

// stats returns the mean and standard deviation of img's pixels in r.
func stats(img *image.Gray, r image.Rectangle) (mean, sd float64) {
	var sum, sq float64
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			v := float64(img.GrayAt(x, y).Y)
			sum += v
			sq += v * v
		}
	}
	n := float64(r.Dx() * r.Dy())
	mean = sum / n
	return mean, math.Sqrt(sq/n - mean*mean)
}

func TestDegrade(t *testing.T) {
	page := renderText(t)
	orig := append([]uint8(nil), page.Pix...)

	start := time.Now()
	a := Degrade(page, 1)
	t.Logf("Degrade on %v took %v", page.Bounds(), time.Since(start))
	b := Degrade(page, 1)
	c := Degrade(page, 2)

	if string(page.Pix) != string(orig) {
		t.Error("Degrade modified its input")
	}
	if a.Bounds() != page.Bounds() {
		t.Errorf("bounds %v, want %v", a.Bounds(), page.Bounds())
	}
	if string(a.Pix) != string(b.Pix) {
		t.Error("same seed, different output")
	}
	if string(a.Pix) == string(c.Pix) {
		t.Error("different seeds, same output")
	}

	// The blank top margin: paper tone and noise.
	margin := image.Rect(0, 0, page.Bounds().Dx(), mmToPx(marginMM, 200)-10)
	mean, sd := stats(a, margin)
	t.Logf("background mean %.1f, standard deviation %.1f", mean, sd)
	if mean < 215 || mean > 245 {
		t.Errorf("background mean %.1f, want paper tone 215..245", mean)
	}
	if sd < 4 || sd > 14 {
		t.Errorf("background standard deviation %.1f, want sensor noise of a few grey levels", sd)
	}
	// Solid ink is lifted from 0: the darkest tenth of a glyph-heavy area.
	ink, _ := inkBounds(page)
	var dark []float64
	for y := ink.Min.Y; y < ink.Max.Y; y++ {
		for x := ink.Min.X; x < ink.Max.X; x++ {
			if page.GrayAt(x, y).Y == 0 && page.GrayAt(x+1, y).Y == 0 && page.GrayAt(x-1, y).Y == 0 &&
				page.GrayAt(x, y+1).Y == 0 && page.GrayAt(x, y-1).Y == 0 {
				dark = append(dark, float64(a.GrayAt(x, y).Y))
			}
		}
	}
	if len(dark) == 0 {
		t.Fatal("no solid ink on the page")
	}
	var inkMean float64
	for _, v := range dark {
		inkMean += v
	}
	inkMean /= float64(len(dark))
	t.Logf("solid ink mean %.1f over %d pixels", inkMean, len(dark))
	if inkMean < 20 || inkMean > 80 {
		t.Errorf("solid ink mean %.1f, want dark grey", inkMean)
	}
}

func TestDegradeSubImage(t *testing.T) {
	page := renderText(t)
	r := image.Rect(100, 200, 400, 500)
	sub := page.SubImage(r).(*image.Gray)
	got := Degrade(sub, 7)
	if got.Bounds() != r {
		t.Fatalf("bounds %v, want %v", got.Bounds(), r)
	}
	mean, _ := stats(got, r)
	if mean < 200 {
		t.Errorf("mean %.1f of a mostly blank region, want paper", mean)
	}
}

// TestOCR measures the legibility of the test page as tesseract reads it:
// the baseline the scanner's compression tests compare against.
func TestOCR(t *testing.T) {
	page := renderText(t)
	tests := []struct {
		name string
		img  image.Image
		min  float64
	}{
		{"clean", page, 0.97},
		{"degraded", Degrade(page, 1), 0.95},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			start := time.Now()
			text, err := OCR(ctx, tt.img, "vie", 200)
			if errors.Is(err, ErrNoTesseract) {
				t.Skip(err)
			}
			if err != nil {
				t.Fatal(err)
			}
			acc := Accuracy(Text, text)
			t.Logf("%s page: accuracy %.2f%% in %v", tt.name, 100*acc, time.Since(start))
			if acc < tt.min {
				t.Errorf("accuracy %.4f, want at least %.2f; tesseract read:\n%s", acc, tt.min, text)
			}
		})
	}
}

func TestOCRErrors(t *testing.T) {
	img := image.NewGray(image.Rect(0, 0, 10, 10))
	if _, err := OCR(context.Background(), img, "xx-no-such-language", 200); !errors.Is(err, ErrNoTesseract) {
		t.Errorf("unknown language: err = %v, want ErrNoTesseract", err)
	}
	t.Run("no tesseract on PATH", func(t *testing.T) {
		t.Setenv("PATH", t.TempDir())
		if _, err := OCR(context.Background(), img, "vie", 200); !errors.Is(err, ErrNoTesseract) {
			t.Errorf("err = %v, want ErrNoTesseract", err)
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := OCR(ctx, img, "vie", 200); err == nil || !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
	})
}
