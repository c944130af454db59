package printer

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/tarm/serial"

	"github.com/motcua/motcua/agent/device"
)

// Config configures a Printer.
type Config struct {
	// Port is the printer's serial device.
	Port string
	// Baud is the line speed; 0 means 9600.
	Baud int
	// Width is the paper width in dots; 0 means Width80mm.
	Width int
	// Open opens the port; nil means tarm/serial, always with a read timeout
	// so that Close never hangs behind a pending read.
	Open func(port string, baud int) (io.WriteCloser, error)
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
	if cfg.Open == nil {
		cfg.Open = func(port string, baud int) (io.WriteCloser, error) {
			return serial.OpenPort(&serial.Config{Name: port, Baud: baud, ReadTimeout: 100 * time.Millisecond})
		}
	}
	return &Printer{cfg: cfg}
}

// Print renders the receipt and sends it to the printer.
func (p *Printer) Print(ctx context.Context, r Receipt) error {
	img, err := Render(r, p.cfg.Width)
	if err != nil {
		return fmt.Errorf("print receipt: %w", err)
	}
	port, err := p.cfg.Open(p.cfg.Port, p.cfg.Baud)
	if err != nil {
		return fmt.Errorf("print receipt: printer %s: %w", p.cfg.Port, err)
	}
	defer port.Close()
	data := Encode(img)
	// Write in pieces so a cancelled print stops between them.
	for len(data) > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		n := min(len(data), 4096)
		if _, err := port.Write(data[:n]); err != nil {
			return fmt.Errorf("print receipt: printer %s: %w", p.cfg.Port, err)
		}
		data = data[n:]
	}
	return nil
}
