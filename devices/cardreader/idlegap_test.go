package cardreader

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/motcua/motcua/agent/identity"
)

// These tests run the reader's frame assembly in a synctest bubble, on an
// in-memory pipe instead of a serial port: time there is fake, so the idle
// gap is checked to the nanosecond without sleeping.

const gap = 200 * time.Millisecond

// pipeReader is a Reader whose port is a pipe the test writes to, inside
// the current synctest bubble.
type pipeReader struct {
	t      *testing.T
	r      *Reader
	w      *io.PipeWriter
	events chan Event
}

func newPipeReader(t *testing.T, cfg Config) *pipeReader {
	t.Helper()
	port := filepath.Join(t.TempDir(), "ttyACM0")
	if err := os.WriteFile(port, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	pr, pw := io.Pipe()
	cfg.Port = port
	cfg.Open = func(string, int, time.Duration) (io.ReadCloser, error) { return pr, nil }
	p := &pipeReader{t: t, r: New(cfg), w: pw, events: make(chan Event, 16)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.r.Run(ctx, p.events); close(done) }()
	t.Cleanup(func() {
		cancel()
		<-done
		pw.CloseWithError(io.ErrClosedPipe)
	})
	synctest.Wait()
	return p
}

func (p *pipeReader) write(s string) {
	p.t.Helper()
	if _, err := p.w.Write([]byte(s)); err != nil {
		p.t.Fatal(err)
	}
}

// pending returns the events emitted so far, once every goroutine of the
// bubble is idle.
func (p *pipeReader) pending() []Event {
	synctest.Wait()
	var evs []Event
	for {
		select {
		case ev := <-p.events:
			evs = append(evs, ev)
		default:
			return evs
		}
	}
}

func TestIdleGapEndsAFrameExactlyAfterTheLastByte(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPipeReader(t, Config{IdleGap: gap})

		p.write(cardBinh)
		last := time.Now()
		time.Sleep(gap - time.Nanosecond)
		if evs := p.pending(); len(evs) != 0 {
			t.Fatalf("frame ended %v after its last byte, before the idle gap of %v: %+v", time.Since(last), gap, evs)
		}
		time.Sleep(time.Nanosecond)
		evs := p.pending()
		if len(evs) != 1 || evs[0].Err != nil || evs[0].Card.ID != "079304000123" {
			t.Fatalf("at the idle gap: %+v, want the card", evs)
		}
		if !evs[0].At.Equal(last.Add(gap)) {
			t.Errorf("frame ended at +%v, want +%v", evs[0].At.Sub(last), gap)
		}
		// With nothing pending the timer is idle: no empty frames.
		time.Sleep(10 * gap)
		if evs := p.pending(); len(evs) != 0 {
			t.Fatalf("events with no input: %+v", evs)
		}
	})
}

func TestFrameSplitByAShorterPauseIsOneFrame(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPipeReader(t, Config{IdleGap: gap})

		p.write(cardAn[:40])
		time.Sleep(gap - time.Nanosecond)
		p.write(cardAn[40:80])
		time.Sleep(gap - time.Nanosecond)
		p.write(cardAn[80:])
		last := time.Now()
		if evs := p.pending(); len(evs) != 0 {
			t.Fatalf("a pause shorter than the idle gap split the frame: %+v", evs)
		}
		time.Sleep(gap)
		evs := p.pending()
		if len(evs) != 1 || evs[0].Err != nil || evs[0].Card.ID != "001095012345" || string(evs[0].Raw) != cardAn {
			t.Fatalf("%+v, want one frame with the whole card", evs)
		}
		if !evs[0].At.Equal(last.Add(gap)) {
			t.Errorf("frame ended at +%v after its last byte, want +%v", evs[0].At.Sub(last), gap)
		}

		// A byte at a time, each a little under the gap apart.
		for i := range len(cardBinh) {
			p.write(cardBinh[i : i+1])
			time.Sleep(gap - time.Millisecond)
		}
		time.Sleep(time.Millisecond)
		if evs := p.pending(); len(evs) != 1 || evs[0].Err != nil || evs[0].Card.ID != "079304000123" {
			t.Fatalf("a slow reader's frame: %+v, want one card", evs)
		}
	})
}

func TestFrameSplitByTheIdleGapIsTwoFrames(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPipeReader(t, Config{IdleGap: gap})

		p.write(cardBinh[:40])
		first := time.Now()
		time.Sleep(gap)
		evs := p.pending() // the timer has fired before the rest comes
		p.write(cardBinh[40:])
		second := time.Now()
		time.Sleep(gap)
		evs = append(evs, p.pending()...)
		if len(evs) != 2 {
			t.Fatalf("%d frames, want 2: %+v", len(evs), evs)
		}
		for i, want := range []struct {
			raw string
			at  time.Time
		}{{cardBinh[:40], first.Add(gap)}, {cardBinh[40:], second.Add(gap)}} {
			if string(evs[i].Raw) != want.raw || !errors.Is(evs[i].Err, identity.ErrInvalidCard) || !evs[i].At.Equal(want.at) {
				t.Errorf("frame %d: raw %q err %v at %v; want raw %q, a bad frame, at %v", i, evs[i].Raw, evs[i].Err, evs[i].At, want.raw, want.at)
			}
		}
	})
}

func TestLineEndingEndsAFrameAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPipeReader(t, Config{IdleGap: gap})

		// CR, LF and CRLF end a frame with no wait; the empty frame
		// between CR and LF is nothing.
		p.write(cardAn[:50])
		time.Sleep(gap / 2)
		start := time.Now()
		p.write(cardAn[50:] + "\r\n" + cardBinh + "\r" + cardAn + "\n")
		evs := p.pending()
		if len(evs) != 3 || evs[0].Card.ID != "001095012345" || evs[1].Card.ID != "079304000123" || evs[2].Card.ID != "001095012345" {
			t.Fatalf("%+v, want three cards", evs)
		}
		for _, ev := range evs {
			if ev.Err != nil || !ev.At.Equal(start) {
				t.Errorf("frame at +%v (err %v), want at once", ev.At.Sub(start), ev.Err)
			}
		}
		// The line ending stopped the idle timer: the half frame before it
		// does not come back.
		time.Sleep(10 * gap)
		if evs := p.pending(); len(evs) != 0 {
			t.Fatalf("events after the line ending: %+v", evs)
		}
	})
}

func TestOverlongFrameWithoutLineEndingIsDroppedAtTheIdleGap(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPipeReader(t, Config{IdleGap: gap, MaxFrame: 64})

		p.write(strings.Repeat("x", 65))
		last := time.Now()
		time.Sleep(gap)
		evs := p.pending()
		if len(evs) != 1 || evs[0].Err == nil || !strings.Contains(evs[0].Err.Error(), "longer than 64 bytes") || !evs[0].At.Equal(last.Add(gap)) {
			t.Fatalf("%+v, want one overlong-frame error at the idle gap", evs)
		}
		p.write(cardBinh[:60] + "\n")
		if evs := p.pending(); len(evs) != 1 || !errors.Is(evs[0].Err, identity.ErrInvalidCard) {
			t.Fatalf("the next frame: %+v", evs)
		}
	})
}

func TestDefaultIdleGapIs200ms(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPipeReader(t, Config{})
		p.write(cardBinh)
		time.Sleep(200*time.Millisecond - time.Nanosecond)
		if evs := p.pending(); len(evs) != 0 {
			t.Fatalf("frame ended before 200 ms: %+v", evs)
		}
		time.Sleep(time.Nanosecond)
		if evs := p.pending(); len(evs) != 1 {
			t.Fatalf("%d frames at 200 ms, want 1", len(evs))
		}
	})
}
