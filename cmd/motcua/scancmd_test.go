package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestScanToPDFAndSubmit scans from the simulated scanner (the real
// scanimage with SANE's test backend) into a PDF, checks it with poppler,
// and attaches it to an application.
func TestScanToPDFAndSubmit(t *testing.T) {
	data := t.TempDir()
	pdf := filepath.Join(t.TempDir(), "evidence.pdf")

	r := cli(t, data, "", "scan", "--devices", "sim", "--list")
	if r.code != 0 || !strings.Contains(r.stdout, "test:0") {
		t.Fatalf("scan --list: %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	r = cli(t, data, "", "scan", "--devices", "sim", "--source", "adf", "--mode", "bilevel", "--out", pdf, "--json")
	if r.code != 0 {
		t.Fatalf("scan: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	var res scanResult
	mustJSON(t, r.stdout, &res)
	if res.File != pdf || len(res.Pages) != 10 {
		t.Fatalf("scan from the simulated feeder: %+v, want its 10 pages in %s", res, pdf)
	}
	for i, p := range res.Pages {
		if p.DPI != 200 || p.Encoding != "bilevel 200 dpi" || p.Bytes > 80<<10 {
			t.Errorf("page %d: %+v", i+1, p)
		}
	}
	info, err := exec.Command("pdfinfo", pdf).CombinedOutput()
	if err != nil {
		t.Fatalf("pdfinfo: %v\n%s", err, info)
	}
	st, err := os.Stat(pdf)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(info), "Pages:           10\n") || !strings.Contains(string(info), "(A4)") || st.Size() != int64(res.Bytes) {
		t.Fatalf("pdfinfo of a %d-byte file (%d said):\n%s", st.Size(), res.Bytes, info)
	}

	// The scan is evidence for an application.
	form := writeFile(t, t.TempDir(), "f.json", string(mustRun(t, data, "procedures", "example", "1.004222")))
	r = cli(t, data, "", "submit", "--procedure", "1.004222", "--form", form, "--attach", pdf)
	if r.code != 0 {
		t.Fatalf("submit with the scan: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = cli(t, data, "", "show", "1")
	if r.code != 0 || !strings.Contains(r.stdout, "evidence.pdf") || !strings.Contains(r.stdout, strconv.Itoa(res.Bytes)) {
		t.Fatalf("show: the scan is not attached:\n%s%s", r.stdout, r.stderr)
	}
}

func mustRun(t *testing.T, data string, args ...string) []byte {
	t.Helper()
	r := cli(t, data, "", args...)
	if r.code != 0 {
		t.Fatalf("motcua %v: %d\n%s", args, r.code, r.stderr)
	}
	return []byte(r.stdout)
}

// TestScanFaultsWriteNothing: a jam or an open cover is a clear message in
// both languages, and no file.
func TestScanFaultsWriteNothing(t *testing.T) {
	data := t.TempDir()
	for fault, vi := range map[string]string{
		"jammed":     "Giấy bị kẹt",
		"cover-open": "Nắp máy quét đang mở",
		"no-docs":    "Khay nạp giấy đang trống",
	} {
		pdf := filepath.Join(t.TempDir(), "out.pdf")
		r := cli(t, data, "", "scan", "--devices", "sim", "--sim-fault", fault, "--timeout", "5s", "--out", pdf)
		// SANE's test backend can deadlock on a failing read (see
		// scanFaulty in devices/scanner): the simulator hangs, not the
		// fault, so a hang is tried again, up to three times in all.
		for try := 1; try < 3 && strings.Contains(r.stderr, "stopped answering"); try++ {
			t.Logf("%s: the simulated scanner hung (try %d)", fault, try)
			r = cli(t, data, "", "scan", "--devices", "sim", "--sim-fault", fault, "--timeout", "5s", "--out", pdf)
		}
		if r.code != 1 || !strings.Contains(r.stderr, vi) {
			t.Errorf("%s: exit %d, stderr:\n%s", fault, r.code, r.stderr)
		}
		if _, err := os.Stat(pdf); !os.IsNotExist(err) {
			t.Errorf("%s: %s was written (%v)", fault, pdf, err)
		}
	}
}

func TestScanUsage(t *testing.T) {
	data := t.TempDir()
	for _, args := range [][]string{
		{"scan"},
		{"scan", "--list", "--out", "x.pdf"},
		{"scan", "--devices", "sim", "--mode", "colour", "--out", "x.pdf"},
		{"scan", "--devices", "sim", "--source", "tray", "--out", "x.pdf"},
		{"scan", "--devices", "sim", "--resolution", "20", "--out", "x.pdf"},
		{"scan", "--devices", "sim", "--sim-fault", "smoke", "--out", "x.pdf"},
		{"scan", "--devices", "real", "--sim-fault", "jammed", "--out", "x.pdf"},
		{"scan", "--devices", "sim", "--timeout", "0s", "--out", "x.pdf"},
	} {
		if r := cli(t, data, "", args...); r.code != 2 || r.stderr == "" {
			t.Errorf("motcua %v: exit %d, stderr %q; want a usage error", args, r.code, r.stderr)
		}
	}
}

// TestScanAutoFindsAScanner: with devices = auto and no scanner configured,
// a scanner SANE sees is used, not the simulator. Here SANE sees its test
// backend through a SANE_CONFIG_DIR of the test's, as it would see a
// scanner plugged in.
func TestScanAutoFindsAScanner(t *testing.T) {
	data := t.TempDir()
	sane := t.TempDir()
	if err := os.WriteFile(filepath.Join(sane, "dll.conf"), []byte("test\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	pdf := filepath.Join(t.TempDir(), "found.pdf")
	r := cliEnv(t, data, []string{"SANE_CONFIG_DIR=" + sane}, "scan", "--source", "flatbed", "--out", pdf, "--json")
	if r.code != 0 || strings.Contains(r.stderr, "simulated") {
		t.Fatalf("scan with a scanner attached: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// With nothing attached, auto falls back to the simulator and says so.
	empty := t.TempDir()
	if err := os.WriteFile(filepath.Join(empty, "dll.conf"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	r = cliEnv(t, data, []string{"SANE_CONFIG_DIR=" + empty}, "scan", "--out", pdf)
	if r.code != 0 || !strings.Contains(r.stderr, "scanning from the simulated scanner") {
		t.Fatalf("scan with no scanner: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = cliEnv(t, data, []string{"SANE_CONFIG_DIR=" + sane}, "doctor", "--json")
	if !strings.Contains(r.stdout, `"detail": "test:0 (Noname frontend-tester, virtual device)"`) {
		t.Fatalf("doctor with a scanner attached:\n%s", r.stdout)
	}
}
