package scanner

import (
	"bytes"
	"fmt"
	"image"
	"math/rand/v2"
	"testing"

	"golang.org/x/image/ccitt"

	"github.com/motcua/motcua/devices/scanner/scantest"
)

// decodeG4 decodes with golang.org/x/image/ccitt, independently of the
// encoder.
func decodeG4(t *testing.T, data []byte, w, h int) *image.Gray {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, w, h))
	if err := ccitt.DecodeIntoGray(img, bytes.NewReader(data), ccitt.MSB, ccitt.Group4, nil); err != nil {
		t.Fatalf("decode %dx%d: %v", w, h, err)
	}
	return img
}

func bilevel(w, h int, black func(x, y int) bool) *image.Gray {
	img := image.NewGray(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			if !black(x, y) {
				img.Pix[y*w+x] = 255
			}
		}
	}
	return img
}

func sameBilevel(a, b *image.Gray) (int, int, bool) {
	for y := 0; y < a.Rect.Dy(); y++ {
		for x := 0; x < a.Rect.Dx(); x++ {
			if (a.Pix[y*a.Stride+x] < 128) != (b.Pix[y*b.Stride+x] < 128) {
				return x, y, false
			}
		}
	}
	return 0, 0, true
}

func TestG4RoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	// Rows of every run length from 0 to 2700 in both colours, so every
	// terminating and make-up code is used.
	runs := func(w int) *image.Gray {
		img := image.NewGray(image.Rect(0, 0, w, 2*2701))
		for i := range img.Pix {
			img.Pix[i] = 255
		}
		for n := 0; n <= 2700; n++ {
			for _, black := range []bool{false, true} {
				y := 2 * n
				if black {
					y++
				}
				row := img.Pix[y*w : (y+1)*w]
				// A run of n in the colour, framed by the other one.
				for x := range row {
					inRun := x >= 3 && x < 3+n
					if inRun == black {
						row[x] = 0
					}
				}
			}
		}
		return img
	}
	text, err := scantest.RenderPage(scantest.Text, 200, 11)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		img  *image.Gray
	}{
		{"white", bilevel(100, 20, func(x, y int) bool { return false })},
		{"black", bilevel(100, 20, func(x, y int) bool { return true })},
		{"one pixel wide", bilevel(1, 30, func(x, y int) bool { return y%3 == 0 })},
		{"first and last columns", bilevel(64, 16, func(x, y int) bool { return x == 0 || x == 63 })},
		{"checkerboard", bilevel(77, 33, func(x, y int) bool { return (x+y)%2 == 0 })},
		{"stripes", bilevel(300, 40, func(x, y int) bool { return (x/7+y/5)%2 == 0 })},
		{"diagonals", bilevel(200, 200, func(x, y int) bool { return (x+2*y)%17 < 4 || (3*x-y+400)%29 < 2 })},
		{"noise", bilevel(333, 97, func(x, y int) bool { return r.IntN(3) == 0 })},
		{"every run length", runs(2710)},
		{"text page", Binarize(Whiten(scantest.Degrade(text, 3)), 200)},
	}
	for _, tt := range tests {
		w, h := tt.img.Rect.Dx(), tt.img.Rect.Dy()
		data := encodeG4(tt.img)
		got := decodeG4(t, data, w, h)
		if x, y, ok := sameBilevel(tt.img, got); !ok {
			t.Errorf("%s (%dx%d): pixel (%d,%d) differs after decoding", tt.name, w, h, x, y)
		}
		t.Logf("%s: %dx%d in %d bytes", tt.name, w, h, len(data))
	}
}

func TestG4CodeTables(t *testing.T) {
	// Prefix-free within each colour (with the shared make-up codes), as a
	// decoder needs: no code is the start of another.
	for name, table := range map[string]map[int]code{"white": whiteCodes, "black": blackCodes} {
		all := map[string]int{}
		for run, c := range table {
			all[fmt.Sprintf("%0*b", c.n, c.bits)] = run
		}
		for run, c := range sharedMakeup {
			all[fmt.Sprintf("%0*b", c.n, c.bits)] = run
		}
		if len(all) != 64+27+13 {
			t.Errorf("%s: %d distinct codes, want 104", name, len(all))
		}
		for a, ra := range all {
			for b, rb := range all {
				if a != b && len(a) < len(b) && b[:len(a)] == a {
					t.Errorf("%s: code for %d (%s) starts the code for %d (%s)", name, ra, a, rb, b)
				}
			}
		}
	}
}

// FuzzG4 codes arbitrary bilevel pages and decodes them with
// golang.org/x/image/ccitt: what comes back is what went in.
func FuzzG4(f *testing.F) {
	f.Add(uint8(8), []byte{0x00, 0xff, 0x0f})
	f.Add(uint8(1), []byte{0xaa})
	f.Add(uint8(200), bytes.Repeat([]byte{0x81, 0x7e, 0x00}, 300))
	f.Fuzz(func(t *testing.T, width uint8, bits []byte) {
		bits = bits[:min(len(bits), 8192)]
		w := int(width)%300 + 1
		h := min(len(bits)*8/w+1, 2000)
		img := bilevel(w, h, func(x, y int) bool {
			i := y*w + x
			return i/8 < len(bits) && bits[i/8]&(0x80>>(i%8)) != 0
		})
		got := decodeG4(t, encodeG4(img), w, h)
		if x, y, ok := sameBilevel(img, got); !ok {
			t.Fatalf("%dx%d: pixel (%d,%d) differs after decoding", w, h, x, y)
		}
	})
}
