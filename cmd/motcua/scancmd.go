package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/motcua/motcua/agent/i18n"
	"github.com/motcua/motcua/devices/scanner"
	"github.com/motcua/motcua/devices/sim"
	"github.com/motcua/motcua/internal/config"
)

const scanSynopsis = "(--out FILE.pdf | --list) [--source auto|flatbed|adf] [--mode gray|bilevel] [--device NAME] [--devices auto|sim|real] [--timeout 2m] [--json]"

// simFaults are the simulated scanner's faults by --sim-fault's names.
var simFaults = map[string]string{
	"":           sim.FaultNone,
	"jammed":     sim.FaultJammed,
	"cover-open": sim.FaultCoverOpen,
	"no-docs":    sim.FaultNoDocs,
	"io":         sim.FaultIO,
}

// scanResult is what `motcua scan --json` prints.
type scanResult struct {
	File  string     `json:"file,omitempty"`
	Bytes int        `json:"bytes,omitempty"`
	Pages []scanPage `json:"pages,omitempty"`
	// Error and ErrorVI say why the scan stopped; pages scanned before it
	// are in File.
	Error   string `json:"error,omitempty"`
	ErrorVI string `json:"error_vi,omitempty"`
}

type scanPage struct {
	Width    int    `json:"width"`
	Height   int    `json:"height"`
	DPI      int    `json:"dpi"`
	Bytes    int    `json:"bytes"`
	Encoding string `json:"encoding"`
}

// cmdScan scans paper evidence into one PDF, ready for `submit --attach`,
// or lists the scanners SANE sees.
func cmdScan(ctx context.Context, e *env, args []string) int {
	fs, setup := e.flags("scan", scanSynopsis, slog.LevelWarn)
	cfgPath := addConfigFlag(fs)
	out := fs.String("out", "", "where to write the PDF")
	list := fs.Bool("list", false, "list the scanners instead of scanning")
	devices := fs.String("devices", "", "auto, sim or real (default: devices in the config file); sim scans from SANE's test backend")
	device := fs.String("device", "", "the SANE device, as --list shows it (default: [scanner] device in the config file, else the first found)")
	source := fs.String("source", "", "auto (the feeder if it holds paper, else the glass), flatbed or adf (default: the config file's)")
	mode := fs.String("mode", "", "gray or bilevel (default: the config file's)")
	resolution := fs.Int("resolution", 0, "dots per inch (default: the config file's, 200)")
	budget := fs.Int("page-budget", 0, "the most bytes a compressed page should take (default 80 KB)")
	timeout := fs.Duration("timeout", 2*time.Minute, "give up when the scanner shows no progress (no page) for this long")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	fault := fs.String("sim-fault", "", "make the simulated scanner fail, to train staff: jammed, cover-open, no-docs or io")
	if rc := e.parseNoArgs(fs, setup, args); rc >= 0 {
		return rc
	}
	if (*out == "") == !*list {
		fmt.Fprintln(e.stderr, "motcua scan: give --out FILE.pdf to scan, or --list")
		return exitUsage
	}
	cfg, _, ok := e.loadConfig(*cfgPath)
	if !ok {
		return exitFail
	}
	if *device != "" {
		cfg.Scanner.Device = *device
	}
	plan, err := planDevices(cfg, *devices, "")
	if err != nil {
		fmt.Fprintf(e.stderr, "motcua scan: --devices: %v\n", err)
		return exitUsage
	}
	sc := plan.scanner.cfg
	if *source != "" {
		switch s := config.ScanSource(strings.ToLower(*source)); s {
		case config.SourceAuto:
			sc.Source = scanner.SourceAuto
		case config.ScanSource(scanner.SourceFlatbed), config.ScanSource(scanner.SourceADF):
			sc.Source = string(s)
		default:
			fmt.Fprintf(e.stderr, "motcua scan: --source %q: want auto, flatbed or adf\n", *source)
			return exitUsage
		}
	}
	if *mode != "" {
		m, err := scanner.ParseMode(*mode)
		if err != nil {
			fmt.Fprintf(e.stderr, "motcua scan: --mode: %v\n", err)
			return exitUsage
		}
		sc.Mode = m
	}
	if *resolution != 0 {
		if *resolution < 75 || *resolution > 600 {
			fmt.Fprintf(e.stderr, "motcua scan: --resolution %d: want 75 to 600 dpi\n", *resolution)
			return exitUsage
		}
		sc.Resolution = *resolution
	}
	if *budget < 0 {
		fmt.Fprintf(e.stderr, "motcua scan: --page-budget %d: want a number of bytes\n", *budget)
		return exitUsage
	}
	sc.PageBudget = *budget
	if *timeout <= 0 {
		fmt.Fprintf(e.stderr, "motcua scan: --timeout %v: want a positive duration\n", *timeout)
		return exitUsage
	}
	sc.Timeout = *timeout
	if *device == "" {
		plan.findScanner(ctx)
		if ctx.Err() != nil {
			return e.fail("scan interrupted (%v)", context.Cause(ctx))
		}
		sc.Device = plan.scanner.cfg.Device
	}
	if plan.scanner.use == deviceSim {
		why := "no scanner is configured or found"
		if plan.mode == config.DevicesSim {
			why = "devices = sim"
		}
		fmt.Fprintf(e.stderr, "motcua scan: scanning from the simulated scanner (SANE's test backend): %s\n", why)
		dir, err := os.MkdirTemp("", "motcua-scan-sim-")
		if err != nil {
			return e.fail("%v", err)
		}
		defer os.RemoveAll(dir)
		s, err := sim.NewScanner(dir)
		if err != nil {
			return e.fail("%v", err)
		}
		sc = s.Config(sc)
		if f, ok := simFaults[*fault]; ok {
			if err := s.SetFault(f); err != nil {
				return e.fail("%v", err)
			}
		} else {
			fmt.Fprintf(e.stderr, "motcua scan: --sim-fault %q: want jammed, cover-open, no-docs or io\n", *fault)
			return exitUsage
		}
	} else if *fault != "" {
		fmt.Fprintln(e.stderr, "motcua scan: --sim-fault needs the simulated scanner (--devices sim)")
		return exitUsage
	}
	sc.Logger = e.log.With("device", "scanner")
	s := scanner.New(sc)

	if *list {
		devs, err := s.Devices(ctx)
		if ctx.Err() != nil {
			return e.fail("scan interrupted (%v)", context.Cause(ctx))
		}
		if err != nil {
			return e.scanFail(err)
		}
		if *asJSON {
			if devs == nil {
				devs = []scanner.Device{}
			}
			return e.printJSON(devs)
		}
		if len(devs) == 0 {
			fmt.Fprintln(e.stdout, "No scanner found.")
			fmt.Fprintln(e.stdout, "  "+scanner.ErrNoScanner.Msg.String())
			return exitOK
		}
		for _, d := range devs {
			fmt.Fprintf(e.stdout, "%s\t%s %s (%s)\n", d.Name, d.Vendor, d.Model, d.Type)
		}
		return exitOK
	}

	// A folder the scan cannot be written to is found before the citizen
	// feeds the pages, not after.
	if err := probeOutput(*out); err != nil {
		return e.fail("write %s: %v", *out, err)
	}
	pages, scanErr := s.Scan(ctx)
	res := scanResult{}
	if len(pages) > 0 {
		doc, err := scanner.Assemble(pages, s.Config().Mode, sc.PageBudget)
		if err != nil {
			return e.fail("%v", err)
		}
		if err := writeFileAtomic(*out, doc.PDF); err != nil {
			return e.fail("write %s: %v", *out, err)
		}
		res.File, res.Bytes = *out, len(doc.PDF)
		for _, p := range doc.Pages {
			res.Pages = append(res.Pages, scanPage{p.Width, p.Height, p.DPI, len(p.Data), p.How})
		}
	}
	if scanErr != nil {
		res.Error = scanErr.Error()
		var ie *i18n.Error
		if errors.As(scanErr, &ie) {
			res.ErrorVI = ie.Msg.VI
		}
	}
	if *asJSON {
		e.printJSON(res)
	} else if res.File != "" {
		fmt.Fprintf(e.stdout, "%s: %d page(s), %d bytes\n", res.File, len(res.Pages), res.Bytes)
		for i, p := range res.Pages {
			fmt.Fprintf(e.stdout, "  page %d: %dx%d at %d dpi, %d bytes (%s)\n", i+1, p.Width, p.Height, p.DPI, p.Bytes, p.Encoding)
		}
	}
	if scanErr != nil {
		if res.File != "" {
			fmt.Fprintf(e.stderr, "motcua scan: the %d page(s) before the problem are saved in %s; scan the rest into another file\n", len(res.Pages), res.File)
		}
		if ctx.Err() != nil {
			return e.fail("scan interrupted (%v)", context.Cause(ctx))
		}
		return e.scanFail(scanErr)
	}
	return exitOK
}

// scanFail prints a scanner error in English and, where the scanner says
// it, in Vietnamese.
func (e *env) scanFail(err error) int {
	var ie *i18n.Error
	if errors.As(err, &ie) {
		fmt.Fprintf(e.stderr, "motcua scan: %s\n  %s\n", strings.TrimPrefix(err.Error(), "scan: "), ie.Msg.VI)
		return exitFail
	}
	return e.fail("scan: %v", err)
}

// probeOutput checks that a file can be created beside name, by creating
// and removing an empty temporary one. A full disk still shows only when
// the file is written.
func probeOutput(name string) (err error) {
	defer func() { err = explainOutput(err, name) }()
	f, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".probe-")
	if err != nil {
		return err
	}
	f.Close()
	return os.Remove(f.Name())
}

// writeFileAtomic writes data to name through a temporary file in the same
// directory, synced and renamed, so name is never half-written. A full
// disk or a folder it cannot write is explained in both languages, naming
// name (see explainOutput).
func writeFileAtomic(name string, data []byte) (err error) {
	defer func() { err = explainOutput(err, name) }()
	f, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".tmp-")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, name)
}
