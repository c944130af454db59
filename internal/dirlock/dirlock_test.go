package dirlock

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestSecondLockerIsToldWhoHoldsIt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "worker.lock")
	since := time.Date(2026, 11, 30, 7, 0, 0, 0, time.UTC)
	l, err := TryLock(path, Holder{Command: "motcua run", Since: since})
	if err != nil {
		t.Fatal(err)
	}
	_, err = TryLock(path, Holder{Command: "motcua sync"})
	var he *HeldError
	if !errors.As(err, &he) || !errors.Is(err, ErrHeld) {
		t.Fatalf("second lock: %v, want a HeldError", err)
	}
	want := Holder{PID: os.Getpid(), Command: "motcua run", Since: since}
	if !he.Holder.Since.Equal(since) || he.Holder.PID != want.PID || he.Holder.Command != want.Command {
		t.Errorf("holder %+v, want %+v", he.Holder, want)
	}
	if msg := err.Error(); !strings.Contains(msg, "motcua run") || !strings.Contains(msg, "2026-11-30 07:00:00 UTC") {
		t.Errorf("message %q does not name the holder", msg)
	}
	if err := l.Unlock(); err != nil {
		t.Fatal(err)
	}
	l2, err := TryLock(path, Holder{Command: "motcua sync"})
	if err != nil {
		t.Fatalf("after unlock: %v", err)
	}
	defer l2.Unlock()
	if h := ReadHolder(path); h.Command != "motcua sync" {
		t.Errorf("the file names %+v after the second took it", h)
	}
}

// A holder killed with SIGKILL leaves no stale lock: the kernel releases
// it with the process.
func TestKilledHolderReleasesTheLock(t *testing.T) {
	if os.Getenv("DIRLOCK_HOLD") != "" {
		if _, err := TryLock(os.Getenv("DIRLOCK_HOLD"), Holder{Command: "holder"}); err != nil {
			os.Exit(3)
		}
		os.Stdout.WriteString("held\n")
		select {}
	}
	path := filepath.Join(t.TempDir(), "worker.lock")
	cmd := exec.Command(os.Args[0], "-test.run=^TestKilledHolderReleasesTheLock$")
	cmd.Env = append(os.Environ(), "DIRLOCK_HOLD="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	buf := make([]byte, 5)
	if _, err := out.Read(buf); err != nil || string(buf) != "held\n" {
		t.Fatalf("the holder did not take the lock: %q %v", buf, err)
	}
	_, err = TryLock(path, Holder{})
	var he *HeldError
	if !errors.As(err, &he) || he.Holder.PID != cmd.Process.Pid {
		t.Fatalf("while the holder lives: %v, want held by pid %d", err, cmd.Process.Pid)
	}
	cmd.Process.Kill()
	cmd.Wait()
	l, err := TryLock(path, Holder{})
	if err != nil {
		t.Fatalf("after SIGKILL: %v", err)
	}
	l.Unlock()
}

func TestWaitTakesTheLockWhenReleasedAndStopsWithItsContext(t *testing.T) {
	path := filepath.Join(t.TempDir(), "worker.lock")
	l, err := TryLock(path, Holder{Command: "first"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Wait(ctx, path, Holder{}, time.Millisecond, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait with a cancelled context: %v", err)
	}
	told := make(chan *HeldError, 1)
	got := make(chan error, 1)
	go func() {
		l2, err := Wait(context.Background(), path, Holder{Command: "second"}, time.Millisecond, func(he *HeldError) { told <- he })
		if err == nil {
			err = l2.Unlock()
		}
		got <- err
	}()
	if he := <-told; he.Holder.Command != "first" {
		t.Errorf("told %+v", he.Holder)
	}
	l.Unlock()
	if err := <-got; err != nil {
		t.Fatal(err)
	}
}
