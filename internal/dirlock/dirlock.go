// Package dirlock lets one process at a time do a job in a directory: a
// lock file held with an advisory lock (flock(2) on Unix, LockFileEx on
// Windows). The kernel releases the lock when its holder exits, however it
// ends (SIGKILL and a power cut included), so a dead holder never leaves a
// stale lock behind. The file also says, for people and for the process
// that finds the lock taken, who holds it: the process id, the command and
// since when.
package dirlock

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"
)

// ErrHeld is returned (wrapped in a *HeldError) when another process holds
// the lock.
var ErrHeld = errors.New("held by another process")

// Holder says who holds a lock.
type Holder struct {
	PID     int       `json:"pid"`
	Command string    `json:"command"`
	Since   time.Time `json:"since"`
}

// String describes the holder for a message: "pid 4242 (motcua run) since
// 2026-11-30 14:05:03 UTC".
func (h Holder) String() string {
	if h.PID == 0 {
		return "an unknown process"
	}
	s := fmt.Sprintf("pid %d", h.PID)
	if h.Command != "" {
		s += " (" + h.Command + ")"
	}
	if !h.Since.IsZero() {
		s += " since " + h.Since.UTC().Format("2006-01-02 15:04:05 UTC")
	}
	return s
}

// HeldError is the lock at Path being held by another process; Holder is
// what its file says of that process (zero when the file says nothing
// readable yet).
type HeldError struct {
	Path   string
	Holder Holder
}

func (e *HeldError) Error() string {
	return fmt.Sprintf("%s is %s: %s", e.Path, ErrHeld, e.Holder)
}

func (e *HeldError) Unwrap() error { return ErrHeld }

// Lock is a held lock.
type Lock struct {
	f    *os.File
	path string
}

// TryLock takes the lock at path, creating the file, without waiting. When
// another process holds it, it returns a *HeldError naming that process.
// On success it writes who into the file.
func TryLock(path string, who Holder) (*Lock, error) {
	// Never truncated before the lock is held: the file tells the losers
	// who holds it.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open the lock file: %w", err)
	}
	held, err := tryLock(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if held {
		f.Close()
		return nil, &HeldError{Path: path, Holder: ReadHolder(path)}
	}
	if who.PID == 0 {
		who.PID = os.Getpid()
	}
	if who.Since.IsZero() {
		who.Since = time.Now()
	}
	b, _ := json.Marshal(who)
	// Who holds it is for people: the lock is held even if this write fails.
	if f.Truncate(0) == nil {
		_, _ = f.WriteAt(append(b, '\n'), 0)
	}
	return &Lock{f: f, path: path}, nil
}

// Wait takes the lock at path, trying again every poll while another
// process holds it, until ctx ends. held, when not nil, is called once
// with the first *HeldError, so the caller can say that it waits.
func Wait(ctx context.Context, path string, who Holder, poll time.Duration, held func(*HeldError)) (*Lock, error) {
	t := time.NewTicker(poll)
	defer t.Stop()
	told := false
	for {
		l, err := TryLock(path, who)
		var he *HeldError
		if !errors.As(err, &he) {
			return l, err
		}
		if !told && held != nil {
			held(he)
			told = true
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for %s: %w", path, context.Cause(ctx))
		case <-t.C:
		}
	}
}

// ReadHolder reads who the lock file at path says holds it; zero when it
// says nothing readable.
func ReadHolder(path string) Holder {
	var h Holder
	b, err := os.ReadFile(path)
	if err == nil {
		_ = json.Unmarshal([]byte(strings.TrimSpace(string(b))), &h)
	}
	return h
}

// Path returns the lock file's path.
func (l *Lock) Path() string { return l.path }

// Unlock releases the lock. The file stays: removing it would let a
// process that opened it just before lock a file nobody else sees.
func (l *Lock) Unlock() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := unlock(l.f)
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	l.f = nil
	return err
}
