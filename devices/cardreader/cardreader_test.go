package cardreader

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/motcua/motcua/agent/identity"
)

const (
	cardAn   = "001095012345|012345678|Nguyễn Văn An|15081995|Nam|Số 12 ngõ 34 Láng Hạ, Phường Thành Công, Quận Ba Đình, Hà Nội|20042021"
	cardBinh = "079304000123||Trần Thị Bình|02112004|Nữ|123 Lê Lợi, Phường Bến Thành, Quận 1, TP Hồ Chí Minh|10072022"
)

// scanner is a pseudo-terminal playing a QR scanner: the test writes to
// master, the reader opens port, a stable link to the slave, as a udev
// /dev/serial/by-id link would be.
type scanner struct {
	t      *testing.T
	port   string
	master *os.File
}

func newScanner(t *testing.T) *scanner {
	t.Helper()
	s := &scanner{t: t, port: filepath.Join(t.TempDir(), "ttyACM0")}
	s.plug()
	t.Cleanup(func() { s.master.Close() })
	return s
}

// plug attaches a new pseudo-terminal at the port's path.
func (s *scanner) plug() {
	s.t.Helper()
	master, slave, err := pty.Open()
	if err != nil {
		s.t.Fatal(err)
	}
	name := slave.Name()
	// The reader opens the slave by name; keeping our handle open would hide
	// a pulled cable, so close it.
	slave.Close()
	os.Remove(s.port)
	if err := os.Symlink(name, s.port); err != nil {
		s.t.Fatal(err)
	}
	s.master = master
}

// unplug removes the port, as pulling a USB cable does.
func (s *scanner) unplug() {
	s.master.Close()
	os.Remove(s.port)
}

func (s *scanner) write(b string) {
	s.t.Helper()
	if _, err := s.master.Write([]byte(b)); err != nil {
		s.t.Fatal(err)
	}
}

func start(t *testing.T, port string) (*Reader, chan Event, func()) {
	t.Helper()
	r := New(Config{Port: port, IdleGap: 300 * time.Millisecond, MaxBackoff: 200 * time.Millisecond})
	events := make(chan Event, 16)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.Run(ctx, events); close(done) }()
	stop := func() {
		cancel()
		select {
		case <-done:
		case <-time.After(3 * time.Second):
			t.Fatal("Run did not return after cancel: Close is hanging on a pending read")
		}
	}
	t.Cleanup(stop)
	waitFor(t, func() bool { return r.Status().Connected }, "the reader to connect")
	return r, events, stop
}

func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func next(t *testing.T, events chan Event) Event {
	t.Helper()
	select {
	case ev := <-events:
		return ev
	case <-time.After(5 * time.Second):
		t.Fatal("no event")
	}
	return Event{}
}

func TestReadsCardsOnAPseudoTerminal(t *testing.T) {
	s := newScanner(t)
	r, events, _ := start(t, s.port)

	s.write(cardAn + "\r\n")
	if ev := next(t, events); ev.Err != nil || ev.Card.Name != "Nguyễn Văn An" || ev.Card.ID != "001095012345" {
		t.Fatalf("CRLF frame: %+v", ev)
	}
	// Frames split by pauses are in idlegap_test.go, on fake time.
	// Two frames in one write.
	s.write(cardAn + "\r" + cardBinh + "\r")
	a, b := next(t, events), next(t, events)
	if a.Card.ID != "001095012345" || b.Card.ID != "079304000123" {
		t.Fatalf("two frames: %+v / %+v", a, b)
	}
	// No line ending at all: the idle gap ends the frame.
	s.write(cardBinh)
	if ev := next(t, events); ev.Err != nil || ev.Card.ID != "079304000123" {
		t.Fatalf("frame ended by the idle gap: %+v", ev)
	}
	// Line noise around a frame is dropped.
	s.write("\x00\x02" + cardAn + "\x03\x00\n")
	if ev := next(t, events); ev.Err != nil || ev.Card.ID != "001095012345" {
		t.Fatalf("noisy frame: %+v", ev)
	}
	if st := r.Status(); st.Cards != 5 || st.BadFrames != 0 || !st.Connected {
		t.Errorf("status %+v", st)
	}
}

func TestBadFramesAreErrorsTheStaffSee(t *testing.T) {
	s := newScanner(t)
	r, events, _ := start(t, s.port)
	for _, tt := range []struct {
		frame    string
		sentinel error
	}{
		{"~~garbage~~", identity.ErrInvalidCard},
		{strings.Replace(cardBinh, "|Nữ|", "|Nam|", 1), identity.ErrIDMismatch},
		// A keyboard-mode reader mangles diacritics into bytes that are not
		// UTF-8.
		{"079304000123||Tr\xe1n Th\xec B\xecnh|02112004|N\xf5|123 L\xea L\xf4i|10072022", identity.ErrInvalidCard},
	} {
		s.write(tt.frame + "\n")
		ev := next(t, events)
		if !errors.Is(ev.Err, tt.sentinel) || string(ev.Raw) != tt.frame {
			t.Errorf("frame %q: %+v, want %v", tt.frame, ev, tt.sentinel)
		}
	}
	s.write(strings.Repeat("x", 5000) + "\n")
	if ev := next(t, events); ev.Err == nil || !strings.Contains(ev.Err.Error(), "longer than") {
		t.Errorf("overlong frame: %+v", ev)
	}
	s.write(cardAn + "\n")
	if ev := next(t, events); ev.Err != nil {
		t.Errorf("a good frame after noise: %v", ev.Err)
	}
	if st := r.Status(); st.BadFrames != 4 || st.Cards != 1 {
		t.Errorf("status %+v", st)
	}
}

func TestPulledCableIsNoticedAndReopened(t *testing.T) {
	s := newScanner(t)
	r, events, stop := start(t, s.port)
	s.write(cardAn + "\n")
	next(t, events)

	s.unplug()
	waitFor(t, func() bool { return !r.Status().Connected }, "the reader to notice the pulled cable")
	if st := r.Status(); st.LastError == "" {
		t.Errorf("no error recorded for the pulled cable: %+v", st)
	}
	time.Sleep(500 * time.Millisecond) // some failed reopen attempts
	s.plug()
	waitFor(t, func() bool { return r.Status().Connected }, "the reader to reopen the port")
	time.Sleep(50 * time.Millisecond)
	s.write(cardBinh + "\n")
	if ev := next(t, events); ev.Err != nil || ev.Card.ID != "079304000123" {
		t.Fatalf("after replugging: %+v", ev)
	}
	// Stopping returns promptly although a read is pending.
	stop()
}
