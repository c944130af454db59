package portal

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/motcua/motcua/internal/pgtest"
)

// TestMain runs the package's tests on the back ends the run asks for:
// with MOTCUA_TEST_PORTAL_DB=postgres, every Open without a DatabaseURL
// gets a database of its own on one throwaway PostgreSQL server (the same
// one again for the same DataDir, so a test that reopens a portal finds its
// records), and the whole suite runs on PostgreSQL; unset, on SQLite.
func TestMain(m *testing.M) {
	signAsKiosks()
	os.Exit(runWithBackends(m))
}

func runWithBackends(m *testing.M) int {
	// The tests of shared PostgreSQL records (postgres_test.go) start the
	// server in any run, when the machine has it.
	defer pgtest.StopShared()
	defer stopS3Uploads()
	switch db := os.Getenv(pgtest.Env); db {
	case "", "sqlite":
	case "postgres":
		srv, err := pgtest.Shared()
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s=postgres, but PostgreSQL does not start: %v\n", pgtest.Env, err)
			return 1
		}
		setDatabase = postgresDatabases(srv)
		testServer = srv
	default:
		fmt.Fprintf(os.Stderr, "%s=%q: want postgres, sqlite or nothing\n", pgtest.Env, db)
		return 2
	}
	// The uploads' part (backend_s3_test.go) was set by its init.
	uploads := testBackend
	testBackend = func(cfg *Config) {
		if setDatabase != nil {
			setDatabase(cfg)
		}
		if uploads != nil {
			uploads(cfg)
		}
	}
	return m.Run()
}

// setDatabase, when the run asks for PostgreSQL, gives a Config without a
// DatabaseURL that of its DataDir's database, on testServer.
var (
	setDatabase func(*Config)
	testServer  *pgtest.Server
)

// postgresDatabases gives each DataDir a database of its own on srv, made
// on its first Open.
func postgresDatabases(srv *pgtest.Server) func(*Config) {
	var mu sync.Mutex
	dbs := map[string]string{}
	return func(cfg *Config) {
		if cfg.DatabaseURL != "" {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		dir := filepath.Clean(cfg.DataDir)
		if url, ok := dbs[dir]; ok {
			cfg.DatabaseURL = url
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		url, err := srv.NewDatabase(ctx)
		if err != nil {
			// Open fails, naming why.
			cfg.DatabaseURL = "postgres://pgtest.invalid/?failed=" + err.Error()
			return
		}
		dbs[dir] = url
		cfg.DatabaseURL = url
	}
}

// onPostgres reports whether this run keeps the records in PostgreSQL.
func onPostgres() bool { return setDatabase != nil }

// skipOnPostgres skips a test that is about SQLite itself (its file, its
// migrations), saying why.
func skipOnPostgres(t *testing.T, why string) {
	t.Helper()
	if onPostgres() {
		t.Skipf("about SQLite, not run on PostgreSQL: %s", why)
	}
}
