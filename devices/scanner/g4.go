package scanner

import (
	"bytes"
	"image"
	"strconv"
	"strings"
)

// This file encodes bilevel pages with CCITT Group 4 (ITU-T T.6), the fax
// code PDF readers decode with CCITTFaxDecode (K -1). Each row is coded
// against the row above it, so a page of text costs a third of what Flate
// takes. Go's golang.org/x/image/ccitt decodes Group 4 but does not encode
// it; the tests check this encoder against that decoder and poppler.

// code is a variable-length bit string: its n low bits, first bit highest.
type code struct {
	bits uint32
	n    uint8
}

func parseCodes(s string) map[int]code {
	m := map[int]code{}
	for _, f := range strings.Fields(s) {
		k, v, _ := strings.Cut(f, ":")
		run, err := strconv.Atoi(k)
		if err != nil {
			panic("g4 table: " + f)
		}
		b, err := strconv.ParseUint(v, 2, 32)
		if err != nil {
			panic("g4 table: " + f)
		}
		m[run] = code{uint32(b), uint8(len(v))}
	}
	return m
}

// The run-length codes of T.4 (tables 2 and 3): terminating codes for 0 to
// 63, make-up codes for multiples of 64 up to 1728, and the make-up codes
// both colours share from 1792 to 2560.
var (
	whiteCodes = parseCodes(`
		0:00110101 1:000111 2:0111 3:1000 4:1011 5:1100 6:1110 7:1111
		8:10011 9:10100 10:00111 11:01000 12:001000 13:000011 14:110100 15:110101
		16:101010 17:101011 18:0100111 19:0001100 20:0001000 21:0010111 22:0000011 23:0000100
		24:0101000 25:0101011 26:0010011 27:0100100 28:0011000 29:00000010 30:00000011 31:00011010
		32:00011011 33:00010010 34:00010011 35:00010100 36:00010101 37:00010110 38:00010111 39:00101000
		40:00101001 41:00101010 42:00101011 43:00101100 44:00101101 45:00000100 46:00000101 47:00001010
		48:00001011 49:01010010 50:01010011 51:01010100 52:01010101 53:00100100 54:00100101 55:01011000
		56:01011001 57:01011010 58:01011011 59:01001010 60:01001011 61:00110010 62:00110011 63:00110100
		64:11011 128:10010 192:010111 256:0110111 320:00110110 384:00110111 448:01100100 512:01100101
		576:01101000 640:01100111 704:011001100 768:011001101 832:011010010 896:011010011 960:011010100 1024:011010101
		1088:011010110 1152:011010111 1216:011011000 1280:011011001 1344:011011010 1408:011011011 1472:010011000 1536:010011001
		1600:010011010 1664:011000 1728:010011011`)
	blackCodes = parseCodes(`
		0:0000110111 1:010 2:11 3:10 4:011 5:0011 6:0010 7:00011
		8:000101 9:000100 10:0000100 11:0000101 12:0000111 13:00000100 14:00000111 15:000011000
		16:0000010111 17:0000011000 18:0000001000 19:00001100111 20:00001101000 21:00001101100 22:00000110111 23:00000101000
		24:00000010111 25:00000011000 26:000011001010 27:000011001011 28:000011001100 29:000011001101 30:000001101000 31:000001101001
		32:000001101010 33:000001101011 34:000011010010 35:000011010011 36:000011010100 37:000011010101 38:000011010110 39:000011010111
		40:000001101100 41:000001101101 42:000011011010 43:000011011011 44:000001010100 45:000001010101 46:000001010110 47:000001010111
		48:000001100100 49:000001100101 50:000001010010 51:000001010011 52:000000100100 53:000000110111 54:000000111000 55:000000100111
		56:000000101000 57:000001011000 58:000001011001 59:000000101011 60:000000101100 61:000001011010 62:000001100110 63:000001100111
		64:0000001111 128:000011001000 192:000011001001 256:000001011011 320:000000110011 384:000000110100 448:000000110101 512:0000001101100
		576:0000001101101 640:0000001001010 704:0000001001011 768:0000001001100 832:0000001001101 896:0000001110010 960:0000001110011 1024:0000001110100
		1088:0000001110101 1152:0000001110110 1216:0000001110111 1280:0000001010010 1344:0000001010011 1408:0000001010100 1472:0000001010101 1536:0000001011010
		1600:0000001011011 1664:0000001100100 1728:0000001100101`)
	sharedMakeup = parseCodes(`
		1792:00000001000 1856:00000001100 1920:00000001101 1984:000000010010 2048:000000010011 2112:000000010100
		2176:000000010101 2240:000000010110 2304:000000010111 2368:000000011100 2432:000000011101 2496:000000011110
		2560:000000011111`)
)

// The mode codes of T.4 table 4.
var (
	codePass       = code{0b0001, 4}
	codeHorizontal = code{0b001, 3}
	// codeVertical[d+3] codes a1 - b1 = d, for d in -3..3.
	codeVertical = [7]code{{0b0000010, 7}, {0b000010, 6}, {0b010, 3}, {0b1, 1}, {0b011, 3}, {0b000011, 6}, {0b0000011, 7}}
	codeEOL      = code{0b000000000001, 12}
)

// bitWriter packs codes into bytes, first bit highest.
type bitWriter struct {
	buf   bytes.Buffer
	acc   uint64
	nbits uint
}

func (w *bitWriter) put(c code) {
	w.acc = w.acc<<c.n | uint64(c.bits)
	w.nbits += uint(c.n)
	for w.nbits >= 8 {
		w.nbits -= 8
		w.buf.WriteByte(byte(w.acc >> w.nbits))
	}
}

func (w *bitWriter) bytes() []byte {
	if w.nbits > 0 {
		w.buf.WriteByte(byte(w.acc << (8 - w.nbits)))
		w.nbits = 0
	}
	return w.buf.Bytes()
}

// putRun writes a run of n pixels of one colour: make-up codes, then the
// terminating code.
func (w *bitWriter) putRun(n int, black bool) {
	table := whiteCodes
	if black {
		table = blackCodes
	}
	for n >= 2560 {
		w.put(sharedMakeup[2560])
		n -= 2560
	}
	if n >= 64 {
		m := n &^ 63
		if m >= 1792 {
			w.put(sharedMakeup[m])
		} else {
			w.put(table[m])
		}
		n -= m
	}
	w.put(table[n])
}

// nextChange returns the first position at or after from where row is not
// colour c, or len(row).
func nextChange(row []bool, from int, c bool) int {
	for from < len(row) && row[from] == c {
		from++
	}
	return from
}

// encodeG4 codes a bilevel page (0 black, anything else white) with
// CCITT Group 4, ending with the end-of-facsimile-block code.
func encodeG4(img *image.Gray) []byte {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	ref := make([]bool, w) // the imaginary row above the first: all white
	cur := make([]bool, w)
	var out bitWriter
	for y := 0; y < h; y++ {
		row := img.Pix[y*img.Stride : y*img.Stride+w]
		for x, v := range row {
			cur[x] = v < 128
		}
		encodeRow(&out, cur, ref)
		ref, cur = cur, ref
	}
	out.put(codeEOL)
	out.put(codeEOL)
	return out.bytes()
}

// encodeRow codes one row against the row above it (T.6, 2.2). a0 starts
// on an imaginary white pixel before the row; a1, a2 are the next changes
// on this row, b1 the first change on the reference row to the right of
// a0 to the opposite colour of a0's, and b2 the change after it.
func encodeRow(out *bitWriter, cur, ref []bool) {
	w := len(cur)
	a0, color := -1, false
	for a0 < w {
		start := max(a0, 0)
		a1 := nextChange(cur, start, color)
		// b1: skip what is of the opposite colour at a0, then a0's colour.
		b1 := nextChange(ref, nextChange(ref, start, !color), color)
		if a0 < 0 {
			b1 = nextChange(ref, 0, false) // the first black on the row above
		}
		b2 := w
		if b1 < w {
			b2 = nextChange(ref, b1, ref[b1])
		}
		switch {
		case b2 < a1:
			out.put(codePass)
			a0 = b2
		case a1-b1 >= -3 && a1-b1 <= 3:
			out.put(codeVertical[a1-b1+3])
			a0, color = a1, !color
		default:
			a2 := w
			if a1 < w {
				a2 = nextChange(cur, a1, !color)
			}
			out.put(codeHorizontal)
			out.putRun(a1-start, color)
			out.putRun(a2-a1, !color)
			a0 = a2
		}
	}
}
