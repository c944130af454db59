package scantest

import (
	"errors"
	"fmt"
	"image"
	"image/draw"
	"math"
	"os"
	"strings"
	"unicode"

	"golang.org/x/image/font"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
)

// A4 page size in millimetres.
const (
	A4WidthMM  = 210
	A4HeightMM = 297
)

// marginMM is the blank border on every side of a rendered page.
const marginMM = 20

// FontPaths are where Noto Serif Regular, which has every Vietnamese letter,
// is looked for (Debian: fonts-noto-core).
var FontPaths = []string{
	"/usr/share/fonts/truetype/noto/NotoSerif-Regular.ttf",
	"/usr/share/fonts/noto/NotoSerif-Regular.ttf",
	"/usr/share/fonts/TTF/NotoSerif-Regular.ttf",
}

// ErrNoFont is returned by RenderPage when Noto Serif is not installed.
var ErrNoFont = errors.New("scantest: Noto Serif not found: install fonts-noto-core")

// loadFont parses the first font in FontPaths that exists.
func loadFont() (*opentype.Font, error) {
	for _, p := range FontPaths {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		f, err := opentype.Parse(b)
		if err != nil {
			return nil, fmt.Errorf("scantest: parse font %s: %w", p, err)
		}
		return f, nil
	}
	return nil, ErrNoFont
}

// mmToPx converts millimetres to pixels at dpi, rounded to the nearest pixel.
func mmToPx(mm float64, dpi int) int {
	return int(math.Round(mm * float64(dpi) / 25.4))
}

// RenderPage draws text in black on a white A4 page at dpi, with 20 mm
// margins, in Noto Serif Regular at pt points. Words are wrapped to the
// margins; a blank line in text starts a new paragraph, any other run of
// whitespace is a space. It returns ErrNoFont if the font is missing, and an
// error if the text does not fit on the page or has a letter the font lacks.
func RenderPage(text string, dpi int, pt float64) (*image.Gray, error) {
	if dpi <= 0 || pt <= 0 {
		return nil, fmt.Errorf("scantest: render page: bad dpi %d or size %g pt", dpi, pt)
	}
	f, err := loadFont()
	if err != nil {
		return nil, err
	}
	face, err := opentype.NewFace(f, &opentype.FaceOptions{Size: pt, DPI: float64(dpi), Hinting: font.HintingNone})
	if err != nil {
		return nil, fmt.Errorf("scantest: font face at %g pt, %d dpi: %w", pt, dpi, err)
	}
	defer face.Close()
	for _, r := range text {
		if unicode.IsSpace(r) {
			continue
		}
		if _, ok := face.GlyphAdvance(r); !ok {
			return nil, fmt.Errorf("scantest: render page: font has no glyph for %q", r)
		}
	}

	w, h := mmToPx(A4WidthMM, dpi), mmToPx(A4HeightMM, dpi)
	margin := mmToPx(marginMM, dpi)
	img := image.NewGray(image.Rect(0, 0, w, h))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)

	m := face.Metrics()
	ascent, descent := m.Ascent.Ceil(), m.Descent.Ceil()
	lineHeight := m.Height.Ceil()
	parSkip := lineHeight / 2
	width, bottom := w-2*margin, h-margin
	top := margin // top of the next line's ascent
	for i, par := range paragraphs(text) {
		if i > 0 {
			top += parSkip
		}
		lines, err := wrap(face, par, width)
		if err != nil {
			return nil, err
		}
		for _, line := range lines {
			if top+ascent+descent > bottom {
				return nil, fmt.Errorf("scantest: render page: text does not fit on an A4 page at %g pt (stopped at %q)", pt, line)
			}
			d := font.Drawer{Dst: img, Src: image.Black, Face: face, Dot: fixed.P(margin, top+ascent)}
			d.DrawString(line)
			top += lineHeight
		}
	}
	return img, nil
}

// paragraphs splits text at blank lines and joins the words of each
// paragraph with single spaces.
func paragraphs(text string) []string {
	var pars, words []string
	flush := func() {
		if len(words) > 0 {
			pars = append(pars, strings.Join(words, " "))
			words = nil
		}
	}
	for _, line := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			flush()
			continue
		}
		words = append(words, fields...)
	}
	flush()
	return pars
}

// wrap breaks a paragraph into lines no wider than width pixels.
func wrap(face font.Face, par string, width int) ([]string, error) {
	var lines []string
	line := ""
	for _, word := range strings.Fields(par) {
		try := word
		if line != "" {
			try = line + " " + word
		}
		if font.MeasureString(face, try).Ceil() <= width {
			line = try
			continue
		}
		if line == "" {
			return nil, fmt.Errorf("scantest: render page: word %q is wider than the text column", word)
		}
		lines = append(lines, line)
		line = word
		if font.MeasureString(face, line).Ceil() > width {
			return nil, fmt.Errorf("scantest: render page: word %q is wider than the text column", word)
		}
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines, nil
}
