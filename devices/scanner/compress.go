package scanner

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"image"
	"image/jpeg"

	"golang.org/x/image/draw"
)

// Encoded is one page compressed for a PDF: the image stream and what a
// reader needs to draw it.
type Encoded struct {
	Width, Height int // pixels
	DPI           int
	// Filter is the PDF filter that decodes Data: "DCTDecode" (JPEG) or
	// "FlateDecode" (zlib over 1-bit rows, most significant bit first, 0
	// black).
	Filter           string
	BitsPerComponent int
	Data             []byte
	// How names the encoding, e.g. "bilevel 200 dpi" or "jpeg q45 150 dpi",
	// for logs and benchmarks.
	How string
}

// jpegRungs are the grayscale encodings tried in order, best first, until
// one fits the budget: quality drops first, then resolution.
var jpegRungs = []struct{ dpi, quality int }{
	{200, 70}, {200, 55}, {200, 45}, {200, 35},
	{150, 60}, {150, 45}, {150, 35},
	{100, 50}, {100, 35},
}

// Compress cleans a scanned page (the paper made white, the ink black) and
// encodes it in at most budget bytes where it can: Bilevel pages as 1-bit
// Flate, Gray pages as JPEG at the best quality and resolution that fit. A
// bilevel page over budget (a photograph, not text) falls back to JPEG. A
// page that fits no rung gets the smallest one.
func Compress(p Page, mode Mode, budget int) (Encoded, error) {
	if p.Image == nil || p.Image.Rect.Empty() {
		return Encoded{}, fmt.Errorf("compress page: empty image")
	}
	if p.DPI <= 0 {
		return Encoded{}, fmt.Errorf("compress page: resolution %d dpi", p.DPI)
	}
	if budget <= 0 {
		budget = DefaultPageBudget
	}
	clean := Whiten(p.Image)
	if mode == Bilevel {
		e, err := encodeBilevel(Binarize(clean, p.DPI), p.DPI)
		if err != nil {
			return Encoded{}, err
		}
		if len(e.Data) <= budget {
			return e, nil
		}
	}
	var smallest Encoded
	for _, r := range jpegRungs {
		img, dpi := clean, p.DPI
		if r.dpi < p.DPI {
			img, dpi = Downscale(clean, p.DPI, r.dpi), r.dpi
		}
		e, err := encodeJPEG(img, dpi, r.quality)
		if err != nil {
			return Encoded{}, err
		}
		if len(e.Data) <= budget {
			return e, nil
		}
		if smallest.Data == nil || len(e.Data) < len(smallest.Data) {
			smallest = e
		}
	}
	return smallest, nil
}

func encodeJPEG(img *image.Gray, dpi, quality int) (Encoded, error) {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: quality}); err != nil {
		return Encoded{}, fmt.Errorf("compress page: jpeg: %w", err)
	}
	return Encoded{Width: img.Rect.Dx(), Height: img.Rect.Dy(), DPI: dpi, Filter: "DCTDecode",
		BitsPerComponent: 8, Data: buf.Bytes(), How: fmt.Sprintf("jpeg q%d %d dpi", quality, dpi)}, nil
}

// encodeBilevel packs a page of 0 and 255 pixels into 1-bit rows and
// deflates them.
func encodeBilevel(img *image.Gray, dpi int) (Encoded, error) {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	stride := (w + 7) / 8
	bits := make([]byte, stride*h)
	for y := 0; y < h; y++ {
		row := img.Pix[y*img.Stride : y*img.Stride+w]
		out := bits[y*stride : (y+1)*stride]
		for x, v := range row {
			if v >= 128 {
				out[x>>3] |= 0x80 >> (x & 7)
			}
		}
	}
	var buf bytes.Buffer
	zw, err := zlib.NewWriterLevel(&buf, zlib.BestCompression)
	if err != nil {
		return Encoded{}, err
	}
	if _, err := zw.Write(bits); err != nil {
		return Encoded{}, fmt.Errorf("compress page: %w", err)
	}
	if err := zw.Close(); err != nil {
		return Encoded{}, fmt.Errorf("compress page: %w", err)
	}
	return Encoded{Width: w, Height: h, DPI: dpi, Filter: "FlateDecode", BitsPerComponent: 1,
		Data: buf.Bytes(), How: fmt.Sprintf("bilevel %d dpi", dpi)}, nil
}

// Whiten stretches a page's levels so that the paper, with its sensor
// noise, becomes pure white and the darkest ink black. Noise on the paper is
// what makes a scan expensive to compress; text keeps its shape. A page
// with no clear paper colour (a photograph) is only stretched to its full
// range.
func Whiten(img *image.Gray) *image.Gray {
	var hist [256]int
	w, h := img.Rect.Dx(), img.Rect.Dy()
	for y := 0; y < h; y++ {
		for _, v := range img.Pix[y*img.Stride : y*img.Stride+w] {
			hist[v]++
		}
	}
	total := w * h
	// The paper is the most common light level.
	paper := 128
	for v := 128; v < 256; v++ {
		if hist[v] > hist[paper] {
			paper = v
		}
	}
	white := 255
	if hist[paper]*50 >= total { // at least 2% of the page: a paper colour
		// Walk down from the peak to where the count falls to a tenth:
		// the noise's spread below the paper level.
		v := paper
		for v > 0 && hist[v]*10 > hist[paper] {
			v--
		}
		white = max(v, paper-60)
	}
	// Black is the level below which 0.5% of the page lies.
	black, seen := 0, 0
	for v := 0; v < 256; v++ {
		seen += hist[v]
		if seen*200 >= total {
			black = v
			break
		}
	}
	if white-black < 64 {
		black = max(0, white-64)
	}
	var lut [256]uint8
	for v := range lut {
		switch {
		case v <= black:
			lut[v] = 0
		case v >= white:
			lut[v] = 255
		default:
			lut[v] = uint8((v - black) * 255 / (white - black))
		}
	}
	out := image.NewGray(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		src := img.Pix[y*img.Stride : y*img.Stride+w]
		dst := out.Pix[y*out.Stride : y*out.Stride+w]
		for x, v := range src {
			dst[x] = lut[v]
		}
	}
	return out
}

// Binarize turns a grayscale page into black (0) and white (255) with a
// local threshold (Bradley's adaptive mean over a window of an eighth of an
// inch), so uneven light and shadows do not blacken or erase text; very
// dark pixels are black whatever their neighbours, so solid areas stay
// solid.
func Binarize(img *image.Gray, dpi int) *image.Gray {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	// Integral image, one row and column of zeros in front. It may wrap
	// around on a large page: uint32 arithmetic is modular, and every
	// window's sum fits, so the window sums below stay exact.
	iw := w + 1
	sum := make([]uint32, iw*(h+1))
	for y := 0; y < h; y++ {
		var row uint32
		src := img.Pix[y*img.Stride : y*img.Stride+w]
		for x, v := range src {
			row += uint32(v)
			sum[(y+1)*iw+x+1] = sum[y*iw+x+1] + row
		}
	}
	r := max(dpi/16, 4) // half the window
	const t = 15        // percent darker than the neighbourhood
	const solid = 80    // at or below: black regardless
	out := image.NewGray(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		y0, y1 := max(y-r, 0), min(y+r+1, h)
		src := img.Pix[y*img.Stride : y*img.Stride+w]
		dst := out.Pix[y*out.Stride : y*out.Stride+w]
		for x, v := range src {
			x0, x1 := max(x-r, 0), min(x+r+1, w)
			area := uint64((x1 - x0) * (y1 - y0))
			s := uint64(sum[y1*iw+x1] - sum[y0*iw+x1] - sum[y1*iw+x0] + sum[y0*iw+x0])
			if v <= solid || uint64(v)*area*100 < s*(100-t) {
				dst[x] = 0
			} else {
				dst[x] = 255
			}
		}
	}
	return out
}

// Downscale resamples a page from one resolution to a lower one.
func Downscale(img *image.Gray, from, to int) *image.Gray {
	w := img.Rect.Dx() * to / from
	h := img.Rect.Dy() * to / from
	out := image.NewGray(image.Rect(0, 0, w, h))
	draw.CatmullRom.Scale(out, out.Rect, img, img.Rect, draw.Src, nil)
	return out
}
