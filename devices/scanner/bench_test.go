package scanner_test

import (
	"context"
	"testing"

	"github.com/motcua/motcua/agent/device"
	"github.com/motcua/motcua/devices/scanner"
)

// BenchmarkCompress compresses a scanned A4 page of Vietnamese text (200
// dpi, blurred and noised like a flatbed scan) in each mode.
func BenchmarkCompress(b *testing.B) {
	page := textPage(b, 7)
	for _, mode := range []scanner.Mode{scanner.Gray, scanner.Bilevel} {
		b.Run(string(mode), func(b *testing.B) {
			var e scanner.Encoded
			for b.Loop() {
				var err error
				if e, err = scanner.Compress(page, mode, 0); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(e.Data)), "bytes/page")
		})
	}
}

// BenchmarkLegibility reports the size and OCR character accuracy of the
// text page compressed in each mode and read back through the PDF, beside
// the accuracy of the uncompressed scan.
func BenchmarkLegibility(b *testing.B) {
	for b.Loop() {
		for _, r := range legibility(b) {
			b.ReportMetric(float64(r.bytes), string(r.mode)+"-bytes/page")
			b.ReportMetric(100*r.acc, string(r.mode)+"-ocr-%")
			b.ReportMetric(100*r.base, "raw-ocr-%")
		}
	}
}

// BenchmarkScan scans one A4 page at 200 dpi in grey from SANE's test
// backend with the real scanimage, and assembles the PDF.
func BenchmarkScan(b *testing.B) {
	s := simScanner(b)
	sc := scanner.New(s.Config(scanner.Config{}))
	var doc device.Document
	for b.Loop() {
		var err error
		if doc, err = sc.ScanDocument(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(doc.PDF)), "pdf-bytes")
}
