package sim

import (
	"bytes"
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
// in a folder.
type Printer struct {
	path string
	dir  string

	mu      sync.Mutex
	saved   []string
	badErr  error
	stopped chan struct{}
	close   func() error
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
	if err := os.MkdirAll(dir, 0o755); err != nil {
		master.Close()
		slave.Close()
		return nil, err
	}
	os.MkdirAll(filepath.Dir(path), 0o755)
	os.Remove(path)
	if err := os.Symlink(name, path); err != nil {
		master.Close()
		slave.Close()
		return nil, fmt.Errorf("printer simulator: %w", err)
	}
	p := &Printer{path: path, dir: dir, stopped: make(chan struct{})}
	p.close = func() error {
		os.Remove(path)
		slave.Close()
		return master.Close()
	}
	go p.run(master)
	return p, nil
}

// Path is the device path the agent prints to.
func (p *Printer) Path() string { return p.path }

// Saved returns the PNG files saved so far.
func (p *Printer) Saved() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.saved...)
}

// Err returns the last invalid stream the printer received, if any.
func (p *Printer) Err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.badErr
}

// Close unplugs the simulated printer.
func (p *Printer) Close() error {
	err := p.close()
	<-p.stopped
	return err
}

// feedCut ends every receipt.
var feedCut = []byte{0x1d, 'V', 66, 3}

func (p *Printer) run(master *os.File) {
	defer close(p.stopped)
	var stream []byte
	buf := make([]byte, 64<<10)
	for {
		n, err := master.Read(buf)
		stream = append(stream, buf[:n]...)
		if n > 0 && bytes.HasSuffix(stream, feedCut) {
			receipts, derr := printer.Decode(stream)
			switch {
			case derr == nil:
				for _, img := range receipts {
					p.save(img)
				}
				stream = stream[:0]
			case len(stream) > 64<<20:
				p.mu.Lock()
				p.badErr = derr
				p.mu.Unlock()
				stream = stream[:0]
			}
			// Otherwise the cut bytes were inside raster data: wait for more.
		}
		if err != nil {
			return
		}
	}
}

func (p *Printer) save(img *image.Gray) {
	p.mu.Lock()
	defer p.mu.Unlock()
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
