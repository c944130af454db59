// Package scanner scans paper evidence through SANE's scanimage (Debian
// sane-utils) and turns the pages into one small PDF attachment.
//
// Pages are scanned in grayscale at 200 dpi, from the automatic document
// feeder when the device has one and it holds paper, else from the flatbed.
// Each page is then cleaned (the paper made white) and compressed to a
// budget, 80 KB for an A4 text page by default: bilevel with CCITT Group 4,
// or grey (4- or 2-bit Flate for text, JPEG for photographs). SANE's test backend is the simulated scanner (see
// devices/sim).
//
// A missing scanner, a paper jam, an open cover or an empty feeder are
// sentinel errors carrying a bilingual message that staff and citizens can
// act on.
package scanner

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/motcua/motcua/agent/device"
	"github.com/motcua/motcua/agent/i18n"
	"github.com/motcua/motcua/agent/status"
)

// Mode is how pages are kept: grayscale, or bilevel (black and white).
type Mode string

// The modes.
const (
	Gray    Mode = "gray"
	Bilevel Mode = "bilevel"
)

// ParseMode parses "gray" or "bilevel".
func ParseMode(s string) (Mode, error) {
	switch m := Mode(strings.ToLower(strings.TrimSpace(s))); m {
	case Gray, Bilevel:
		return m, nil
	case "grey", "grayscale":
		return Gray, nil
	case "lineart", "bw", "binary":
		return Bilevel, nil
	}
	return "", fmt.Errorf("scanner mode %q: want gray or bilevel", s)
}

// Sources a Config may name.
const (
	SourceAuto    = ""        // the feeder if the device has one and it holds paper, else the flatbed
	SourceFlatbed = "flatbed" // the glass
	SourceADF     = "adf"     // the automatic document feeder: every page it holds
)

// Config configures a Scanner.
type Config struct {
	// Device is the SANE device name, as `scanimage -L` lists it (e.g.
	// "epson2:libusb:001:004", or "test:0" for the simulator); empty means
	// the first scanner found.
	Device string
	// Source is SourceAuto, SourceFlatbed or SourceADF.
	Source string
	// Resolution in dpi; 0 means 200.
	Resolution int
	// Mode is Gray or Bilevel; empty means Gray.
	Mode Mode
	// Width and Height of the scan area in millimetres; 0 means A4 (210 x
	// 297). They are clipped to what the device can scan.
	Width, Height float64
	// PageBudget is the most bytes one compressed page should take; 0
	// means 80 KB.
	PageBudget int
	// MaxPages bounds a feeder batch; 0 means 50.
	MaxPages int
	// Command is the scanimage binary; empty means "scanimage" on PATH.
	Command string
	// Env is added to scanimage's environment: the simulator sets
	// SANE_CONFIG_DIR here.
	Env []string
	// Timeout is the longest scanimage may go without progress (a listing,
	// a page, the next page of a batch) before it is stopped; 0 means
	// DefaultTimeout (2 minutes), as does a negative one.
	Timeout time.Duration
	Logger  *slog.Logger
	// Status, if set, is told the scanner's state after each document
	// scan: a status.Device of kind Scanner, connected or not, with the
	// problem in plain words (a jam, an open cover) or none.
	Status status.Publisher
}

// DefaultPageBudget is the most bytes an A4 text page takes after
// compression.
const DefaultPageBudget = 80 << 10

// Errors. Each is an *i18n.Error, so screens can show its Vietnamese
// message; wrapped errors keep them reachable with errors.Is and errors.As.
var (
	ErrNotInstalled = &i18n.Error{Code: "scanner_not_installed", Msg: i18n.T(
		"Chưa cài phần mềm máy quét (gói sane-utils). Hãy báo cán bộ kỹ thuật.",
		"scanimage is not installed (Debian package sane-utils)")}
	ErrNoScanner = &i18n.Error{Code: "scanner_not_found", Msg: i18n.T(
		"Không tìm thấy máy quét. Hãy kiểm tra máy quét đã bật và cáp USB đã cắm.",
		"no scanner found: check that it is switched on and its USB cable is plugged in")}
	ErrJammed = &i18n.Error{Code: "scanner_jammed", Msg: i18n.T(
		"Giấy bị kẹt trong máy quét. Hãy mở nắp, lấy giấy ra nhẹ nhàng rồi quét lại.",
		"paper jam in the scanner: open it, remove the paper gently and scan again")}
	ErrCoverOpen = &i18n.Error{Code: "scanner_cover_open", Msg: i18n.T(
		"Nắp máy quét đang mở. Hãy đóng nắp rồi quét lại.",
		"the scanner's cover is open: close it and scan again")}
	ErrNoDocuments = &i18n.Error{Code: "scanner_no_documents", Msg: i18n.T(
		"Khay nạp giấy đang trống. Hãy đặt giấy tờ vào khay, mặt chữ theo hướng dẫn trên máy.",
		"the document feeder is empty: load the pages")}
	ErrBusy = &i18n.Error{Code: "scanner_busy", Msg: i18n.T(
		"Máy quét đang bận. Hãy chờ một chút rồi quét lại.",
		"the scanner is busy: wait a moment and scan again")}
	ErrAccessDenied = &i18n.Error{Code: "scanner_access_denied", Msg: i18n.T(
		"Không có quyền dùng máy quét. Hãy báo cán bộ kỹ thuật (thêm người dùng vào nhóm scanner).",
		"access to the scanner was denied: add the kiosk's user to the scanner group")}
	ErrIO = &i18n.Error{Code: "scanner_io", Msg: i18n.T(
		"Mất kết nối với máy quét. Hãy kiểm tra cáp USB rồi quét lại.",
		"lost contact with the scanner: check its USB cable and scan again")}
	ErrTimeout = &i18n.Error{Code: "scanner_timeout", Msg: i18n.T(
		"Máy quét không phản hồi. Hãy tắt máy quét, bật lại rồi quét lại.",
		"the scanner stopped answering: switch it off and on, then scan again")}
)

// saneStatus maps SANE status codes, which scanimage uses as its exit
// code, to the errors above.
var saneStatus = map[int]*i18n.Error{
	3:  ErrBusy,         // SANE_STATUS_DEVICE_BUSY
	6:  ErrJammed,       // SANE_STATUS_JAMMED
	7:  ErrNoDocuments,  // SANE_STATUS_NO_DOCS
	8:  ErrCoverOpen,    // SANE_STATUS_COVER_OPEN
	9:  ErrIO,           // SANE_STATUS_IO_ERROR
	11: ErrAccessDenied, // SANE_STATUS_ACCESS_DENIED
}

// saneMessages maps SANE's status strings, which scanimage prints, to the
// errors above, for scanimage versions whose exit code does not say.
var saneMessages = []struct {
	text string
	err  *i18n.Error
}{
	{"Document feeder jammed", ErrJammed},
	{"Scanner cover is open", ErrCoverOpen},
	{"Document feeder out of documents", ErrNoDocuments},
	{"Device busy", ErrBusy},
	{"Access to resource has been denied", ErrAccessDenied},
	{"Error during device I/O", ErrIO},
}

// Device is one scanner SANE sees.
type Device struct {
	Name   string `json:"name"`
	Vendor string `json:"vendor"`
	Model  string `json:"model"`
	Type   string `json:"type"`
}

// Page is one scanned page.
type Page struct {
	Image *image.Gray
	DPI   int
}

// Scanner scans with scanimage.
type Scanner struct {
	cfg Config
	log *slog.Logger
}

// New returns a Scanner for cfg.
func New(cfg Config) *Scanner {
	if cfg.Resolution == 0 {
		cfg.Resolution = 200
	}
	if cfg.Mode == "" {
		cfg.Mode = Gray
	}
	if cfg.Width == 0 {
		cfg.Width = 210
	}
	if cfg.Height == 0 {
		cfg.Height = 297
	}
	if cfg.PageBudget == 0 {
		cfg.PageBudget = DefaultPageBudget
	}
	if cfg.MaxPages == 0 {
		cfg.MaxPages = 50
	}
	if cfg.Command == "" {
		cfg.Command = "scanimage"
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Scanner{cfg: cfg, log: cfg.Logger}
}

// Config returns the scanner's configuration with its defaults filled in.
func (s *Scanner) Config() Config { return s.cfg }

// command runs scanimage with args and returns its standard output. A
// failure is mapped to the sentinel errors where SANE says what happened.
// scanimage is given up on when it shows no progress for the configured
// timeout: the clock starts with the command, and each page of a batch
// (the lines scanimage prints for it) restarts it.
func (s *Scanner) command(ctx context.Context, args ...string) ([]byte, error) {
	return s.commandPages(ctx, nil, args...)
}

// commandPages is command calling page with the count of pages a batch
// has scanned, after each one (nil: not told).
func (s *Scanner) commandPages(ctx context.Context, page func(n int), args ...string) ([]byte, error) {
	path, err := exec.LookPath(s.cfg.Command)
	if err != nil {
		return nil, ErrNotInstalled
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	wd := newWatchdog(s.cfg.Timeout)
	go wd.run(ctx, cancel)
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Env = append(os.Environ(), s.cfg.Env...)
	cmd.WaitDelay = 2 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, io.MultiWriter(&stderr, &pageLines{w: wd, page: page})
	s.log.Debug("scanimage", "args", args)
	err = cmd.Run()
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("scanimage: %w", context.Cause(ctx))
		}
		return stdout.Bytes(), scanError(err, stderr.String())
	}
	// scanimage has been seen to exit 0 after a failed read: what it said
	// on the way out counts.
	if strings.Contains(stderr.String(), "sane_read:") {
		return stdout.Bytes(), scanError(err, stderr.String())
	}
	return stdout.Bytes(), nil
}

// scanError explains a failed scanimage run.
func scanError(err error, stderr string) error {
	msg := lastLine(stderr)
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		if e, ok := saneStatus[exit.ExitCode()]; ok {
			return fmt.Errorf("scanimage: %s: %w", msg, e)
		}
	}
	for _, m := range saneMessages {
		if strings.Contains(stderr, m.text) {
			return fmt.Errorf("scanimage: %s: %w", msg, m.err)
		}
	}
	if strings.Contains(stderr, "open of device") || strings.Contains(stderr, "no SANE devices found") {
		return fmt.Errorf("scanimage: %s: %w", msg, ErrNoScanner)
	}
	if err == nil {
		return fmt.Errorf("scanimage: %s: %w", msg, ErrIO)
	}
	if msg == "" {
		return fmt.Errorf("scanimage: %w", err)
	}
	return fmt.Errorf("scanimage: %s: %w", msg, err)
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(strings.TrimPrefix(lines[len(lines)-1], "scanimage: "))
}

// Devices lists the scanners SANE sees. An empty list is not an error.
func (s *Scanner) Devices(ctx context.Context) ([]Device, error) {
	out, err := s.command(ctx, "--formatted-device-list=%d\t%v\t%m\t%t%n")
	if err != nil {
		return nil, fmt.Errorf("list scanners: %w", err)
	}
	return parseDevices(out), nil
}

func parseDevices(out []byte) []Device {
	var devs []Device
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Split(sc.Text(), "\t")
		if len(f) != 4 || f[0] == "" {
			continue
		}
		devs = append(devs, Device{Name: f[0], Vendor: f[1], Model: f[2], Type: f[3]})
	}
	return devs
}

// options is what a device offers, read from `scanimage --all-options`.
type options struct {
	modes    []string
	sources  []string
	maxW     float64 // mm; 0 when unknown
	maxH     float64
	resMin   int
	resMax   int
	resLists []int
}

var (
	reMode   = regexp.MustCompile(`^\s*--mode ([^\[]+?)\s*\[`)
	reSource = regexp.MustCompile(`^\s*--source ([^\[]+?)\s*\[`)
	reGeomX  = regexp.MustCompile(`^\s*-x [\d.]+\.\.([\d.]+)mm`)
	reGeomY  = regexp.MustCompile(`^\s*-y [\d.]+\.\.([\d.]+)mm`)
	reRes    = regexp.MustCompile(`^\s*--resolution ([\d|.]+)dpi`)
)

func parseOptions(out []byte) options {
	var o options
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		if m := reMode.FindStringSubmatch(line); m != nil {
			o.modes = strings.Split(m[1], "|")
		} else if m := reSource.FindStringSubmatch(line); m != nil {
			o.sources = strings.Split(m[1], "|")
		} else if m := reGeomX.FindStringSubmatch(line); m != nil {
			o.maxW, _ = strconv.ParseFloat(m[1], 64)
		} else if m := reGeomY.FindStringSubmatch(line); m != nil {
			o.maxH, _ = strconv.ParseFloat(m[1], 64)
		} else if m := reRes.FindStringSubmatch(line); m != nil {
			if lo, hi, ok := strings.Cut(m[1], ".."); ok {
				o.resMin, _ = strconv.Atoi(lo)
				o.resMax, _ = strconv.Atoi(hi)
			} else {
				for _, r := range strings.Split(m[1], "|") {
					if n, err := strconv.Atoi(r); err == nil {
						o.resLists = append(o.resLists, n)
					}
				}
			}
		}
	}
	return o
}

// feeder returns the device's name for its document feeder, if any.
func (o options) feeder() string {
	for _, s := range o.sources {
		l := strings.ToLower(s)
		if strings.Contains(l, "adf") || strings.Contains(l, "feeder") {
			if !strings.Contains(l, "duplex") {
				return s
			}
		}
	}
	return ""
}

// flatbed returns the device's name for its glass, if it names one.
func (o options) flatbed() string {
	for _, s := range o.sources {
		if strings.Contains(strings.ToLower(s), "flatbed") {
			return s
		}
	}
	return ""
}

// scanMode returns the device's name for 8-bit grayscale, else colour
// (converted here), else whatever it has (a line-art-only scanner); empty
// when the device has no mode option.
func (o options) scanMode() string {
	for _, want := range []string{"gray", "grey", "grayscale", "color", "colour"} {
		for _, m := range o.modes {
			if strings.EqualFold(m, want) {
				return m
			}
		}
	}
	if len(o.modes) > 0 {
		return o.modes[0]
	}
	return ""
}

// resolution returns the lowest supported resolution at or above want (a
// page is never scanned coarser than asked), else the highest there is.
func (o options) resolution(want int) int {
	if len(o.resLists) > 0 {
		best, top := 0, 0
		for _, r := range o.resLists {
			top = max(top, r)
			if r >= want && (best == 0 || r < best) {
				best = r
			}
		}
		if best == 0 {
			return top
		}
		return best
	}
	if o.resMax > 0 {
		return max(o.resMin, min(want, o.resMax))
	}
	return want
}

// device resolves the configured device: the named one, or the first found.
func (s *Scanner) device(ctx context.Context) (string, error) {
	if s.cfg.Device != "" {
		return s.cfg.Device, nil
	}
	devs, err := s.Devices(ctx)
	if err != nil {
		return "", err
	}
	if len(devs) == 0 {
		return "", fmt.Errorf("scan: %w", ErrNoScanner)
	}
	return devs[0].Name, nil
}

// Scan scans pages: every page in the feeder, or one page from the glass.
// When a jam or an open cover stops a feeder batch, the pages scanned
// before it are returned with the error, so the citizen rescans only the
// rest.
func (s *Scanner) Scan(ctx context.Context) ([]Page, error) {
	return s.ScanProgress(ctx, nil)
}

// ScanProgress is Scan calling page with the number of pages scanned so
// far after each page (nil: not told). page is called from another
// goroutine, one call at a time, and never after ScanProgress returns.
func (s *Scanner) ScanProgress(ctx context.Context, page func(n int)) ([]Page, error) {
	dev, err := s.device(ctx)
	if err != nil {
		return nil, err
	}
	out, err := s.command(ctx, "--device-name="+dev, "--all-options")
	if err != nil {
		return nil, fmt.Errorf("scan: scanner %s: %w", dev, err)
	}
	opts := parseOptions(out)
	res := opts.resolution(s.cfg.Resolution)
	w, h := s.cfg.Width, s.cfg.Height
	if opts.maxW > 0 {
		w = min(w, opts.maxW)
	}
	if opts.maxH > 0 {
		h = min(h, opts.maxH)
	}
	args := []string{"--device-name=" + dev, "--format=png", "--resolution=" + strconv.Itoa(res),
		"-l", "0", "-t", "0", "-x", fmtMM(w), "-y", fmtMM(h)}
	if mode := opts.scanMode(); mode != "" {
		args = append(args, "--mode="+mode)
	}

	feeder := opts.feeder()
	switch s.cfg.Source {
	case SourceADF:
		if feeder == "" {
			return nil, fmt.Errorf("scan: scanner %s has no document feeder (sources: %s)", dev, strings.Join(opts.sources, ", "))
		}
		return s.batch(ctx, args, feeder, res, page)
	case SourceAuto:
		if feeder != "" {
			pages, err := s.batch(ctx, args, feeder, res, page)
			if !errors.Is(err, ErrNoDocuments) {
				return pages, err
			}
			s.log.Info("document feeder empty: scanning from the glass", "device", dev)
		}
	case SourceFlatbed:
	default:
		return nil, fmt.Errorf("scan: source %q: want %q, %q or empty", s.cfg.Source, SourceFlatbed, SourceADF)
	}
	if fb := opts.flatbed(); fb != "" {
		args = append(args, "--source="+fb)
	}
	png, err := s.command(ctx, args...)
	if err != nil {
		return nil, fmt.Errorf("scan: scanner %s: %w", dev, err)
	}
	p, err := decodePage(png, res)
	if err != nil {
		return nil, fmt.Errorf("scan: scanner %s: %w", dev, err)
	}
	if page != nil {
		page(1)
	}
	return []Page{p}, nil
}

// batch scans every page in the feeder into a temporary directory.
func (s *Scanner) batch(ctx context.Context, args []string, feeder string, res int, page func(n int)) ([]Page, error) {
	dir, err := os.MkdirTemp("", "motcua-scan-")
	if err != nil {
		return nil, fmt.Errorf("scan: %w", err)
	}
	defer os.RemoveAll(dir)
	args = append(slices.Clone(args), "--source="+feeder,
		"--batch="+filepath.Join(dir, "page%04d.png"), "--batch-count="+strconv.Itoa(s.cfg.MaxPages))
	_, runErr := s.commandPages(ctx, page, args...)
	names, err := filepath.Glob(filepath.Join(dir, "page*.png"))
	if err != nil {
		return nil, fmt.Errorf("scan: %w", err)
	}
	sort.Strings(names)
	var pages []Page
	for _, name := range names {
		b, err := os.ReadFile(name)
		if err != nil {
			return pages, fmt.Errorf("scan: %w", err)
		}
		p, err := decodePage(b, res)
		if err != nil {
			// A page cut short by a jam is not a page.
			if runErr != nil {
				break
			}
			return pages, fmt.Errorf("scan: page %d: %w", len(pages)+1, err)
		}
		pages = append(pages, p)
	}
	if runErr != nil {
		if errors.Is(runErr, ErrNoDocuments) && len(pages) > 0 {
			return pages, nil
		}
		return pages, fmt.Errorf("scan: after %d page(s): %w", len(pages), runErr)
	}
	if len(pages) == 0 {
		return nil, fmt.Errorf("scan: %w", ErrNoDocuments)
	}
	return pages, nil
}

func fmtMM(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// decodePage decodes scanimage's PNG output into a grayscale page.
func decodePage(b []byte, dpi int) (Page, error) {
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		// scanimage ended without an error but the page is cut short.
		return Page{}, fmt.Errorf("read scanned page: %v: %w", err, ErrIO)
	}
	return Page{Image: toGray(img), DPI: dpi}, nil
}

// toGray converts img to 8-bit grayscale.
func toGray(img image.Image) *image.Gray {
	if g, ok := img.(*image.Gray); ok {
		return g
	}
	b := img.Bounds()
	g := image.NewGray(image.Rect(0, 0, b.Dx(), b.Dy()))
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, gg, bb, _ := img.At(x, y).RGBA()
			// Rec. 601 luma on 16-bit components.
			l := (19595*r + 38470*gg + 7471*bb + 1<<15) >> 24
			g.Pix[(y-b.Min.Y)*g.Stride+(x-b.Min.X)] = uint8(l)
		}
	}
	return g
}

// Document is scanned evidence ready to attach: one PDF of all its pages.
type Document struct {
	PDF   []byte
	Pages []Encoded // each page as compressed, with its PDF data
}

// Assemble compresses pages within budget bytes each (0 means the
// default) and writes them as one PDF.
func Assemble(pages []Page, mode Mode, budget int) (Document, error) {
	if len(pages) == 0 {
		return Document{}, errors.New("assemble pdf: no pages")
	}
	doc := Document{Pages: make([]Encoded, len(pages))}
	// Pages are compressed side by side, one per core.
	errs := make([]error, len(pages))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(pages)) {
		wg.Go(func() {
			for i := range next {
				doc.Pages[i], errs[i] = Compress(pages[i], mode, budget)
			}
		})
	}
	for i := range pages {
		next <- i
	}
	close(next)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return Document{}, fmt.Errorf("page %d: %w", i+1, err)
		}
	}
	var buf bytes.Buffer
	if err := WritePDF(&buf, doc.Pages); err != nil {
		return Document{}, err
	}
	doc.PDF = buf.Bytes()
	return doc, nil
}

var _ device.ProgressScanner = (*Scanner)(nil)

// ScanDocument scans with the configured source and mode and assembles
// the pages into one PDF. When a fault stops a feeder batch after some
// pages, those pages are the Document, returned with a
// *device.ScanStoppedError that wraps the fault.
func (s *Scanner) ScanDocument(ctx context.Context) (device.Document, error) {
	return s.ScanDocumentProgress(ctx, nil)
}

// ScanDocumentProgress is ScanDocument calling page with the number of
// pages scanned so far after each page (nil: not told); see ScanProgress.
func (s *Scanner) ScanDocumentProgress(ctx context.Context, page func(n int)) (device.Document, error) {
	pages, scanErr := s.ScanProgress(ctx, page)
	if s.cfg.Status != nil && ctx.Err() == nil {
		s.cfg.Status.Publish(s.DeviceStatus(scanErr))
	}
	if len(pages) == 0 {
		return device.Document{}, scanErr
	}
	doc, err := Assemble(pages, s.cfg.Mode, s.cfg.PageBudget)
	if err != nil {
		return device.Document{}, errors.Join(fmt.Errorf("scan: %w", err), scanErr)
	}
	if scanErr != nil {
		s.log.Warn("scan stopped: keeping the pages scanned before", "pages", len(pages), "pdf_bytes", len(doc.PDF), "err", scanErr)
		return device.Document{PDF: doc.PDF, Pages: len(doc.Pages)}, &device.ScanStoppedError{Pages: len(doc.Pages), Err: scanErr}
	}
	s.log.Info("scanned", "pages", len(pages), "pdf_bytes", len(doc.PDF))
	return device.Document{PDF: doc.PDF, Pages: len(doc.Pages)}, nil
}

// ErrUnknown is the plain words for a scanner failure SANE does not
// explain.
var ErrUnknown = &i18n.Error{Code: "scanner_failed", Msg: i18n.T(
	"Máy quét gặp lỗi. Hãy quét lại; nếu vẫn lỗi, hãy báo cán bộ kỹ thuật.",
	"the scanner failed: scan again, and if it fails again call the technician")}

// DeviceStatus is the scanner's state for the screens after an operation
// that ended with err (nil: it worked). A missing scanner, scanimage or USB
// link is not connected; a jam, an open cover or another fault is a
// problem of a connected scanner. An empty feeder is the citizen's to
// fix at this scan, not a problem of the scanner.
func (s *Scanner) DeviceStatus(err error) status.Device {
	d := status.Device{Kind: status.Scanner, Name: s.cfg.Device, Connected: true}
	if d.Name == "" {
		d.Name = "SANE"
	}
	if err == nil || errors.Is(err, ErrNoDocuments) {
		return d
	}
	if errors.Is(err, ErrNoScanner) || errors.Is(err, ErrNotInstalled) || errors.Is(err, ErrIO) {
		d.Connected = false
	}
	var ie *i18n.Error
	if errors.As(err, &ie) {
		d.Problem = ie.Msg
	} else {
		d.Problem = ErrUnknown.Msg
	}
	return d
}
