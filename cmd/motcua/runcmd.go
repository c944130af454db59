package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/motcua/motcua/agent/application"
	"github.com/motcua/motcua/agent/procedure"
	"github.com/motcua/motcua/agent/store"
)

// cmdRun starts the agent. Until the kiosk UI and the uplink land it runs
// headless: it opens the database, reports what is queued, and waits.
func cmdRun(ctx context.Context, e *env, args []string) int {
	fs, setup := e.flags("run", "", slog.LevelInfo)
	if rc := e.parseNoArgs(fs, setup, args); rc >= 0 {
		return rc
	}
	cat, err := procedure.Embedded()
	if err != nil {
		return e.fail("procedure catalog: %v", err)
	}
	st, err := e.openStore(ctx)
	if err != nil {
		return e.fail("%v", err)
	}
	defer st.Close()
	if err := st.IntegrityCheck(ctx); err != nil {
		return e.fail("database: %v", err)
	}
	queued, err := st.List(ctx, store.ListOptions{States: []application.State{application.Queued, application.Sending}})
	if err != nil {
		return e.fail("%v", err)
	}
	fmt.Fprintln(e.stdout, "motcua agent running HEADLESS: the kiosk window is not built yet (see the README).")
	fmt.Fprintf(e.stdout, "Data directory: %s\nCatalog %s: %d procedures. Waiting for delivery: %d application(s).\n",
		e.dataDir, cat.Version, len(cat.Procedures), len(queued))
	fmt.Fprintln(e.stdout, "Capture applications with 'motcua submit'; press Ctrl-C to stop.")
	e.log.Info("agent started", "data_dir", e.dataDir, "catalog", cat.Version, "queued", len(queued))
	<-ctx.Done()
	e.log.Info("agent stopped")
	return exitOK
}
