package scanner

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// These tests run the watchdog in a synctest bubble: time there is fake,
// so when it gives up is checked to the nanosecond without waiting.

// watch runs w until it gives up or the test ends, and returns when it
// gave up (zero while it has not) and why.
func watch(t *testing.T, w *watchdog) (firedAt func() (time.Duration, error)) {
	t.Helper()
	ctx, cancel := context.WithCancelCause(context.Background())
	t.Cleanup(func() { cancel(nil) })
	start := time.Now()
	var mu sync.Mutex
	var at time.Duration
	var cause error
	go w.run(ctx, func(err error) {
		mu.Lock()
		at, cause = time.Since(start), err
		mu.Unlock()
		cancel(err)
	})
	return func() (time.Duration, error) {
		synctest.Wait()
		mu.Lock()
		defer mu.Unlock()
		return at, cause
	}
}

func TestWatchdogFiresExactlyAtTheTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fired := watch(t, newWatchdog(2*time.Second))
		time.Sleep(2*time.Second - time.Nanosecond)
		if at, err := fired(); err != nil {
			t.Fatalf("gave up at +%v, before the timeout: %v", at, err)
		}
		time.Sleep(time.Nanosecond)
		at, err := fired()
		if at != 2*time.Second || !errors.Is(err, ErrTimeout) || err.Error() != "no answer in 2s: "+ErrTimeout.Error() {
			t.Fatalf("gave up at +%v with %v; want +2s, ErrTimeout", at, err)
		}
	})
}

func TestWatchdogIsPushedBackByProgress(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWatchdog(2 * time.Second)
		fired := watch(t, w)
		// Progress at +1.2 s, +3.1 s and +5.0 s: each less than the timeout
		// after the one before.
		for _, step := range []time.Duration{1200, 1900, 1900} {
			time.Sleep(step * time.Millisecond)
			w.Progress()
		}
		time.Sleep(2*time.Second - time.Nanosecond)
		if at, err := fired(); err != nil {
			t.Fatalf("gave up at +%v although there was progress: %v", at, err)
		}
		time.Sleep(time.Nanosecond)
		if at, err := fired(); at != 7*time.Second || !errors.Is(err, ErrTimeout) {
			t.Fatalf("gave up at +%v (%v), want +7s: 2 s after the last progress", at, err)
		}
	})
}

func TestWatchdogProgressNeverBlocks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWatchdog(time.Second)
		fired := watch(t, w)
		// A burst of signals at one instant: none blocks, one restarts the
		// clock.
		time.Sleep(500 * time.Millisecond)
		for range 100 {
			w.Progress()
		}
		time.Sleep(time.Second)
		if at, err := fired(); at != 1500*time.Millisecond || !errors.Is(err, ErrTimeout) {
			t.Fatalf("gave up at +%v (%v), want +1.5s", at, err)
		}
		// Once it has given up, a late signal does not block either.
		w.Progress()
		w.Progress()
	})
}

func TestWatchdogSpentTimeoutUsesTheDefault(t *testing.T) {
	for _, timeout := range []time.Duration{0, -time.Nanosecond, -time.Second} {
		t.Run(fmt.Sprint(timeout), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				fired := watch(t, newWatchdog(timeout))
				time.Sleep(DefaultTimeout - time.Nanosecond)
				if at, err := fired(); err != nil {
					t.Fatalf("a timeout of %v gave up at +%v: %v", timeout, at, err)
				}
				time.Sleep(time.Nanosecond)
				if at, err := fired(); at != DefaultTimeout || !errors.Is(err, ErrTimeout) {
					t.Fatalf("a timeout of %v gave up at +%v (%v), want +%v", timeout, at, err, DefaultTimeout)
				}
			})
		})
	}
	if got := New(Config{Timeout: -time.Second}).Config().Timeout; got != DefaultTimeout {
		t.Errorf("New with a spent timeout: %v, want %v", got, DefaultTimeout)
	}
}

func TestWatchdogStopsWithItsContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancelCause(context.Background())
		done := make(chan struct{})
		go func() {
			newWatchdog(time.Second).run(ctx, func(err error) { t.Errorf("gave up after its command ended: %v", err) })
			close(done)
		}()
		time.Sleep(999 * time.Millisecond)
		cancel(nil)
		synctest.Wait()
		select {
		case <-done:
		default:
			t.Fatal("the watchdog still runs after its command ended")
		}
	})
}

// TestScanimagePageLinesAreProgress: the lines scanimage prints for each
// page of a batch restart the clock, however the writes split them; other
// output does not.
func TestScanimagePageLinesAreProgress(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWatchdog(2 * time.Second)
		fired := watch(t, w)
		stderr := &pageLines{w: w}
		write := func(s string) {
			if n, err := stderr.Write([]byte(s)); n != len(s) || err != nil {
				t.Fatalf("Write = %d, %v", n, err)
			}
		}
		write("Scanning -1 pages, incrementing by 1, numbering from 1\nScanning page 1\n") // +0
		time.Sleep(1500 * time.Millisecond)
		write("Scanned pa") // not a line yet
		time.Sleep(400 * time.Millisecond)
		write("ge 1. (scanner status = 5)\nScanning page 2\n") // +1.9 s
		time.Sleep(1900 * time.Millisecond)
		// Not progress: a backend's chatter, and an error.
		write("[test] sane_read: buffer 4096\n")
		write("scanimage: sane_read: Error during device I/O\n")
		time.Sleep(100*time.Millisecond - time.Nanosecond)
		if at, err := fired(); err != nil {
			t.Fatalf("gave up at +%v: %v", at, err)
		}
		time.Sleep(time.Nanosecond)
		if at, err := fired(); at != 3900*time.Millisecond || !errors.Is(err, ErrTimeout) {
			t.Fatalf("gave up at +%v (%v), want +3.9s: 2 s after page 2 began", at, err)
		}
	})
}
