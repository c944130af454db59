package scantest

import (
	"image"
	"image/draw"
	"math"
	"math/rand/v2"
)

// Degradation parameters: what a 200 dpi office flatbed does to a printed
// page.
const (
	blurSigma  = 0.8   // optical blur, pixels
	paperWhite = 232.0 // grey level of blank paper
	inkBlack   = 32.0  // grey level of solid ink
	illumDrop  = 0.04  // illumination falls off by this share across the page
	noiseSigma = 8.0   // sensor noise, grey levels
)

// Degrade returns a copy of img that looks like a 200 dpi flatbed scan of it:
// a Gaussian blur of sigma 0.8 px, paper at grey 232 and ink at 32, an
// illumination gradient that darkens the page by up to 4% towards a corner
// chosen by seed, and Gaussian sensor noise of sigma 8 grey levels, clamped
// to 0..255. The result depends only on img and seed; img is not modified.
func Degrade(img *image.Gray, seed int64) *image.Gray {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	out := image.NewGray(b)
	if w == 0 || h == 0 {
		return out
	}
	// Work on a copy with origin (0, 0) and stride w.
	src := image.NewGray(image.Rect(0, 0, w, h))
	draw.Draw(src, src.Bounds(), img, b.Min, draw.Src)

	blurred := blur(src.Pix, w, h, blurSigma)

	rng := rand.New(rand.NewPCG(uint64(seed), 0x5ca77e57))
	// The gradient falls off from the corner (cx, cy) towards the opposite one.
	cx, cy := float64(rng.IntN(2)), float64(rng.IntN(2))
	scale := (paperWhite - inkBlack) / 255
	for y := 0; y < h; y++ {
		fy := math.Abs(float64(y)/float64(h) - cy)
		row := out.Pix[y*out.Stride : y*out.Stride+w]
		for x := range row {
			fx := math.Abs(float64(x)/float64(w) - cx)
			illum := 1 - illumDrop*(fx+fy)/2
			v := (inkBlack+float64(blurred[y*w+x])*scale)*illum + rng.NormFloat64()*noiseSigma
			row[x] = clamp(v)
		}
	}
	return out
}

// clamp rounds v to the nearest grey level in 0..255.
func clamp(v float64) uint8 {
	switch {
	case v <= 0:
		return 0
	case v >= 255:
		return 255
	}
	return uint8(v + 0.5)
}

// blur applies a separable Gaussian blur of sigma pixels to a w×h grey
// image, replicating the edge pixels, and returns the result as float32.
func blur(pix []uint8, w, h int, sigma float64) []float32 {
	radius := int(math.Ceil(3 * sigma))
	kernel := make([]float32, 2*radius+1)
	var sum float32
	for i := range kernel {
		d := float64(i - radius)
		kernel[i] = float32(math.Exp(-d * d / (2 * sigma * sigma)))
		sum += kernel[i]
	}
	for i := range kernel {
		kernel[i] /= sum
	}

	// Horizontal pass.
	tmp := make([]float32, w*h)
	for y := 0; y < h; y++ {
		row := pix[y*w : (y+1)*w]
		dst := tmp[y*w : (y+1)*w]
		for x := range dst {
			var acc float32
			for k, kv := range kernel {
				xx := min(max(x+k-radius, 0), w-1)
				acc += kv * float32(row[xx])
			}
			dst[x] = acc
		}
	}
	// Vertical pass, a row at a time so memory is read in order.
	out := make([]float32, w*h)
	for y := 0; y < h; y++ {
		dst := out[y*w : (y+1)*w]
		for k, kv := range kernel {
			yy := min(max(y+k-radius, 0), h-1)
			src := tmp[yy*w : (yy+1)*w]
			for x, v := range src {
				dst[x] += kv * v
			}
		}
	}
	return out
}
