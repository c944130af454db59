package widgets

import (
	"image"
	"image/jpeg"
	"io"
)

func encodeJPEG(w io.Writer, img image.Image) error {
	return jpeg.Encode(w, img, &jpeg.Options{Quality: 80})
}
