//go:build load

package main

import (
	"context"
	"fmt"

	"github.com/motcua/motcua/internal/pgtest"
)

// startPostgres starts a PostgreSQL server in dir for the portals'
// records, allowing maxConns connections, and returns it with the URL of
// a new database on it. Unlike internal/pgtest's throwaway servers (no
// fsync), it keeps PostgreSQL's durable defaults (fsync,
// synchronous_commit, full page writes), as a province's server would:
// SQLite's numbers are measured with synchronous=FULL, so the two are
// compared on equal terms. The cluster and its log stay in dir.
func startPostgres(ctx context.Context, dir string, maxConns int) (*pgtest.Server, string, error) {
	srv, err := pgtest.StartWith(ctx, pgtest.Options{Dir: dir, Durable: true, MaxConns: maxConns, SharedBuffers: "256MB"})
	if err != nil {
		return nil, "", fmt.Errorf("postgres: %w", err)
	}
	url, err := srv.NewDatabase(ctx)
	if err != nil {
		srv.Stop()
		return nil, "", fmt.Errorf("postgres: %w", err)
	}
	return srv, url, nil
}
