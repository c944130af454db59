package main

import (
	"context"
	"fmt"
	"log/slog"
)

func cmdAudit(ctx context.Context, e *env, args []string) int {
	fs, setup := e.flags("audit", "verify", slog.LevelWarn)
	pos, rc := e.parse(fs, setup, args)
	if rc >= 0 {
		return rc
	}
	if len(pos) != 1 || pos[0] != "verify" {
		fmt.Fprintln(e.stderr, "motcua audit: usage: motcua audit verify")
		return exitUsage
	}
	st, err := e.readStore(ctx)
	if err != nil {
		return e.fail("%v", err)
	}
	defer st.Close()
	if err := st.IntegrityCheck(ctx); err != nil {
		return e.fail("database: %v", err)
	}
	n, err := st.VerifyAudit(ctx)
	if err != nil {
		return e.fail("audit log NOT intact after %d good events: %v", n, err)
	}
	fmt.Fprintf(e.stdout, "audit log intact: %d events, database integrity ok\n", n)
	return exitOK
}
