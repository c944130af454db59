package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// cmdSync delivers the outbox to a portal: once, or until stopped.
func cmdSync(ctx context.Context, e *env, args []string) int {
	fs, setup := e.flags("sync", "[--once] --portal URL [--insecure]", slog.LevelInfo)
	up := addUplinkFlags(fs, "the portal's base URL ($MOTCUA_PORTAL)")
	once := fs.Bool("once", false, "deliver what can be delivered, then exit: 0 when the queue is empty")
	timeout := fs.Duration("timeout", 10*time.Minute, "with --once: give up after this long")
	if rc := e.parseNoArgs(fs, setup, args); rc >= 0 {
		return rc
	}
	if *up.portal == "" {
		fmt.Fprintln(e.stderr, "motcua sync: --portal URL is required (or set MOTCUA_PORTAL)")
		return exitUsage
	}
	if !up.check(e, "sync") {
		return exitUsage
	}
	st, err := e.openStore(ctx)
	if err != nil {
		return e.fail("%v", err)
	}
	defer st.Close()
	w, err := up.worker(e, st)
	if err != nil {
		return e.fail("%v", err)
	}
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
	if err != nil || sum.Remaining > 0 {
		return e.fail("%d application(s) not delivered: %s", sum.Remaining, sum.LastError)
	}
	return exitOK
}
