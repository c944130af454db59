package sim

import (
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"sync"

	"github.com/creack/pty"

	"github.com/motcua/motcua/devices/printer"
)

// Printer plays an ESC/POS receipt printer: it reads what the agent sends,
// checks it is valid ESC/POS, and saves each receipt, as printed, as a PNG
// in a folder. It answers the real-time status requests (DLE EOT n) the way
// an Epson printer does, from a state the tests and demos set: paper out or
// near its end, cover open, offline, an error; or it stays mute, like a
// printer on a one-way cable. A receipt sent while it cannot print is not
// saved: a real printer prints nothing.
type Printer struct {
	path string
	dir  string

	mu       sync.Mutex
	saved    []string
	dropped  int
	requests int
	badErr   error
	state    PrinterState
	raw      map[byte]byte
	closing  bool
	stopped  chan struct{}
	close    func() error
}

// PrinterState is what the simulated printer reports and does.
type PrinterState struct {
	PaperOut, PaperNearEnd bool
	CoverOpen              bool
	Offline                bool // switched offline: prints nothing, says so
	Error                  bool // a paper jam or the cutter
	Mute                   bool // answers no status request
}

// NewPrinter opens a pseudo-terminal, links path to it, and saves receipts
// in dir.
func NewPrinter(path, dir string) (*Printer, error) {
	master, slave, err := pty.Open()
	if err != nil {
		return nil, fmt.Errorf("printer simulator: %w", err)
	}
	name := slave.Name()
	// Keep the slave open: the master then reads nothing but what the agent
	// writes, and survives the agent closing the port between receipts.
	err = os.MkdirAll(dir, 0o755)
	if err == nil {
		err = checkWritable(dir)
	}
	if err == nil {
		err = linkDevice(name, path)
	}
	if err != nil {
		master.Close()
		slave.Close()
		return nil, fmt.Errorf("printer simulator: %w", err)
	}
	p := &Printer{path: path, dir: dir, stopped: make(chan struct{})}
	p.close = func() error {
		unlinkDevice(name, path)
		p.mu.Lock()
		p.closing = true
		p.mu.Unlock()
		// Wake the reader: while the agent holds the port open, the
		// master's read would not end, and closing the master waits for it.
		slave.Write([]byte{0})
		<-p.stopped
		slave.Close()
		return master.Close()
	}
	go p.run(master)
	return p, nil
}

// Path is the device path the agent prints to.
func (p *Printer) Path() string { return p.path }

// SetPaper puts the roll's end sensors in state: no paper at all (out), or
// little left (nearEnd).
func (p *Printer) SetPaper(out, nearEnd bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.state.PaperOut, p.state.PaperNearEnd = out, nearEnd
}

// SetCoverOpen opens or closes the cover.
func (p *Printer) SetCoverOpen(open bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.state.CoverOpen = open
}

// SetOffline takes the printer offline, or back.
func (p *Printer) SetOffline(offline bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.state.Offline = offline
}

// SetError gives the printer an error (a paper jam), or clears it.
func (p *Printer) SetError(failed bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.state.Error = failed
}

// SetMute makes the printer answer no status request, like a printer on a
// one-way cable; it still prints.
func (p *Printer) SetMute(mute bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.state.Mute = mute
}

// SetState sets the whole state at once.
func (p *Printer) SetState(s PrinterState) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.state = s
}

// SetRawReplies makes the printer answer DLE EOT n with replies[n], right
// or wrong, whatever its state; nil goes back to answering from the state.
// Tests use it to send replies a real printer might garble.
func (p *Printer) SetRawReplies(replies map[byte]byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.raw = replies
}

// Saved returns the PNG files saved so far.
func (p *Printer) Saved() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.saved...)
}

// Dropped is how many receipts arrived while the printer could not print.
func (p *Printer) Dropped() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.dropped
}

// StatusRequests is how many DLE EOT n requests the printer has read,
// answered or not.
func (p *Printer) StatusRequests() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.requests
}

// Err returns the last invalid stream the printer received, if any.
func (p *Printer) Err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.badErr
}

// Close unplugs the simulated printer.
func (p *Printer) Close() error {
	return p.close()
}

// Status bits, as Epson's ESC/POS reference defines the replies to DLE
// EOT n: bits 1 and 4 always on, 0 and 7 always off.
const (
	stFixed     = 0x12
	stOffline   = 0x08 // n=1
	stCoverOpen = 0x04 // n=2
	stPaperStop = 0x20 // n=2: printing stopped by paper end
	stError     = 0x40 // n=2
	stCutter    = 0x08 // n=3: autocutter error
	stNearEnd   = 0x0c // n=4
	stPaperEnd  = 0x60 // n=4
)

// reply is the answer to DLE EOT n, and whether there is one.
func (p *Printer) reply(n byte) (byte, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.requests++
	s := p.state
	if b, ok := p.raw[n]; ok {
		return b, true
	}
	if s.Mute {
		return 0, false
	}
	b := byte(stFixed)
	switch n {
	case 1:
		if !s.canPrint() {
			b |= stOffline
		}
	case 2:
		if s.CoverOpen {
			b |= stCoverOpen
		}
		if s.PaperOut {
			b |= stPaperStop
		}
		if s.Error {
			b |= stError
		}
	case 3:
		if s.Error {
			b |= stCutter
		}
	case 4:
		if s.PaperOut || s.PaperNearEnd {
			b |= stNearEnd
		}
		if s.PaperOut {
			b |= stPaperEnd
		}
	}
	return b, true
}

func (s PrinterState) canPrint() bool {
	return !s.PaperOut && !s.CoverOpen && !s.Offline && !s.Error
}

func (p *Printer) run(master *os.File) {
	defer close(p.stopped)
	var dec printer.Decoder
	buf := make([]byte, 64<<10)
	for {
		n, err := master.Read(buf)
		p.mu.Lock()
		closing := p.closing
		p.mu.Unlock()
		if closing {
			return
		}
		dec.Write(buf[:n])
		for {
			c, ok, derr := dec.Next()
			if derr != nil {
				p.mu.Lock()
				p.badErr = derr
				p.mu.Unlock()
				continue // the decoder starts afresh
			}
			if !ok {
				break
			}
			switch {
			case c.Status != 0:
				if b, ok := p.reply(c.Status); ok {
					master.Write([]byte{b})
				}
			case c.Receipt != nil:
				p.print(c.Receipt)
			}
		}
		if err != nil {
			return
		}
	}
}

// print saves the receipt, if the printer can print.
func (p *Printer) print(img *image.Gray) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.state.canPrint() {
		p.dropped++
		return
	}
	name := filepath.Join(p.dir, fmt.Sprintf("receipt-%04d.png", len(p.saved)+1))
	f, err := os.Create(name)
	if err != nil {
		p.badErr = err
		return
	}
	defer f.Close()
	if err := png.Encode(f, img); err != nil {
		p.badErr = err
		return
	}
	p.saved = append(p.saved, name)
}
