package printer

import (
	"bytes"
	"context"
	"errors"
	"image"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/makiuchi-d/gozxing"
	gzqrcode "github.com/makiuchi-d/gozxing/qrcode"
)

func sample() Receipt {
	return Receipt{
		Procedure: "Đăng ký khai sinh (1.001193)",
		Applicant: "Nguyễn Văn An",
		LocalID:   42,
		FileCode:  "000.00.01.H29-261123-0001",
		At:        time.Date(2026, 11, 23, 2, 0, 0, 0, time.UTC),
		NextSteps: []string{"Kết quả dự kiến ngày 26/11/2026.", "Mang theo căn cước khi nhận kết quả tại Ủy ban nhân dân xã."},
		TrackURL:  "http://127.0.0.1:8787/track/000.00.01.H29-261123-0001",
	}
}

func decodeQR(t *testing.T, img image.Image) string {
	t.Helper()
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := gzqrcode.NewQRCodeReader().Decode(bmp, nil)
	if err != nil {
		t.Fatalf("no QR code found on the receipt: %v", err)
	}
	return res.GetText()
}

// The receipt reaches a printer on a pseudo-terminal as valid ESC/POS; the
// raster, rendered back, carries a QR code that decodes to the tracking
// link.
func TestPrintOnAPseudoTerminal(t *testing.T) {
	if _, err := loadFont(); err != nil {
		t.Fatal(err) // packaging/install-deps.sh installs fonts-dejavu-core
	}
	master, slave, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer master.Close()
	name := slave.Name()
	defer slave.Close()
	var mu sync.Mutex
	var got bytes.Buffer
	go func() {
		buf := make([]byte, 64<<10)
		for {
			n, err := master.Read(buf)
			mu.Lock()
			got.Write(buf[:n])
			mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	p := New(Config{Port: name, Width: Width58mm})
	if err := p.Print(context.Background(), sample()); err != nil {
		t.Fatal(err)
	}
	// Wait until the bytes stop coming.
	var stream []byte
	for last := -1; ; time.Sleep(200 * time.Millisecond) {
		mu.Lock()
		n := got.Len()
		stream = append([]byte(nil), got.Bytes()...)
		mu.Unlock()
		if n == last && n > 0 {
			break
		}
		last = n
	}
	receipts, err := Decode(stream)
	if err != nil || len(receipts) != 1 {
		t.Fatalf("Decode: %d receipts, %v", len(receipts), err)
	}
	img := receipts[0]
	if img.Bounds().Dx() != Width58mm || img.Bounds().Dy() < 400 {
		t.Fatalf("receipt is %v", img.Bounds())
	}
	if text := decodeQR(t, img); text != sample().TrackURL {
		t.Fatalf("QR code says %q, want %q", text, sample().TrackURL)
	}
	if os.Getenv("MOTCUA_SAVE_RECEIPT") != "" {
		savePNG(t, os.Getenv("MOTCUA_SAVE_RECEIPT"), img)
	}
}

func TestDecodeRefusesBadStreams(t *testing.T) {
	good := Encode(image.NewGray(image.Rect(0, 0, 16, 3)))
	tests := map[string][]byte{
		"raster before init": good[2:],
		"truncated":          good[:len(good)-6],
		"unknown command":    append([]byte{0x1b, '@', 0x1b, 'x'}, good[2:]...),
		"not cut":            good[:len(good)-4],
	}
	for name, s := range tests {
		if _, err := Decode(s); !errors.Is(err, ErrBadStream) {
			t.Errorf("%s: Decode = %v, want ErrBadStream", name, err)
		}
	}
	if imgs, err := Decode(append(good, good...)); err != nil || len(imgs) != 2 {
		t.Errorf("two receipts: %d, %v", len(imgs), err)
	}
}

func TestRenderWrapsLongText(t *testing.T) {
	if _, err := loadFont(); err != nil {
		t.Fatal(err)
	}
	short, err := Render(Receipt{Procedure: "A", Applicant: "B"}, Width58mm)
	if err != nil {
		t.Fatal(err)
	}
	r := Receipt{Procedure: "A", Applicant: "B", NextSteps: []string{
		"Một câu rất dài về những việc cần làm tiếp theo để nhận kết quả, đủ dài để phải xuống dòng nhiều lần trên giấy khổ năm mươi tám milimét."}}
	long, err := Render(r, Width58mm)
	if err != nil {
		t.Fatal(err)
	}
	if long.Bounds().Dy() < short.Bounds().Dy()+3*20 {
		t.Errorf("a long step did not wrap: %d vs %d rows", long.Bounds().Dy(), short.Bounds().Dy())
	}
}
