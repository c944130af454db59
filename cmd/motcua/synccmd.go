package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/motcua/motcua/sync/uplink"
)

// cmdSync delivers the outbox to a portal: once, or until stopped.
func cmdSync(ctx context.Context, e *env, args []string) int {
	fs, setup := e.flags("sync", "[--once] --portal URL [--insecure]", slog.LevelInfo)
	portalURL := fs.String("portal", os.Getenv("MOTCUA_PORTAL"), "the portal's base URL ($MOTCUA_PORTAL)")
	insecure := fs.Bool("insecure", false, "allow plain http to a host other than this machine")
	budget := fs.String("daily-budget", "", "cap the upload bytes per day on a metered link, e.g. 50MB")
	once := fs.Bool("once", false, "deliver what can be delivered, then exit: 0 when the queue is empty")
	timeout := fs.Duration("timeout", 10*time.Minute, "with --once: give up after this long")
	if rc := e.parseNoArgs(fs, setup, args); rc >= 0 {
		return rc
	}
	var dailyBudget int64
	if *budget != "" {
		n, err := uplink.ParseSize(*budget)
		if err != nil {
			fmt.Fprintf(e.stderr, "motcua sync: --daily-budget: %v\n", err)
			return exitUsage
		}
		dailyBudget = n
	}
	if *portalURL == "" {
		fmt.Fprintln(e.stderr, "motcua sync: --portal URL is required (or set MOTCUA_PORTAL)")
		return exitUsage
	}
	if _, err := uplink.CheckPortalURL(*portalURL, *insecure); err != nil {
		fmt.Fprintf(e.stderr, "motcua sync: %v\n", err)
		return exitUsage
	}
	st, err := e.openStore(ctx)
	if err != nil {
		return e.fail("%v", err)
	}
	defer st.Close()
	host, _ := os.Hostname()
	w, err := uplink.New(uplink.Config{Portal: *portalURL, Insecure: *insecure, Store: st, Logger: e.log, DeviceName: host,
		DailyBudget: dailyBudget})
	if err != nil {
		return e.fail("%v", err)
	}
	if !*once {
		w.Run(ctx, 15*time.Second)
		return exitOK
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	sum, err := w.Once(ctx)
	e.printJSON(sum)
	if err != nil || sum.Remaining > 0 {
		return e.fail("%d application(s) not delivered: %s", sum.Remaining, sum.LastError)
	}
	return exitOK
}
