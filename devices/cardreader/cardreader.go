// Package cardreader reads citizen ID cards' QR codes from a scanner on a
// serial port (USB CDC or RS-232) with github.com/tarm/serial, so a citizen
// never types what the card already knows.
//
// A frame ends at CR or LF, or, for readers that send neither, when no byte
// has come for the idle gap (a frame split by a shorter pause is one frame). Partial reads are joined, line noise around a frame is dropped,
// and a frame that is not a valid card is reported as an error event for the
// staff, never as a silent fill. A pulled cable is noticed and the port is
// reopened, with backoff, when it comes back.
package cardreader

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/tarm/serial"

	"github.com/motcua/motcua/agent/device"
	"github.com/motcua/motcua/agent/i18n"
	"github.com/motcua/motcua/agent/identity"
	"github.com/motcua/motcua/agent/status"
)

// Config configures a Reader.
type Config struct {
	// Port is the serial device, e.g. /dev/ttyACM0 or a /dev/serial/by-id
	// link.
	Port string
	// Baud is the line speed; 0 means 9600, the usual default of QR
	// scanners in serial mode.
	Baud int
	// IdleGap ends a frame that has no line ending: the frame ends when no
	// byte has come for this long since its last one. 0 means 200 ms.
	IdleGap time.Duration
	// MaxFrame bounds a frame; longer input is line noise. 0 means 4096.
	MaxFrame int
	// MaxBackoff caps the wait between attempts to reopen the port; 0
	// means 5 s.
	MaxBackoff time.Duration
	// Open opens the port; nil means tarm/serial with a read timeout, which
	// is what lets Close return while a read is pending. A read must block
	// until bytes come, the read timeout passes (reported as io.EOF with
	// nothing read) or the port is closed.
	Open   func(port string, baud int, readTimeout time.Duration) (io.ReadCloser, error)
	Logger *slog.Logger
	// Status, if set, is told the reader's state as a status.Device of
	// kind CardReader each time it connects or is lost.
	Status status.Publisher
}

// ProblemUnplugged is what the screens say while the reader's port cannot
// be opened or was lost.
var ProblemUnplugged = i18n.T(
	"Chưa kết nối được đầu đọc thẻ căn cước. Hãy kiểm tra cáp USB của đầu đọc đã cắm chắc; máy sẽ tự nhận lại.",
	"the ID card reader is not connected: check that its USB cable is plugged in firmly; it is picked up again by itself")

// readTimeout is the serial read timeout: tarm/serial rounds it to tenths
// of a second (VTIME).
const readTimeout = 100 * time.Millisecond

// Event is one frame read from the scanner: a card, or what was wrong.
type Event = device.CardEvent

var _ device.CardReader = (*Reader)(nil)

// Status says how the reader stands, for the staff console and `doctor`.
type Status struct {
	Port      string    `json:"port"`
	Connected bool      `json:"connected"`
	LastError string    `json:"last_error,omitempty"`
	LastFrame time.Time `json:"last_frame,omitzero"`
	Cards     int       `json:"cards"`
	BadFrames int       `json:"bad_frames"`
}

// Reader reads cards from one serial port.
type Reader struct {
	cfg Config
	log *slog.Logger

	mu     sync.Mutex
	status Status
	// published is the state last told cfg.Status.
	published *status.Device
}

// New returns a Reader for cfg.
func New(cfg Config) *Reader {
	if cfg.Baud == 0 {
		cfg.Baud = 9600
	}
	if cfg.IdleGap == 0 {
		cfg.IdleGap = 200 * time.Millisecond
	}
	if cfg.MaxFrame == 0 {
		cfg.MaxFrame = 4096
	}
	if cfg.MaxBackoff == 0 {
		cfg.MaxBackoff = 5 * time.Second
	}
	if cfg.Open == nil {
		cfg.Open = openSerial
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Reader{cfg: cfg, log: cfg.Logger, status: Status{Port: cfg.Port}}
}

func openSerial(port string, baud int, timeout time.Duration) (io.ReadCloser, error) {
	return serial.OpenPort(&serial.Config{Name: port, Baud: baud, ReadTimeout: timeout})
}

// Status returns the reader's current status.
func (r *Reader) Status() Status {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.status
}

// publishLocked tells cfg.Status the reader's state when it changed since
// the last time.
func (r *Reader) publishLocked() {
	if r.cfg.Status == nil {
		return
	}
	d := status.Device{Kind: status.CardReader, Name: r.cfg.Port, Connected: r.status.Connected}
	if !d.Connected {
		d.Problem = ProblemUnplugged
	}
	if r.published != nil && *r.published == d {
		return
	}
	r.published = &d
	r.cfg.Status.Publish(d)
}

func (r *Reader) setStatus(f func(*Status)) {
	r.mu.Lock()
	f(&r.status)
	r.publishLocked()
	r.mu.Unlock()
}

// Run reads cards until ctx ends, sending an event per frame. It opens the
// port, and reopens it with backoff whenever it fails or disappears.
func (r *Reader) Run(ctx context.Context, events chan<- Event) error {
	wait := 100 * time.Millisecond
	for ctx.Err() == nil {
		port, err := r.cfg.Open(r.cfg.Port, r.cfg.Baud, readTimeout)
		if err != nil {
			r.setStatus(func(s *Status) { s.Connected = false; s.LastError = "open: " + err.Error() })
			r.log.Debug("card reader not available", "port", r.cfg.Port, "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(wait):
			}
			wait = min(wait*2, r.cfg.MaxBackoff)
			continue
		}
		wait = 100 * time.Millisecond
		r.setStatus(func(s *Status) { s.Connected = true; s.LastError = "" })
		r.log.Info("card reader connected", "port", r.cfg.Port)
		err = r.read(ctx, port, events)
		if ctx.Err() != nil {
			break
		}
		r.setStatus(func(s *Status) { s.Connected = false; s.LastError = err.Error() })
		r.log.Warn("card reader disconnected", "port", r.cfg.Port, "err", err)
	}
	// Stopping is not a lost reader: the screens are not told.
	r.mu.Lock()
	r.status.Connected = false
	r.mu.Unlock()
	return nil
}

// errGone means the port's device file disappeared: the cable was pulled.
var errGone = errors.New("the port disappeared (cable pulled?)")

// read reads frames from port until it fails or ctx ends, and closes it.
//
// A goroutine reads the port and hands each chunk over a channel, so that
// the idle gap is a timer measured from the last byte, not a poll of the
// port's read timeout: the frame assembly and its timing run the same
// against a serial port and against an in-memory pipe under testing/synctest.
func (r *Reader) read(ctx context.Context, port io.ReadCloser, events chan<- Event) error {
	chunks := make(chan []byte)
	failed := make(chan error, 1)
	done, exited := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(exited)
		buf := make([]byte, 512)
		for {
			n, err := port.Read(buf)
			if n > 0 {
				select {
				case chunks <- bytes.Clone(buf[:n]):
				case <-done:
					return
				}
			}
			// tarm/serial reports its read timeout as io.EOF with nothing
			// read: the port is still there.
			if err != nil && !errors.Is(err, io.EOF) {
				failed <- err
				return
			}
			select {
			case <-done:
				return
			default:
			}
		}
	}()
	defer func() {
		close(done)
		port.Close() // ends a pending read on a pipe; a serial read ends at its timeout
		<-exited
	}()

	var frame []byte
	overflow := false
	emit := func() {
		f := trimNoise(frame)
		frame = frame[:0]
		if overflow {
			overflow = false
			r.send(ctx, events, nil, fmt.Errorf("frame longer than %d bytes dropped: line noise, or the reader sends no line endings", r.cfg.MaxFrame))
			return
		}
		if len(f) > 0 {
			c, err := identity.ParseCard(f)
			r.send(ctx, events, &c, err, f...)
		}
	}
	idle := time.NewTimer(r.cfg.IdleGap)
	idle.Stop()
	defer idle.Stop()
	// A port whose device file is gone was unplugged: reads on it may just
	// time out, so look for the file now and then.
	check := time.NewTicker(time.Second)
	defer check.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-failed:
			return err
		case b := <-chunks:
			for _, c := range b {
				switch {
				case c == '\r' || c == '\n':
					emit()
				case len(frame) >= r.cfg.MaxFrame:
					overflow = true
				default:
					frame = append(frame, c)
				}
			}
			// The gap is counted from the last byte of a frame not yet
			// ended.
			if len(frame) > 0 || overflow {
				idle.Reset(r.cfg.IdleGap)
			} else {
				idle.Stop()
			}
		case <-idle.C:
			emit()
		case <-check.C:
			if _, err := os.Stat(r.cfg.Port); err != nil {
				return errGone
			}
		}
	}
}

func (r *Reader) send(ctx context.Context, events chan<- Event, c *identity.Card, err error, raw ...byte) {
	ev := Event{Err: err, Raw: append([]byte(nil), raw...), At: time.Now()}
	if err == nil && c != nil {
		ev.Card = *c
	}
	r.setStatus(func(s *Status) {
		s.LastFrame = ev.At
		if err != nil {
			s.BadFrames++
		} else {
			s.Cards++
		}
	})
	select {
	case events <- ev:
	case <-ctx.Done():
	}
}

// trimNoise drops the control bytes and white space that line noise and
// some scanners put around a payload (NUL, STX/ETX, BEL...).
func trimNoise(b []byte) []byte {
	return bytes.TrimFunc(b, func(r rune) bool { return r < 0x20 || r == 0x7f || r == ' ' })
}
