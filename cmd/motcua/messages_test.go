package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/motcua/motcua/agent/i18n"
	"github.com/motcua/motcua/devices/printer"
	"github.com/motcua/motcua/internal/config"
)

// A hint formatted with the wrong number of arguments shows staff Go's
// "%!(EXTRA ...)" noise: every hint doctor prints reads as plain text.
func TestDoctorHintsHaveNoFormattingNoise(t *testing.T) {
	dir := t.TempDir()
	data := t.TempDir()
	// A card reader port that is a regular file, and a database that is
	// not one: both failures carry hints built from their paths.
	notSerial := writeFile(t, dir, "ttyUSB0", "not a device")
	writeFile(t, data, "motcua.db", strings.Repeat("not a database ", 1000))
	cfg := writeFile(t, dir, "config.toml", fmt.Sprintf("devices = \"real\"\n[card_reader]\nport = %q\n", notSerial))
	r := cliEnv(t, data, nil, "doctor", "--config", cfg)
	for _, name := range []string{"card reader", "database"} {
		line, hint := doctorLine(t, r.stdout, name)
		if !strings.HasPrefix(line, "FAIL ") || len(hint) != 2 {
			t.Errorf("%s: %q %q, want a failure with a hint in both languages", name, line, hint)
		}
	}
	if strings.Contains(r.stdout, "%!") {
		t.Errorf("doctor's output has formatting noise:\n%s", r.stdout)
	}

	// The hints no run here can reach, built directly.
	hints := []i18n.Text{
		hintReplug(serialDevice{key: "printer"}), hintReplug(serialDevice{key: "card_reader"}),
		hintNotSerial(serialDevice{key: "printer"}), hintDialout(), hintDatabase("/var/lib/motcua/motcua.db"),
	}
	for _, err := range []error{printer.ErrPaperOut, printer.ErrCoverOpen, printer.ErrPrinterError, printer.ErrOffline} {
		hints = append(hints, hintPrinterStatus(err, config.PaperWidth(58)))
	}
	for _, h := range hints {
		if strings.Contains(h.VI, "%!") || strings.Contains(h.EN, "%!") || h.VI == "" || h.EN == "" {
			t.Errorf("hint %q / %q", h.VI, h.EN)
		}
	}
}

// otherUser returns how to run motcua as a user who did not create the data
// directory: as root, the tests run it as nobody on files root owns (the
// case of root having run it once); otherwise as this user on files made
// read-only. owner is the name the messages should give.
func otherUser(t *testing.T) (cred *syscall.Credential, owner string) {
	t.Helper()
	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() != 0 {
		return nil, me.Username
	}
	// The binary's folder is private to root: let nobody run it.
	if err := os.Chmod(filepath.Dir(motcua), 0o755); err != nil {
		t.Fatal(err)
	}
	return &syscall.Credential{Uid: 65534, Gid: 65534, Groups: []uint32{}}, me.Username
}

// sharedDir returns a new directory others can enter (t.TempDir's parent
// is private).
func sharedDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "motcua-shared-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// cliAs runs the motcua binary as cred (nil: as this process).
func cliAs(t *testing.T, cred *syscall.Credential, dataDir string, args ...string) result {
	t.Helper()
	cmd := exec.Command(motcua, args...)
	cmd.Env = append(os.Environ(), "LANG=C.UTF-8", "MOTCUA_DATA_DIR="+dataDir, "MOTCUA_CONFIG=", "MOTCUA_PORTAL=", "HOME=/nonexistent")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{code, out.String(), errb.String()}
}

// A data directory another user made (root ran motcua once) is read-only
// to this one: the error names the directory or file in the way and its
// owner, in both languages, never "no such file or directory" (what SQLite
// says when it cannot create its -shm file) nor SQLite's bare "attempt to
// write a readonly database".
func TestReadOnlyDataDirNamesTheOwnerNotAMissingFile(t *testing.T) {
	cred, owner := otherUser(t)
	base := sharedDir(t)
	form := writeFile(t, base, "f.json", cli(t, t.TempDir(), "", "procedures", "example", "1.001193").stdout)
	os.Chmod(form, 0o644)
	tests := []struct {
		name        string
		dirWritable bool
		dirMode     os.FileMode // for the other user, when not writable
		files       []string    // the database's files left behind
		blocked     string      // the path the error must name
	}{
		{"database and its WAL, no -shm", false, 0o755, []string{"motcua.db", "motcua.db-wal"}, ""},
		{"database alone", false, 0o755, []string{"motcua.db"}, ""},
		{"database, WAL and -shm", false, 0o755, []string{"motcua.db", "motcua.db-wal", "motcua.db-shm"}, ""},
		{"private directory", false, 0o700, []string{"motcua.db"}, ""},
		{"writable directory, read-only database", true, 0o777, []string{"motcua.db"}, "motcua.db"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := filepath.Join(base, fmt.Sprint("data", i))
			if r := cli(t, data, "", "submit", "--procedure", "1.001193", "--form", form); r.code != 0 {
				t.Fatal(r.stderr)
			}
			for _, f := range []string{"motcua.db-wal", "motcua.db-shm"} {
				os.Remove(filepath.Join(data, f))
			}
			for _, f := range tt.files {
				p := filepath.Join(data, f)
				if _, err := os.Stat(p); err != nil {
					if err := os.WriteFile(p, nil, 0o644); err != nil {
						t.Fatal(err)
					}
				}
				mode := os.FileMode(0o644)
				if cred == nil {
					mode = 0o444
				}
				os.Chmod(p, mode)
			}
			dirMode := tt.dirMode
			if cred == nil {
				dirMode = 0o555
				if tt.dirWritable {
					dirMode = 0o755
				}
			}
			os.Chmod(data, dirMode)
			t.Cleanup(func() { os.Chmod(data, 0o755) })
			blocked := data
			if tt.blocked != "" {
				blocked = filepath.Join(data, tt.blocked)
			}
			r := cliAs(t, cred, data, "submit", "--procedure", "1.001193", "--form", form)
			lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
			if r.code != exitFail || len(lines) != 2 || strings.Contains(r.stderr, "no such file") || strings.Contains(r.stderr, "readonly database") ||
				!strings.Contains(lines[0], "cannot write "+blocked+" (owned by "+owner+", mode ") ||
				!strings.Contains(lines[1], "không ghi được vào "+blocked+" (của người dùng "+owner) ||
				!strings.Contains(lines[0], "sudo chown -R ") {
				t.Fatalf("submit as another user: exit %d\n%s", r.code, r.stderr)
			}
		})
	}
}

// A write that finds the disk full says so in both languages, with the
// free space.
func TestDiskFullOnOutputIsBilingual(t *testing.T) {
	full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		t.Skip("no /dev/full:", err)
	}
	defer full.Close()
	cmd := exec.Command(motcua, "procedures", "--json")
	cmd.Env = append(os.Environ(), "LANG=C.UTF-8", "MOTCUA_DATA_DIR="+t.TempDir(), "MOTCUA_CONFIG=")
	var errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = full, &errb
	err = cmd.Run()
	lines := strings.Split(strings.TrimSpace(errb.String()), "\n")
	if err == nil || len(lines) != 2 || !strings.Contains(lines[0], "The disk is full: ") || !strings.Contains(lines[0], " free)") ||
		!strings.Contains(lines[1], "Ổ đĩa đầy") {
		t.Fatalf("stdout on a full disk: %v\n%s", err, errb.String())
	}
}

// doctor fails a database this user cannot write, as the next capture
// would, even when reading it (and its integrity check) works; the hint
// names the owner and the fix in both languages.
func TestDoctorFailsADatabaseItCannotWrite(t *testing.T) {
	cred, owner := otherUser(t)
	base := sharedDir(t)
	form := writeFile(t, base, "f.json", cli(t, t.TempDir(), "", "procedures", "example", "1.001193").stdout)
	tests := []struct {
		name        string
		dirWritable bool
		create      bool   // whether the database exists
		blocked     string // the file in the way; "": the directory
	}{
		{"read-only directory", false, true, ""},
		{"read-only database file", true, true, "motcua.db"},
		{"read-only directory, no database yet", false, false, ""},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := filepath.Join(base, fmt.Sprint("data", i))
			if err := os.Mkdir(data, 0o755); err != nil {
				t.Fatal(err)
			}
			if tt.create {
				if r := cli(t, data, "", "submit", "--procedure", "1.001193", "--form", form); r.code != 0 {
					t.Fatal(r.stderr)
				}
				// What a running agent leaves: its -wal and -shm, with
				// which another user can read the database.
				for _, f := range []string{"motcua.db-wal", "motcua.db-shm"} {
					p := filepath.Join(data, f)
					if _, err := os.Stat(p); err != nil {
						writeFile(t, data, f, "")
					}
				}
				entries, _ := os.ReadDir(data)
				for _, e := range entries {
					mode := os.FileMode(0o644)
					if cred == nil && e.Name() == "motcua.db" {
						mode = 0o444
					}
					os.Chmod(filepath.Join(data, e.Name()), mode)
				}
			}
			dirMode := os.FileMode(0o755)
			switch {
			case tt.dirWritable && cred != nil:
				dirMode = 0o777
			case !tt.dirWritable && cred == nil:
				dirMode = 0o555
			}
			os.Chmod(data, dirMode)
			t.Cleanup(func() { os.Chmod(data, 0o755) })
			blocked := data
			if tt.blocked != "" {
				blocked = filepath.Join(data, tt.blocked)
			}
			r := cliAs(t, cred, data, "doctor", "--devices", "real")
			line, hint := doctorLine(t, r.stdout, "database")
			if r.code != exitFail || !strings.HasPrefix(line, "FAIL database: ") || !strings.Contains(line, blocked) || len(hint) != 2 ||
				!strings.Contains(hint[0], "không ghi được vào "+blocked+" (của người dùng "+owner) ||
				!strings.Contains(hint[1], "cannot write "+blocked+" (owned by "+owner) {
				t.Fatalf("doctor as another user: exit %d, %q %q\n%s", r.code, line, hint, r.stdout)
			}
		})
	}
}

// startRunUntilDevices starts `motcua run` with simulated devices as cred
// and returns it once it has said where its devices are.
func startRunUntilDevices(t *testing.T, cred *syscall.Credential, data string, portal ...string) *exec.Cmd {
	t.Helper()
	if portal == nil {
		portal = []string{"--portal", refusedURL(t)}
	}
	cmd := exec.Command(motcua, append([]string{"run", "--data-dir", data, "--devices", "sim"}, portal...)...)
	cmd.Env = append(os.Environ(), "LANG=C.UTF-8", "MOTCUA_CONFIG=", "MOTCUA_PORTAL=")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "Printer: simulated at ") {
			go io.Copy(io.Discard, out)
			return cmd
		}
	}
	cmd.Wait()
	t.Fatalf("run did not start its simulated devices:\n%s", stderr.String())
	return nil
}

// After another user's run (root's, killed so its simulators stay behind)
// the next run on the same data directory says the real cause, the
// simulators' folder and its owner, in both languages, with what staff can
// do; not "symlink ...: file exists". The same user's stale links are
// simply replaced.
func TestRunAfterAnotherUsersSimulatorsSaysWhoOwnsThem(t *testing.T) {
	cred, owner := otherUser(t)
	data := filepath.Join(sharedDir(t), "data")
	if err := os.Mkdir(data, 0o755); err != nil {
		t.Fatal(err)
	}
	if cred != nil {
		// The data directory and its database belong to the other user.
		os.Chown(data, int(cred.Uid), int(cred.Gid))
	}
	form := writeFile(t, filepath.Dir(data), "f.json", cli(t, t.TempDir(), "", "procedures", "example", "1.001193").stdout)
	os.Chmod(form, 0o644)
	if r := cliAs(t, cred, data, "submit", "--procedure", "1.001193", "--form", form); r.code != 0 {
		t.Fatal(r.stderr)
	}

	// This user's run, killed: its links stay; the next run replaces them.
	for range 2 {
		run := startRunUntilDevices(t, cred, data)
		run.Process.Kill()
		run.Wait()
	}
	simDir := filepath.Join(data, "sim")
	if _, err := os.Lstat(filepath.Join(simDir, "card-reader")); err != nil {
		t.Fatalf("a killed run left no link behind (%v): the test shows nothing", err)
	}

	// Root's run, killed (or, without root, the folder made read-only).
	if cred != nil {
		os.RemoveAll(simDir)
		run := startRunUntilDevices(t, nil, data, "--local-portal", "127.0.0.1:0")
		run.Process.Kill()
		run.Wait()
		// Root's database files go back to their owner; the simulators'
		// folder stays root's.
		for _, f := range []string{"motcua.db", "motcua.db-wal", "motcua.db-shm"} {
			os.Chown(filepath.Join(data, f), int(cred.Uid), int(cred.Gid))
		}
	} else {
		os.Chmod(simDir, 0o555)
		t.Cleanup(func() { os.Chmod(simDir, 0o755) })
	}
	assertRunFailsOn := func(blocked string, args ...string) {
		t.Helper()
		r := cliAs(t, cred, data, append([]string{"run", "--devices", "sim"}, args...)...)
		lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
		last := len(lines) - 1
		if r.code != exitFail || last < 1 || strings.Contains(r.stderr, "file exists") ||
			!strings.Contains(lines[last-1], "cannot write "+blocked+" (owned by "+owner+", mode ") ||
			!strings.Contains(lines[last-1], "sudo chown -R ") ||
			!strings.Contains(lines[last], "không ghi được vào "+blocked+" (của người dùng "+owner) {
			t.Fatalf("run %v after another user's: exit %d\n%s", args, r.code, r.stderr)
		}
	}
	assertRunFailsOn(simDir, "--portal", refusedURL(t))
	if cred != nil {
		// Root's local portal, in the same data directory.
		assertRunFailsOn(filepath.Join(data, "local-portal"), "--local-portal", "127.0.0.1:0")
	}
}
