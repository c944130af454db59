package main

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// BenchmarkWindowStart measures `motcua run` from process start to its
// attract screen shown (the "window shown" log line, written once the
// first frame is up), and its resident memory once it is, beside the
// smallest Fyne program (tools/hellowindow) measured the same way in the
// same run, on the same Xvfb display. Targets: at most 2x the hello
// window's start time and 1.3x its memory. motcua runs on a data
// directory it has started in once (migrations done), every device
// simulated and a local reference portal, as `make run` does.
func BenchmarkWindowStart(b *testing.B) {
	disp := xvfb(b)
	hello := filepath.Join(b.TempDir(), "hellowindow")
	if out, err := exec.Command("go", "build", "-o", hello, "../../tools/hellowindow").CombinedOutput(); err != nil {
		b.Fatalf("build hellowindow: %v\n%s", err, out)
	}
	data := b.TempDir()
	env := append(os.Environ(), "DISPLAY="+disp, "LANG=C.UTF-8", "LC_ALL=C.UTF-8", "MOTCUA_CONFIG=", "MOTCUA_PORTAL=")
	motcuaRun := []string{motcua, "run", "--data-dir", data, "--local-portal", "127.0.0.1:0"}
	windowUp(b, env, motcuaRun, `msg="window shown"`) // first start: migrations, enrolment
	var motcuaT, helloT time.Duration
	var motcuaRSS, helloRSS int64
	b.ResetTimer()
	for range b.N {
		d, rss := windowUp(b, env, []string{hello}, "window shown")
		helloT += d
		helloRSS += rss
		d, rss = windowUp(b, env, motcuaRun, `msg="window shown"`)
		motcuaT += d
		motcuaRSS += rss
	}
	n := float64(b.N)
	b.ReportMetric(float64(motcuaT.Milliseconds())/n, "motcua-ms")
	b.ReportMetric(float64(helloT.Milliseconds())/n, "hello-ms")
	b.ReportMetric(float64(motcuaT)/float64(helloT), "time-ratio")
	b.ReportMetric(float64(motcuaRSS)/n/(1<<20), "motcua-rss-MB")
	b.ReportMetric(float64(helloRSS)/n/(1<<20), "hello-rss-MB")
	b.ReportMetric(float64(motcuaRSS)/float64(helloRSS), "rss-ratio")
	b.ReportMetric(0, "ns/op")
}

// windowUp starts argv, waits for a line on its standard error containing
// shown, and returns how long that took and the process's resident set
// size a second later; then it stops the process.
func windowUp(b *testing.B, env, argv []string, shown string) (time.Duration, int64) {
	b.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = env
	cmd.Stdout = io.Discard
	stderr, err := cmd.StderrPipe()
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	}()
	up := make(chan time.Duration, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if strings.Contains(sc.Text(), shown) {
				up <- time.Since(start)
				break
			}
		}
		io.Copy(io.Discard, stderr)
	}()
	var d time.Duration
	select {
	case d = <-up:
	case <-time.After(60 * time.Second):
		b.Fatalf("%s showed no window", argv[0])
	}
	b.StopTimer()
	time.Sleep(time.Second) // what the first second after start costs counts too
	rss := residentBytes(b, cmd.Process.Pid)
	b.StartTimer()
	return d, rss
}

// residentBytes reads VmRSS from /proc.
func residentBytes(b *testing.B, pid int) int64 {
	b.Helper()
	st, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(st), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				b.Fatal(err)
			}
			return kb << 10
		}
	}
	b.Fatal("no VmRSS")
	return 0
}
