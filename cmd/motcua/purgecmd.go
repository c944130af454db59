package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/motcua/motcua/agent/retention"
)

const purgeSynopsis = "[--dry-run] [--config FILE]"

// cmdPurge purges the personal data of the files the portal closed more
// than [retention] days ago, or with --dry-run lists them and purges
// nothing. `motcua run` makes the same pass once a day.
func cmdPurge(ctx context.Context, e *env, args []string) int {
	fs, setup := e.flags("purge", purgeSynopsis, slog.LevelWarn)
	cfgPath := addConfigFlag(fs)
	dry := fs.Bool("dry-run", false, "list what would be purged, and purge nothing")
	if rc := e.parseNoArgs(fs, setup, args); rc >= 0 {
		return rc
	}
	cfg, _, ok := e.loadConfig(*cfgPath)
	if !ok {
		return exitFail
	}
	open := e.openStore
	if *dry {
		open = e.readStore
	}
	st, err := open(ctx)
	if err != nil {
		return e.fail("%v", err)
	}
	defer st.Close()
	p := &retention.Purger{Store: st, Days: cfg.Retention.Days, Now: e.now, Actor: "cli", Logger: e.log}
	list, err := p.Due(ctx)
	if !*dry && err == nil {
		list, err = p.Pass(ctx)
	}
	if err != nil {
		return e.fail("%v", err)
	}
	verb := "Purged"
	if *dry {
		verb = "Would purge"
	}
	var bytes int64
	for _, a := range list {
		fmt.Fprintf(e.stdout, "%s application %d (%s, %s on %s): %d personal data parts, %d bytes\n", verb,
			a.ID, a.ProcedureID, a.State, a.Closed.Local().Format("2006-01-02"), a.Parts, a.Bytes)
		bytes += a.Bytes
	}
	fmt.Fprintf(e.stdout, "%s the personal data of %d application(s), %d bytes, closed on or before %s (retention %d days).\n",
		verb, len(list), bytes, p.Cutoff().Local().Format("2006-01-02 15:04"), cfg.Retention.Days)
	return exitOK
}
