package scanner_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/motcua/motcua/agent/device"
	"github.com/motcua/motcua/agent/i18n"
	"github.com/motcua/motcua/agent/status"
	"github.com/motcua/motcua/devices/scanner"
	"github.com/motcua/motcua/devices/sim"
)

// These tests run the real scanimage against SANE's test backend.

func needScanimage(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("scanimage"); err != nil {
		t.Fatalf("scanimage is not installed (packaging/install-deps.sh installs sane-utils): %v", err)
	}
}

func simScanner(t testing.TB) *sim.Scanner {
	t.Helper()
	needScanimage(t)
	s, err := sim.NewScanner(filepath.Join(t.TempDir(), "sane"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestDevicesListsTheSimulator(t *testing.T) {
	s := simScanner(t)
	devs, err := scanner.New(scanner.Config{Env: s.Env()}).Devices(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(devs) != 1 || devs[0].Name != sim.SimDevice || devs[0].Type == "" {
		t.Fatalf("devices = %+v, want one %s", devs, sim.SimDevice)
	}
}

func TestNoScanner(t *testing.T) {
	needScanimage(t)
	empty := t.TempDir()
	if err := os.WriteFile(filepath.Join(empty, "dll.conf"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	env := []string{"SANE_CONFIG_DIR=" + empty}
	ctx := context.Background()
	devs, err := scanner.New(scanner.Config{Env: env}).Devices(ctx)
	if err != nil || len(devs) != 0 {
		t.Fatalf("Devices = %v, %v; want none, no error", devs, err)
	}
	_, err = scanner.New(scanner.Config{Env: env}).Scan(ctx)
	if !errors.Is(err, scanner.ErrNoScanner) {
		t.Fatalf("Scan with no scanner: %v, want ErrNoScanner", err)
	}
	_, err = scanner.New(scanner.Config{Env: env, Device: "epson2:libusb:001:009"}).Scan(ctx)
	if !errors.Is(err, scanner.ErrNoScanner) || !strings.Contains(err.Error(), "epson2:libusb:001:009") {
		t.Fatalf("Scan of a missing named scanner: %v, want ErrNoScanner naming it", err)
	}
	var ie *i18n.Error
	if !errors.As(err, &ie) || !strings.Contains(ie.Msg.VI, "máy quét") {
		t.Fatalf("error %v carries no Vietnamese message", err)
	}
	_, err = scanner.New(scanner.Config{Command: "no-such-scanimage"}).Devices(ctx)
	if !errors.Is(err, scanner.ErrNotInstalled) {
		t.Fatalf("Devices without scanimage: %v, want ErrNotInstalled", err)
	}
}

func TestScanRefusesBadConfig(t *testing.T) {
	s := simScanner(t)
	cfg := s.Config(scanner.Config{Source: "tray"})
	if _, err := scanner.New(cfg).Scan(context.Background()); err == nil || !strings.Contains(err.Error(), `source "tray"`) {
		t.Errorf("source tray: %v, want an error naming it", err)
	}
	// A timeout already spent (a caller's deadline passed) falls back to
	// the default rather than stopping the scan before it starts.
	cfg = s.Config(scanner.Config{Timeout: -time.Second, Resolution: 75})
	if _, err := scanner.New(cfg).Scan(context.Background()); err != nil {
		t.Errorf("negative timeout: %v", err)
	}
}

func TestScanFlatbedA4(t *testing.T) {
	s := simScanner(t)
	pages, err := scanner.New(s.Config(scanner.Config{})).Scan(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(pages) != 1 {
		t.Fatalf("%d pages from the glass, want 1", len(pages))
	}
	p := pages[0]
	// A4 at 200 dpi is 1654 x 2339; SANE rounds the area down a pixel.
	w, h := p.Image.Rect.Dx(), p.Image.Rect.Dy()
	if p.DPI != 200 || w < 1650 || w > 1655 || h < 2335 || h > 2340 {
		t.Fatalf("page %dx%d at %d dpi, want A4 at 200 dpi", w, h, p.DPI)
	}
	// The test backend's grid: half black, half white.
	black := 0
	for _, v := range p.Image.Pix {
		if v < 128 {
			black++
		}
	}
	if share := float64(black) / float64(len(p.Image.Pix)); share < 0.4 || share > 0.6 {
		t.Fatalf("black share %.2f, want the grid's half", share)
	}
}

func TestScanFeeder(t *testing.T) {
	s := simScanner(t)
	ctx := context.Background()
	// The test backend's feeder holds ten pages.
	for _, source := range []string{scanner.SourceADF, scanner.SourceAuto} {
		cfg := s.Config(scanner.Config{Resolution: 75})
		cfg.Source = source
		pages, err := scanner.New(cfg).Scan(ctx)
		if err != nil {
			t.Fatalf("source %q: %v", source, err)
		}
		if len(pages) != 10 {
			t.Fatalf("source %q: %d pages, want the feeder's 10", source, len(pages))
		}
		cfg.MaxPages = 3
		if pages, err = scanner.New(cfg).Scan(ctx); err != nil || len(pages) != 3 {
			t.Fatalf("source %q, at most 3 pages: %d pages, %v", source, len(pages), err)
		}
	}
}

// scanFaulty scans from the simulated scanner while it is set to fail.
// SANE's test backend reads a page on a second thread, and when a read
// fails the two threads have been seen to deadlock (both waiting on a
// futex; about once in 30 failing scans on a loaded machine): the
// simulator hangs, not the fault. The scanner's watchdog turns that into
// ErrTimeout, and the scan is tried again, up to three times in all.
func scanFaulty(t *testing.T, cfg scanner.Config) ([]scanner.Page, error) {
	t.Helper()
	var pages []scanner.Page
	var err error
	for try := 1; try <= 3; try++ {
		pages, err = scanner.New(cfg).Scan(context.Background())
		if !errors.Is(err, scanner.ErrTimeout) {
			break
		}
		t.Logf("the simulated scanner hung (try %d): %v", try, err)
	}
	return pages, err
}

func TestScanFaults(t *testing.T) {
	tests := []struct {
		fault  string
		source string
		want   error
	}{
		{sim.FaultJammed, scanner.SourceFlatbed, scanner.ErrJammed},
		{sim.FaultJammed, scanner.SourceADF, scanner.ErrJammed},
		{sim.FaultCoverOpen, scanner.SourceFlatbed, scanner.ErrCoverOpen},
		{sim.FaultNoDocs, scanner.SourceADF, scanner.ErrNoDocuments},
		// An empty feeder sends auto to the glass, which here fails too.
		{sim.FaultNoDocs, scanner.SourceAuto, scanner.ErrNoDocuments},
		{sim.FaultIO, scanner.SourceFlatbed, scanner.ErrIO},
	}
	s := simScanner(t)
	for _, tt := range tests {
		if err := s.SetFault(tt.fault); err != nil {
			t.Fatal(err)
		}
		cfg := s.Config(scanner.Config{Resolution: 75, Timeout: 5 * time.Second})
		cfg.Source = tt.source
		pages, err := scanFaulty(t, cfg)
		if !errors.Is(err, tt.want) {
			t.Errorf("%s from %q: %d pages, err %v; want %v", tt.fault, tt.source, len(pages), err, tt.want)
			continue
		}
		var ie *i18n.Error
		if !errors.As(err, &ie) || ie.Msg.VI == "" {
			t.Errorf("%s: %v has no Vietnamese message", tt.fault, err)
		}
	}
	// Cleared, it scans again.
	if err := s.SetFault(sim.FaultNone); err != nil {
		t.Fatal(err)
	}
	if _, err := scanner.New(s.Config(scanner.Config{Resolution: 75})).Scan(context.Background()); err != nil {
		t.Fatalf("after the fault is cleared: %v", err)
	}
}

// TestScanNeverHangs: a scanner that stops answering is given up on at the
// timeout, not waited for.
func TestScanNeverHangs(t *testing.T) {
	s := simScanner(t)
	conf := filepath.Join(strings.TrimPrefix(s.Env()[0], "SANE_CONFIG_DIR="), "test.conf")
	b, err := os.ReadFile(conf)
	if err != nil {
		t.Fatal(err)
	}
	// 200 ms after each buffer: a page takes minutes.
	b = append(b, "read-delay true\nread-delay-duration 200000\nread-limit true\nread-limit-size 1\n"...)
	if err := os.WriteFile(conf, b, 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := s.Config(scanner.Config{Timeout: 2 * time.Second})
	start := time.Now()
	_, err = scanner.New(cfg).Scan(context.Background())
	if !errors.Is(err, scanner.ErrTimeout) {
		t.Fatalf("a wedged scan: %v, want ErrTimeout", err)
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Fatalf("a wedged scan took %v to give up", d)
	}
}

// TestLongBatchIsNotCutWhilePagesComeIn: the watchdog's timeout bounds
// the wait for each page, not the whole batch. Here each page takes about
// 0.7 s and five of them 3.5 s, longer than the 2 s timeout: the lines
// scanimage prints for each page keep it going.
func TestLongBatchIsNotCutWhilePagesComeIn(t *testing.T) {
	s := simScanner(t)
	conf := filepath.Join(strings.TrimPrefix(s.Env()[0], "SANE_CONFIG_DIR="), "test.conf")
	b, err := os.ReadFile(conf)
	if err != nil {
		t.Fatal(err)
	}
	// 40 ms per 32 KB: a 75 dpi A4 page (530 KB) in about 0.7 s.
	b = append(b, "read-delay true\nread-delay-duration 40000\nread-limit true\nread-limit-size 32768\n"...)
	if err := os.WriteFile(conf, b, 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := s.Config(scanner.Config{Resolution: 75, Timeout: 2 * time.Second, MaxPages: 5})
	cfg.Source = scanner.SourceADF
	start := time.Now()
	pages, err := scanner.New(cfg).Scan(context.Background())
	if err != nil || len(pages) != 5 {
		t.Fatalf("%d pages in %v, err %v; want 5, no error", len(pages), time.Since(start), err)
	}
	if d := time.Since(start); d <= cfg.Timeout {
		t.Fatalf("the batch took %v, not longer than the timeout: the simulated scanner's delay was not applied", d)
	}
}

// TestJamMidBatchKeepsEarlierPages uses a stand-in for scanimage (a shell
// script) because SANE's test backend fails every page alike: here two
// pages come through, then the feeder jams.
func TestJamMidBatchKeepsEarlierPages(t *testing.T) {
	dir := t.TempDir()
	page := filepath.Join(dir, "page.png")
	img := image.NewGray(image.Rect(0, 0, 40, 60))
	f, err := os.Create(page)
	if err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
	f.Close()
	script := `#!/bin/sh
for a in "$@"; do
  case "$a" in
  --all-options) printf '  Scan Mode:\n    --mode Gray|Color [Gray]\n    --resolution 75|150|300dpi [150]\n    --source Flatbed|ADF [Flatbed]\n  Geometry:\n    -x 0..215.9mm [215.9]\n    -y 0..297.2mm [297.2]\n'; exit 0;;
  --batch=*) pat="${a#--batch=}";;
  esac
done
for n in 1 2; do cp ` + page + ` "$(printf "$pat" $n)"; done
head -c 30 ` + page + ` > "$(printf "$pat" 3)"
echo "scanimage: sane_read: Document feeder jammed" >&2
exit 6
`
	cmd := filepath.Join(dir, "scanimage")
	if err := os.WriteFile(cmd, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := scanner.Config{Command: cmd, Device: "fake:0", Source: scanner.SourceADF}
	pages, err := scanner.New(cfg).Scan(context.Background())
	if !errors.Is(err, scanner.ErrJammed) {
		t.Fatalf("err = %v, want ErrJammed", err)
	}
	if len(pages) != 2 || !strings.Contains(err.Error(), "after 2 page(s)") {
		t.Fatalf("%d pages kept, err %v; want the 2 before the jam, named", len(pages), err)
	}
	// 300 dpi is the lowest supported resolution at or above 200.
	if pages[0].DPI != 300 {
		t.Fatalf("page at %d dpi, want 300", pages[0].DPI)
	}
}

// TestScanDocument is the agent's view of the scanner (device.Scanner):
// one PDF of every page the feeder holds.
func TestScanDocument(t *testing.T) {
	s := simScanner(t)
	cfg := s.Config(scanner.Config{Mode: scanner.Bilevel, Resolution: 100})
	cfg.Source = scanner.SourceADF
	var sc device.Scanner = scanner.New(cfg)
	doc, err := sc.ScanDocument(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if doc.Pages != 10 || !bytes.HasPrefix(doc.PDF, []byte("%PDF-1.4\n")) || !bytes.HasSuffix(doc.PDF, []byte("%%EOF\n")) {
		t.Fatalf("%d pages, PDF %q...", doc.Pages, doc.PDF[:min(len(doc.PDF), 16)])
	}
	if err := s.SetFault(sim.FaultCoverOpen); err != nil {
		t.Fatal(err)
	}
	cfg.Timeout = 5 * time.Second
	if _, err := scanFaulty(t, cfg); !errors.Is(err, scanner.ErrCoverOpen) {
		t.Fatalf("with the cover open: %v", err)
	}
}

// TestScanDocumentKeepsPagesScannedBeforeAJam: the real scanimage and the
// test backend, whose feeder jams after two pages. ScanDocument used to
// drop the two pages with the error; now they come back as the Document,
// with a ScanStoppedError naming the jam, and each page was reported as
// it came in.
func TestScanDocumentKeepsPagesScannedBeforeAJam(t *testing.T) {
	s := simScanner(t)
	if err := s.SetJamAfter(2); err != nil {
		t.Fatal(err)
	}
	hub := status.NewHub()
	cfg := s.Config(scanner.Config{Resolution: 75, Timeout: 5 * time.Second, Status: hub})
	cfg.Source = scanner.SourceADF
	var sc device.ProgressScanner = scanner.New(cfg)
	var progress []int
	var doc device.Document
	var err error
	// The failing read may hang the test backend (see scanFaulty): tried
	// again, up to three times.
	for try := 1; try <= 3; try++ {
		progress = nil
		doc, err = sc.ScanDocumentProgress(context.Background(), func(n int) { progress = append(progress, n) })
		if !errors.Is(err, scanner.ErrTimeout) {
			break
		}
		t.Logf("the simulated scanner hung (try %d): %v", try, err)
	}
	if !errors.Is(err, scanner.ErrJammed) {
		t.Fatalf("err = %v, want ErrJammed", err)
	}
	var stopped *device.ScanStoppedError
	if !errors.As(err, &stopped) || stopped.Pages != 2 {
		t.Fatalf("err = %#v, want a ScanStoppedError after 2 pages", err)
	}
	var ie *i18n.Error
	if !errors.As(err, &ie) || ie.Code != "scanner_jammed" {
		t.Fatalf("err = %v: no jam message for the screen", err)
	}
	if doc.Pages != 2 || !bytes.HasPrefix(doc.PDF, []byte("%PDF-1.4\n")) || bytes.Count(doc.PDF, []byte("/Type /Page ")) != 2 {
		t.Fatalf("document after the jam: %d pages, %d bytes of PDF; want the 2 pages before it", doc.Pages, len(doc.PDF))
	}
	if !slices.Equal(progress, []int{1, 2}) {
		t.Fatalf("pages reported %v, want [1 2]", progress)
	}
	wantDev := status.Device{Kind: status.Scanner, Name: sim.SimDevice, Connected: true, Problem: scanner.ErrJammed.Msg}
	if devs := hub.Snapshot().Devices; !reflect.DeepEqual(devs, []status.Device{wantDev}) {
		t.Fatalf("status after the jam %+v, want %+v", devs, wantDev)
	}

	// Cleared, the feeder gives its ten pages, each reported.
	if err := s.SetJamAfter(0); err != nil {
		t.Fatal(err)
	}
	progress = nil
	doc, err = sc.ScanDocumentProgress(context.Background(), func(n int) { progress = append(progress, n) })
	if err != nil || doc.Pages != 10 || len(progress) != 10 || progress[9] != 10 {
		t.Fatalf("after the jam is cleared: %d pages, reported %v, err %v", doc.Pages, progress, err)
	}
	wantDev.Problem = i18n.Text{}
	if devs := hub.Snapshot().Devices; !reflect.DeepEqual(devs, []status.Device{wantDev}) {
		t.Fatalf("status after a good scan %+v, want %+v", devs, wantDev)
	}
}

// TestJamBeforeAnyPageIsAPlainError: nothing scanned, nothing to keep.
func TestJamBeforeAnyPageIsAPlainError(t *testing.T) {
	s := simScanner(t)
	if err := s.SetFault(sim.FaultJammed); err != nil {
		t.Fatal(err)
	}
	cfg := s.Config(scanner.Config{Resolution: 75, Timeout: 5 * time.Second})
	cfg.Source = scanner.SourceADF
	var doc device.Document
	var err error
	for try := 1; try <= 3; try++ {
		doc, err = scanner.New(cfg).ScanDocument(context.Background())
		if !errors.Is(err, scanner.ErrTimeout) {
			break
		}
	}
	var stopped *device.ScanStoppedError
	if !errors.Is(err, scanner.ErrJammed) || errors.As(err, &stopped) || doc.Pages != 0 || doc.PDF != nil {
		t.Fatalf("a jam at the first page: %d pages, err %v; want no pages and ErrJammed", doc.Pages, err)
	}
}

func TestDeviceStatus(t *testing.T) {
	sc := scanner.New(scanner.Config{Device: "epson2:libusb:001:004"})
	tests := []struct {
		err       error
		connected bool
		problem   i18n.Text
	}{
		{nil, true, i18n.Text{}},
		{fmt.Errorf("scan: %w", scanner.ErrNoDocuments), true, i18n.Text{}},
		{fmt.Errorf("scan: after 2 page(s): %w", scanner.ErrJammed), true, scanner.ErrJammed.Msg},
		{&device.ScanStoppedError{Pages: 1, Err: scanner.ErrCoverOpen}, true, scanner.ErrCoverOpen.Msg},
		{fmt.Errorf("scan: %w", scanner.ErrNoScanner), false, scanner.ErrNoScanner.Msg},
		{scanner.ErrNotInstalled, false, scanner.ErrNotInstalled.Msg},
		{fmt.Errorf("scanimage: %w", scanner.ErrIO), false, scanner.ErrIO.Msg},
		{errors.New("scanimage: exit status 42"), true, scanner.ErrUnknown.Msg},
	}
	for _, tt := range tests {
		got := sc.DeviceStatus(tt.err)
		want := status.Device{Kind: status.Scanner, Name: "epson2:libusb:001:004", Connected: tt.connected, Problem: tt.problem}
		if got != want {
			t.Errorf("DeviceStatus(%v) = %+v, want %+v", tt.err, got, want)
		}
	}
}
