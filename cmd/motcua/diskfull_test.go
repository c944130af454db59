package main

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// smallDisk mounts a tmpfs of size (as mount's size= says it) for the
// test, or skips it where this user cannot mount one.
func smallDisk(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size+",mode=0777", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a small tmpfs to fill: %v %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", "--lazy", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v %s", dir, err, out)
		}
	})
	return dir
}

// fillDisk writes a file in dir until its disk is full, and returns a
// function that removes it.
func fillDisk(t *testing.T, dir string) func() {
	t.Helper()
	f, err := os.Create(filepath.Join(dir, "filler"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	block := make([]byte, 4096)
	for {
		if _, err := f.Write(block); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			break
		}
	}
	free := func() { os.Remove(f.Name()) }
	t.Cleanup(free)
	return free
}

// run's delivery in the background, on a kiosk whose disk filled up after
// it started, logs the failure in both languages with the free space, as
// the CLI does, not SQLite's bare "database or disk is full".
func TestRunDeliveryOnAFullDiskIsBilingual(t *testing.T) {
	disk := smallDisk(t, "4m")
	data := filepath.Join(disk, "data")
	form := writeFile(t, t.TempDir(), "f.json", cli(t, data, "", "procedures", "example", "1.001193").stdout)
	if r := cli(t, data, "", "submit", "--procedure", "1.001193", "--form", form); r.code != 0 {
		t.Fatal(r.stderr)
	}
	// The portal answers only once the disk is full.
	portalURL := refusedURL(t)
	run := exec.Command(motcua, "run", "--data-dir", data, "--devices", "real", "--portal", portalURL)
	run.Env = append(os.Environ(), "LANG=C.UTF-8", "MOTCUA_CONFIG=", "MOTCUA_PORTAL=")
	stdout, err := run.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := run.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { run.Process.Kill(); run.Wait() }()
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	sc := bufio.NewScanner(stdout)
	for sc.Scan() && !strings.HasPrefix(sc.Text(), "motcua agent running") {
	}
	fillDisk(t, disk)
	u, _ := url.Parse(portalURL)
	runPortal(t, u.Host, t.TempDir())

	deadline := time.After(60 * time.Second)
	var log []string
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("run stopped:\n%s", strings.Join(log, "\n"))
			}
			log = append(log, line)
			if !strings.Contains(line, "full") {
				continue
			}
			if !strings.Contains(line, "The disk is full: ") || !strings.Contains(line, " free)") || !strings.Contains(line, "Ổ đĩa đầy") {
				t.Fatalf("run's delivery on a full disk logs:\n%s", line)
			}
			return
		case <-deadline:
			t.Fatalf("run logged no failure on the full disk:\n%s", strings.Join(log, "\n"))
		}
	}
}

// sync --once on a kiosk whose disk is full gives up saying so in both
// languages, as run's log does, not with SQLite's bare message.
func TestSyncOnAFullDiskIsBilingual(t *testing.T) {
	disk := smallDisk(t, "4m")
	data := filepath.Join(disk, "data")
	form := writeFile(t, t.TempDir(), "f.json", cli(t, data, "", "procedures", "example", "1.001193").stdout)
	if r := cli(t, data, "", "submit", "--procedure", "1.001193", "--form", form); r.code != 0 {
		t.Fatal(r.stderr)
	}
	// sync starts while the portal is down (a listener that hangs up), so
	// its first pass fails; the disk fills then, and the portal answers
	// only after that.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	portalURL := "http://" + ln.Addr().String()
	sync := exec.Command(motcua, "sync", "--once", "--timeout", "8s", "--data-dir", data, "--portal", portalURL)
	sync.Env = append(os.Environ(), "LANG=C.UTF-8", "MOTCUA_CONFIG=", "MOTCUA_PORTAL=")
	var stderr strings.Builder
	sync.Stderr = &stderr
	if err := sync.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { sync.Process.Kill(); sync.Wait() }()
	conn, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	conn.Close()
	ln.Close()
	fillDisk(t, disk)
	runPortal(t, ln.Addr().String(), t.TempDir())
	err = sync.Wait()
	log := strings.Split(strings.TrimSpace(stderr.String()), "\n")
	last := len(log) - 1
	if err == nil || last < 1 || !strings.Contains(log[last-1], "The disk is full: ") || !strings.Contains(log[last], "Ổ đĩa đầy") {
		t.Fatalf("sync: %v\n%s", err, stderr.String())
	}
}

// The files `motcua receipt --png` and `motcua scan --out` write, into a
// folder this user cannot write or onto a full disk, fail in both
// languages, naming the folder in the way and its owner, or the file and
// the free space (not the scan's temporary file), and leave nothing
// half-written behind.
func TestOutputFileUnwritableOrOnAFullDiskIsBilingual(t *testing.T) {
	cred, owner := otherUser(t)
	base := sharedDir(t)
	data := filepath.Join(base, "data")
	form := writeFile(t, t.TempDir(), "f.json", cli(t, data, "", "procedures", "example", "1.001193").stdout)
	var sub submitResult
	mustJSON(t, cli(t, data, "", "submit", "--procedure", "1.001193", "--form", form).stdout, &sub)
	if cred != nil {
		if out, err := exec.Command("chown", "-R", "65534:65534", data).CombinedOutput(); err != nil {
			t.Fatalf("%v %s", err, out)
		}
	}
	readOnly := filepath.Join(base, "read-only")
	if err := os.Mkdir(readOnly, 0o755); err != nil {
		t.Fatal(err)
	}
	if cred == nil {
		os.Chmod(readOnly, 0o555)
		t.Cleanup(func() { os.Chmod(readOnly, 0o755) })
	}
	commands := []struct {
		name string
		args func(out string) []string
		file string
		// folderOnly: the command fails before writing on a full disk.
		folderOnly bool
	}{
		{"receipt --png", func(out string) []string { return []string{"receipt", fmt.Sprint(sub.ID), "--png", out} }, "r.png", false},
		{"scan --out", func(out string) []string { return []string{"scan", "--devices", "sim", "--out", out} }, "r.pdf", false},
		// The folder is checked before scanning: with an empty feeder the
		// answer is still the folder, so no page is fed for nothing.
		{"scan --out before scanning", func(out string) []string {
			return []string{"scan", "--devices", "sim", "--sim-fault", "no-docs", "--out", out}
		}, "r.pdf", true},
	}
	for _, c := range commands {
		t.Run(c.name+" into a read-only folder", func(t *testing.T) {
			out := filepath.Join(readOnly, c.file)
			r := cliAs(t, cred, data, c.args(out)...)
			lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
			last := len(lines) - 1
			if r.code != exitFail || last < 1 || strings.Contains(r.stderr, ".tmp-") ||
				!strings.Contains(lines[last-1], "cannot write "+readOnly+" (owned by "+owner+", mode ") ||
				!strings.Contains(lines[last], "không ghi được vào "+readOnly+" (của người dùng "+owner) {
				t.Fatalf("exit %d\n%s", r.code, r.stderr)
			}
		})
		if c.folderOnly {
			continue
		}
		t.Run(c.name+" onto a full disk", func(t *testing.T) {
			disk := smallDisk(t, "256k")
			fillDisk(t, disk)
			out := filepath.Join(disk, c.file)
			r := cliAs(t, nil, data, c.args(out)...)
			lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
			last := len(lines) - 1
			if r.code != exitFail || last < 1 || strings.Contains(r.stderr, ".tmp-") ||
				!strings.Contains(lines[last-1], "The disk is full: "+out+" cannot be written (") ||
				!strings.Contains(lines[last], "Ổ đĩa đầy: không ghi được vào "+out+" (") {
				t.Fatalf("exit %d\n%s", r.code, r.stderr)
			}
			if entries, _ := os.ReadDir(disk); len(entries) != 1 {
				t.Errorf("left on the full disk: %v", entries)
			}
		})
	}
}
