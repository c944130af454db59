// Package printer prints receipts on ESC/POS thermal printers on a serial
// port. ESC/POS code pages have no Vietnamese, so the whole receipt is drawn
// as a raster image, text and QR code alike, and sent with GS v 0.
package printer

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"os"
	"strings"
	"time"

	"github.com/skip2/go-qrcode"

	"github.com/motcua/motcua/agent/device"
	"golang.org/x/image/font"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
)

// Receipt is what the citizen takes home.
type Receipt = device.Receipt

// Widths in dots of the common paper rolls at 203 dpi.
const (
	Width80mm = 576
	Width58mm = 384
)

// FontPaths are where the receipt font is looked for: DejaVu Sans has every
// Vietnamese letter (Debian: fonts-dejavu-core).
var FontPaths = []string{
	"/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
	"/usr/share/fonts/TTF/DejaVuSans.ttf",
	"/usr/share/fonts/dejavu/DejaVuSans.ttf",
}

// ErrNoFont is returned when no font with Vietnamese letters is installed.
var ErrNoFont = errors.New("no receipt font: install fonts-dejavu-core")

func loadFont() (*opentype.Font, error) {
	for _, p := range FontPaths {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		return opentype.Parse(b)
	}
	return nil, ErrNoFont
}

var vietnam = time.FixedZone("ICT", 7*3600)

// Render draws the receipt, width dots wide, in black on white.
func Render(r Receipt, width int) (*image.Gray, error) {
	f, err := loadFont()
	if err != nil {
		return nil, err
	}
	big, err := opentype.NewFace(f, &opentype.FaceOptions{Size: 30, DPI: 72, Hinting: font.HintingFull})
	if err != nil {
		return nil, err
	}
	body, err := opentype.NewFace(f, &opentype.FaceOptions{Size: 24, DPI: 72, Hinting: font.HintingFull})
	if err != nil {
		return nil, err
	}
	const margin = 12
	img := image.NewGray(image.Rect(0, 0, width, 4000))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	y := margin
	text := func(face font.Face, s string) {
		for _, line := range Wrap(face, s, width-2*margin) {
			m := face.Metrics()
			y += m.Ascent.Ceil()
			d := font.Drawer{Dst: img, Src: image.Black, Face: face, Dot: fixed.P(margin, y)}
			d.DrawString(line)
			y += m.Descent.Ceil() + 4
		}
	}
	rule := func() {
		y += 6
		for x := margin; x < width-margin; x++ {
			img.SetGray(x, y, color.Gray{})
			img.SetGray(x, y+1, color.Gray{})
		}
		y += 10
	}
	text(big, "BIÊN NHẬN HỒ SƠ")
	text(body, "Receipt")
	rule()
	text(body, "Thủ tục: "+r.Procedure)
	text(body, "Người nộp: "+r.Applicant)
	text(body, fmt.Sprintf("Số hồ sơ tại máy: %d", r.LocalID))
	if r.FileCode != "" {
		text(body, "Mã hồ sơ: "+r.FileCode)
		if r.PortalInstance != "" {
			text(body, "Cổng / Portal: "+device.ShortInstance(r.PortalInstance))
		}
	} else {
		text(body, "Mã hồ sơ: sẽ có khi hồ sơ được gửi đi")
	}
	text(body, "Thời gian: "+r.At.In(vietnam).Format("15:04 02/01/2006"))
	rule()
	for _, s := range r.NextSteps {
		text(body, "• "+s)
	}
	if r.TrackURL != "" {
		rule()
		text(body, "Quét mã để tra cứu hồ sơ:")
		qr, err := qrcode.New(r.TrackURL, qrcode.Medium)
		if err != nil {
			return nil, fmt.Errorf("receipt QR code: %w", err)
		}
		qr.DisableBorder = false
		// Whole printer dots per module: a module scaled by a fraction is
		// printed one dot wider or narrower here and there, and readers
		// then misjudge the code's grid (a longer link, a denser code,
		// failed to scan now and then).
		modules := len(qr.Bitmap())
		dots := max(1, min(width-2*margin, 320)/modules)
		size := modules * dots
		q := qr.Image(-dots)
		at := image.Pt((width-size)/2, y+8)
		draw.Draw(img, image.Rectangle{Min: at, Max: at.Add(image.Pt(size, size))}, q, image.Point{}, draw.Src)
		y += size + 16
	}
	y += margin
	return img.SubImage(image.Rect(0, 0, width, y)).(*image.Gray), nil
}

// Wrap breaks s into lines no wider than width in face, at spaces; a
// word wider than width stands alone on its line. The sample video's
// slides wrap their text with it too.
func Wrap(face font.Face, s string, width int) []string {
	var lines []string
	line := ""
	for _, w := range strings.Fields(s) {
		try := w
		if line != "" {
			try = line + " " + w
		}
		if font.MeasureString(face, try).Ceil() <= width || line == "" {
			line = try
			continue
		}
		lines = append(lines, line)
		line = w
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}
