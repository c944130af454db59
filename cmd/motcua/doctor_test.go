package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/motcua/motcua/agent/speech"
	"github.com/motcua/motcua/devices/sim"
)

// doctorLines returns doctor's line for check name and the lines indented
// under it (the hint).
func doctorLine(t *testing.T, out, name string) (string, []string) {
	t.Helper()
	lines := strings.Split(out, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "OK   "+name+": ") || strings.HasPrefix(l, "FAIL "+name+": ") || strings.HasPrefix(l, "WARN "+name+": ") {
			var hint []string
			for _, h := range lines[i+1:] {
				if !strings.HasPrefix(h, "     ") {
					break
				}
				hint = append(hint, strings.TrimSpace(h))
			}
			return l, hint
		}
	}
	t.Fatalf("doctor printed no %q line:\n%s", name, out)
	return "", nil
}

// refusedURL returns a loopback URL where nothing listens.
func refusedURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := "http://" + ln.Addr().String()
	ln.Close()
	return u
}

// doctor on real hardware as configured: a card reader whose cable is
// out, a printer on a pseudo-terminal, a portal that refuses connections.
func TestDoctorFailsWithHints(t *testing.T) {
	data := t.TempDir()
	dir := t.TempDir()
	prn, err := sim.NewPrinter(filepath.Join(dir, "printer"), filepath.Join(dir, "receipts"))
	if err != nil {
		t.Fatal(err)
	}
	defer prn.Close()
	dead := refusedURL(t)
	cfg := writeFile(t, dir, "config.toml", fmt.Sprintf(`devices = "real"
[card_reader]
port = "/nonexistent/ttyACM9"
[printer]
port = %q
baud = 19200
[portal]
url = %q
`, prn.Path(), dead))
	r := cliEnv(t, data, nil, "doctor", "--config", cfg)
	if r.code != exitFail {
		t.Fatalf("doctor exited %d, want 1\n%s%s", r.code, r.stdout, r.stderr)
	}
	line, hint := doctorLine(t, r.stdout, "card reader")
	if line != "FAIL card reader: /nonexistent/ttyACM9 does not exist" || len(hint) != 2 ||
		!strings.HasPrefix(hint[0], "Cắm lại cáp USB của máy đọc mã QR") || !strings.HasPrefix(hint[1], "Replug the QR reader's USB cable") {
		t.Errorf("card reader: %q %q", line, hint)
	}
	line, hint = doctorLine(t, r.stdout, "printer")
	if !strings.HasPrefix(line, "OK   printer: "+prn.Path()+" (/dev/pts/") || !strings.HasSuffix(line, "): opens at 19200 baud, online, paper OK") || hint != nil {
		t.Errorf("printer: %q %q", line, hint)
	}
	line, hint = doctorLine(t, r.stdout, "portal")
	if !strings.HasPrefix(line, "FAIL portal: "+dead+" does not answer") || !strings.Contains(line, "connection refused") ||
		len(hint) != 2 || !strings.HasPrefix(hint[0], "Kiểm tra mạng") {
		t.Errorf("portal: %q %q", line, hint)
	}
	if line, _ := doctorLine(t, r.stdout, "scanner"); line != "OK   scanner: not used (none configured, devices = real)" {
		t.Errorf("scanner: %q", line)
	}
	if line, _ := doctorLine(t, r.stdout, "database"); !strings.Contains(line, "OK   database: not created yet") {
		t.Errorf("database: %q", line)
	}
	if line, _ := doctorLine(t, r.stdout, "disk"); !strings.Contains(line, " free of ") {
		t.Errorf("disk: %q", line)
	}
}

// A real reference portal passes, with its latency; the database, once
// created, passes its integrity check; the JSON has one entry per check.
func TestDoctorPortalDatabaseJSON(t *testing.T) {
	portalURL, _ := startPortal(t)
	data := t.TempDir()
	form := writeFile(t, t.TempDir(), "f.json", cli(t, data, "", "procedures", "example", "1.001193").stdout)
	if r := cli(t, data, "", "submit", "--procedure", "1.001193", "--form", form); r.code != 0 {
		t.Fatal(r.stderr)
	}
	cfg := writeFile(t, t.TempDir(), "c.toml", fmt.Sprintf("devices = \"real\"\n[portal]\nurl = %q\n", portalURL))
	r := cliEnv(t, data, nil, "doctor", "--config", cfg)
	if line, _ := doctorLine(t, r.stdout, "portal"); !strings.HasPrefix(line, "OK   portal: "+portalURL+" answers in ") || !strings.HasSuffix(line, " ms") {
		t.Errorf("portal: %q", line)
	}
	if line, _ := doctorLine(t, r.stdout, "database"); !strings.HasPrefix(line, "OK   database: "+filepath.Join(data, "motcua.db")+": integrity ok") {
		t.Errorf("database: %q", line)
	}

	r = cliEnv(t, data, nil, "doctor", "--config", cfg, "--json")
	var got struct {
		OK      bool   `json:"ok"`
		Devices string `json:"devices"`
		Checks  []struct {
			Name    string `json:"name"`
			OK      bool   `json:"ok"`
			Warning bool   `json:"warning"`
			Detail  string `json:"detail"`
			Hint    *struct {
				VI string `json:"vi"`
				EN string `json:"en"`
			} `json:"hint"`
		} `json:"checks"`
	}
	mustJSON(t, r.stdout, &got)
	var names []string
	allOK := true
	for _, c := range got.Checks {
		names = append(names, c.Name)
		allOK = allOK && c.OK
		if c.Detail == "" || (c.OK && !c.Warning) != (c.Hint == nil) || (c.Hint != nil && (c.Hint.VI == "" || c.Hint.EN == "")) {
			t.Errorf("check %+v: want a detail, and a hint in both languages exactly when it fails or warns", c)
		}
	}
	if want := "config,card reader,printer,scanner,audio,video,portal,disk,database,alerts"; strings.Join(names, ",") != want {
		t.Errorf("checks %v, want %s", names, want)
	}
	if got.OK != allOK || got.Devices != "real" || (r.code == 0) != allOK {
		t.Errorf("ok %v, devices %q, exit %d; the checks' all-ok is %v", got.OK, got.Devices, r.code, allOK)
	}

	// A database that is not one fails, and the hint says to keep it.
	writeFile(t, data, "motcua.db", strings.Repeat("not a database ", 1000))
	r = cliEnv(t, data, nil, "doctor", "--config", cfg)
	if line, hint := doctorLine(t, r.stdout, "database"); !strings.HasPrefix(line, "FAIL database: ") || len(hint) != 2 ||
		!strings.HasPrefix(hint[0], "Không xoá gì") || r.code != exitFail {
		t.Errorf("corrupt database: %q %q (exit %d)", line, hint, r.code)
	}
}

// --devices sim checks simulated devices that doctor starts and stops.
func TestDoctorSimulatedDevices(t *testing.T) {
	data := t.TempDir()
	r := cliEnv(t, data, nil, "doctor", "--devices", "sim")
	for name, status := range map[string]string{"card reader": "", "printer": ", online, paper OK"} {
		line, _ := doctorLine(t, r.stdout, name)
		if !strings.HasPrefix(line, "OK   "+name+": simulated at ") || !strings.HasSuffix(line, ": opens at 9600 baud"+status) {
			t.Errorf("%s: %q", name, line)
		}
		// The simulator is gone once doctor is done.
		path := strings.TrimSuffix(strings.TrimPrefix(line, "OK   "+name+": simulated at "), ": opens at 9600 baud"+status)
		if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s simulator left behind at %s (%v)", name, path, err)
		}
	}
	line, _ := doctorLine(t, r.stdout, "scanner")
	if _, err := exec.LookPath("scanimage"); err != nil {
		if !strings.HasPrefix(line, "FAIL scanner: scanimage is not installed") {
			t.Errorf("scanner without scanimage: %q", line)
		}
	} else if !strings.HasPrefix(line, "OK   scanner: simulated: test:0 ") {
		t.Errorf("scanner: %q", line)
	}
	if r := cliEnv(t, data, nil, "doctor", "--devices", "virtual"); r.code != exitUsage || !strings.Contains(r.stderr, `"virtual" is not auto, sim or real`) {
		t.Errorf("--devices virtual: %+v", r)
	}
}

// The printer's own status: out of paper or its cover open fails with
// what staff can do, Vietnamese first; paper near its end passes with a
// word about it; a printer that never answers (a one-way cable) passes,
// its status unknown.
func TestDoctorPrinterStatus(t *testing.T) {
	dir := t.TempDir()
	prn, err := sim.NewPrinter(filepath.Join(dir, "printer"), filepath.Join(dir, "receipts"))
	if err != nil {
		t.Fatal(err)
	}
	defer prn.Close()
	cfg := writeFile(t, dir, "config.toml", fmt.Sprintf("devices = \"real\"\n[printer]\nport = %q\npaper_width_mm = 58\n", prn.Path()))
	tests := []struct {
		state  sim.PrinterState
		ok     bool
		detail string // after "<path> (/dev/pts/N)"
		hintVI string
		hintEN string
	}{
		{sim.PrinterState{PaperOut: true}, false, ": out of paper (status: offline, out of paper)",
			"Lắp cuộn giấy in mới (khổ 58 mm)", "Load a new roll of receipt paper (58 mm wide)"},
		{sim.PrinterState{CoverOpen: true}, false, ": cover open (status: offline, cover open, paper OK)",
			"Đóng nắp máy in", "Close the printer's cover"},
		{sim.PrinterState{Offline: true}, false, ": offline (status: offline, paper OK)",
			"Bật máy in", "Switch the printer on"},
		{sim.PrinterState{Error: true}, false, ": the printer reports an error (status: offline, paper OK, error)",
			"Tắt máy in", "Switch the printer off"},
		{sim.PrinterState{PaperNearEnd: true}, true, ": opens at 9600 baud, online, paper near end: have a new roll ready", "", ""},
		{sim.PrinterState{Mute: true}, true, ": opens at 9600 baud; status not reported (one-way cable?)", "", ""},
		{sim.PrinterState{Mute: true, PaperOut: true}, true, ": opens at 9600 baud; status not reported (one-way cable?)", "", ""},
	}
	for _, tt := range tests {
		prn.SetState(tt.state)
		r := cliEnv(t, t.TempDir(), nil, "doctor", "--config", cfg)
		line, hint := doctorLine(t, r.stdout, "printer")
		verdict := "OK   "
		if !tt.ok {
			verdict = "FAIL "
			if r.code != exitFail {
				t.Errorf("%+v: doctor exited %d", tt.state, r.code)
			}
		}
		before, after, found := strings.Cut(line, ")")
		if !strings.HasPrefix(before, verdict+"printer: "+prn.Path()+" (/dev/pts/") || !found || after != tt.detail {
			t.Errorf("%+v: %q, want %q...%q", tt.state, line, verdict+"printer: "+prn.Path(), tt.detail)
		}
		if tt.ok != (hint == nil) || (!tt.ok && (len(hint) != 2 || !strings.HasPrefix(hint[0], tt.hintVI) || !strings.HasPrefix(hint[1], tt.hintEN) ||
			strings.Contains(hint[0]+hint[1], "%!"))) {
			t.Errorf("%+v: hint %q", tt.state, hint)
		}
	}
}

// `motcua sim --printer-fault paper-out` gives staff a printer out of
// paper to practise on: doctor fails on it, receipt refuses it.
func TestSimPrinterFault(t *testing.T) {
	simDir := t.TempDir()
	said := startSim(t, func(line string) bool { return line == "printer fault: paper-out" },
		"--printer-fault", "paper-out", "--dir", simDir)
	var port string
	for _, line := range said {
		if p, ok := strings.CutPrefix(line, "printer: "); ok {
			port, _, _ = strings.Cut(p, " ")
		}
	}
	if port == "" {
		t.Fatal("sim printed no printer path")
	}
	cfg := writeFile(t, t.TempDir(), "config.toml", fmt.Sprintf("devices = \"real\"\n[printer]\nport = %q\n", port))
	r := cliEnv(t, t.TempDir(), nil, "doctor", "--config", cfg)
	if line, hint := doctorLine(t, r.stdout, "printer"); !strings.HasPrefix(line, "FAIL printer: "+port) ||
		!strings.Contains(line, ": out of paper") || len(hint) != 2 || !strings.HasPrefix(hint[0], "Lắp cuộn giấy in mới (khổ 80 mm)") {
		t.Errorf("printer: %q %q", line, hint)
	}
	if r := cli(t, t.TempDir(), "", "sim", "--printer-fault", "jammed"); r.code != exitUsage || !strings.Contains(r.stderr, "paper-out, near-end") {
		t.Errorf("unknown fault: %+v", r)
	}
}

func TestCheckDisk(t *testing.T) {
	const gib = 1 << 30
	tests := []struct {
		name  string
		avail uint64 // bytes
		ok    bool
		want  string
	}{
		{"plenty", 40 * gib, true, "40.0 GiB free of 100.0 GiB in "},
		{"getting low", 3 * gib, true, "3.0 GiB free of 100.0 GiB in %s (getting low)"},
		{"under 1 GiB", 300 << 20, false, "300 MiB free of 100.0 GiB in %s: under 1 GiB"},
	}
	dir := t.TempDir()
	data := filepath.Join(dir, "not", "yet")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var asked string
			d := doctor{statfs: func(path string, st *syscall.Statfs_t) error {
				asked = path
				st.Bsize = 4096
				st.Bavail = tt.avail / 4096
				st.Blocks = 100 * gib / 4096
				return nil
			}}
			r := d.checkDisk(data)
			if asked != dir {
				t.Errorf("statfs on %s, want the nearest existing directory %s", asked, dir)
			}
			want := tt.want
			if strings.Contains(want, "%s") {
				want = fmt.Sprintf(want, dir)
			}
			if r.OK != tt.ok || !strings.Contains(r.Detail, want) || (r.Hint != nil) == tt.ok {
				t.Errorf("%+v, want ok=%v and %q", r, tt.ok, want)
			}
			if !tt.ok && !strings.HasPrefix(r.Hint.VI, "Giải phóng dung lượng") {
				t.Errorf("hint %+v", r.Hint)
			}
		})
	}
}

func TestAudioCheck(t *testing.T) {
	found := func(string) (string, error) { return "/usr/bin/espeak-ng", nil }
	missing := func(string) (string, error) { return "", exec.ErrNotFound }
	allVoices := func(context.Context) ([]speech.Voice, error) { return nil, nil }
	noSouth := func(context.Context) ([]speech.Voice, error) { return []speech.Voice{speech.VoiceSouth}, nil }
	withPipeWire := t.TempDir()
	ln, err := net.Listen("unix", filepath.Join(withPipeWire, "pipewire-0"))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	tests := []struct {
		name     string
		probe    audioProbe
		ok, warn bool
		want     string
	}{
		{"two ALSA cards", audioProbe{lookPath: found, missingVoices: allVoices, asoundCards: "testdata/asound-cards-two.txt", runtimeDir: t.TempDir()}, true, false,
			"espeak-ng at /usr/bin/espeak-ng with voices vi, vi-vn-x-central, vi-vn-x-south; output: ALSA card 0 (HDA Intel PCH), ALSA card 1 (USB Audio Device)"},
		{"PipeWire", audioProbe{lookPath: found, missingVoices: allVoices, asoundCards: "testdata/asound-cards-none.txt", runtimeDir: withPipeWire}, true, false,
			"output: PipeWire socket"},
		{"PulseAudio server", audioProbe{lookPath: found, missingVoices: allVoices, asoundCards: "/nonexistent", runtimeDir: t.TempDir(), pulseServer: "tcp:10.0.0.2"}, true, false,
			"output: PulseAudio server tcp:10.0.0.2"},
		// With no sound output the kiosk carries on silently: a warning.
		{"no output", audioProbe{lookPath: found, missingVoices: allVoices, asoundCards: "testdata/asound-cards-none.txt", runtimeDir: t.TempDir()}, true, true,
			"silent: no sound output"},
		{"no espeak-ng", audioProbe{lookPath: missing, missingVoices: allVoices, asoundCards: "testdata/asound-cards-two.txt", runtimeDir: t.TempDir()}, false, false,
			"espeak-ng is not installed"},
		{"a Vietnamese voice missing", audioProbe{lookPath: found, missingVoices: noSouth, asoundCards: "testdata/asound-cards-two.txt", runtimeDir: t.TempDir()}, false, false,
			"espeak-ng at /usr/bin/espeak-ng lacks the Vietnamese voice vi-vn-x-south"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.probe.check(context.Background())
			if r.OK != tt.ok || r.Warning != tt.warn || !strings.Contains(r.Detail, tt.want) || (r.Hint == nil) != (tt.ok && !tt.warn) {
				t.Errorf("%+v, want ok=%v, warning=%v and %q", r, tt.ok, tt.warn, tt.want)
			}
		})
	}
}

// TestDoctorWarnsOfNoSoundButPasses: a machine with no sound output
// passes doctor with a warning that the kiosk will be silent.
func TestDoctorWarnsOfNoSoundButPasses(t *testing.T) {
	var out bytes.Buffer
	e := &env{stdout: &out}
	printResults(e, []checkResult{
		{Name: "config", OK: true, Detail: "defaults"},
		{Name: "audio", OK: true, Warning: true, Detail: "silent: no sound output", Hint: &hintSpeakers},
	})
	got := out.String()
	for _, want := range []string{"WARN audio: silent: no sound output", hintSpeakers.VI, "All checks passed (1 warning)."} {
		if !strings.Contains(got, want) {
			t.Errorf("doctor printed\n%s\nwant %q", got, want)
		}
	}
}

// A check that never returns (a wedged device) fails when its time is up;
// the others are not held up by it.
func TestRunChecksBoundsEachCheck(t *testing.T) {
	wedged := make(chan struct{})
	defer close(wedged)
	results := runChecks(context.Background(), []doctorCheck{
		{"wedged", 50 * time.Millisecond, func(context.Context) checkResult { <-wedged; return passed("never") }},
		{"polite", 50 * time.Millisecond, func(ctx context.Context) checkResult {
			<-ctx.Done()
			return failed(hintWedged, "gave up: %v", ctx.Err())
		}},
		{"quick", time.Minute, func(context.Context) checkResult { return passed("fine") }},
	})
	if r := results[0]; r.Name != "wedged" || r.OK || r.Detail != "no answer within 50ms" || r.Hint == nil {
		t.Errorf("wedged: %+v", r)
	}
	if r := results[1]; r.Name != "polite" || r.OK || r.Detail != "gave up: context deadline exceeded" {
		t.Errorf("polite: %+v", r)
	}
	if r := results[2]; r.Name != "quick" || !r.OK || r.Detail != "fine" {
		t.Errorf("quick: %+v", r)
	}
}

// Without mpv, doctor warns that the forms offer no how-to video, and
// says how to install it; the kiosk runs on.
func TestVideoCheck(t *testing.T) {
	r := checkVideo(func(string) (string, error) { return "/usr/bin/mpv", nil })
	if !r.OK || r.Warning || r.Detail != "mpv at /usr/bin/mpv plays the how-to videos" {
		t.Errorf("with mpv: %+v", r)
	}
	r = checkVideo(func(string) (string, error) { return "", exec.ErrNotFound })
	if !r.OK || !r.Warning || r.Hint == nil || !strings.Contains(r.Hint.EN, "apt-get install mpv") || !strings.Contains(r.Detail, "mpv is not installed") {
		t.Errorf("without mpv: %+v", r)
	}
}
