package scanner_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/draw"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/motcua/motcua/devices/scanner"
	"github.com/motcua/motcua/devices/scanner/scantest"
)

// poppler runs one of poppler-utils' commands and returns its output.
func poppler(t testing.TB, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
	return string(out)
}

// render draws page n of a PDF at dpi with poppler's pdftoppm, as a reader
// of the attachment will see it.
func render(t testing.TB, pdf string, n, dpi int) *image.Gray {
	t.Helper()
	prefix := filepath.Join(t.TempDir(), "page")
	poppler(t, "pdftoppm", "-gray", "-png", "-r", strconv.Itoa(dpi), "-f", strconv.Itoa(n), "-l", strconv.Itoa(n), "-singlefile", pdf, prefix)
	return readPNG(t, prefix+".png")
}

// readPNG reads a PNG as grey.
func readPNG(t testing.TB, name string) *image.Gray {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	// poppler's grey PNGs may come with alpha: draw onto grey.
	g := image.NewGray(image.Rect(0, 0, img.Bounds().Dx(), img.Bounds().Dy()))
	draw.Draw(g, g.Rect, img, img.Bounds().Min, draw.Src)
	return g
}

func textPage(t testing.TB, seed int64) scanner.Page {
	t.Helper()
	clean, err := scantest.RenderPage(scantest.Text, 200, 11)
	if err != nil {
		t.Fatal(err)
	}
	return scanner.Page{Image: scantest.Degrade(clean, seed), DPI: 200}
}

// TestPDFReadsBack assembles a scan of three pages (a simulated scanner's
// grid, two dense text pages and a sparse one, in both modes) and checks the PDF with poppler:
// page count, A4 page size, the images as encoded, and each page drawn
// back the same as it was compressed.
func TestPDFReadsBack(t *testing.T) {
	s := simScanner(t)
	grid, err := scanner.New(s.Config(scanner.Config{})).Scan(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	sparse, err := scantest.RenderPage("Giấy xác nhận\n\nSố 12/2026", 200, 11)
	if err != nil {
		t.Fatal(err)
	}
	pages := []scanner.Page{grid[0], textPage(t, 1), textPage(t, 2), {Image: scantest.Degrade(sparse, 4), DPI: 200}}
	for _, mode := range []scanner.Mode{scanner.Gray, scanner.Bilevel} {
		doc, err := scanner.Assemble(pages, mode, 0)
		if err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(t.TempDir(), "scan.pdf")
		if err := os.WriteFile(file, doc.PDF, 0o644); err != nil {
			t.Fatal(err)
		}
		info := poppler(t, "pdfinfo", file)
		if !strings.Contains(info, "Pages:           4\n") {
			t.Fatalf("%s: pdfinfo:\n%s", mode, info)
		}
		if !regexp.MustCompile(`Page size:\s+59[45]\.\d+ x 84[12]\.\d+ pts \(A4\)`).MatchString(info) {
			t.Errorf("%s: pages are not A4:\n%s", mode, info)
		}
		list := poppler(t, "pdfimages", "-list", file)
		rows := strings.Split(strings.TrimSpace(list), "\n")[2:]
		if len(rows) != 4 {
			t.Fatalf("%s: pdfimages lists %d images:\n%s", mode, len(rows), list)
		}
		for i, row := range rows {
			f := strings.Fields(row)
			e := doc.Pages[i]
			// page num type width height color comp bpc enc
			want := []string{strconv.Itoa(i + 1), strconv.Itoa(i), "image", strconv.Itoa(e.Width), strconv.Itoa(e.Height), "gray", "1", strconv.Itoa(e.BitsPerComponent)}
			if got := f[:8]; fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("%s: page %d image %v, want %v (%s)", mode, i+1, got, want, e.How)
			}
			if wantEnc := map[string]string{"DCTDecode": "jpeg", "CCITTFaxDecode": "ccitt", "FlateDecode": "image"}[e.Filter]; f[8] != wantEnc {
				t.Errorf("%s: page %d: %s stored as %s, want %s", mode, i+1, e.Filter, f[8], wantEnc)
			}
			if len(e.Data) > scanner.DefaultPageBudget {
				t.Errorf("%s: page %d: %d bytes (%s), over budget", mode, i+1, len(e.Data), e.How)
			}
		}
		// Taken out of the PDF by poppler, a lossless page is pixel for
		// pixel what was encoded, and a JPEG one close to it.
		prefix := filepath.Join(t.TempDir(), "img")
		poppler(t, "pdfimages", "-png", file, prefix)
		for i, e := range doc.Pages {
			got := readPNG(t, fmt.Sprintf("%s-%03d.png", prefix, i))
			want := decodeEncoded(t, e)
			if got.Rect != want.Rect {
				t.Fatalf("%s: page %d image %v, encoded %v", mode, i+1, got.Rect, want.Rect)
			}
			var diff int
			for j := range got.Pix {
				diff += absInt(int(got.Pix[j]) - int(want.Pix[j]))
			}
			mean := float64(diff) / float64(len(got.Pix))
			limit := 0.0
			if e.Filter == "DCTDecode" {
				limit = 2
			}
			if mean > limit {
				t.Errorf("%s: page %d (%s) read back differs by %.2f grey levels on average", mode, i+1, e.How, mean)
			}
		}
		var hows []string
		for _, e := range doc.Pages {
			hows = append(hows, e.How)
		}
		t.Logf("%s: %d bytes for 4 pages: %s", mode, len(doc.PDF), strings.Join(hows, ", "))
	}
}

// decodeEncoded decodes a compressed page as the scanner encoded it,
// without the PDF, to compare with what poppler takes out of the PDF.
func decodeEncoded(t *testing.T, e scanner.Encoded) *image.Gray {
	t.Helper()
	img, err := scanner.DecodeEncoded(e)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func absInt(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

func TestWritePDFRefusesBadPages(t *testing.T) {
	var buf bytes.Buffer
	if err := scanner.WritePDF(&buf, nil); err == nil {
		t.Error("a PDF of no pages was written")
	}
	if err := scanner.WritePDF(&buf, []scanner.Encoded{{Width: 10, Height: 10, DPI: 200, Filter: "LZWDecode", BitsPerComponent: 8, Data: []byte{1}}}); err == nil {
		t.Error("a page with an unknown filter was written")
	}
	if err := scanner.WritePDF(&buf, []scanner.Encoded{{Width: 10, Height: 10, DPI: 200, Filter: "DCTDecode", BitsPerComponent: 8}}); err == nil {
		t.Error("a page with no data was written")
	}
}

// TestLegibility is the scanner's promise: an A4 page of Vietnamese text,
// scanned at 200 dpi and compressed to at most 80 KB in either mode, reads
// back (through the PDF, as the portal's officer sees it) with OCR
// character accuracy within 2 points of the uncompressed scan.
func TestLegibility(t *testing.T) {
	for _, r := range legibility(t) {
		t.Logf("%-7s %6d bytes (%s): OCR %.1f%%, uncompressed scan %.1f%%", r.mode, r.bytes, r.how, 100*r.acc, 100*r.base)
		if r.bytes > scanner.DefaultPageBudget {
			t.Errorf("%s: %d bytes, over %d", r.mode, r.bytes, scanner.DefaultPageBudget)
		}
		if r.acc < r.base-0.02 {
			t.Errorf("%s: OCR accuracy %.1f%%, more than 2 points under the uncompressed scan's %.1f%%", r.mode, 100*r.acc, 100*r.base)
		}
	}
}

type legibilityResult struct {
	mode      scanner.Mode
	how       string
	bytes     int
	acc, base float64
}

func legibility(t testing.TB) []legibilityResult {
	ctx := context.Background()
	page := textPage(t, 7)
	raw, err := scantest.OCR(ctx, page.Image, "vie", page.DPI)
	if err != nil {
		t.Fatal(err)
	}
	base := scantest.Accuracy(scantest.Text, raw)
	var out []legibilityResult
	for _, mode := range []scanner.Mode{scanner.Gray, scanner.Bilevel} {
		doc, err := scanner.Assemble([]scanner.Page{page}, mode, 0)
		if err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(t.TempDir(), "page.pdf")
		if err := os.WriteFile(file, doc.PDF, 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := scantest.OCR(ctx, render(t, file, 1, 200), "vie", 200)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, legibilityResult{mode, doc.Pages[0].How, len(doc.Pages[0].Data), scantest.Accuracy(scantest.Text, got), base})
	}
	return out
}
