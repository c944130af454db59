package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/motcua/motcua/devices/sim"
	"github.com/motcua/motcua/internal/config"
	"github.com/motcua/motcua/internal/writable"
)

// defaultSimDir is where simulated devices appear.
func defaultSimDir() string {
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" {
		return filepath.Join(d, "motcua-sim")
	}
	return filepath.Join(os.TempDir(), "motcua-sim")
}

// maxCardsBytes bounds the file of card payloads: a payload is about a
// hundred bytes.
const maxCardsBytes = 1 << 20

// cmdSim plays the kiosk's devices on pseudo-terminals until stopped.
func cmdSim(ctx context.Context, e *env, args []string) int {
	fs, setup := e.flags("sim", "[--cards FILE] [--interval 5s] [--dir DIR] [--printer-fault FAULT]", slog.LevelInfo)
	dir := fs.String("dir", defaultSimDir(), "where the device paths appear")
	cards := fs.String("cards", "", "file of ID card QR payloads, one per line (default: synthetic sample cards)")
	interval := fs.Duration("interval", 0, "show the next card every interval (default: on Enter)")
	fault := fs.String("printer-fault", "", "the simulated printer's state, for practice: "+strings.Join(printerFaultNames, ", "))
	if rc := e.parseNoArgs(fs, setup, args); rc >= 0 {
		return rc
	}
	printerState, ok := printerFaults[*fault]
	if !ok {
		fmt.Fprintf(e.stderr, "motcua sim: --printer-fault %q is not one of %s\n", *fault, strings.Join(printerFaultNames, ", "))
		return exitUsage
	}
	payloads := sim.SamplePayloads
	if *cards != "" {
		b, err := readRegularFile(*cards, maxCardsBytes)
		if err != nil {
			return e.fail("--cards %s: %v", *cards, withoutPath(err))
		}
		payloads, err = sim.ReadPayloads(bytes.NewReader(b))
		if err != nil || len(payloads) == 0 {
			return e.fail("--cards %s: no payloads (%v)", *cards, err)
		}
	}
	plan, _ := planDevices(config.Default(), string(config.DevicesSim), "")
	sims, err := startSimDevices(*dir, &plan, payloads)
	if err != nil {
		return e.fail("%v", err)
	}
	defer sims.Close()
	sims.printer.SetState(printerState)
	reader := sims.cardReader
	fmt.Fprintf(e.stdout, "card reader: %s\nprinter: %s (receipts saved as PNG in %s)\n", reader.Path(), sims.printer.Path(), sims.receipts)
	if *fault != "" {
		fmt.Fprintf(e.stdout, "printer fault: %s\n", *fault)
	}
	fmt.Fprintf(e.stdout, "scanner: SANE device %s (try: %s scanimage -d %s --format=png > page.png)\n",
		plan.scanner.cfg.Device, sims.scannerEnv(), plan.scanner.cfg.Device)
	if *interval > 0 {
		fmt.Fprintf(e.stdout, "Showing a card every %v; Ctrl-C to stop.\n", *interval)
		t := time.NewTicker(*interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return exitOK
			case <-t.C:
				if p, err := reader.Next(); err == nil {
					e.log.Info("card shown", "bytes", len(p)) // its payload is a citizen's card
				}
			}
		}
	}
	fmt.Fprintln(e.stdout, "Press Enter to show the next card; Ctrl-C to stop.")
	lines := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(e.stdin)
		for sc.Scan() {
			lines <- struct{}{}
		}
		close(lines)
	}()
	for {
		select {
		case <-ctx.Done():
			return exitOK
		case _, ok := <-lines:
			if !ok {
				<-ctx.Done()
				return exitOK
			}
			if p, err := reader.Next(); err == nil {
				fmt.Fprintf(e.stdout, "shown: %s\n", p)
			}
		}
	}
}

// printerFaults are the states `motcua sim --printer-fault` puts the
// simulated printer in.
var printerFaults = map[string]sim.PrinterState{
	"":           {},
	"paper-out":  {PaperOut: true},
	"near-end":   {PaperNearEnd: true},
	"cover-open": {CoverOpen: true},
	"offline":    {Offline: true},
	"error":      {Error: true},
	"mute":       {Mute: true},
}

var printerFaultNames = []string{"paper-out", "near-end", "cover-open", "offline", "error", "mute"}

// simDevices are the simulators started for a device plan.
type simDevices struct {
	cardReader *sim.CardReader
	printer    *sim.Printer
	receipts   string // where the simulated printer saves receipts
	scanner    *sim.Scanner
}

// startSimDevices starts, under dir, a simulator for each device p
// simulates, and points p at it: the card reader and the printer on
// pseudo-terminals, the scanner as SANE's test backend. The simulated card
// reader shows payloads, in turn.
//
// An error that comes from dir (or a file in it) this user cannot write,
// as when another user ran motcua on the same data directory first, names
// what is in the way and its owner, in both languages.
func startSimDevices(dir string, p *devicePlan, payloads [][]byte) (*simDevices, error) {
	s, err := startSims(dir, p, payloads)
	return s, writable.ExplainWrite(err, dir)
}

func startSims(dir string, p *devicePlan, payloads [][]byte) (*simDevices, error) {
	s := &simDevices{receipts: filepath.Join(dir, "receipts")}
	var err error
	if p.cardReader.use == deviceSim {
		if s.cardReader, err = sim.NewCardReader(filepath.Join(dir, "card-reader"), payloads); err != nil {
			return nil, err
		}
		p.cardReader.port = s.cardReader.Path()
	}
	if p.printer.use == deviceSim {
		if s.printer, err = sim.NewPrinter(filepath.Join(dir, "printer"), s.receipts); err != nil {
			s.Close()
			return nil, err
		}
		p.printer.port = s.printer.Path()
	}
	if p.scanner.use == deviceSim {
		if s.scanner, err = sim.NewScanner(filepath.Join(dir, "sane")); err != nil {
			s.Close()
			return nil, err
		}
		p.scanner.cfg = s.scanner.Config(p.scanner.cfg)
	}
	return s, nil
}

// scannerEnv says how to reach the simulated scanner with scanimage.
func (s *simDevices) scannerEnv() string {
	if s.scanner == nil {
		return ""
	}
	return strings.Join(s.scanner.Env(), " ")
}

// Close stops the simulators.
func (s *simDevices) Close() {
	if s.cardReader != nil {
		s.cardReader.Close()
	}
	if s.printer != nil {
		s.printer.Close()
	}
	if s.scanner != nil {
		s.scanner.Close()
	}
}

// showSampleCards shows the simulated card reader its next card every
// interval until ctx ends.
func showSampleCards(ctx context.Context, s *simDevices, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.cardReader.Next()
		}
	}
}
