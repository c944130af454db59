package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/motcua/motcua/devices/sim"
)

// runningAgent is `motcua run` started by a test.
type runningAgent struct {
	cmd    *exec.Cmd
	stdout string      // what it printed up to "Ctrl-C"
	logs   chan string // its log lines, as they come
}

// startAgent starts `motcua run` with args and returns once it says it
// runs.
func startAgent(t *testing.T, data string, args ...string) *runningAgent {
	t.Helper()
	cmd := exec.Command(motcua, append([]string{"run", "--data-dir", data, "--local-portal", "127.0.0.1:0"}, args...)...)
	cmd.Env = append(os.Environ(), "LANG=C.UTF-8", "MOTCUA_CONFIG=", "MOTCUA_PORTAL=")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	errOut, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	a := &runningAgent{cmd: cmd, logs: make(chan string, 1000)}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	go func() {
		sc := bufio.NewScanner(errOut)
		for sc.Scan() {
			a.logs <- sc.Text()
		}
		close(a.logs)
	}()
	sc := bufio.NewScanner(out)
	var said strings.Builder
	for sc.Scan() {
		said.WriteString(sc.Text() + "\n")
		if strings.Contains(sc.Text(), "Ctrl-C") {
			break
		}
	}
	go func() {
		for sc.Scan() {
		}
	}()
	a.stdout = said.String()
	if !strings.Contains(a.stdout, "Ctrl-C") {
		t.Fatalf("run did not start:\n%s", a.stdout)
	}
	return a
}

// waitLog waits for a log line containing every one of parts.
func (a *runningAgent) waitLog(t *testing.T, parts ...string) string {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		select {
		case line, ok := <-a.logs:
			if !ok {
				t.Fatalf("run exited before logging %q", parts)
			}
			found := true
			for _, p := range parts {
				found = found && strings.Contains(line, p)
			}
			if found {
				return line
			}
		case <-deadline:
			t.Fatalf("run did not log %q", parts)
		}
	}
}

func (a *runningAgent) stop(t *testing.T) {
	t.Helper()
	a.cmd.Process.Signal(syscall.SIGTERM)
	rest := make(chan []string)
	go func() {
		var lines []string
		for l := range a.logs {
			lines = append(lines, l)
		}
		rest <- lines
	}()
	if err := a.cmd.Wait(); err != nil {
		t.Fatalf("run exited with %v; it said last:\n%s", err, strings.Join(<-rest, "\n"))
	}
}

// With devices = real, run uses the configured card reader and printer,
// says where they are, reads cards, and logs each device leaving and
// coming back.
func TestRunRealDevicesComeAndGo(t *testing.T) {
	data := t.TempDir()
	dir := t.TempDir()
	readerPath, printerPath := filepath.Join(dir, "qr"), filepath.Join(dir, "printer")
	reader, err := sim.NewCardReader(readerPath, sim.SamplePayloads)
	if err != nil {
		t.Fatal(err)
	}
	prn, err := sim.NewPrinter(printerPath, filepath.Join(dir, "receipts"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := writeFile(t, dir, "config.toml", fmt.Sprintf(`devices = "real"
[card_reader]
port = %q
[printer]
port = %q
paper_width_mm = 58
`, readerPath, printerPath))
	a := startAgent(t, data, "--config", cfg, "--device-poll", "50ms")
	for _, want := range []string{
		"Configuration: " + cfg + " (from --config). Devices: real.",
		"Card reader: " + readerPath + " (9600 baud)",
		"Printer: " + printerPath + " (58 mm, 9600 baud)",
		"Scanner: not used (none configured, devices = real)",
		"HEADLESS",
	} {
		if !strings.Contains(a.stdout, want) {
			t.Errorf("run did not say %q:\n%s", want, a.stdout)
		}
	}
	a.waitLog(t, `msg="device connected"`, `device="card reader"`, readerPath)
	a.waitLog(t, `msg="device connected"`, "device=printer", printerPath)
	if _, err := reader.Next(); err != nil {
		t.Fatal(err)
	}
	// The log names the card by a short hash of its ID number, never by
	// the cardholder's name or the number (TestRunLogsNoCardholderData).
	line := a.waitLog(t, `msg="ID card read"`, "id_hash=")
	for _, personal := range []string{"Nguyễn Văn An", "Nguyen Van An", "001095012345", "******345"} {
		if strings.Contains(line, personal) {
			t.Errorf("the log holds %q: %s", personal, line)
		}
	}

	prn.Close()
	a.waitLog(t, `msg="device disconnected"`, "device=printer")
	prn, err = sim.NewPrinter(printerPath, filepath.Join(dir, "receipts"))
	if err != nil {
		t.Fatal(err)
	}
	defer prn.Close()
	a.waitLog(t, `msg="device connected"`, "device=printer")

	reader.Close()
	a.waitLog(t, `msg="device disconnected"`, `device="card reader"`)
	reader, err = sim.NewCardReader(readerPath, sim.SamplePayloads)
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	a.waitLog(t, `msg="device connected"`, `device="card reader"`)
	a.stop(t)
}

// A configured device that is not plugged in does not stop the agent: it
// is logged, and picked up when it appears.
func TestRunWaitsForAMissingDevice(t *testing.T) {
	data := t.TempDir()
	dir := t.TempDir()
	readerPath := filepath.Join(dir, "qr")
	a := startAgent(t, data, "--devices", "real", "--card-reader", readerPath, "--device-poll", "50ms")
	if !strings.Contains(a.stdout, "Card reader: "+readerPath+" (9600 baud)") || !strings.Contains(a.stdout, "Printer: not used") {
		t.Errorf("run said:\n%s", a.stdout)
	}
	a.waitLog(t, `msg="device not connected: waiting for it"`, `device="card reader"`, readerPath)
	reader, err := sim.NewCardReader(readerPath, sim.SamplePayloads)
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	a.waitLog(t, `msg="device connected"`, `device="card reader"`)
	a.stop(t)
}

// A configured scanner that SANE does not see is waited for, not fatal.
func TestRunWaitsForAMissingScanner(t *testing.T) {
	data := t.TempDir()
	sane := t.TempDir()
	if err := os.WriteFile(filepath.Join(sane, "dll.conf"), []byte("test\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := writeFile(t, t.TempDir(), "config.toml", "devices = \"real\"\n[scanner]\ndevice = \"epson2:libusb:001:004\"\n")
	t.Setenv("SANE_CONFIG_DIR", sane)
	a := startAgent(t, data, "--config", cfg, "--device-poll", "50ms")
	if !strings.Contains(a.stdout, "Scanner: SANE device epson2:libusb:001:004") {
		t.Errorf("run said:\n%s", a.stdout)
	}
	a.waitLog(t, `msg="device not connected: waiting for it"`, `device=scanner`, `port=epson2:libusb:001:004`, "SANE does not see it")
	a.stop(t)
}

// --devices sim beats the file: every device is simulated under the data
// directory, whatever ports are configured.
func TestRunAllSimulated(t *testing.T) {
	data := t.TempDir()
	cfg := writeFile(t, t.TempDir(), "config.toml", "devices = \"real\"\n[card_reader]\nport = \"/dev/ttyACM7\"\n[scanner]\ndevice = \"epson2:libusb:001:004\"\n")
	a := startAgent(t, data, "--config", cfg, "--devices", "sim", "--device-poll", "50ms")
	for _, want := range []string{
		"Devices: sim.",
		"Card reader: simulated at " + filepath.Join(data, "sim", "card-reader"),
		"Printer: simulated at " + filepath.Join(data, "sim", "printer") + " (80 mm; receipts saved as PNG in " + filepath.Join(data, "sim", "receipts") + ")",
		"Scanner: simulated by SANE's test backend, device test:0 (SANE_CONFIG_DIR=" + filepath.Join(data, "sim", "sane") + ")",
	} {
		if !strings.Contains(a.stdout, want) {
			t.Errorf("run did not say %q:\n%s", want, a.stdout)
		}
	}
	a.waitLog(t, `msg="device connected"`, `device="card reader"`, filepath.Join(data, "sim", "card-reader"))
	a.waitLog(t, `msg="device connected"`, `device=scanner`, `port=test:0`)
	a.stop(t)
	if r := cli(t, data, "", "run", "--devices", "some"); r.code != exitUsage || !strings.Contains(r.stderr, `"some" is not auto, sim or real`) {
		t.Errorf("--devices some: %+v", r)
	}
}

// fakeScanimage puts a scanimage on PATH, in dir, that runs script: a
// stand-in for a SANE that is slow or hangs.
func fakeScanimage(t *testing.T, dir, script string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "scanimage"), []byte("#!/bin/sh\n"+script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
}

// waitFile waits for path to exist.
func waitFile(t *testing.T, path string) {
	t.Helper()
	deadline := time.Now().Add(hangLimit)
	for {
		if _, err := os.Stat(path); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not appear within %v", path, hangLimit)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Before the fix run waited for SANE to list the scanners (3.4 s of
// `scanimage -L`, 20 s when it hangs) before it was ready. Now the
// scanner is discovering until SANE answers, then found.
func TestRunIsReadyBeforeSANEAnswers(t *testing.T) {
	dir := t.TempDir()
	answer := filepath.Join(dir, "answer")
	fakeScanimage(t, dir, fmt.Sprintf(`touch %q
while [ ! -e %q ]; do sleep 0.05; done
printf 'fake:0\tFake\tFlatbed 1\tflatbed scanner\n'
`, filepath.Join(dir, "asked"), answer))
	a := startAgent(t, t.TempDir(), "--device-poll", "50ms")
	if !strings.Contains(a.stdout, "Scanner: discovering") {
		t.Fatalf("run did not wait for SANE, yet said:\n%s", a.stdout)
	}
	writeFile(t, dir, "answer", "")
	a.waitLog(t, `msg="scanner found"`, "device=fake:0")
	a.waitLog(t, `msg="device connected"`, "device=scanner", "port=fake:0")
	a.cmd.Process.Signal(syscall.SIGTERM)
	go func() {
		for range a.logs {
		}
	}()
	if code := waitExit(t, a.cmd); code != 0 {
		t.Fatalf("run exited %d on SIGTERM", code)
	}
}

// When SANE finds nothing, the scanner discovered is the simulated one.
func TestRunSimulatesTheScannerSANEDoesNotFind(t *testing.T) {
	real, err := exec.LookPath("scanimage")
	if err != nil {
		t.Skip("scanimage is not installed (packaging/install-deps.sh installs it)")
	}
	dir := t.TempDir()
	// SANE sees no scanner, but its test backend when pointed at it.
	fakeScanimage(t, dir, fmt.Sprintf("[ -n \"$SANE_CONFIG_DIR\" ] && exec %q \"$@\"\nexit 0\n", real))
	data := t.TempDir()
	a := startAgent(t, data, "--device-poll", "50ms")
	a.waitLog(t, `msg="no scanner found: simulated by SANE's test backend"`, "device=test:0",
		"SANE_CONFIG_DIR="+filepath.Join(data, "sim", "sane"))
	a.waitLog(t, `msg="device connected"`, "device=scanner", "port=test:0")
	a.stop(t)
	if _, err := os.Stat(filepath.Join(data, "sim", "sane")); !os.IsNotExist(err) {
		t.Errorf("the simulated scanner's configuration is left behind: %v", err)
	}
}

// A SANE that hangs does not keep run from stopping.
func TestRunStopsOnSignalWhileSANEHangs(t *testing.T) {
	dir := t.TempDir()
	asked := filepath.Join(dir, "asked")
	fakeScanimage(t, dir, fmt.Sprintf("touch %q\nexec sleep 1000\n", asked))
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			os.Remove(asked)
			a := startAgent(t, t.TempDir())
			waitFile(t, asked)
			a.cmd.Process.Signal(sig)
			go func() {
				for range a.logs {
				}
			}()
			if code := waitExit(t, a.cmd); code != 0 {
				t.Fatalf("run exited %d on %v", code, sig)
			}
		})
	}
}
