package scanner

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
)

// WritePDF writes pages as a PDF 1.4 document, one image per page, each
// page the size of its scan (an A4 scan makes an A4 page).
//
// The subset written here is small: a catalog, a page tree, and per page a
// content stream that draws one image XObject. It is written by hand rather
// than with a PDF library because it must pass the compressed image bytes
// through untouched (JPEG, CCITT Group 4, grey Flate), which is all a
// scan needs; poppler's pdfinfo, pdfimages and pdftoppm check it in the
// tests.
func WritePDF(w io.Writer, pages []Encoded) error {
	if len(pages) == 0 {
		return errors.New("write pdf: no pages")
	}
	pw := &pdfWriter{w: bufio.NewWriter(w)}
	// Objects: 1 catalog, 2 page tree, 3 info, then per page i: 4+3i page,
	// 5+3i content, 6+3i image.
	nobj := 3 + 3*len(pages)
	pw.offsets = make([]int64, nobj+1)

	pw.printf("%%PDF-1.4\n%%\xe2\xe3\xcf\xd3\n")
	pw.obj(1, "<< /Type /Catalog /Pages 2 0 R >>")
	kids := make([]byte, 0, 8*len(pages))
	for i := range pages {
		kids = fmt.Appendf(kids, "%d 0 R ", 4+3*i)
	}
	pw.obj(2, fmt.Sprintf("<< /Type /Pages /Count %d /Kids [ %s] >>", len(pages), kids))
	pw.obj(3, "<< /Producer (motcua) /Creator (motcua scanner) >>")
	for i, p := range pages {
		if p.Width <= 0 || p.Height <= 0 || p.DPI <= 0 || len(p.Data) == 0 {
			return fmt.Errorf("write pdf: page %d is empty", i+1)
		}
		if p.Filter != "DCTDecode" && p.Filter != "FlateDecode" && p.Filter != "CCITTFaxDecode" {
			return fmt.Errorf("write pdf: page %d: unknown filter %q", i+1, p.Filter)
		}
		page, content, img := 4+3*i, 5+3*i, 6+3*i
		wpt := float64(p.Width) * 72 / float64(p.DPI)
		hpt := float64(p.Height) * 72 / float64(p.DPI)
		pw.obj(page, fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %s %s] /Resources << /XObject << /Im0 %d 0 R >> >> /Contents %d 0 R >>",
			num(wpt), num(hpt), img, content))
		draw := fmt.Sprintf("q %s 0 0 %s 0 0 cm /Im0 Do Q\n", num(wpt), num(hpt))
		pw.stream(content, "", []byte(draw))
		dict := fmt.Sprintf("/Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray /BitsPerComponent %d /Filter /%s",
			p.Width, p.Height, p.BitsPerComponent, p.Filter)
		if p.Filter == "CCITTFaxDecode" {
			// Group 4, ending with its end-of-block code; 0 is black.
			dict += fmt.Sprintf(" /DecodeParms << /K -1 /Columns %d /Rows %d >>", p.Width, p.Height)
		}
		if p.Predictor != 0 {
			dict += fmt.Sprintf(" /DecodeParms << /Predictor %d /Colors 1 /BitsPerComponent %d /Columns %d >>",
				p.Predictor, p.BitsPerComponent, p.Width)
		}
		pw.stream(img, dict, p.Data)
	}
	xref := pw.n
	pw.printf("xref\n0 %d\n0000000000 65535 f \n", nobj+1)
	for i := 1; i <= nobj; i++ {
		pw.printf("%010d 00000 n \n", pw.offsets[i])
	}
	pw.printf("trailer\n<< /Size %d /Root 1 0 R /Info 3 0 R >>\nstartxref\n%d\n%%%%EOF\n", nobj+1, xref)
	if pw.err != nil {
		return fmt.Errorf("write pdf: %w", pw.err)
	}
	if err := pw.w.Flush(); err != nil {
		return fmt.Errorf("write pdf: %w", err)
	}
	return nil
}

// num formats a PDF real with at most two decimals.
func num(v float64) string { return strconv.FormatFloat(math.Round(v*100)/100, 'f', -1, 64) }

// pdfWriter counts the bytes it writes, for the cross-reference table, and
// keeps the first error.
type pdfWriter struct {
	w       *bufio.Writer
	n       int64
	offsets []int64
	err     error
}

func (p *pdfWriter) write(b []byte) {
	if p.err != nil {
		return
	}
	n, err := p.w.Write(b)
	p.n += int64(n)
	p.err = err
}

func (p *pdfWriter) printf(format string, args ...any) {
	p.write(fmt.Appendf(nil, format, args...))
}

func (p *pdfWriter) obj(id int, body string) {
	p.offsets[id] = p.n
	p.printf("%d 0 obj\n%s\nendobj\n", id, body)
}

func (p *pdfWriter) stream(id int, dict string, data []byte) {
	p.offsets[id] = p.n
	p.printf("%d 0 obj\n<< %s /Length %d >>\nstream\n", id, dict, len(data))
	p.write(data)
	p.printf("\nendstream\nendobj\n")
}
