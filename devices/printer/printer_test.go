package printer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"os"
	"strings"
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

// Raster bytes that would read as a real-time command (DLE EOT, DLE ENQ,
// DLE DC4) lose the lone dot that makes the DLE; nothing else changes.
func TestEncodeSendsNoRealtimeCommandInRaster(t *testing.T) {
	img := image.NewGray(image.Rect(0, 0, 64, 4))
	for i := range img.Pix {
		img.Pix[i] = 255
	}
	black := func(x, y int) { img.Pix[y*img.Stride+x] = 0 }
	// Row 0: bytes 0x10 0x04 0x01 (DLE EOT 1). Row 1: 0x10 0x05 0x02
	// (DLE ENQ 2, which clears the buffers). Row 2: 0x10 0x14 (DLE DC4).
	// Row 3: 0x10 0x08, harmless, kept.
	black(3, 0)
	black(8+5, 0)
	black(16+7, 0)
	black(3, 1)
	black(8+5, 1)
	black(8+7, 1)
	black(16+6, 1)
	black(3, 2)
	black(8+3, 2)
	black(8+5, 2)
	black(3, 3)
	black(8+4, 3)
	stream := Encode(img)
	for _, seq := range [][]byte{{0x10, 0x04}, {0x10, 0x05}, {0x10, 0x14}} {
		if i := bytes.Index(stream, seq); i >= 0 {
			t.Errorf("% x at byte %d of the stream", seq, i)
		}
	}
	got, err := Decode(stream)
	if err != nil || len(got) != 1 {
		t.Fatalf("Decode: %d, %v", len(got), err)
	}
	for y := 0; y < 4; y++ {
		for x := 0; x < 64; x++ {
			want := img.GrayAt(x, y).Y
			if x == 3 && y < 3 {
				want = 255 // the dropped dot
			}
			if got[0].GrayAt(x, y).Y != want {
				t.Errorf("dot (%d,%d) is %d, want %d", x, y, got[0].GrayAt(x, y).Y, want)
			}
		}
	}
}

// A Decoder fed a byte at a time finds what Decode finds in the whole
// stream, and the status requests between receipts; DLE EOT inside raster
// data is raster data.
func TestDecoderStreams(t *testing.T) {
	img := image.NewGray(image.Rect(0, 0, 24, 300))
	for i := range img.Pix {
		img.Pix[i] = uint8(i * 7)
	}
	receipt := Encode(img)
	// A raster band whose data holds DLE EOT 1, as another program
	// might send it.
	inData := append(append([]byte{0x1b, '@', 0x1d, 'v', '0', 0, 3, 0, 1, 0}, 0x10, 0x04, 0x01), cmdFeedCut...)
	var stream []byte
	stream = append(stream, 0x10, 0x04, 1, 0x10, 0x04, 2)
	stream = append(stream, receipt...)
	stream = append(stream, 0x10, 0x04, 9) // out of range: ignored
	stream = append(stream, 0x10, 0x04, 4)
	stream = append(stream, inData...)
	var d Decoder
	var got []string
	for _, b := range stream {
		d.Write([]byte{b})
		for {
			c, ok, err := d.Next()
			if err != nil {
				t.Fatal(err)
			}
			if !ok {
				break
			}
			if c.Status != 0 {
				got = append(got, fmt.Sprintf("status %d", c.Status))
			} else {
				got = append(got, fmt.Sprintf("receipt %v", c.Receipt.Bounds().Size()))
			}
		}
	}
	want := "status 1,status 2,receipt (24,300),status 4,receipt (24,1)"
	if strings.Join(got, ",") != want || d.InReceipt() {
		t.Fatalf("got %s, want %s (in a receipt: %v)", strings.Join(got, ","), want, d.InReceipt())
	}
	whole, err := Decode(stream)
	if err != nil || len(whole) != 2 {
		t.Fatalf("Decode: %d, %v", len(whole), err)
	}
	// After a bad byte the decoder starts afresh.
	d.Write([]byte{0x42})
	if _, _, err := d.Next(); !errors.Is(err, ErrBadStream) || !strings.Contains(err.Error(), "0x42") {
		t.Fatalf("bad byte: %v", err)
	}
	d.Write(receipt)
	if c, ok, err := d.Next(); err != nil || !ok || c.Receipt == nil {
		t.Fatalf("after a bad byte: %+v, %v, %v", c, ok, err)
	}
}
