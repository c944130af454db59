package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"

	"github.com/motcua/motcua/internal/pgdb"
	"github.com/motcua/motcua/sync/portal"
)

const keysSynopsis = "rotate [--data] [--portal [--db postgres://...]]"

// cmdKeys manages the keys that seal personal data at rest: `keys rotate`
// makes a new key-encryption key and wraps the data keys under it (the
// records are untouched, so it is fast); with --data it also makes a new
// data key and seals every record again under it, in one transaction.
// --portal does the same for a reference portal's data directory.
func cmdKeys(ctx context.Context, e *env, args []string) int {
	fs, setup := e.flags("keys", keysSynopsis, slog.LevelWarn)
	data := fs.Bool("data", false, "also make a new data key and seal every record again under it")
	forPortal := fs.Bool("portal", false, "rotate the reference portal's keys (its data directory, default "+defaultPortalDir()+")")
	dbURL := fs.String("db", "", "with --portal: the portal's records are in PostgreSQL at this URL (as `motcua portal --db`); the key files stay in its data directory")
	dataDirSet := false
	pos, rc := e.parse(fs, setup, args)
	if rc >= 0 {
		return rc
	}
	fs.Visit(func(f *flag.Flag) { dataDirSet = dataDirSet || f.Name == "data-dir" })
	if len(pos) != 1 || pos[0] != "rotate" {
		fmt.Fprintln(e.stderr, "motcua keys: usage: motcua keys "+keysSynopsis)
		return exitUsage
	}
	if *dbURL != "" && (!*forPortal || !pgdb.IsURL(*dbURL)) {
		fmt.Fprintf(e.stderr, "motcua keys: --db %q goes with --portal and is a postgres:// URL\n", pgdb.Redact(*dbURL))
		return exitUsage
	}
	if *forPortal {
		dir := e.dataDir
		if !dataDirSet {
			dir = defaultPortalDir()
		}
		p, err := portal.Open(ctx, portal.Config{DataDir: dir, DatabaseURL: *dbURL, Logger: e.log})
		if err != nil {
			return e.fail("%v", err)
		}
		defer p.Close()
		id, err := p.RotateKEK(ctx)
		if err != nil {
			return e.fail("%v", err)
		}
		fmt.Fprintf(e.stdout, "New key-encryption key %s wraps the portal's data keys.\n", id)
		if *data {
			v, n, err := p.RotateDataKey(ctx)
			if err != nil {
				return e.fail("%v", err)
			}
			fmt.Fprintf(e.stdout, "Data key %d seals the portal's %d records and uploads again.\n", v, n)
		}
		return exitOK
	}
	st, err := e.openStore(ctx)
	if err != nil {
		return e.fail("%v", err)
	}
	defer st.Close()
	id, err := st.RotateKEK(ctx)
	if err != nil {
		return e.fail("%v", err)
	}
	fmt.Fprintf(e.stdout, "New key-encryption key %s wraps the data keys.\n", id)
	if *data {
		v, n, err := st.RotateDataKey(ctx)
		if err != nil {
			return e.fail("%v", err)
		}
		fmt.Fprintf(e.stdout, "Data key %d seals the %d records again.\n", v, n)
	}
	return exitOK
}
