package main

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/motcua/motcua/agent/identity"
	"github.com/motcua/motcua/devices/cardreader"
	"github.com/motcua/motcua/devices/sim"
)

// defaultSimDir is where simulated devices appear.
func defaultSimDir() string {
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" {
		return filepath.Join(d, "motcua-sim")
	}
	return filepath.Join(os.TempDir(), "motcua-sim")
}

// cmdSim plays the kiosk's devices on pseudo-terminals until stopped.
func cmdSim(ctx context.Context, e *env, args []string) int {
	fs, setup := e.flags("sim", "[--cards FILE] [--interval 5s] [--dir DIR]", slog.LevelInfo)
	dir := fs.String("dir", defaultSimDir(), "where the device paths appear")
	cards := fs.String("cards", "", "file of ID card QR payloads, one per line (default: synthetic sample cards)")
	interval := fs.Duration("interval", 0, "show the next card every interval (default: on Enter)")
	if rc := e.parseNoArgs(fs, setup, args); rc >= 0 {
		return rc
	}
	payloads := sim.SamplePayloads
	if *cards != "" {
		f, err := os.Open(*cards)
		if err != nil {
			return e.fail("--cards: %v", err)
		}
		payloads, err = sim.ReadPayloads(f)
		f.Close()
		if err != nil || len(payloads) == 0 {
			return e.fail("--cards %s: no payloads (%v)", *cards, err)
		}
	}
	reader, err := sim.NewCardReader(filepath.Join(*dir, "card-reader"), payloads)
	if err != nil {
		return e.fail("%v", err)
	}
	defer reader.Close()
	prn, err := sim.NewPrinter(filepath.Join(*dir, "printer"), filepath.Join(*dir, "receipts"))
	if err != nil {
		return e.fail("%v", err)
	}
	defer prn.Close()
	fmt.Fprintf(e.stdout, "card reader: %s\nprinter: %s (receipts saved as PNG in %s)\n",
		reader.Path(), prn.Path(), filepath.Join(*dir, "receipts"))
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
					e.log.Info("card shown", "payload", string(p))
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

// startCardReader reads cards from port, or from a simulator when port is
// empty, and logs each one: until the kiosk window lands, the log is where
// staff see them. It returns once the reader runs.
func startCardReader(ctx context.Context, e *env, port string) (string, error) {
	if port == "" {
		s, err := sim.NewCardReader(filepath.Join(e.dataDir, "sim", "card-reader"), sim.SamplePayloads)
		if err != nil {
			return "", err
		}
		go func() {
			t := time.NewTicker(20 * time.Second)
			defer t.Stop()
			defer s.Close()
			for {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
					s.Next()
				}
			}
		}()
		port = s.Path()
	}
	r := cardreader.New(cardreader.Config{Port: port, Logger: e.log.With("device", "card-reader")})
	events := make(chan cardreader.Event, 4)
	go r.Run(ctx, events)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case ev := <-events:
				if ev.Err != nil {
					e.log.Warn("ID card could not be read", "err", ev.Err)
					continue
				}
				attrs := []any{"id", ev.Card.ID.Masked(), "name", ev.Card.Name}
				if age := ev.Card.RenewalAge(identity.Today(time.Now())); age > 0 {
					attrs = append(attrs, "renewal_due_at_age", age)
				}
				e.log.Info("ID card read", attrs...)
			}
		}
	}()
	return port, nil
}
