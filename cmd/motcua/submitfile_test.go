package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// hangLimit is how long a test lets the binary run before it calls it
// hung: generous, for a loaded machine; a command that works returns in
// well under a second.
const hangLimit = 60 * time.Second

// cliBounded is cli for a command that may hang: it is killed, and the
// test fails, when it does not return within hangLimit.
func cliBounded(t *testing.T, dataDir string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), hangLimit)
	defer cancel()
	cmd := exec.CommandContext(ctx, motcua, args...)
	cmd.Env = append(os.Environ(), "LANG=C.UTF-8", "MOTCUA_DATA_DIR="+dataDir, "MOTCUA_CONFIG=", "MOTCUA_PORTAL=")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("motcua %v did not return within %v: it hangs\n%s", args, hangLimit, errb.String())
	}
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if !ee.Exited() {
			t.Fatalf("motcua %v was killed: %v\n%s", args, err, errb.String())
		}
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{code, out.String(), errb.String()}
}

// submitInputs are files --form and --attach must refuse: what is not a
// regular file, and what is too big. Each returns the path and what the
// error must say about it.
func submitInputs(t *testing.T, limit int64) map[string]func(t *testing.T) (string, string) {
	return map[string]func(t *testing.T) (string, string){
		"named pipe": func(t *testing.T) (string, string) {
			p := filepath.Join(t.TempDir(), "form.json")
			if err := syscall.Mkfifo(p, 0o600); err != nil {
				t.Fatal(err)
			}
			return p, "is a named pipe, not a regular file"
		},
		"endless device": func(t *testing.T) (string, string) {
			return "/dev/zero", "is a character device, not a regular file"
		},
		"directory": func(t *testing.T) (string, string) {
			return t.TempDir(), "is a directory, not a regular file"
		},
		"sparse file over the bound": func(t *testing.T) (string, string) {
			p := writeFile(t, t.TempDir(), "big.json", "{}")
			if err := os.Truncate(p, limit+1); err != nil {
				t.Fatal(err)
			}
			return p, "too large"
		},
	}
}

// Before the fix a named pipe as --form blocked submit in open(2), deaf
// to SIGTERM, and /dev/zero was read until memory ran out.
func TestSubmitFormRefusesWhatIsNotARegularFile(t *testing.T) {
	for name, input := range submitInputs(t, maxFormBytes) {
		t.Run(name, func(t *testing.T) {
			path, what := input(t)
			data := t.TempDir()
			r := cliBounded(t, data, "submit", "--procedure", "1.001193", "--form", path)
			if r.code != exitFail || !strings.Contains(r.stderr, "--form "+path+": "+what) {
				t.Errorf("exit %d, want 1 with %q\n%s", r.code, "--form "+path+": "+what, r.stderr)
			}
			assertNothingStored(t, data)
		})
	}
}

func TestSubmitAttachRefusesWhatIsNotARegularFile(t *testing.T) {
	form := writeFile(t, t.TempDir(), "f.json", cli(t, t.TempDir(), "", "procedures", "example", "1.001193").stdout)
	for name, input := range submitInputs(t, maxAttachmentBytes) {
		t.Run(name, func(t *testing.T) {
			path, what := input(t)
			data := t.TempDir()
			r := cliBounded(t, data, "submit", "--procedure", "1.001193", "--form", form, "--attach", path)
			want := "--attach " + path + " " + what
			if what == "too large" {
				want = "--attach " + path + ": too large"
			}
			if r.code != exitFail || !strings.Contains(r.stderr, want) {
				t.Errorf("exit %d, want 1 with %q\n%s", r.code, want, r.stderr)
			}
			assertNothingStored(t, data)
		})
	}
}

// A symbolic link to a regular file is a regular file to submit.
func TestSubmitFollowsSymlinksToRegularFiles(t *testing.T) {
	data := t.TempDir()
	dir := t.TempDir()
	form := writeFile(t, dir, "f.json", cli(t, data, "", "procedures", "example", "1.001193").stdout)
	pdf := writeFile(t, dir, "giay-chung-sinh.pdf", "%PDF-1.4\n"+strings.Repeat("x", 5000))
	formLink, pdfLink := filepath.Join(dir, "form-link.json"), filepath.Join(dir, "evidence-link.pdf")
	for link, target := range map[string]string{formLink: form, pdfLink: pdf} {
		if err := os.Symlink(target, link); err != nil {
			t.Fatal(err)
		}
	}
	r := cliBounded(t, data, "submit", "--procedure", "1.001193", "--form", formLink, "--attach", pdfLink)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	var got submitResult
	mustJSON(t, r.stdout, &got)
	if len(got.Attachments) != 1 || got.Attachments[0].Size != 5009 || got.Attachments[0].Name != "evidence-link.pdf" {
		t.Fatalf("attachments %+v", got.Attachments)
	}
}

// Standard input is bounded as a file is: more than the bound is refused,
// not cut short.
func TestSubmitFormFromStdinOverTheBoundIsRefused(t *testing.T) {
	data := t.TempDir()
	big := `{"child_full_name":"` + strings.Repeat("a", maxFormBytes) + `"}`
	r := cli(t, data, big, "submit", "--procedure", "1.001193", "--form", "-")
	if r.code != exitFail || !strings.Contains(r.stderr, "--form - (standard input): too large") {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	assertNothingStored(t, data)
}

// Before the fix submit reading a form from a standard input that never
// ends ignored SIGTERM.
func TestSubmitStopsOnSignalWhileReadingStdin(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			data := t.TempDir()
			cmd := exec.Command(motcua, "submit", "--procedure", "1.001193", "--form", "-", "--log-level", "debug")
			cmd.Env = append(os.Environ(), "LANG=C.UTF-8", "MOTCUA_DATA_DIR="+data, "MOTCUA_CONFIG=", "MOTCUA_PORTAL=")
			stdin, err := cmd.StdinPipe() // held open: the form never ends
			if err != nil {
				t.Fatal(err)
			}
			defer stdin.Close()
			stderr, err := cmd.StderrPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { cmd.Process.Kill() })
			io.WriteString(stdin, `{"child_full_name":`)
			said := waitLine(t, stderr, "reading the form from standard input")
			cmd.Process.Signal(sig)
			// Read the rest to its end before Wait, which closes the pipe and
			// would cut off what the command said on its way out.
			rest := make(chan string, 1)
			go func() {
				b, _ := io.ReadAll(stderr)
				rest <- string(b)
			}()
			select {
			case r := <-rest:
				said += r
			case <-time.After(hangLimit):
				t.Fatalf("still running %v after %v:\n%s", hangLimit, sig, said)
			}
			code := waitExit(t, cmd)
			if code != exitFail || !strings.Contains(said, "interrupted") || !strings.Contains(said, "nothing stored") {
				t.Errorf("exit %d after %v, want 1 saying it was interrupted\n%s", code, sig, said)
			}
			assertNothingStored(t, data)
		})
	}
}

// waitLine reads r until a line containing want, and returns what it
// read; the test fails when r ends first.
func waitLine(t *testing.T, r io.Reader, want string) string {
	t.Helper()
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			lines <- sc.Text()
			if strings.Contains(sc.Text(), want) {
				break
			}
		}
		close(lines)
	}()
	var said strings.Builder
	deadline := time.After(hangLimit)
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("never said %q:\n%s", want, said.String())
			}
			said.WriteString(line + "\n")
			if strings.Contains(line, want) {
				return said.String()
			}
		case <-deadline:
			t.Fatalf("did not say %q within %v:\n%s", want, hangLimit, said.String())
		}
	}
}

// waitExit waits for cmd, signalled to stop, to exit by itself, and
// returns its exit code; the test fails when it does not exit within
// hangLimit or dies of the signal.
func waitExit(t *testing.T, cmd *exec.Cmd) int {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		switch {
		case err == nil:
			return 0
		case errors.As(err, &ee) && ee.Exited():
			return ee.ExitCode()
		}
		t.Fatalf("%s did not exit cleanly: %v", cmd.Args[1], err)
	case <-time.After(hangLimit):
		cmd.Process.Kill()
		t.Fatalf("%s did not stop within %v of the signal", cmd.Args[1], hangLimit)
	}
	return -1
}

// Before the fix `sim --cards` given a named pipe, and `receipt --png`
// given one, blocked in open(2) deaf to signals.
func TestFileFlagsRefuseNamedPipes(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "pipe")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	data := withQueued(t)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"sim", "--dir", t.TempDir(), "--cards", fifo}, "--cards " + fifo + ": is a named pipe, not a regular file"},
		{[]string{"sim", "--dir", t.TempDir(), "--cards", "/dev/zero"}, "--cards /dev/zero: is a character device, not a regular file"},
		{[]string{"receipt", "1", "--png", fifo}, "--png " + fifo + ": is a named pipe, not a regular file"},
		{[]string{"receipt", "1", "--png", "/dev/null"}, "--png /dev/null: is a character device, not a regular file"},
	}
	for _, tt := range tests {
		r := cliBounded(t, data, tt.args...)
		if r.code != exitFail || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("motcua %v: exit %d, want 1 with %q\n%s", tt.args, r.code, tt.want, r.stderr)
		}
	}
	if fi, err := os.Lstat(fifo); err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
		t.Errorf("the named pipe was replaced: %v, %v", fi, err)
	}
}

// A configuration file that is a named pipe blocked every command that
// reads the configuration in open(2).
func TestConfigRefusesANamedPipe(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "config.toml")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	want := "config file named by --config: " + fifo + " is a named pipe, not a regular file"
	// --devices sim spares doctor and scan asking SANE for a scanner.
	for _, args := range [][]string{{"config"}, {"doctor", "--devices", "sim"}, {"scan", "--list", "--devices", "sim"}, {"run"}} {
		r := cliBounded(t, t.TempDir(), append(args, "--config", fifo)...)
		if r.code != exitFail || !strings.Contains(r.stderr+r.stdout, want) {
			t.Errorf("motcua %v --config FIFO: exit %d, want 1 with %q\n%s%s", args, r.code, want, r.stdout, r.stderr)
		}
	}
}

// A file that grows past the bound after its size was checked is refused,
// not cut at the bound: what is read is bounded the same way.
func TestReadBoundedRefusesWhatGrowsPastTheBound(t *testing.T) {
	const limit = 1000
	tests := []struct {
		size    int
		refused bool
	}{{0, false}, {limit, false}, {limit + 1, true}, {10 * limit, true}}
	for _, tt := range tests {
		b, err := readBounded(strings.NewReader(strings.Repeat("x", tt.size)), limit)
		switch {
		case tt.refused && !errors.Is(err, errTooLarge):
			t.Errorf("%d bytes, bound %d: read %d bytes, err %v; want errTooLarge", tt.size, limit, len(b), err)
		case !tt.refused && (err != nil || len(b) != tt.size):
			t.Errorf("%d bytes, bound %d: read %d bytes, err %v", tt.size, limit, len(b), err)
		}
	}
}
