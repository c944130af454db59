package printer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/tarm/serial"

	"github.com/motcua/motcua/agent/device"
	"github.com/motcua/motcua/agent/status"
)

// Config configures a Printer.
type Config struct {
	// Port is the printer's serial device.
	Port string
	// Baud is the line speed; 0 means 9600.
	Baud int
	// Width is the paper width in dots; 0 means Width80mm.
	Width int
	// StatusTimeout is how long a status reply is waited for; 0 means
	// 500 ms. A printer that has not answered by then does not report its
	// status (ErrNoStatus).
	StatusTimeout time.Duration
	// Log gets the warnings: paper near end, a printer that does not
	// report its status. nil means none.
	Log *slog.Logger
	// Open opens the port; nil means tarm/serial, always with a read
	// timeout so that Close never hangs behind a pending read. A port's
	// Read must return within a short time when nothing comes.
	Open func(port string, baud int) (io.ReadWriteCloser, error)
	// Status, if set, is told the printer's state as a status.Device of
	// kind Printer after each print and each status request.
	Status status.Publisher
}

// Printer prints receipts on one ESC/POS printer.
type Printer struct{ cfg Config }

var _ device.ReceiptPrinter = (*Printer)(nil)

// New returns a Printer for cfg.
func New(cfg Config) *Printer {
	if cfg.Baud == 0 {
		cfg.Baud = 9600
	}
	if cfg.Width == 0 {
		cfg.Width = Width80mm
	}
	if cfg.StatusTimeout == 0 {
		cfg.StatusTimeout = 500 * time.Millisecond
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Open == nil {
		cfg.Open = func(port string, baud int) (io.ReadWriteCloser, error) {
			return serial.OpenPort(&serial.Config{Name: port, Baud: baud, ReadTimeout: 100 * time.Millisecond})
		}
	}
	return &Printer{cfg: cfg}
}

// open opens the port and drops whatever it had received before: a late
// reply to an earlier request must not pass for the next one.
func (p *Printer) open() (io.ReadWriteCloser, error) {
	port, err := p.cfg.Open(p.cfg.Port, p.cfg.Baud)
	if err != nil {
		return nil, fmt.Errorf("printer %s: %w: %w", p.cfg.Port, ErrOpen, err)
	}
	if f, ok := port.(interface{ Flush() error }); ok {
		f.Flush()
	}
	return port, nil
}

// Print renders the receipt and sends it to the printer; see PrintStatus.
// Paper near end is logged as a warning.
func (p *Printer) Print(ctx context.Context, r Receipt) error {
	_, err := p.PrintStatus(ctx, r)
	return err
}

// outputBuffer is about what a serial port's driver holds unsent after a
// write returns: the printer sees a status request written after the
// receipt only once that has gone out.
const outputBuffer = 4096

// PrintStatus renders the receipt and sends it to the printer, asking the
// printer's status before and after. A printer that says it cannot print
// (out of paper, cover open, an error, offline) is not sent the receipt:
// the error is ErrPaperOut, ErrCoverOpen, ErrPrinterError or ErrOffline
// (wrapped). One that runs out during the receipt gives the same errors,
// saying the receipt may be cut short. The status after printing is
// returned; nil when the printer does not report its status, in which case
// the receipt is sent blind as before.
func (p *Printer) PrintStatus(ctx context.Context, r Receipt) (*Status, error) {
	st, err := p.printStatus(ctx, r)
	p.publish(ctx, st, err)
	return st, err
}

func (p *Printer) printStatus(ctx context.Context, r Receipt) (*Status, error) {
	img, err := Render(r, p.cfg.Width)
	if err != nil {
		return nil, fmt.Errorf("print receipt: %w", err)
	}
	port, err := p.open()
	if err != nil {
		return nil, fmt.Errorf("print receipt: %w", err)
	}
	defer port.Close()
	before, err := p.query(ctx, port, p.cfg.StatusTimeout)
	reported := err == nil
	switch {
	case errors.Is(err, ErrNoStatus):
		p.cfg.Log.Debug("printer status unknown: printing blind", "port", p.cfg.Port, "err", err)
	case errors.Is(err, ErrBadStatus):
		p.cfg.Log.Warn("printer status not understood: printing blind", "port", p.cfg.Port, "err", err)
	case err != nil:
		return nil, fmt.Errorf("print receipt: %w", err)
	default:
		if serr := before.Err(); serr != nil {
			return &before, fmt.Errorf("print receipt: printer %s: %w", p.cfg.Port, serr)
		}
	}
	data := Encode(img)
	sent := len(data)
	// Write in pieces so a cancelled print stops between them.
	for len(data) > 0 {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		n := min(len(data), 4096)
		if _, err := port.Write(data[:n]); err != nil {
			return nil, fmt.Errorf("print receipt: printer %s: %w", p.cfg.Port, err)
		}
		data = data[n:]
	}
	if !reported {
		return nil, nil
	}
	// The reply comes once the printer has the request, behind what is
	// still unsent: allow for sending that at the baud rate.
	unsent := time.Duration(min(sent, outputBuffer)) * 10 * time.Second / time.Duration(p.cfg.Baud)
	after, err := p.query(ctx, port, p.cfg.StatusTimeout+unsent)
	switch {
	case ctx.Err() != nil:
		return nil, ctx.Err()
	case err != nil:
		p.cfg.Log.Warn("printer: no status after printing", "port", p.cfg.Port, "err", err)
		return nil, nil
	}
	if serr := after.Err(); serr != nil {
		return &after, fmt.Errorf("print receipt: printer %s, after printing (the receipt may be cut short): %w", p.cfg.Port, serr)
	}
	if after.PaperNearEnd {
		p.cfg.Log.Warn("printer: "+WarnPaperNearEnd.EN, "port", p.cfg.Port, "vi", WarnPaperNearEnd.VI)
	}
	return &after, nil
}
