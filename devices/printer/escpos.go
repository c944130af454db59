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
	cmdStatus  = []byte{0x10, 0x04}           // DLE EOT n: real-time status transmission
)

// DLE (0x10) starts the real-time commands, which a printer obeys wherever
// their bytes arrive, even inside raster data (Epson's ESC/POS reference:
// the status is transmitted "whenever the data sequence 10H 04H n is
// received"). These are the second bytes that make one: DLE EOT (status),
// DLE ENQ (recover from an error, or clear the buffers), DLE DC4 (drawer
// pulse, power off, clear buffer).
const dle = 0x10

func isRealtime(second byte) bool { return second == 0x04 || second == 0x05 || second == 0x14 }

// bandHeight is the rows sent per GS v 0 command: small enough for the
// input buffers of cheap printers.
const bandHeight = 128

// Encode turns a receipt image into ESC/POS: initialize, the image as
// raster bands (a dot is printed where the pixel is darker than mid-grey),
// feed and cut.
//
// Raster bytes that would read as a real-time command (DLE followed by EOT,
// ENQ or DC4) lose the lone dot that makes the DLE: the byte 0x10 becomes
// 0x00. Without that a printer would answer a status request nobody made,
// or clear its buffer, in the middle of a receipt; one dot in 1/8 mm is
// not seen.
func Encode(img *image.Gray) []byte {
	var out bytes.Buffer
	out.Write(cmdInit)
	b := img.Bounds()
	widthBytes := (b.Dx() + 7) / 8
	for top := b.Min.Y; top < b.Max.Y; top += bandHeight {
		h := min(bandHeight, b.Max.Y-top)
		out.Write(cmdRaster)
		out.Write([]byte{byte(widthBytes), byte(widthBytes >> 8), byte(h), byte(h >> 8)})
		band := make([]byte, 0, widthBytes*h)
		for y := top; y < top+h; y++ {
			for xb := 0; xb < widthBytes; xb++ {
				var v byte
				for bit := 0; bit < 8; bit++ {
					x := b.Min.X + xb*8 + bit
					if x < b.Max.X && img.GrayAt(x, y).Y < 128 {
						v |= 0x80 >> bit
					}
				}
				band = append(band, v)
			}
		}
		// The byte after a band is GS (0x1d), never a real-time second byte.
		for i := 0; i+1 < len(band); i++ {
			if band[i] == dle && isRealtime(band[i+1]) {
				band[i] = 0
			}
		}
		out.Write(band)
	}
	out.Write(cmdFeedCut)
	return out.Bytes()
}

// ErrBadStream is returned (wrapped) by Decode and Decoder for bytes that
// are not the ESC/POS this package writes.
var ErrBadStream = errors.New("not a valid ESC/POS receipt stream")

// Limits of one GS v 0 band that a Decoder accepts, so a bad header cannot
// make it wait for gigabytes.
const (
	maxRasterBytesWide = 256  // 2048 dots
	maxRasterRows      = 4095 // Epson's limit for GS v 0
)

// Command is what a Decoder found in the stream: a receipt, cut, or a
// real-time status request.
type Command struct {
	// Receipt is the receipt as printed, when a cut ended one.
	Receipt *image.Gray
	// Status is n of a DLE EOT n status request (1 to 4), else 0.
	Status byte
}

// A Decoder reads ESC/POS the way a printer does, command by command as
// the bytes arrive: the printer simulator feeds it what the agent writes.
// It knows the commands Encode writes and DLE EOT n; DLE EOT inside raster
// data is raster data.
type Decoder struct {
	buf     []byte
	pos     int // the stream offset of buf[0], for error messages
	started bool
	width   int
	rows    [][]byte
}

// Write appends bytes received; it never fails.
func (d *Decoder) Write(p []byte) (int, error) {
	d.buf = append(d.buf, p...)
	return len(p), nil
}

// InReceipt reports whether a receipt has begun (ESC @) and is not yet
// cut, or a command is incomplete.
func (d *Decoder) InReceipt() bool { return d.started || len(d.buf) > 0 }

// prefix reports whether b starts with cmd (full), or is a beginning of it
// that more bytes may complete (partial).
func prefix(b, cmd []byte) (full, partial bool) {
	if len(b) >= len(cmd) {
		return bytes.HasPrefix(b, cmd), false
	}
	return false, bytes.HasPrefix(cmd, b)
}

func (d *Decoder) consume(n int) {
	d.buf = d.buf[n:]
	d.pos += n
}

// fail drops everything held, so decoding starts afresh with the next
// bytes written, and returns the error.
func (d *Decoder) fail(format string, args ...any) error {
	err := fmt.Errorf("%w: "+format, append([]any{ErrBadStream}, args...)...)
	d.pos += len(d.buf)
	d.buf, d.started, d.rows, d.width = nil, false, nil, 0
	return err
}

// Next decodes up to the next receipt or status request. ok is false when
// the bytes so far are used up or end inside a command: write more. After
// an error (wrapping ErrBadStream) the decoder has dropped what it held.
func (d *Decoder) Next() (c Command, ok bool, err error) {
	for len(d.buf) > 0 {
		b := d.buf
		if full, partial := prefix(b, cmdStatus); full || partial {
			if len(b) < 3 {
				return Command{}, false, nil
			}
			n := b[2]
			d.consume(3)
			if n >= 1 && n <= 4 {
				return Command{Status: n}, true, nil
			}
			continue // a printer ignores an n out of range
		}
		if full, partial := prefix(b, cmdInit); full || partial {
			if partial {
				return Command{}, false, nil
			}
			d.started, d.rows, d.width = true, nil, 0
			d.consume(len(cmdInit))
			continue
		}
		if full, partial := prefix(b, cmdRaster); full || partial {
			switch {
			case !d.started:
				return Command{}, false, d.fail("raster before ESC @ at byte %d", d.pos)
			case len(b) < len(cmdRaster)+4:
				return Command{}, false, nil
			}
			wb := int(b[4]) | int(b[5])<<8
			h := int(b[6]) | int(b[7])<<8
			if wb == 0 || h == 0 || wb > maxRasterBytesWide || h > maxRasterRows || (d.width != 0 && wb*8 != d.width) {
				return Command{}, false, d.fail("GS v 0 of %d bytes x %d rows at byte %d", wb, h, d.pos)
			}
			if len(b) < 8+wb*h {
				return Command{}, false, nil
			}
			data := append([]byte(nil), b[8:8+wb*h]...)
			for r := 0; r < h; r++ {
				d.rows = append(d.rows, data[r*wb:(r+1)*wb])
			}
			d.width = wb * 8
			d.consume(8 + wb*h)
			continue
		}
		if full, partial := prefix(b, cmdFeedCut); full || partial {
			if partial {
				return Command{}, false, nil
			}
			if !d.started || len(d.rows) == 0 {
				return Command{}, false, d.fail("cut with nothing printed at byte %d", d.pos)
			}
			img := image.NewGray(image.Rect(0, 0, d.width, len(d.rows)))
			for y, row := range d.rows {
				for x := 0; x < d.width; x++ {
					c := color.Gray{Y: 255}
					if row[x/8]&(0x80>>(x%8)) != 0 {
						c.Y = 0
					}
					img.SetGray(x, y, c)
				}
			}
			d.started, d.rows, d.width = false, nil, 0
			d.consume(len(cmdFeedCut))
			return Command{Receipt: img}, true, nil
		}
		return Command{}, false, d.fail("unknown byte 0x%02x at %d", b[0], d.pos)
	}
	return Command{}, false, nil
}

// Decode reads back what Encode wrote, checking every command, and returns
// each receipt's image (one per cut). Status requests are passed over. The
// tests use it to see what a printer would print.
func Decode(stream []byte) ([]*image.Gray, error) {
	var d Decoder
	d.Write(stream)
	var receipts []*image.Gray
	for {
		c, ok, err := d.Next()
		if err != nil {
			return receipts, err
		}
		if !ok {
			break
		}
		if c.Receipt != nil {
			receipts = append(receipts, c.Receipt)
		}
	}
	switch {
	case len(d.buf) > 0:
		return receipts, fmt.Errorf("%w: command cut short at byte %d", ErrBadStream, d.pos)
	case d.started:
		return receipts, fmt.Errorf("%w: receipt not cut", ErrBadStream)
	}
	return receipts, nil
}
