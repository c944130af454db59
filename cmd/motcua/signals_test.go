package main

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/creack/pty"

	"github.com/motcua/motcua/devices/sim"
)

// blockedCommand is a motcua command started by a test, its standard
// output and error read line by line.
type blockedCommand struct {
	cmd   *exec.Cmd
	lines chan string
	mu    sync.Mutex
	said  strings.Builder
	ended chan struct{} // closed when the output ends
}

// startBlocked starts motcua with args and data as its data directory.
func startBlocked(t *testing.T, data string, args ...string) *blockedCommand {
	t.Helper()
	return startBlockedStdin(t, nil, data, args...)
}

// startBlockedStdin is startBlocked with stdin as standard input.
func startBlockedStdin(t *testing.T, stdin *os.File, data string, args ...string) *blockedCommand {
	t.Helper()
	cmd := exec.Command(motcua, args...)
	if stdin != nil {
		cmd.Stdin = stdin
	}
	cmd.Env = append(os.Environ(), "LANG=C.UTF-8", "MOTCUA_DATA_DIR="+data, "MOTCUA_CONFIG=", "MOTCUA_PORTAL=")
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	t.Cleanup(func() { cmd.Process.Kill() })
	b := &blockedCommand{cmd: cmd, lines: make(chan string, 1000), ended: make(chan struct{})}
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			b.mu.Lock()
			b.said.WriteString(sc.Text() + "\n")
			b.mu.Unlock()
			select {
			case b.lines <- sc.Text():
			default:
			}
		}
		r.Close()
		close(b.ended)
	}()
	return b
}

// output is what the command said so far.
func (b *blockedCommand) output() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.said.String()
}

// waitSaid waits for a line containing want.
func (b *blockedCommand) waitSaid(t *testing.T, want string) {
	t.Helper()
	deadline := time.After(hangLimit)
	for {
		select {
		case line := <-b.lines:
			if strings.Contains(line, want) {
				return
			}
		case <-b.ended:
			t.Fatalf("%v ended without saying %q:\n%s", b.cmd.Args[1:], want, b.output())
		case <-deadline:
			t.Fatalf("%v did not say %q within %v:\n%s", b.cmd.Args[1:], want, hangLimit, b.output())
		}
	}
}

// hangingPortal is a listener that accepts connections and never
// answers: a portal behind a link that went silent.
func hangingPortal(t *testing.T) (string, <-chan net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	conns := make(chan net.Conn, 100)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns <- c
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		for {
			select {
			case c := <-conns:
				c.Close()
			default:
				return
			}
		}
	})
	return "http://" + ln.Addr().String(), conns
}

// waitConn waits for a connection to the hanging portal.
func waitConn(t *testing.T, conns <-chan net.Conn) {
	t.Helper()
	select {
	case <-conns:
	case <-time.After(hangLimit):
		t.Fatalf("nothing connected to the portal within %v", hangLimit)
	}
}

// hangingScanimage puts on PATH a scanimage that touches dir/asked and
// never answers, and returns that path.
func hangingScanimage(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	asked := filepath.Join(dir, "asked")
	fakeScanimage(t, dir, fmt.Sprintf("touch %q\nexec sleep 1000\n", asked))
	return asked
}

// withQueued returns a data directory holding one queued application.
func withQueued(t *testing.T) string {
	t.Helper()
	data := t.TempDir()
	form := writeFile(t, t.TempDir(), "f.json", cli(t, data, "", "procedures", "example", "1.001193").stdout)
	if r := cli(t, data, "", "submit", "--procedure", "1.001193", "--form", form); r.code != 0 {
		t.Fatal(r.stderr)
	}
	return data
}

// Every command that can block, blocked, stops on SIGTERM and SIGINT with
// an exit of its own: 0 for those that run until stopped, 1 saying it was
// interrupted for those stopped before their work was done.
func TestBlockedCommandsStopOnSignal(t *testing.T) {
	tests := []struct {
		name string
		// start starts the command and returns once it is blocked.
		start func(t *testing.T) *blockedCommand
		code  int
		say   string // what it says on the way out
		check func(t *testing.T)
	}{
		{name: "card parse reading a terminal", code: exitFail, say: "card parse interrupted (", start: func(t *testing.T) *blockedCommand {
			r, w, err := os.Pipe() // held open: more payloads may come
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { r.Close(); w.Close() })
			b := startBlockedStdin(t, r, t.TempDir(), "card", "parse")
			fmt.Fprintf(w, "%s\n", sim.SamplePayloads[0])
			b.waitSaid(t, `"name":"Nguyễn Văn An"`)
			return b
		}},
		{name: "sim waiting for Enter", start: func(t *testing.T) *blockedCommand {
			b := startBlocked(t, t.TempDir(), "sim", "--dir", t.TempDir())
			b.waitSaid(t, "Press Enter to show the next card")
			return b
		}},
		{name: "sim showing cards", start: func(t *testing.T) *blockedCommand {
			b := startBlocked(t, t.TempDir(), "sim", "--dir", t.TempDir(), "--interval", "1h")
			b.waitSaid(t, "Showing a card every")
			return b
		}},
		{name: "portal serving a stalled upload", start: func(t *testing.T) *blockedCommand {
			b := startBlocked(t, t.TempDir(), "portal", "--listen", "127.0.0.1:0", "--data-dir", t.TempDir())
			b.waitSaid(t, "Reference portal listening on")
			_, rest, _ := strings.Cut(b.output(), "listening on http://")
			c, err := net.Dial("tcp", strings.Fields(rest)[0])
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { c.Close() })
			fmt.Fprint(c, "PATCH /uploads/x HTTP/1.1\r\nHost: portal\r\nContent-Length: 1000000\r\n\r\npartial")
			return b
		}},
		{name: "sync with a silent portal", start: func(t *testing.T) *blockedCommand {
			url, conns := hangingPortal(t)
			b := startBlocked(t, withQueued(t), "sync", "--portal", url)
			waitConn(t, conns)
			return b
		}},
		{name: "sync --once with a silent portal", code: exitFail, say: "sync interrupted", start: func(t *testing.T) *blockedCommand {
			url, conns := hangingPortal(t)
			b := startBlocked(t, withQueued(t), "sync", "--once", "--portal", url)
			waitConn(t, conns)
			return b
		}},
		{name: "scan --list with a hung SANE", code: exitFail, say: "scan interrupted", start: func(t *testing.T) *blockedCommand {
			asked := hangingScanimage(t)
			b := startBlocked(t, t.TempDir(), "scan", "--list", "--devices", "real", "--device", "fake:0")
			waitFile(t, asked)
			return b
		}},
		{name: "scan looking for a scanner with a hung SANE", code: exitFail, say: "scan interrupted", start: func(t *testing.T) *blockedCommand {
			asked := hangingScanimage(t)
			out := filepath.Join(t.TempDir(), "scan.pdf")
			b := startBlocked(t, t.TempDir(), "scan", "--out", out)
			waitFile(t, asked)
			t.Cleanup(func() {
				if _, err := os.Stat(out); !os.IsNotExist(err) {
					t.Errorf("an interrupted scan wrote %s (%v)", out, err)
				}
			})
			return b
		}},
		{name: "doctor with a hung SANE", code: exitFail, say: "doctor interrupted", start: func(t *testing.T) *blockedCommand {
			asked := hangingScanimage(t)
			cfg := writeFile(t, t.TempDir(), "config.toml", "devices = \"real\"\n[scanner]\ndevice = \"fake:0\"\n")
			b := startBlocked(t, t.TempDir(), "doctor", "--config", cfg)
			waitFile(t, asked)
			return b
		}},
		{name: "receipt to a printer that takes no more data", code: exitFail, say: "receipt interrupted", start: func(t *testing.T) *blockedCommand {
			data := withQueued(t)
			// A pseudo-terminal nobody reads: writes to it block once its
			// buffer is full.
			master, tty, err := pty.Open()
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { master.Close(); tty.Close() })
			b := startBlocked(t, data, "receipt", "1", "--printer", tty.Name())
			waitStalled(t, master)
			return b
		}},
	}
	for _, tt := range tests {
		for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
			t.Run(tt.name+"/"+sig.String(), func(t *testing.T) {
				b := tt.start(t)
				b.cmd.Process.Signal(sig)
				code := waitExit(t, b.cmd)
				<-b.ended
				if code != tt.code || !strings.Contains(b.output(), tt.say) {
					t.Errorf("exit %d on %v, want %d saying %q:\n%s", code, sig, tt.code, tt.say, b.output())
				}
			})
		}
	}
}

// waitStalled waits until the pseudo-terminal master's buffer holds data
// that has stopped growing: the writer on the other side is blocked.
func waitStalled(t *testing.T, master *os.File) {
	t.Helper()
	deadline := time.Now().Add(hangLimit)
	last, same := -1, 0
	defer func() { t.Logf("%d bytes pending when the writes stalled", last) }()
	for same < 10 {
		n, err := pendingBytes(master)
		if err != nil {
			t.Fatal(err)
		}
		if n > 0 && n == last {
			same++
		} else {
			same = 0
		}
		last = n
		if time.Now().After(deadline) {
			t.Fatalf("the printer's writes did not stall within %v (%d bytes pending)", hangLimit, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// pendingBytes is how many bytes wait to be read on f (FIONREAD).
func pendingBytes(f *os.File) (int, error) {
	var n int32
	_, _, errno := syscall.Syscall(syscall.SYS_IOCTL, f.Fd(), syscall.TIOCINQ, uintptr(unsafe.Pointer(&n)))
	if errno != 0 {
		return 0, errno
	}
	return int(n), nil
}
