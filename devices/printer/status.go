package printer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/motcua/motcua/agent/i18n"
	"github.com/motcua/motcua/agent/status"
)

// Status is what an ESC/POS printer reports of itself when asked with the
// real-time status requests DLE EOT 1 (printer), 2 (offline cause) and 4
// (roll paper sensor). Bit layouts from Epson's ESC/POS command reference,
// DLE EOT; Bixolon, Citizen and the many Epson clones use the same.
type Status struct {
	// Online: DLE EOT 1 bit 3 clear. A printer goes offline with its
	// cover open, out of paper, on an error, and while its FEED button
	// feeds paper.
	Online bool
	// CoverOpen: DLE EOT 2 bit 2.
	CoverOpen bool
	// PaperOut: printing stopped by paper end (DLE EOT 2 bit 5), or no
	// paper at the roll end sensor (DLE EOT 4 bits 5 and 6).
	PaperOut bool
	// PaperNearEnd: the roll near-end sensor (DLE EOT 4 bits 2 and 3).
	// Printing goes on; staff should have a new roll ready.
	PaperNearEnd bool
	// Error: DLE EOT 2 bit 6 (a paper jam, the cutter, the head's
	// temperature: DLE EOT 3 says which).
	Error bool
	// Feeding: paper is being fed by the FEED button (DLE EOT 2 bit 3).
	Feeding bool
	// Raw are the replies to DLE EOT 1, 2 and 4.
	Raw [3]byte
}

// Bits of the status replies.
const (
	statusFixedMask = 0x93 // bits 0, 1, 4, 7 are fixed in every reply...
	statusFixed     = 0x12 // ...to 0, 1, 1, 0
	stOffline       = 0x08 // n=1 bit 3
	stCoverOpen     = 0x04 // n=2 bit 2
	stFeeding       = 0x08 // n=2 bit 3
	stPaperEndStop  = 0x20 // n=2 bit 5
	stError         = 0x40 // n=2 bit 6
	stNearEnd       = 0x0c // n=4 bits 2-3
	stPaperEnd      = 0x60 // n=4 bits 5-6
)

// statusRequests are the n of the DLE EOT n sent, in order.
var statusRequests = [3]byte{1, 2, 4}

// Flow-control bytes a serial printer may send at any time: they are not
// status replies (bit 0 of a reply is always 0, so a reply is never one).
const (
	xon  = 0x11
	xoff = 0x13
)

var (
	// ErrNoStatus: the printer did not answer a status request in time.
	// Many cheap printers never do (a one-way cable, no status support):
	// their state is unknown, which is not a failure.
	ErrNoStatus = errors.New("the printer does not report its status")
	// ErrBadStatus (wrapped, naming the byte): a reply whose fixed bits
	// are wrong: not an ESC/POS status byte, or the wrong baud rate.
	ErrBadStatus = errors.New("not an ESC/POS status reply")

	ErrPaperOut = &i18n.Error{Code: "printer_paper_out", Msg: i18n.T(
		"Máy in hết giấy. Hãy lắp cuộn giấy mới.",
		"the printer is out of paper: load a new roll")}
	ErrCoverOpen = &i18n.Error{Code: "printer_cover_open", Msg: i18n.T(
		"Nắp máy in đang mở. Hãy đóng nắp lại cho khớp.",
		"the printer's cover is open: close it until it clicks")}
	ErrPrinterError = &i18n.Error{Code: "printer_error", Msg: i18n.T(
		"Máy in báo lỗi (kẹt giấy hoặc dao cắt). Hãy tắt máy in, gỡ giấy kẹt rồi bật lại.",
		"the printer reports an error (a paper jam or the cutter): switch it off, clear the paper and switch it on again")}
	ErrOffline = &i18n.Error{Code: "printer_offline", Msg: i18n.T(
		"Máy in chưa sẵn sàng (ngoại tuyến). Hãy kiểm tra máy in đã bật và không có đèn báo lỗi.",
		"the printer is offline: check that it is switched on and no error light is lit")}

	// WarnPaperNearEnd is what staff are told when the roll is nearly
	// used up; the receipt did print.
	WarnPaperNearEnd = i18n.T(
		"Giấy in sắp hết: hãy chuẩn bị cuộn giấy mới.",
		"the printer's paper is nearly out: have a new roll ready")
)

// checkReply checks the fixed bits of the reply b to DLE EOT n.
func checkReply(n, b byte) error {
	if b&statusFixedMask != statusFixed {
		return fmt.Errorf("%w: 0x%02x in reply to DLE EOT %d (bits 0, 1, 4 and 7 must read 0, 1, 1, 0)", ErrBadStatus, b, n)
	}
	return nil
}

// ParseStatus decodes the replies to DLE EOT 1, 2 and 4, checking their
// fixed bits.
func ParseStatus(printer, offline, paper byte) (Status, error) {
	for i, b := range [3]byte{printer, offline, paper} {
		if err := checkReply(statusRequests[i], b); err != nil {
			return Status{}, err
		}
	}
	return Status{
		Online:       printer&stOffline == 0,
		CoverOpen:    offline&stCoverOpen != 0,
		Feeding:      offline&stFeeding != 0,
		PaperOut:     offline&stPaperEndStop != 0 || paper&stPaperEnd != 0,
		PaperNearEnd: paper&stNearEnd != 0,
		Error:        offline&stError != 0,
		Raw:          [3]byte{printer, offline, paper},
	}, nil
}

// Err returns why the printer cannot print, or nil. An open cover comes
// first: the paper sensors of many printers read "no paper" while it is
// open.
func (s Status) Err() error {
	switch {
	case s.CoverOpen:
		return ErrCoverOpen
	case s.PaperOut:
		return ErrPaperOut
	case s.Error:
		return ErrPrinterError
	case !s.Online:
		return ErrOffline
	}
	return nil
}

// String describes the status in a few words, for logs and motcua doctor.
func (s Status) String() string {
	var parts []string
	if s.Online {
		parts = append(parts, "online")
	} else {
		parts = append(parts, "offline")
	}
	if s.CoverOpen {
		parts = append(parts, "cover open")
	}
	switch {
	case s.PaperOut:
		parts = append(parts, "out of paper")
	case s.PaperNearEnd:
		parts = append(parts, "paper near end")
	default:
		parts = append(parts, "paper OK")
	}
	if s.Error {
		parts = append(parts, "error")
	}
	if s.Feeding {
		parts = append(parts, "feeding paper")
	}
	return strings.Join(parts, ", ")
}

// Status asks the printer its status: DLE EOT 1, 2 and 4, each answered
// by one byte within Config.StatusTimeout. A printer that does not answer
// gives ErrNoStatus.
func (p *Printer) Status(ctx context.Context) (Status, error) {
	st, err := p.status(ctx)
	if err == nil {
		p.publish(ctx, &st, nil)
	} else {
		p.publish(ctx, nil, err)
	}
	return st, err
}

func (p *Printer) status(ctx context.Context) (Status, error) {
	port, err := p.open()
	if err != nil {
		return Status{}, err
	}
	defer port.Close()
	return p.query(ctx, port, p.cfg.StatusTimeout)
}

// ProblemUnplugged is what the screens say when the printer's port cannot
// be opened.
var ProblemUnplugged = i18n.T(
	"Chưa kết nối được máy in biên nhận. Hãy kiểm tra máy in đã bật và cáp đã cắm chắc.",
	"the receipt printer is not connected: check that it is switched on and its cable is plugged in")

// ErrOpen marks a port that could not be opened: the printer is not
// connected.
var ErrOpen = errors.New("the printer's port cannot be opened")

// DeviceStatus is the printer's state for the screens, from the status it
// reported (nil: unknown) and the error of the operation that asked it
// (nil: none). A port that cannot be opened is not connected; a printer
// that cannot print says why and what to do; one that does not report its
// status is connected, with no problem known.
func (p *Printer) DeviceStatus(st *Status, err error) status.Device {
	d := status.Device{Kind: status.Printer, Name: p.cfg.Port, Connected: true}
	if st != nil {
		d.PaperLow = st.PaperNearEnd
		if serr := st.Err(); serr != nil {
			var ie *i18n.Error
			errors.As(serr, &ie)
			d.Problem = ie.Msg
		}
	}
	var ie *i18n.Error
	switch {
	case err == nil, errors.Is(err, ErrNoStatus), errors.Is(err, ErrBadStatus):
	case errors.Is(err, ErrOpen):
		d.Connected, d.Problem = false, ProblemUnplugged
	case errors.As(err, &ie):
		d.Problem = ie.Msg
	default:
		// A failed write or read: the cable, most often.
		d.Connected, d.Problem = false, ProblemUnplugged
	}
	return d
}

// publish tells cfg.Status the printer's state after an operation, unless
// ctx ended it.
func (p *Printer) publish(ctx context.Context, st *Status, err error) {
	if p.cfg.Status == nil || ctx.Err() != nil {
		return
	}
	p.cfg.Status.Publish(p.DeviceStatus(st, err))
}

// query sends the status requests on an open port and reads the replies,
// allowing wait for the first one.
func (p *Printer) query(ctx context.Context, port io.ReadWriter, wait time.Duration) (Status, error) {
	var replies [3]byte
	for i, n := range statusRequests {
		if _, err := port.Write([]byte{cmdStatus[0], cmdStatus[1], n}); err != nil {
			return Status{}, fmt.Errorf("printer %s: %w", p.cfg.Port, err)
		}
		b, err := readReply(ctx, port, wait)
		if errors.Is(err, ErrNoStatus) && i > 0 {
			return Status{}, fmt.Errorf("%w: no reply to DLE EOT %d, after one to DLE EOT %d", ErrNoStatus, n, statusRequests[i-1])
		}
		if err != nil {
			return Status{}, fmt.Errorf("printer %s: %w", p.cfg.Port, err)
		}
		if err := checkReply(n, b); err != nil {
			return Status{}, fmt.Errorf("printer %s: %w", p.cfg.Port, err)
		}
		replies[i] = b
		wait = p.cfg.StatusTimeout
	}
	return ParseStatus(replies[0], replies[1], replies[2])
}

// readReply reads one status byte, passing over XON and XOFF, until wait
// has passed. The port's reads must return within a short timeout when
// nothing comes (tarm/serial's ReadTimeout: 0 bytes and io.EOF).
func readReply(ctx context.Context, port io.Reader, wait time.Duration) (byte, error) {
	deadline := time.Now().Add(wait)
	var buf [1]byte
	for {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		n, err := port.Read(buf[:])
		if n == 1 && buf[0] != xon && buf[0] != xoff {
			return buf[0], nil
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return 0, err
		}
		if time.Now().After(deadline) {
			return 0, ErrNoStatus
		}
	}
}
