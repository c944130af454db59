package sim

import (
	"context"
	"image/png"
	"os"
	"path/filepath"
	"testing"
	"time"

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
