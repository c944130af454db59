package scanner

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"image"
	"image/jpeg"
	"io"

	"golang.org/x/image/ccitt"
)

// Encoded is one page compressed for a PDF: the image stream and what a
// reader needs to draw it.
type Encoded struct {
	Width, Height int // pixels
	DPI           int
	// Filter is the PDF filter that decodes Data: "DCTDecode" (JPEG),
	// "CCITTFaxDecode" (bilevel, CCITT Group 4, 0 black) or "FlateDecode"
	// (zlib over rows of BitsPerComponent-bit pixels, most significant
	// bits first, 0 black).
	Filter           string
	BitsPerComponent int
	// Predictor is the PNG predictor of FlateDecode data (15: a filter
	// byte leads each row), or 0 for none.
	Predictor int
	Data      []byte
	// How names the encoding, e.g. "bilevel 200 dpi" or "jpeg q45 150 dpi",
	// for logs and benchmarks.
	How string
}

// A rung is one way to encode a page.
type rung struct {
	kind    string // "jpeg", "flate" (grey levels) or "bilevel"
	dpi     int    // at most this resolution
	quality int    // JPEG quality, or bits per pixel for "flate"
}

// grayRungs are the encodings a Gray page tries in order, most faithful
// first, until one fits the budget. A page of text keeps its grey letter
// edges losslessly in 4 bits, and its white paper costs next to nothing
// (JPEG spends a few bits on every 8x8 block, white or not: 50 KB for a
// blank A4 page); a photograph fits a good JPEG; 2 bits keep the edges of
// a denser page; a page dense with text ends up bilevel, still sharp,
// rather than as a blurred low-resolution JPEG; what even bilevel cannot
// hold (a halftone, noise) gets JPEG at 100 dpi.
var grayRungs = []rung{
	{"flate", 200, 4},
	{"jpeg", 200, 75},
	{"jpeg", 200, 60},
	{"flate", 200, 2},
	{"jpeg", 200, 50},
	{"jpeg", 150, 60},
	{"jpeg", 150, 45},
	{"bilevel", 200, 0},
	{"jpeg", 100, 50},
	{"jpeg", 100, 35},
}

// bilevelRungs are for Bilevel pages: bilevel, unless the page is not
// text at all.
var bilevelRungs = []rung{
	{"bilevel", 200, 0},
	{"jpeg", 150, 45},
	{"jpeg", 100, 50},
	{"jpeg", 100, 35},
}

// Compress cleans a scanned page (the paper made white, the ink black) and
// encodes it in at most budget bytes where it can, trying the rungs of its
// mode in order (see grayRungs and bilevelRungs); a Gray page that is a
// picture (see IsPicture) is not whitened and tries only JPEG. A page that fits no rung gets
// the smallest.
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
	rungs := grayRungs
	if mode == Bilevel {
		rungs = bilevelRungs
	}
	clean := p.Image
	picture := mode == Gray && IsPicture(p.Image)
	if !picture {
		clean = Whiten(p.Image)
	}
	scaled := map[int]*image.Gray{p.DPI: clean}
	var bw *image.Gray
	var smallest Encoded
	// hopeless marks the resolutions where a JPEG came out over 1.6 times
	// the budget: lower qualities save at most a third, so they are not
	// tried there.
	hopeless := map[int]bool{}
	for _, r := range rungs {
		if picture && r.kind != "jpeg" {
			continue // posterized or bilevel, a photograph is lost
		}
		dpi := min(r.dpi, p.DPI)
		if r.kind == "jpeg" && hopeless[dpi] {
			continue
		}
		img := scaled[dpi]
		if img == nil {
			img = Downscale(clean, p.DPI, dpi)
			scaled[dpi] = img
		}
		var e Encoded
		var err error
		switch r.kind {
		case "jpeg":
			e, err = encodeJPEG(img, dpi, r.quality)
		case "flate":
			e, err = encodeFlate(img, dpi, r.quality)
		case "bilevel":
			if bw == nil {
				bw = Binarize(img, dpi)
			}
			e, err = encodeBilevel(bw, dpi)
		}
		if err != nil {
			return Encoded{}, err
		}
		if len(e.Data) <= budget {
			return e, nil
		}
		if r.kind == "jpeg" && len(e.Data) > budget*16/10 {
			hopeless[dpi] = true
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

// encodeBilevel codes a page of 0 and 255 pixels with CCITT Group 4.
func encodeBilevel(img *image.Gray, dpi int) (Encoded, error) {
	return Encoded{Width: img.Rect.Dx(), Height: img.Rect.Dy(), DPI: dpi, Filter: "CCITTFaxDecode",
		BitsPerComponent: 1, Data: encodeG4(img), How: fmt.Sprintf("bilevel %d dpi", dpi)}, nil
}

// encodeFlate packs img into rows of bpc bits per pixel (1, 2, 4 or 8),
// the darkest level 0, each row led by its PNG filter byte (None or Up,
// whichever leaves smaller bytes), and deflates them: the PDF reads it back
// with FlateDecode and PNG predictor 15. On a whitened page of text this
// keeps every grey edge of the letters and costs almost nothing for the
// paper.
func encodeFlate(img *image.Gray, dpi, bpc int) (Encoded, error) {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	stride := (w*bpc + 7) / 8
	perByte := 8 / bpc
	shift := 8 - bpc
	prev := make([]byte, stride)
	cur := make([]byte, stride)
	up := make([]byte, stride)
	var buf bytes.Buffer
	zw, err := zlib.NewWriterLevel(&buf, zlib.BestCompression)
	if err != nil {
		return Encoded{}, err
	}
	for y := 0; y < h; y++ {
		clear(cur)
		row := img.Pix[y*img.Stride : y*img.Stride+w]
		for x, v := range row {
			// Round to the nearest of the 2^bpc levels.
			q := (int(v)*((1<<bpc)-1) + 127) / 255
			cur[x/perByte] |= byte(q) << (shift - (x%perByte)*bpc)
		}
		var sumNone, sumUp int
		for i := range cur {
			up[i] = cur[i] - prev[i]
			sumNone += absDiff(cur[i])
			sumUp += absDiff(up[i])
		}
		filter, data := byte(0), cur
		if sumUp < sumNone {
			filter, data = 2, up
		}
		zw.Write([]byte{filter})
		if _, err := zw.Write(data); err != nil {
			return Encoded{}, fmt.Errorf("compress page: %w", err)
		}
		prev, cur = cur, prev
	}
	if err := zw.Close(); err != nil {
		return Encoded{}, fmt.Errorf("compress page: %w", err)
	}
	return Encoded{Width: w, Height: h, DPI: dpi, Filter: "FlateDecode", BitsPerComponent: bpc,
		Predictor: 15, Data: buf.Bytes(), How: fmt.Sprintf("gray %d-bit %d dpi", bpc, dpi)}, nil
}

// absDiff is PNG's filter heuristic: a byte as a signed distance from 0.
func absDiff(b byte) int {
	if b < 128 {
		return int(b)
	}
	return 256 - int(b)
}

// IsPicture reports whether a scanned page is mostly mid-tones (over a
// quarter of its pixels between grey 64 and 192): a photograph, whose
// pixels are not paper, ink and the edges between them. A picture is
// neither whitened nor posterized.
func IsPicture(img *image.Gray) bool {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	mid := 0
	for y := 0; y < h; y++ {
		for _, v := range img.Pix[y*img.Stride : y*img.Stride+w] {
			if v > 64 && v < 192 {
				mid++
			}
		}
	}
	return mid*4 > w*h
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
		// about 2.1 standard deviations of the noise. White starts 1.6
		// times further down (3.4 deviations), which leaves a speck of
		// noise on fewer than 1 in 2,000 paper pixels.
		v := paper
		for v > 0 && hist[v]*10 > hist[paper] {
			v--
		}
		white = max(paper-(paper-v)*16/10, paper-80)
	}
	// The ink is the most common dark level, if there is enough of it
	// (0.2% of the page); black is where its spread ends above it. Without
	// a clear ink colour, black is the level below which 0.5% of the page
	// lies.
	ink := 0
	for v := 0; v < 128; v++ {
		if hist[v] > hist[ink] {
			ink = v
		}
	}
	black := 0
	if hist[ink]*500 >= total {
		v := ink
		for v < 255 && hist[v]*10 > hist[ink] {
			v++
		}
		black = min(v, ink+60)
	} else {
		seen := 0
		for v := 0; v < 256; v++ {
			seen += hist[v]
			if seen*200 >= total {
				black = v
				break
			}
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

// Downscale resamples a page from one resolution to a lower one, each new
// pixel the average of the area of the old page it covers.
func Downscale(img *image.Gray, from, to int) *image.Gray {
	sw, sh := img.Rect.Dx(), img.Rect.Dy()
	w, h := sw*to/from, sh*to/from
	cols, rows := areaWeights(sw, w), areaWeights(sh, h)
	// Across, into a float row per source row; then down.
	tmp := make([]float32, w*sh)
	for y := 0; y < sh; y++ {
		src := img.Pix[y*img.Stride : y*img.Stride+sw]
		dst := tmp[y*w : (y+1)*w]
		for x, ws := range cols {
			var v float32
			for _, c := range ws {
				v += float32(src[c.i]) * c.w
			}
			dst[x] = v
		}
	}
	out := image.NewGray(image.Rect(0, 0, w, h))
	acc := make([]float32, w)
	for y, ws := range rows {
		clear(acc)
		for _, c := range ws {
			row := tmp[c.i*w : (c.i+1)*w]
			for x, v := range row {
				acc[x] += v * c.w
			}
		}
		dst := out.Pix[y*out.Stride : y*out.Stride+w]
		for x, v := range acc {
			dst[x] = uint8(min(255, v+0.5))
		}
	}
	return out
}

// weight is one source pixel's share of a resampled pixel.
type weight struct {
	i int
	w float32
}

// areaWeights returns, for each of n new pixels along a line of src old
// ones, the old pixels it covers and by how much (the shares add to 1).
func areaWeights(src, n int) [][]weight {
	scale := float64(src) / float64(n)
	out := make([][]weight, n)
	for j := range out {
		lo, hi := float64(j)*scale, float64(j+1)*scale
		for i := int(lo); i < src && float64(i) < hi; i++ {
			cover := min(hi, float64(i+1)) - max(lo, float64(i))
			if cover > 0 {
				out[j] = append(out[j], weight{i, float32(cover / scale)})
			}
		}
	}
	return out
}

// DecodeEncoded decodes a compressed page back to 8-bit grey: what a
// reader of the PDF draws, for previews and tests.
func DecodeEncoded(e Encoded) (*image.Gray, error) {
	switch e.Filter {
	case "DCTDecode":
		img, err := jpeg.Decode(bytes.NewReader(e.Data))
		if err != nil {
			return nil, fmt.Errorf("decode page: %w", err)
		}
		return toGray(img), nil
	case "CCITTFaxDecode":
		img := image.NewGray(image.Rect(0, 0, e.Width, e.Height))
		if err := ccitt.DecodeIntoGray(img, bytes.NewReader(e.Data), ccitt.MSB, ccitt.Group4, nil); err != nil {
			return nil, fmt.Errorf("decode page: %w", err)
		}
		return img, nil
	case "FlateDecode":
	default:
		return nil, fmt.Errorf("decode page: unknown filter %q", e.Filter)
	}
	bpc := e.BitsPerComponent
	if bpc != 1 && bpc != 2 && bpc != 4 && bpc != 8 {
		return nil, fmt.Errorf("decode page: %d bits per pixel", bpc)
	}
	zr, err := zlib.NewReader(bytes.NewReader(e.Data))
	if err != nil {
		return nil, fmt.Errorf("decode page: %w", err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("decode page: %w", err)
	}
	stride := (e.Width*bpc + 7) / 8
	lead := 0
	if e.Predictor >= 10 {
		lead = 1
	}
	if len(raw) != (stride+lead)*e.Height {
		return nil, fmt.Errorf("decode page: %d bytes for %dx%d at %d bits", len(raw), e.Width, e.Height, bpc)
	}
	img := image.NewGray(image.Rect(0, 0, e.Width, e.Height))
	prev := make([]byte, stride)
	perByte, top := 8/bpc, (1<<bpc)-1
	for y := 0; y < e.Height; y++ {
		row := raw[y*(stride+lead)+lead : (y+1)*(stride+lead)]
		if lead == 1 {
			switch raw[y*(stride+1)] {
			case 0:
			case 2:
				for i := range row {
					row[i] += prev[i]
				}
			default:
				return nil, fmt.Errorf("decode page: row %d: PNG filter %d", y, raw[y*(stride+1)])
			}
		}
		for x := 0; x < e.Width; x++ {
			q := int(row[x/perByte]>>(8-bpc-(x%perByte)*bpc)) & top
			img.Pix[y*img.Stride+x] = uint8(q * 255 / top)
		}
		copy(prev, row)
	}
	return img, nil
}
