package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/motcua/motcua/internal/dirlock"
)

// deliveryLockFile is the lock file, in the data directory, of the one
// process that delivers its outbox: two workers would each put the other's
// "sending" applications back in the queue and send them again. Capturing
// (submit) needs no lock: only delivery is exclusive.
const deliveryLockFile = "delivery.lock"

// lockDelivery takes the data directory's delivery lock for command
// without waiting; a *dirlock.HeldError names the process that holds it.
func (e *env) lockDelivery(command string) (*dirlock.Lock, error) {
	return dirlock.TryLock(filepath.Join(e.dataDir, deliveryLockFile), e.deliveryHolder(command))
}

// waitDelivery waits for the delivery lock until ctx ends, polling every
// second.
func (e *env) waitDelivery(ctx context.Context, command string) (*dirlock.Lock, error) {
	return dirlock.Wait(ctx, filepath.Join(e.dataDir, deliveryLockFile), e.deliveryHolder(command), time.Second, nil)
}

func (e *env) deliveryHolder(command string) dirlock.Holder {
	return dirlock.Holder{PID: os.Getpid(), Command: command, Since: time.Now()}
}

// deliveryHeld says, in English and Vietnamese, that another process
// delivers this data directory's outbox, and which.
func deliveryHeld(he *dirlock.HeldError) string {
	pid := "?"
	if he.Holder.PID != 0 {
		pid = fmt.Sprint(he.Holder.PID)
	}
	return fmt.Sprintf("another motcua process delivers this data directory's outbox: %s (lock file %s); only one may deliver at a time.\n"+
		"Một tiến trình motcua khác (pid %s) đang gửi hồ sơ của thư mục dữ liệu này; mỗi lúc chỉ một tiến trình được gửi.", he.Holder, he.Path, pid)
}

// cmdSync delivers the outbox to a portal: once, or until stopped.
func cmdSync(ctx context.Context, e *env, args []string) int {
	fs, setup := e.flags("sync", "[--once] --portal URL [--insecure]", slog.LevelInfo)
	up := addUplinkFlags(fs, "the portal's base URL ($MOTCUA_PORTAL)")
	once := fs.Bool("once", false, "deliver what can be delivered, then exit: 0 when the queue is empty")
	timeout := fs.Duration("timeout", 10*time.Minute, "with --once: give up after this long")
	if rc := e.parseNoArgs(fs, setup, args); rc >= 0 {
		return rc
	}
	if !up.check(e, "sync") {
		return exitUsage
	}
	st, err := e.openStore(ctx)
	if err != nil {
		return e.fail("%v", err)
	}
	defer st.Close()
	// A kiosk enrolled with motcua enroll delivers to that portal.
	up.enrolledPortal(ctx, st)
	if *up.portal == "" {
		fmt.Fprintln(e.stderr, "motcua sync: --portal URL is required (or set MOTCUA_PORTAL, or enroll with motcua enroll)")
		return exitUsage
	}
	w, err := up.worker(e, st)
	if err != nil {
		return e.fail("%v", err)
	}
	lock, err := e.lockDelivery("motcua sync")
	var held *dirlock.HeldError
	if errors.As(err, &held) && !*once {
		fmt.Fprintln(e.stderr, "motcua sync: "+deliveryHeld(held)+"\nWaiting for it to stop.")
		lock, err = e.waitDelivery(ctx, "motcua sync")
		if ctx.Err() != nil {
			return exitOK
		}
	}
	if errors.As(err, &held) {
		return e.fail("%s", strings.Replace(deliveryHeld(held), ".\n", "; stop it, or let it deliver.\n", 1))
	}
	if err != nil {
		return e.fail("delivery lock: %v", err)
	}
	defer lock.Unlock()
	if !*once {
		w.Run(ctx, 15*time.Second)
		return exitOK
	}
	stop := ctx
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	sum, err := w.Once(ctx)
	e.printJSON(sum)
	if stop.Err() != nil {
		return e.fail("sync interrupted (%v): %d application(s) not delivered stay queued", context.Cause(stop), sum.Remaining)
	}
	if err != nil {
		// err, not its text, so that a full disk is told in both languages.
		return e.fail("%d application(s) not delivered: %v", sum.Remaining, err)
	}
	if sum.Remaining > 0 {
		return e.fail("%d application(s) not delivered: %s", sum.Remaining, sum.LastError)
	}
	return exitOK
}
