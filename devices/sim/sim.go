// Package sim plays the kiosk's serial devices on pseudo-terminals, so a
// demo or a test needs no hardware: the agent opens the device path as it
// would a real port.
package sim

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/creack/pty"
)

// CardReader plays a QR card reader in serial mode: each Send writes one
// payload and a CR LF, as the scanner does when a card is shown to it.
type CardReader struct {
	path   string
	dev    string // the pseudo-terminal path links to
	master *os.File

	mu       sync.Mutex
	payloads [][]byte
	next     int
}

// NewCardReader opens a pseudo-terminal and links path to its device, the
// way a udev rule names a scanner. payloads are what Next sends, in turn.
func NewCardReader(path string, payloads [][]byte) (*CardReader, error) {
	master, slave, err := pty.Open()
	if err != nil {
		return nil, fmt.Errorf("card reader simulator: %w", err)
	}
	name := slave.Name()
	slave.Close()
	if err := linkDevice(name, path); err != nil {
		master.Close()
		return nil, fmt.Errorf("card reader simulator: %w", err)
	}
	go io.Copy(io.Discard, master) // whatever the agent writes to the reader
	return &CardReader{path: path, dev: name, master: master, payloads: payloads}, nil
}

// Path is the device path the agent opens.
func (c *CardReader) Path() string { return c.path }

// Send writes one payload as the scanner would.
func (c *CardReader) Send(payload []byte) error {
	_, err := c.master.Write(append(append([]byte(nil), payload...), '\r', '\n'))
	return err
}

// Next sends the next of the simulator's payloads, cycling, and returns it.
func (c *CardReader) Next() ([]byte, error) {
	c.mu.Lock()
	if len(c.payloads) == 0 {
		c.mu.Unlock()
		return nil, errors.New("card reader simulator: no payloads")
	}
	p := c.payloads[c.next%len(c.payloads)]
	c.next++
	c.mu.Unlock()
	return p, c.Send(p)
}

// Close unplugs the simulated reader.
func (c *CardReader) Close() error {
	unlinkDevice(c.dev, c.path)
	return c.master.Close()
}

// ReadPayloads reads one payload per non-empty line.
func ReadPayloads(r io.Reader) ([][]byte, error) {
	var out [][]byte
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if line := bytes.TrimRight(sc.Bytes(), "\r"); strings.TrimSpace(string(line)) != "" {
			out = append(out, append([]byte(nil), line...))
		}
	}
	return out, sc.Err()
}

// SamplePayloads are synthetic cards (not real people) for demos.
var SamplePayloads = [][]byte{
	[]byte("001095012345|012345678|Nguyễn Văn An|15081995|Nam|Số 12 ngõ 34 Láng Hạ, Phường Thành Công, Quận Ba Đình, Hà Nội|20042021"),
	[]byte("079304000123||Trần Thị Bình|02112004|Nữ|123 Lê Lợi, Phường Bến Thành, Quận 1, TP Hồ Chí Minh|10072022"),
	[]byte("048062001234|201234567|Lê Minh Châu|20031962|Nam|45 Bạch Đằng, Phường Hải Châu 1, Quận Hải Châu, Đà Nẵng|05012022"),
	[]byte("092190005678||Phạm Thị Dung|09071990|Nữ|Ấp Thới Bình, Xã Thới An, Quận Ô Môn, Cần Thơ|12082021"),
}
