package main

import (
	"fmt"
	"image/png"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	gzqrcode "github.com/makiuchi-d/gozxing/qrcode"

	"github.com/motcua/motcua/devices/sim"
)

func qrInPNG(t *testing.T, path string) string {
	t.Helper()
	text, err := qrInPNGErr(path)
	if err != nil {
		t.Fatal(err)
	}
	return text
}

func qrInPNGErr(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		return "", err
	}
	bmp, _ := gozxing.NewBinaryBitmapFromImage(img)
	res, err := gzqrcode.NewQRCodeReader().Decode(bmp, nil)
	if err == nil {
		return res.GetText(), nil
	}
	// gozxing misreads about 1 in 100 sound codes (a wrong grid size, or a
	// Reed-Solomon failure) when the link, and so the code, is random:
	// zbar, the decoder of many real scanners, reads every one of them
	// (checked on 400 receipts). A code neither reads is truly unreadable.
	out, zerr := exec.Command("zbarimg", "--quiet", "--raw", path).Output()
	if zerr != nil {
		return "", fmt.Errorf("no QR code in %s: gozxing: %w; zbarimg: %v", path, err, zerr)
	}
	return strings.TrimSuffix(string(out), "\n"), nil
}

// A receipt for a queued application carries a QR code of its tracking
// link by the kiosk's device id and the idempotency key (a key is unique
// only per device), which opens the file once it is delivered; printed to
// the simulated printer it comes out the same. A kiosk not yet enrolled
// with the portal knows no device id, so its receipt has no QR code.
func TestReceipt(t *testing.T) {
	data := t.TempDir()
	dir := t.TempDir()
	form := writeFile(t, dir, "f.json", cli(t, data, "", "procedures", "example", "1.001193").stdout)
	var sub submitResult
	mustJSON(t, cli(t, data, "", "submit", "--procedure", "1.001193", "--form", form).stdout, &sub)
	out := filepath.Join(dir, "r.png")
	portalURL, _ := startPortal(t)
	if r := cli(t, data, "", "receipt", fmt.Sprint(sub.ID), "--png", out, "--portal", portalURL); r.code != 0 {
		t.Fatal(r.stderr)
	}
	if _, err := qrInPNGErr(out); err == nil {
		t.Fatal("a kiosk not enrolled printed a QR code")
	}

	// Enrolled (by delivering that one), it prints the device-scoped link
	// of the next application before its delivery.
	if r := cli(t, data, "", "sync", "--once", "--portal", portalURL); r.code != 0 {
		t.Fatalf("enroll: %s%s", r.stdout, r.stderr)
	}
	mustJSON(t, cli(t, data, "", "submit", "--procedure", "1.001193", "--form", form).stdout, &sub)
	if r := cli(t, data, "", "receipt", fmt.Sprint(sub.ID), "--png", out, "--portal", portalURL); r.code != 0 {
		t.Fatal(r.stderr)
	}
	want := qrInPNG(t, out)
	if !regexp.MustCompile("^" + regexp.QuoteMeta(portalURL+"/track/") + "dev-[0-9a-f]{16}/" + sub.IdempotencyKey + "$").MatchString(want) {
		t.Fatalf("QR %q, want %s/track/DEVICE/%s", want, portalURL, sub.IdempotencyKey)
	}

	prn, err := sim.NewPrinter(filepath.Join(dir, "printer"), filepath.Join(dir, "receipts"))
	if err != nil {
		t.Fatal(err)
	}
	defer prn.Close()
	if r := cli(t, data, "", "receipt", fmt.Sprint(sub.ID), "--printer", prn.Path(), "--width", "384", "--portal", portalURL); r.code != 0 {
		t.Fatal(r.stderr)
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(prn.Saved()) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("nothing printed (%v)", prn.Err())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got := qrInPNG(t, prn.Saved()[0]); got != want {
		t.Fatalf("printed QR %q, want %q", got, want)
	}
	if r := cli(t, data, "", "sync", "--once", "--portal", portalURL); r.code != 0 {
		t.Fatalf("sync: %s%s", r.stdout, r.stderr)
	}
	resp, err := http.Get(want)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(page), "000.00.01.H29-") {
		t.Fatalf("the receipt's link after delivery: %d\n%s", resp.StatusCode, page)
	}

	for _, args := range [][]string{
		{"receipt", fmt.Sprint(sub.ID)},
		{"receipt", "x", "--png", out},
		{"receipt", fmt.Sprint(sub.ID), "--png", out, "--printer", "/dev/null"},
	} {
		if r := cli(t, data, "", args...); r.code != exitUsage {
			t.Errorf("%v: exit %d", args, r.code)
		}
	}
	if r := cli(t, data, "", "receipt", fmt.Sprint(sub.ID), "--printer", "/nonexistent/ttyUSB9"); r.code != exitFail || !strings.Contains(r.stderr, "ttyUSB9") {
		t.Errorf("missing printer: %+v", r)
	}
}

// A printer out of paper is sent nothing: receipt exits 1 with what to do,
// Vietnamese first. Paper near its end prints, with a warning.
func TestReceiptPrinterStatus(t *testing.T) {
	data := t.TempDir()
	dir := t.TempDir()
	form := writeFile(t, dir, "f.json", cli(t, data, "", "procedures", "example", "1.001193").stdout)
	var sub submitResult
	mustJSON(t, cli(t, data, "", "submit", "--procedure", "1.001193", "--form", form).stdout, &sub)
	prn, err := sim.NewPrinter(filepath.Join(dir, "printer"), filepath.Join(dir, "receipts"))
	if err != nil {
		t.Fatal(err)
	}
	defer prn.Close()
	args := []string{"receipt", fmt.Sprint(sub.ID), "--printer", prn.Path(), "--width", "384"}

	prn.SetPaper(true, false)
	r := cli(t, data, "", args...)
	if r.code != exitFail || !strings.HasPrefix(r.stderr, "motcua receipt: Máy in hết giấy. Hãy lắp cuộn giấy mới.\n") ||
		!strings.Contains(r.stderr, "the printer is out of paper: load a new roll") {
		t.Fatalf("out of paper: exit %d\n%s", r.code, r.stderr)
	}
	prn.SetState(sim.PrinterState{CoverOpen: true})
	if r := cli(t, data, "", args...); r.code != exitFail || !strings.Contains(r.stderr, "Nắp máy in đang mở") {
		t.Fatalf("cover open: exit %d\n%s", r.code, r.stderr)
	}

	prn.SetState(sim.PrinterState{PaperNearEnd: true})
	r = cli(t, data, "", args...)
	if r.code != 0 || !strings.Contains(r.stderr, "Giấy in sắp hết") || !strings.Contains(r.stderr, "nearly out") {
		t.Fatalf("near end: exit %d\n%s", r.code, r.stderr)
	}
	// The simulator handles what it receives in order: the receipt
	// printed is the first it saw, so the refused ones never reached it.
	for deadline := time.Now().Add(10 * time.Second); len(prn.Saved()) == 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("nothing printed (%v)", prn.Err())
		}
	}
	if len(prn.Saved()) != 1 || prn.Dropped() != 0 || prn.Err() != nil {
		t.Fatalf("saved %v, dropped %d, err %v", prn.Saved(), prn.Dropped(), prn.Err())
	}
}
