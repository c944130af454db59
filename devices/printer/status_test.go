package printer_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/motcua/motcua/agent/i18n"
	"github.com/motcua/motcua/devices/printer"
	"github.com/motcua/motcua/devices/sim"
)

// newSim starts a simulated printer on a pseudo-terminal.
func newSim(t *testing.T) *sim.Printer {
	t.Helper()
	dir := t.TempDir()
	s, err := sim.NewPrinter(filepath.Join(dir, "dev", "printer"), filepath.Join(dir, "receipts"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func receipt(n int64) printer.Receipt {
	return printer.Receipt{Procedure: "Đăng ký khai sinh (1.001193)", Applicant: "Trần Thị Bình", LocalID: n,
		At: time.Date(2026, 11, 23, 2, 0, 0, 0, time.UTC), TrackURL: "http://127.0.0.1:8787/track/x"}
}

// waitSaved polls until the simulator has saved n receipts.
func waitSaved(t *testing.T, s *sim.Printer, n int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); len(s.Saved()) < n; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("saved %d receipts, want %d (dropped %d, err %v)", len(s.Saved()), n, s.Dropped(), s.Err())
		}
	}
}

// The status replies, over a pseudo-terminal: every bit the agent reads,
// each on its own, then whole states of the simulated printer; replies
// whose fixed bits are wrong are refused, naming the byte.
func TestStatusDecoding(t *testing.T) {
	s := newSim(t)
	p := printer.New(printer.Config{Port: s.Path()})
	ready := printer.Status{Online: true}
	raw := func(r1, r2, r4 byte) map[byte]byte { return map[byte]byte{1: r1, 2: r2, 4: r4} }
	tests := []struct {
		name    string
		state   sim.PrinterState
		raw     map[byte]byte
		want    printer.Status
		wantErr error
		errText string // the error names the byte
	}{
		{name: "ready", raw: raw(0x12, 0x12, 0x12), want: ready},
		{name: "drawer pin high (ignored)", raw: raw(0x16, 0x12, 0x12), want: ready},
		{name: "1: bit 3 offline", raw: raw(0x1a, 0x12, 0x12), want: printer.Status{}},
		{name: "2: bit 2 cover open", raw: raw(0x1a, 0x16, 0x12), want: printer.Status{CoverOpen: true}},
		{name: "2: bit 3 feed button", raw: raw(0x1a, 0x1a, 0x12), want: printer.Status{Feeding: true}},
		{name: "2: bit 5 paper end stop", raw: raw(0x1a, 0x32, 0x12), want: printer.Status{PaperOut: true}},
		{name: "2: bit 6 error", raw: raw(0x1a, 0x52, 0x12), want: printer.Status{Error: true}},
		{name: "4: bits 2-3 near end", raw: raw(0x12, 0x12, 0x1e), want: printer.Status{Online: true, PaperNearEnd: true}},
		{name: "4: bits 5-6 paper end", raw: raw(0x1a, 0x12, 0x72), want: printer.Status{PaperOut: true}},
		{name: "sim ready", want: ready},
		{name: "sim near end", state: sim.PrinterState{PaperNearEnd: true}, want: printer.Status{Online: true, PaperNearEnd: true}},
		{name: "sim paper out", state: sim.PrinterState{PaperOut: true}, want: printer.Status{PaperOut: true, PaperNearEnd: true}},
		{name: "sim cover open", state: sim.PrinterState{CoverOpen: true}, want: printer.Status{CoverOpen: true}},
		{name: "sim offline", state: sim.PrinterState{Offline: true}, want: printer.Status{}},
		{name: "sim error", state: sim.PrinterState{Error: true}, want: printer.Status{Error: true}},
		{name: "1: all zero", raw: raw(0x00, 0x12, 0x12), wantErr: printer.ErrBadStatus, errText: "0x00 in reply to DLE EOT 1"},
		{name: "1: bit 1 off", raw: raw(0x10, 0x12, 0x12), wantErr: printer.ErrBadStatus, errText: "0x10 in reply to DLE EOT 1"},
		{name: "2: bit 4 off", raw: raw(0x12, 0x02, 0x12), wantErr: printer.ErrBadStatus, errText: "0x02 in reply to DLE EOT 2"},
		{name: "2: bit 7 on", raw: raw(0x12, 0x92, 0x12), wantErr: printer.ErrBadStatus, errText: "0x92 in reply to DLE EOT 2"},
		{name: "4: bit 0 on", raw: raw(0x12, 0x12, 0x1b), wantErr: printer.ErrBadStatus, errText: "0x1b in reply to DLE EOT 4"},
		{name: "4: all ones", raw: raw(0x12, 0x12, 0xff), wantErr: printer.ErrBadStatus, errText: "0xff in reply to DLE EOT 4"},
		// XOFF is flow control, not a reply: passed over, then no reply.
		{name: "1: XOFF only", raw: raw(0x13, 0x12, 0x12), wantErr: printer.ErrNoStatus},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s.SetState(tt.state)
			s.SetRawReplies(tt.raw)
			got, err := p.Status(context.Background())
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), tt.errText) {
					t.Fatalf("Status = %+v, %v; want %v naming %q", got, err, tt.wantErr, tt.errText)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got.Raw = [3]byte{}
			if got != tt.want {
				t.Fatalf("Status = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestStatusErr(t *testing.T) {
	tests := []struct {
		s    printer.Status
		want error
		str  string
	}{
		{printer.Status{Online: true}, nil, "online, paper OK"},
		{printer.Status{Online: true, PaperNearEnd: true}, nil, "online, paper near end"},
		{printer.Status{PaperOut: true, PaperNearEnd: true}, printer.ErrPaperOut, "offline, out of paper"},
		{printer.Status{CoverOpen: true, PaperOut: true}, printer.ErrCoverOpen, "offline, cover open, out of paper"},
		{printer.Status{Error: true}, printer.ErrPrinterError, "offline, paper OK, error"},
		{printer.Status{}, printer.ErrOffline, "offline, paper OK"},
	}
	for _, tt := range tests {
		if err := tt.s.Err(); err != tt.want || tt.s.String() != tt.str {
			t.Errorf("%+v: Err %v, String %q; want %v, %q", tt.s, err, tt.s.String(), tt.want, tt.str)
		}
		var ie *i18n.Error
		if tt.want != nil && (!errors.As(tt.want, &ie) || ie.Msg.VI == "" || ie.Msg.EN == "" || ie.Code == "") {
			t.Errorf("%v is not a bilingual *i18n.Error", tt.want)
		}
	}
}

// A printer that never answers (a one-way cable) gives ErrNoStatus, and
// the status requests did reach it; a cancelled context stops the wait.
func TestStatusMutePrinter(t *testing.T) {
	s := newSim(t)
	s.SetMute(true)
	p := printer.New(printer.Config{Port: s.Path()})
	if _, err := p.Status(context.Background()); !errors.Is(err, printer.ErrNoStatus) {
		t.Fatalf("Status = %v, want ErrNoStatus", err)
	}
	for deadline := time.Now().Add(5 * time.Second); s.StatusRequests() == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the simulator never saw the status request")
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := p.Status(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Status = %v", err)
	}
	// A mute printer still prints: blind, with no status to return.
	st, err := p.PrintStatus(context.Background(), receipt(1))
	if err != nil || st != nil {
		t.Fatalf("PrintStatus = %v, %v; want nil, nil", st, err)
	}
	waitSaved(t, s, 1)
}

// A printer that says it cannot print is sent nothing: Print returns the
// bilingual error. Once it can print again, the next receipt is the first
// the simulator sees, so the refused ones never reached it.
func TestPrintRefusesWhenThePrinterCannotPrint(t *testing.T) {
	s := newSim(t)
	p := printer.New(printer.Config{Port: s.Path(), Width: printer.Width58mm})
	tests := []struct {
		state sim.PrinterState
		want  *i18n.Error
	}{
		{sim.PrinterState{PaperOut: true}, printer.ErrPaperOut},
		{sim.PrinterState{CoverOpen: true}, printer.ErrCoverOpen},
		{sim.PrinterState{CoverOpen: true, PaperOut: true}, printer.ErrCoverOpen},
		{sim.PrinterState{Error: true}, printer.ErrPrinterError},
		{sim.PrinterState{Offline: true}, printer.ErrOffline},
	}
	for i, tt := range tests {
		s.SetState(tt.state)
		err := p.Print(context.Background(), receipt(int64(i)))
		var ie *i18n.Error
		if !errors.Is(err, tt.want) || !errors.As(err, &ie) || ie.Msg != tt.want.Msg {
			t.Errorf("%+v: Print = %v, want %v", tt.state, err, tt.want)
		}
	}
	if got := printer.ErrPaperOut.Msg.VI; got != "Máy in hết giấy. Hãy lắp cuộn giấy mới." {
		t.Errorf("ErrPaperOut says %q", got)
	}
	s.SetState(sim.PrinterState{})
	if err := p.Print(context.Background(), receipt(9)); err != nil {
		t.Fatal(err)
	}
	waitSaved(t, s, 1)
	if s.Dropped() != 0 || len(s.Saved()) != 1 || s.Err() != nil {
		t.Fatalf("saved %v, dropped %d, err %v: the refused receipts reached the printer", s.Saved(), s.Dropped(), s.Err())
	}
}

// syncBuffer is a bytes.Buffer safe for a logger and a test to share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// Paper near its end: the receipt prints, the status after says so, and
// the injected logger gets a warning in both languages.
func TestPrintWarnsPaperNearEnd(t *testing.T) {
	s := newSim(t)
	s.SetPaper(false, true)
	var logs syncBuffer
	p := printer.New(printer.Config{Port: s.Path(), Width: printer.Width58mm, Log: slog.New(slog.NewTextHandler(&logs, nil))})
	st, err := p.PrintStatus(context.Background(), receipt(1))
	if err != nil || st == nil || !st.PaperNearEnd || !st.Online || st.PaperOut {
		t.Fatalf("PrintStatus = %+v, %v", st, err)
	}
	waitSaved(t, s, 1)
	if out := logs.String(); !strings.Contains(out, "level=WARN") || !strings.Contains(out, printer.WarnPaperNearEnd.EN) ||
		!strings.Contains(out, printer.WarnPaperNearEnd.VI) {
		t.Fatalf("log:\n%s", out)
	}
	// Print, the device.ReceiptPrinter method, logs the same and returns
	// no error.
	if err := p.Print(context.Background(), receipt(2)); err != nil {
		t.Fatal(err)
	}
	waitSaved(t, s, 2)
	if n := strings.Count(logs.String(), printer.WarnPaperNearEnd.EN); n != 2 {
		t.Fatalf("%d warnings, want 2", n)
	}
}

// Replies a printer might garble do not stop a print: the status is
// unknown, the receipt goes out blind, and the logger says why.
func TestPrintWithGarbledStatusPrintsBlind(t *testing.T) {
	s := newSim(t)
	s.SetRawReplies(map[byte]byte{1: 0xff, 2: 0xff, 4: 0xff})
	var logs syncBuffer
	p := printer.New(printer.Config{Port: s.Path(), Width: printer.Width58mm, Log: slog.New(slog.NewTextHandler(&logs, nil))})
	if st, err := p.PrintStatus(context.Background(), receipt(1)); err != nil || st != nil {
		t.Fatalf("PrintStatus = %v, %v", st, err)
	}
	waitSaved(t, s, 1)
	if out := logs.String(); !strings.Contains(out, "0xff in reply to DLE EOT 1") {
		t.Fatalf("log:\n%s", out)
	}
}
