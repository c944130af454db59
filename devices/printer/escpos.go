package printer

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
)

// ESC/POS commands used.
var (
	cmdInit    = []byte{0x1b, '@'}            // ESC @: initialize
	cmdFeedCut = []byte{0x1d, 'V', 66, 3}     // GS V 66 n: feed n lines and cut
	cmdRaster  = []byte{0x1d, 'v', '0', 0x00} // GS v 0 m=0: raster bit image, normal size
)

// bandHeight is the rows sent per GS v 0 command: small enough for the
// input buffers of cheap printers.
const bandHeight = 128

// Encode turns a receipt image into ESC/POS: initialize, the image as
// raster bands (a dot is printed where the pixel is darker than mid-grey),
// feed and cut.
func Encode(img *image.Gray) []byte {
	var out bytes.Buffer
	out.Write(cmdInit)
	b := img.Bounds()
	widthBytes := (b.Dx() + 7) / 8
	for top := b.Min.Y; top < b.Max.Y; top += bandHeight {
		h := min(bandHeight, b.Max.Y-top)
		out.Write(cmdRaster)
		out.Write([]byte{byte(widthBytes), byte(widthBytes >> 8), byte(h), byte(h >> 8)})
		for y := top; y < top+h; y++ {
			for xb := 0; xb < widthBytes; xb++ {
				var v byte
				for bit := 0; bit < 8; bit++ {
					x := b.Min.X + xb*8 + bit
					if x < b.Max.X && img.GrayAt(x, y).Y < 128 {
						v |= 0x80 >> bit
					}
				}
				out.WriteByte(v)
			}
		}
	}
	out.Write(cmdFeedCut)
	return out.Bytes()
}

// ErrBadStream is returned (wrapped) by Decode for bytes that are not the
// ESC/POS this package writes.
var ErrBadStream = errors.New("not a valid ESC/POS receipt stream")

// Decode reads back what Encode wrote, checking every command, and returns
// each receipt's image (one per cut). The printer simulator and the tests
// use it to see what a printer would print.
func Decode(stream []byte) ([]*image.Gray, error) {
	var receipts []*image.Gray
	var rows [][]byte
	width := 0
	started := false
	for i := 0; i < len(stream); {
		switch {
		case bytes.HasPrefix(stream[i:], cmdInit):
			started, rows, width = true, nil, 0
			i += len(cmdInit)
		case bytes.HasPrefix(stream[i:], cmdRaster):
			if !started {
				return nil, fmt.Errorf("%w: raster before ESC @ at byte %d", ErrBadStream, i)
			}
			if i+8 > len(stream) {
				return nil, fmt.Errorf("%w: truncated GS v 0 header at byte %d", ErrBadStream, i)
			}
			wb := int(stream[i+4]) | int(stream[i+5])<<8
			h := int(stream[i+6]) | int(stream[i+7])<<8
			if wb == 0 || h == 0 || (width != 0 && wb*8 != width) {
				return nil, fmt.Errorf("%w: GS v 0 of %d bytes x %d rows at byte %d", ErrBadStream, wb, h, i)
			}
			width = wb * 8
			i += 8
			if i+wb*h > len(stream) {
				return nil, fmt.Errorf("%w: raster data cut short at byte %d", ErrBadStream, i)
			}
			for r := 0; r < h; r++ {
				rows = append(rows, stream[i+r*wb:i+(r+1)*wb])
			}
			i += wb * h
		case bytes.HasPrefix(stream[i:], cmdFeedCut):
			if !started || len(rows) == 0 {
				return nil, fmt.Errorf("%w: cut with nothing printed at byte %d", ErrBadStream, i)
			}
			img := image.NewGray(image.Rect(0, 0, width, len(rows)))
			for y, row := range rows {
				for x := 0; x < width; x++ {
					c := color.Gray{Y: 255}
					if row[x/8]&(0x80>>(x%8)) != 0 {
						c.Y = 0
					}
					img.SetGray(x, y, c)
				}
			}
			receipts = append(receipts, img)
			started, rows, width = false, nil, 0
			i += len(cmdFeedCut)
		default:
			return nil, fmt.Errorf("%w: unknown byte 0x%02x at %d", ErrBadStream, stream[i], i)
		}
	}
	if started {
		return receipts, fmt.Errorf("%w: receipt not cut", ErrBadStream)
	}
	return receipts, nil
}
