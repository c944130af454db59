package main

import (
	"bufio"
	"errors"
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
