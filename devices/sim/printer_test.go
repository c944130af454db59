package sim

import (
	"context"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tarm/serial"

	"github.com/makiuchi-d/gozxing"
	gzqrcode "github.com/makiuchi-d/gozxing/qrcode"

	"github.com/motcua/motcua/devices/printer"
)

// Two receipts printed to the simulated printer come out as two PNGs, each
// with a QR code that decodes to its tracking link.
func TestPrinterSimulatorSavesReceipts(t *testing.T) {
	dir := t.TempDir()
	sim, err := NewPrinter(filepath.Join(dir, "dev", "printer"), filepath.Join(dir, "receipts"))
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	p := printer.New(printer.Config{Port: sim.Path(), Width: printer.Width58mm})
	links := []string{"http://127.0.0.1:8787/track/000.00.01.H29-261123-0001", "http://127.0.0.1:8787/track/000.00.01.H29-261123-0002"}
	for i, link := range links {
		r := printer.Receipt{Procedure: "Đăng ký khai sinh", Applicant: "Trần Thị Bình", LocalID: int64(i + 1),
			At: time.Now(), TrackURL: link}
		if err := p.Print(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(sim.Saved()) < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("saved %v, err %v", sim.Saved(), sim.Err())
		}
		time.Sleep(50 * time.Millisecond)
	}
	for i, path := range sim.Saved() {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		bmp, _ := gozxing.NewBinaryBitmapFromImage(img)
		res, err := gzqrcode.NewQRCodeReader().Decode(bmp, nil)
		if err != nil || res.GetText() != links[i] {
			t.Fatalf("receipt %d: QR %v, %v", i, res, err)
		}
	}
	if sim.Err() != nil {
		t.Fatal(sim.Err())
	}
}

// openPort opens the simulated printer as the agent does.
func openPort(t *testing.T, path string) *serial.Port {
	t.Helper()
	port, err := serial.OpenPort(&serial.Config{Name: path, Baud: 9600, ReadTimeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { port.Close() })
	return port
}

// ask sends DLE EOT n and reads the one-byte reply.
func ask(t *testing.T, port *serial.Port, n byte) byte {
	t.Helper()
	if _, err := port.Write([]byte{0x10, 0x04, n}); err != nil {
		t.Fatal(err)
	}
	var b [1]byte
	for deadline := time.Now().Add(5 * time.Second); ; {
		if k, _ := port.Read(b[:]); k == 1 {
			return b[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("no reply to DLE EOT %d", n)
		}
	}
}

// The simulator answers DLE EOT n with Epson's bytes for its state; a
// receipt sent while it is out of paper (past the agent's check, as a
// careless program would) is not saved, and the next one, once paper is
// in, is. The simulator closes while the port is still open (a deferred
// Close runs before the port's cleanup): it must not hang.
func TestPrinterSimulatorStatusAndPaperOut(t *testing.T) {
	dir := t.TempDir()
	sim, err := NewPrinter(filepath.Join(dir, "dev", "printer"), filepath.Join(dir, "receipts"))
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	port := openPort(t, sim.Path())
	tests := []struct {
		state PrinterState
		want  [4]byte // replies to DLE EOT 1, 2, 3, 4
	}{
		{PrinterState{}, [4]byte{0x12, 0x12, 0x12, 0x12}},
		{PrinterState{PaperNearEnd: true}, [4]byte{0x12, 0x12, 0x12, 0x1e}},
		{PrinterState{PaperOut: true}, [4]byte{0x1a, 0x32, 0x12, 0x7e}},
		{PrinterState{CoverOpen: true}, [4]byte{0x1a, 0x16, 0x12, 0x12}},
		{PrinterState{Offline: true}, [4]byte{0x1a, 0x12, 0x12, 0x12}},
		{PrinterState{Error: true}, [4]byte{0x1a, 0x52, 0x1a, 0x12}},
	}
	for _, tt := range tests {
		sim.SetState(tt.state)
		for i := range tt.want {
			if got := ask(t, port, byte(i+1)); got != tt.want[i] {
				t.Errorf("%+v: DLE EOT %d answered 0x%02x, want 0x%02x", tt.state, i+1, got, tt.want[i])
			}
		}
	}

	img := image.NewGray(image.Rect(0, 0, 64, 40))
	sim.SetState(PrinterState{})
	sim.SetPaper(true, false)
	if _, err := port.Write(printer.Encode(img)); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); sim.Dropped() == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the receipt never reached the simulator")
		}
	}
	sim.SetPaper(false, false)
	if _, err := port.Write(printer.Encode(img)); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); len(sim.Saved()) == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the second receipt was not saved (dropped %d, err %v)", sim.Dropped(), sim.Err())
		}
	}
	if sim.Dropped() != 1 || len(sim.Saved()) != 1 || sim.Err() != nil {
		t.Fatalf("dropped %d, saved %v, err %v", sim.Dropped(), sim.Saved(), sim.Err())
	}
	if !strings.HasSuffix(sim.Saved()[0], "receipt-0001.png") {
		t.Fatalf("saved as %s", sim.Saved()[0])
	}
}
