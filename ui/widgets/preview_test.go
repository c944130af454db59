package widgets

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"testing"

	"github.com/motcua/motcua/devices/scanner"
)

// textPage is a white page with dark lines of "text", at 200 dpi.
func textPage() scanner.Page {
	img := image.NewGray(image.Rect(0, 0, 400, 300))
	for y := range 300 {
		for x := range 400 {
			v := uint8(250)
			if y%30 < 8 && x > 20 && x < 380 && (x/7)%3 != 0 {
				v = 20
			}
			img.SetGray(x, y, color.Gray{Y: v})
		}
	}
	return scanner.Page{Image: img, DPI: 200}
}

// TestPageImagesDecodesWhatTheScannerWrites decodes each encoding the
// kiosk's scanner writes into its PDFs (Flate grey, CCITT Group 4, JPEG)
// and compares the pixels with devices/scanner's own decoder.
func TestPageImagesDecodesWhatTheScannerWrites(t *testing.T) {
	var pages []scanner.Encoded
	for _, c := range []struct {
		mode   scanner.Mode
		budget int
		filter string
	}{
		{scanner.Gray, 1 << 20, "FlateDecode"},
		{scanner.Bilevel, 1 << 20, "CCITTFaxDecode"},
	} {
		e, err := scanner.Compress(textPage(), c.mode, c.budget)
		if err != nil {
			t.Fatal(err)
		}
		if e.Filter != c.filter {
			t.Fatalf("mode %s encoded as %s (%s), want %s", c.mode, e.Filter, e.How, c.filter)
		}
		pages = append(pages, e)
	}
	photo := image.NewGray(image.Rect(0, 0, 64, 48))
	for i := range photo.Pix {
		photo.Pix[i] = uint8(i * 7)
	}
	var jb bytes.Buffer
	if err := jpeg.Encode(&jb, photo, &jpeg.Options{Quality: 80}); err != nil {
		t.Fatal(err)
	}
	pages = append(pages, scanner.Encoded{Width: 64, Height: 48, DPI: 100, Filter: "DCTDecode", BitsPerComponent: 8, Data: jb.Bytes()})
	var pdf bytes.Buffer
	if err := scanner.WritePDF(&pdf, pages); err != nil {
		t.Fatal(err)
	}
	got := PageImages(pdf.Bytes())
	if len(got) != len(pages) {
		t.Fatalf("%d page images, want %d", len(got), len(pages))
	}
	for i, e := range pages {
		want, err := scanner.DecodeEncoded(e)
		if err != nil {
			t.Fatal(err)
		}
		if got[i] == nil {
			t.Errorf("page %d (%s) not decoded", i+1, e.Filter)
			continue
		}
		if got[i].Bounds() != want.Bounds() {
			t.Errorf("page %d (%s) is %v, want %v", i+1, e.Filter, got[i].Bounds(), want.Bounds())
			continue
		}
		diff := 0
		b := want.Bounds()
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				g := color.GrayModel.Convert(got[i].At(x, y)).(color.Gray).Y
				if d := int(g) - int(want.GrayAt(x, y).Y); d > 2 || d < -2 {
					diff++
				}
			}
		}
		if diff > 0 {
			t.Errorf("page %d (%s): %d pixels differ from the scanner's decoding", i+1, e.Filter, diff)
		}
	}
}

func TestPageImagesOfGarbage(t *testing.T) {
	for _, in := range [][]byte{nil, []byte("%PDF-1.4 scanned pages"),
		[]byte("<< /Type /XObject /Subtype /Image /Width 10 /Height 10 /Filter /DCTDecode /Length 999 >>\nstream\nxx")} {
		for _, img := range PageImages(in) {
			if img != nil {
				t.Errorf("PageImages(%q) decoded an image", in)
			}
		}
	}
}
