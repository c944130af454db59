package scanner

import (
	"bytes"
	"context"
	"fmt"
	"time"
)

// DefaultTimeout is how long scanimage may go without progress when the
// configured timeout is zero, negative or already spent.
const DefaultTimeout = 2 * time.Minute

// watchdog gives up on a command that shows no progress for its timeout:
// the clock starts when it runs, and each progress signal restarts it.
type watchdog struct {
	timeout  time.Duration
	progress chan struct{}
}

// newWatchdog returns a watchdog for timeout, or DefaultTimeout when
// timeout is not positive.
func newWatchdog(timeout time.Duration) *watchdog {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	// One signal waiting is enough: the clock restarts when it is taken.
	return &watchdog{timeout: timeout, progress: make(chan struct{}, 1)}
}

// Progress says the command moved on. It never blocks.
func (w *watchdog) Progress() {
	select {
	case w.progress <- struct{}{}:
	default:
	}
}

// run cancels with ErrTimeout exactly the timeout after the start or the
// last progress, unless ctx ends first.
func (w *watchdog) run(ctx context.Context, cancel context.CancelCauseFunc) {
	t := time.NewTimer(w.timeout)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-w.progress:
			t.Reset(w.timeout)
		case <-t.C:
			cancel(fmt.Errorf("no answer in %v: %w", w.timeout, ErrTimeout))
			return
		}
	}
}

// pageLines watches scanimage's standard error for the lines a batch
// prints as it goes ("Scanning page 2", "Scanned page 2. (scanner status =
// 5)") and reports each as progress. Other lines (errors, a backend's
// debugging) are not progress.
//
// A page scanned whole ("(scanner status = 5)", SANE_STATUS_EOF) is also
// counted and, if page is set, reported.
type pageLines struct {
	w     *watchdog
	page  func(n int) // nil: not told
	pages int
	line  []byte
}

// maxLine bounds the start of a line kept to recognize it.
const maxLine = 64

func (p *pageLines) Write(b []byte) (int, error) {
	for _, c := range b {
		if c != '\n' {
			if len(p.line) < maxLine {
				p.line = append(p.line, c)
			}
			continue
		}
		if bytes.HasPrefix(p.line, []byte("Scanning page ")) || bytes.HasPrefix(p.line, []byte("Scanned page ")) {
			p.w.Progress()
		}
		if bytes.HasPrefix(p.line, []byte("Scanned page ")) && bytes.HasSuffix(p.line, []byte("(scanner status = 5)")) {
			p.pages++
			if p.page != nil {
				p.page(p.pages)
			}
		}
		p.line = p.line[:0]
	}
	return len(b), nil
}
