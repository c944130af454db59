package printer_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/motcua/motcua/agent/i18n"
	"github.com/motcua/motcua/agent/status"
	"github.com/motcua/motcua/devices/printer"
	"github.com/motcua/motcua/devices/sim"
)

// TestPrinterPublishesItsState: against the simulated printer on a
// pseudo-terminal, each print and status request publishes the printer's
// state: paper low with the receipt printed, out of paper or cover open
// with what to do, and not connected once its port is gone.
func TestPrinterPublishesItsState(t *testing.T) {
	s := newSim(t)
	hub := status.NewHub()
	p := printer.New(printer.Config{Port: s.Path(), Width: printer.Width58mm, Status: hub})
	latest := func() status.Device {
		t.Helper()
		devs := hub.Snapshot().Devices
		if len(devs) != 1 {
			t.Fatalf("devices %+v, want the printer", devs)
		}
		return devs[0]
	}
	ok := status.Device{Kind: status.Printer, Name: s.Path(), Connected: true}

	if err := p.Print(context.Background(), receipt(1)); err != nil {
		t.Fatal(err)
	}
	waitSaved(t, s, 1)
	if d := latest(); d != ok {
		t.Fatalf("after a receipt: %+v, want %+v", d, ok)
	}

	s.SetPaper(false, true)
	if err := p.Print(context.Background(), receipt(2)); err != nil {
		t.Fatal(err)
	}
	waitSaved(t, s, 2)
	low := ok
	low.PaperLow = true
	if d := latest(); d != low {
		t.Fatalf("paper near end: %+v, want %+v", d, low)
	}

	s.SetPaper(true, true)
	if err := p.Print(context.Background(), receipt(3)); !errors.Is(err, printer.ErrPaperOut) {
		t.Fatalf("out of paper: %v", err)
	}
	out := low
	out.Problem = printer.ErrPaperOut.Msg
	if d := latest(); d != out {
		t.Fatalf("out of paper: %+v, want %+v", d, out)
	}

	s.SetState(sim.PrinterState{CoverOpen: true})
	if _, err := p.Status(context.Background()); err != nil {
		t.Fatal(err)
	}
	open := ok
	open.Problem = printer.ErrCoverOpen.Msg
	if d := latest(); d != open {
		t.Fatalf("cover open: %+v, want %+v", d, open)
	}

	s.SetState(sim.PrinterState{})
	if _, err := p.Status(context.Background()); err != nil {
		t.Fatal(err)
	}
	if d := latest(); d != ok {
		t.Fatalf("cleared: %+v, want %+v", d, ok)
	}
}

func TestPrinterPublishesItIsNotConnected(t *testing.T) {
	port := filepath.Join(t.TempDir(), "ttyUSB9")
	hub := status.NewHub()
	p := printer.New(printer.Config{Port: port, Status: hub})
	err := p.Print(context.Background(), receipt(1))
	if !errors.Is(err, printer.ErrOpen) {
		t.Fatalf("print to a missing port: %v", err)
	}
	want := status.Device{Kind: status.Printer, Name: port, Problem: printer.ProblemUnplugged}
	if devs := hub.Snapshot().Devices; len(devs) != 1 || devs[0] != want {
		t.Fatalf("devices %+v, want %+v", devs, want)
	}
}

func TestDeviceStatus(t *testing.T) {
	p := printer.New(printer.Config{Port: "/dev/ttyUSB0"})
	near := &printer.Status{Online: true, PaperNearEnd: true}
	tests := []struct {
		name      string
		st        *printer.Status
		err       error
		connected bool
		problem   i18n.Text
		low       bool
	}{
		{"fine", &printer.Status{Online: true}, nil, true, i18n.Text{}, false},
		{"near end", near, nil, true, i18n.Text{}, true},
		{"mute printer", nil, printer.ErrNoStatus, true, i18n.Text{}, false},
		{"garbled status", nil, printer.ErrBadStatus, true, i18n.Text{}, false},
		{"no port", nil, printer.ErrOpen, false, printer.ProblemUnplugged, false},
		{"cover open", &printer.Status{CoverOpen: true}, printer.ErrCoverOpen, true, printer.ErrCoverOpen.Msg, false},
		{"write failed", nil, errors.New("write /dev/ttyUSB0: input/output error"), false, printer.ProblemUnplugged, false},
	}
	for _, tt := range tests {
		got := p.DeviceStatus(tt.st, tt.err)
		want := status.Device{Kind: status.Printer, Name: "/dev/ttyUSB0", Connected: tt.connected, Problem: tt.problem, PaperLow: tt.low}
		if got != want {
			t.Errorf("%s: %+v, want %+v", tt.name, got, want)
		}
	}
}
