package scanner

import (
	"image"
	"math"
	"math/rand/v2"
	"os"
	"reflect"
	"testing"

	"github.com/motcua/motcua/devices/scanner/scantest"
)

func TestParseOptions(t *testing.T) {
	tests := []struct {
		file       string
		mode       string
		feeder     string
		flatbed    string
		maxW, maxH float64
		res        map[int]int // asked -> used
	}{
		{"options-sane-test.txt", "Gray", "Automatic Document Feeder", "Flatbed", 300, 300,
			map[int]int{200: 200, 75: 75, 5000: 1200}},
		{"options-epson-flatbed-adf.txt", "Gray", "Automatic Document Feeder", "Flatbed", 215.9, 297.18,
			map[int]int{200: 300, 75: 75, 300: 300, 2400: 1200}},
		{"options-lineart-only.txt", "Lineart", "", "", 215.9, 296.926,
			map[int]int{200: 200, 50: 75, 1200: 600}},
	}
	for _, tt := range tests {
		b, err := os.ReadFile("testdata/" + tt.file)
		if err != nil {
			t.Fatal(err)
		}
		o := parseOptions(b)
		if got := o.scanMode(); got != tt.mode {
			t.Errorf("%s: mode %q, want %q", tt.file, got, tt.mode)
		}
		if got := o.feeder(); got != tt.feeder {
			t.Errorf("%s: feeder %q, want %q", tt.file, got, tt.feeder)
		}
		if got := o.flatbed(); got != tt.flatbed {
			t.Errorf("%s: flatbed %q, want %q", tt.file, got, tt.flatbed)
		}
		if o.maxW != tt.maxW || o.maxH != tt.maxH {
			t.Errorf("%s: area %vx%v mm, want %vx%v", tt.file, o.maxW, o.maxH, tt.maxW, tt.maxH)
		}
		for ask, want := range tt.res {
			if got := o.resolution(ask); got != want {
				t.Errorf("%s: resolution(%d) = %d, want %d", tt.file, ask, got, want)
			}
		}
	}
}

func TestParseDevices(t *testing.T) {
	out := "test:0\tNoname\tfrontend-tester\tvirtual device\n" +
		"epson2:libusb:001:004\tEpson\tPerfection V39\tflatbed scanner\n" +
		"garbage line\n\n"
	want := []Device{
		{"test:0", "Noname", "frontend-tester", "virtual device"},
		{"epson2:libusb:001:004", "Epson", "Perfection V39", "flatbed scanner"},
	}
	if got := parseDevices([]byte(out)); !reflect.DeepEqual(got, want) {
		t.Fatalf("parseDevices = %+v\nwant %+v", got, want)
	}
}

// fakeScan is a page of dark strokes on noisy, unevenly lit paper: what a
// scanner returns for a page of text.
func fakeScan(w, h int, seed uint64) *image.Gray {
	r := rand.New(rand.NewPCG(seed, 1))
	img := image.NewGray(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			paper := 225 + 10*float64(x)/float64(w) // light falls off to one side
			v := paper + r.NormFloat64()*7
			// "Letters": short strokes on lines of text.
			if y%40 >= 12 && y%40 < 30 && x%14 < 3 && x > 40 && x < w-40 {
				v = 40 + r.NormFloat64()*7
			}
			img.Pix[y*img.Stride+x] = uint8(max(0, min(255, v)))
		}
	}
	return img
}

func isStroke(x, y, w int) bool {
	return y%40 >= 12 && y%40 < 30 && x%14 < 3 && x > 40 && x < w-40
}

func TestWhitenAndBinarize(t *testing.T) {
	const w, h = 600, 400
	img := fakeScan(w, h, 1)
	white := Whiten(img)
	bw := Binarize(white, 200)
	var paperWhite, paper, strokeDark, strokes, wrong int
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			v, b := white.Pix[y*w+x], bw.Pix[y*w+x]
			if b != 0 && b != 255 {
				t.Fatalf("binarized pixel %d at (%d,%d)", b, x, y)
			}
			if isStroke(x, y, w) {
				strokes++
				if v <= 40 {
					strokeDark++
				}
				if b != 0 {
					wrong++
				}
			} else {
				paper++
				if v == 255 {
					paperWhite++
				}
				if b != 255 {
					wrong++
				}
			}
		}
	}
	if float64(paperWhite) < 0.97*float64(paper) {
		t.Errorf("whitened paper: %d of %d pixels pure white, want 97%%", paperWhite, paper)
	}
	if float64(strokeDark) < 0.95*float64(strokes) {
		t.Errorf("whitened ink: %d of %d stroke pixels dark, want 95%%", strokeDark, strokes)
	}
	if float64(wrong) > 0.002*float64(w*h) {
		t.Errorf("binarized: %d of %d pixels on the wrong side", wrong, w*h)
	}
	// The input is left alone.
	if !reflect.DeepEqual(img, fakeScan(w, h, 1)) {
		t.Error("Whiten modified its input")
	}
}

func TestBinarizeKeepsSolidAreasSolid(t *testing.T) {
	img := image.NewGray(image.Rect(0, 0, 300, 300))
	for i := range img.Pix {
		img.Pix[i] = 255
	}
	for y := 50; y < 250; y++ { // a 200 px black box: a stamp, a photo
		for x := 50; x < 250; x++ {
			img.Pix[y*300+x] = 20
		}
	}
	bw := Binarize(img, 200)
	for y := 50; y < 250; y++ {
		for x := 50; x < 250; x++ {
			if bw.Pix[y*300+x] != 0 {
				t.Fatalf("pixel (%d,%d) inside the black box came out white", x, y)
			}
		}
	}
}

func TestCompressBudget(t *testing.T) {
	// A dense A4 page of Vietnamese text at 200 dpi, scanned.
	clean, err := scantest.RenderPage(scantest.Text, 200, 11)
	if err != nil {
		t.Fatal(err)
	}
	page := Page{Image: scantest.Degrade(clean, 2), DPI: 200}
	for _, mode := range []Mode{Gray, Bilevel} {
		e, err := Compress(page, mode, DefaultPageBudget)
		if err != nil {
			t.Fatal(err)
		}
		if len(e.Data) > DefaultPageBudget {
			t.Errorf("%s: %d bytes (%s), over the %d budget", mode, len(e.Data), e.How, DefaultPageBudget)
		}
		if e.DPI != 200 || e.Width != 1654 || e.Height != 2339 {
			t.Errorf("%s: %dx%d at %d dpi (%s), want the page's full 200 dpi", mode, e.Width, e.Height, e.DPI, e.How)
		}
		t.Logf("%s: %d bytes, %s", mode, len(e.Data), e.How)
	}
	// A sparse page (a few lines) keeps every grey level that matters.
	sparse, err := scantest.RenderPage("Giấy xác nhận\n\nSố 12/2026", 200, 11)
	if err != nil {
		t.Fatal(err)
	}
	e, err := Compress(Page{Image: scantest.Degrade(sparse, 3), DPI: 200}, Gray, DefaultPageBudget)
	if err != nil {
		t.Fatal(err)
	}
	if e.How != "gray 4-bit 200 dpi" || len(e.Data) > 20<<10 {
		t.Errorf("sparse page: %s (%d bytes), want the first rung, gray 4-bit 200 dpi, in under 20 KB", e.How, len(e.Data))
	}
	// A photograph is not posterized: it gets JPEG.
	photo := image.NewGray(image.Rect(0, 0, 1654, 2339))
	r := rand.New(rand.NewPCG(5, 5))
	for y := 0; y < 2339; y++ {
		for x := 0; x < 1654; x++ {
			v := 128 + 80*math.Sin(float64(x)/90)*math.Cos(float64(y)/120) + r.NormFloat64()*6
			photo.Pix[y*photo.Stride+x] = uint8(max(0, min(255, v)))
		}
	}
	e, err = Compress(Page{Image: photo, DPI: 200}, Gray, DefaultPageBudget)
	if err != nil {
		t.Fatal(err)
	}
	if e.Filter != "DCTDecode" || len(e.Data) > DefaultPageBudget {
		t.Errorf("photograph: %s (%d bytes), want JPEG within budget", e.How, len(e.Data))
	}
	t.Logf("photograph: %s, %d bytes", e.How, len(e.Data))
}

func TestCompressFallsBack(t *testing.T) {
	// Pure noise: no encoding fits a tiny budget, and bilevel is not for it.
	r := rand.New(rand.NewPCG(3, 3))
	img := image.NewGray(image.Rect(0, 0, 800, 1000))
	for i := range img.Pix {
		img.Pix[i] = uint8(r.IntN(256))
	}
	e, err := Compress(Page{Image: img, DPI: 200}, Bilevel, 10<<10)
	if err != nil {
		t.Fatal(err)
	}
	if e.Filter != "DCTDecode" || e.DPI != 100 {
		t.Fatalf("noise in bilevel over budget: %s (%d bytes), want the last JPEG rung at 100 dpi", e.How, len(e.Data))
	}
	if _, err := Compress(Page{Image: image.NewGray(image.Rect(0, 0, 0, 0)), DPI: 200}, Gray, 0); err == nil {
		t.Error("an empty page compressed without error")
	}
	if _, err := Compress(Page{Image: img, DPI: 0}, Gray, 0); err == nil {
		t.Error("a page without a resolution compressed without error")
	}
}

func TestParseMode(t *testing.T) {
	for in, want := range map[string]Mode{"gray": Gray, " Grey ": Gray, "BILEVEL": Bilevel, "lineart": Bilevel} {
		if got, err := ParseMode(in); err != nil || got != want {
			t.Errorf("ParseMode(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := ParseMode("color"); err == nil {
		t.Error("ParseMode(color) accepted")
	}
}

func TestDownscaleAverages(t *testing.T) {
	// A 4x4 page of 2x2 blocks, halved: each new pixel is its block's mean.
	img := image.NewGray(image.Rect(0, 0, 4, 4))
	copy(img.Pix, []uint8{
		0, 100, 200, 200,
		100, 200, 200, 200,
		10, 10, 255, 0,
		10, 10, 0, 255,
	})
	got := Downscale(img, 200, 100)
	want := []uint8{100, 200, 10, 128}
	if got.Rect.Dx() != 2 || got.Rect.Dy() != 2 || !reflect.DeepEqual(got.Pix, want) {
		t.Fatalf("Downscale = %v (%v), want %v", got.Pix, got.Rect, want)
	}
	// 200 to 150 dpi: three new pixels for four old; flat stays flat.
	flat := image.NewGray(image.Rect(0, 0, 400, 300))
	for i := range flat.Pix {
		flat.Pix[i] = 77
	}
	got = Downscale(flat, 200, 150)
	if got.Rect.Dx() != 300 || got.Rect.Dy() != 225 {
		t.Fatalf("200 to 150 dpi: %v", got.Rect)
	}
	for i, v := range got.Pix {
		if v != 77 {
			t.Fatalf("flat page resampled to %d at %d", v, i)
		}
	}
}
