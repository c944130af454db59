package pgdb_test

import (
	"context"
	"errors"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/motcua/motcua/internal/pgdb"
	"github.com/motcua/motcua/internal/pgtest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	pgtest.StopShared()
	os.Exit(code)
}

func TestRebind(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`SELECT 1`, `SELECT 1`},
		{`SELECT a FROM t WHERE b = ? AND c = ?`, `SELECT a FROM t WHERE b = $1 AND c = $2`},
		{`INSERT INTO t VALUES (?, '?', ?)`, `INSERT INTO t VALUES ($1, '?', $2)`},
		{`SELECT "a?" FROM t WHERE x = ?`, `SELECT "a?" FROM t WHERE x = $1`},
		{"SELECT ? -- why?\n, ?", "SELECT $1 -- why?\n, $2"},
		{`SELECT /* ? */ ?`, `SELECT /* ? */ $1`},
		{`SELECT 'it''s?', ?`, `SELECT 'it''s?', $1`},
		{`SELECT 'open ?`, `SELECT 'open ?`},
	} {
		if got := pgdb.Rebind(tc.in); got != tc.want {
			t.Errorf("Rebind(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// A URL that is not a postgres:// URL, or that pgx cannot parse, is refused
// before any connection, with ErrBadURL and no password in the message.
func TestOpenBadURL(t *testing.T) {
	for _, url := range []string{
		"portal.db",
		"mysql://u:secret@host/db",
		"postgres://u:secret@host:notaport/db",
		"postgres://u:secret@host/db?pool_max_conns=none",
		"postgres://u@host/db?password=secret&pool_max_conns=0",
	} {
		_, err := pgdb.Open(context.Background(), url, fstest.MapFS{}, nil)
		if !errors.Is(err, pgdb.ErrBadURL) {
			t.Errorf("Open(%q) = %v, want ErrBadURL", url, err)
			continue
		}
		if strings.Contains(err.Error(), "secret") {
			t.Errorf("Open(%q): the error shows the password: %v", url, err)
		}
	}
}

func TestRedact(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"postgres://u:secret@host:5432/db", "postgres://u:xxxxx@host:5432/db"},
		{"postgres://u@host/db?sslmode=disable&password=secret", "postgres://u@host/db?sslmode=disable&password=xxxxx"},
		{"postgres://host/db", "postgres://host/db"},
		{"postgres://u:p@ss@host:bad/db", "postgres://u:xxxxx@host:bad/db"},
	} {
		if got := pgdb.Redact(tc.in); got != tc.want {
			t.Errorf("Redact(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// A server that is not there gives ErrUnreachable naming where it was
// looked for.
func TestOpenUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	url := "postgres://motcua:secret@" + addr + "/portal?sslmode=disable&connect_timeout=2"
	_, err = pgdb.Open(context.Background(), url, fstest.MapFS{}, nil)
	if !errors.Is(err, pgdb.ErrUnreachable) || !strings.Contains(err.Error(), addr) || strings.Contains(err.Error(), "secret") {
		t.Fatalf("Open on a closed port = %v, want ErrUnreachable naming %s without the password", err, addr)
	}
}

// A database that does not exist on a running server is unreachable too,
// and the server's own reason is in the message.
func TestOpenNoSuchDatabase(t *testing.T) {
	s, err := pgtest.Shared()
	if errors.Is(err, pgtest.ErrNoPostgres) && !pgtest.Wanted() {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	_, err = pgdb.Open(context.Background(), s.DatabaseURL("nosuchdb"), fstest.MapFS{}, nil)
	if !errors.Is(err, pgdb.ErrUnreachable) || !strings.Contains(err.Error(), `database "nosuchdb" does not exist`) {
		t.Fatalf("Open of a missing database = %v", err)
	}
}

var testMigrations = fstest.MapFS{
	"0001_init.sql":  {Data: []byte("CREATE TABLE t (id BIGINT PRIMARY KEY, v TEXT NOT NULL);")},
	"0002_more.sql":  {Data: []byte("ALTER TABLE t ADD COLUMN w TEXT NOT NULL DEFAULT '';\nINSERT INTO t (id, v) VALUES (1, 'once');")},
	"0003_index.sql": {Data: []byte("CREATE INDEX t_by_v ON t (v);")},
}

// Three processes opening a new database at once apply each migration
// once: the second migration's insert would fail a second time.
func TestMigrationsThreeOpensAtOnce(t *testing.T) {
	url := pgtest.New(t)
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i := range errs {
		wg.Go(func() {
			db, err := pgdb.Open(context.Background(), url, testMigrations, nil)
			if err == nil {
				db.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
	}
	db, err := pgdb.Open(context.Background(), url, testMigrations, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var rows, version int
	db.QueryRow(`SELECT count(*) FROM t`).Scan(&rows)
	db.QueryRow(`SELECT max(version) FROM schema_migrations`).Scan(&version)
	if rows != 1 || version != 3 {
		t.Fatalf("after three opens: %d rows, schema %d; want 1 row, schema 3", rows, version)
	}
	// Placeholders are rebound; a duplicate key is a unique violation.
	if _, err := db.Exec(`INSERT INTO t (id, v) VALUES (?, ?)`, 2, "two?"); err != nil {
		t.Fatal(err)
	}
	_, err = db.Exec(`INSERT INTO t (id, v) VALUES (?, ?)`, 2, "again")
	if !pgdb.IsUniqueViolation(err) {
		t.Fatalf("duplicate insert = %v, want a unique violation", err)
	}
	if !pgdb.IsPostgres(db) {
		t.Error("IsPostgres = false")
	}
}

// A database written by a newer program is refused.
func TestOpenSchemaTooNew(t *testing.T) {
	url := pgtest.New(t)
	db, err := pgdb.Open(context.Background(), url, testMigrations, nil)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	older := fstest.MapFS{"0001_init.sql": testMigrations["0001_init.sql"]}
	if _, err := pgdb.Open(context.Background(), url, older, nil); !errors.Is(err, pgdb.ErrSchemaTooNew) {
		t.Fatalf("open with fewer migrations = %v, want ErrSchemaTooNew", err)
	}
}

// WithLock runs one holder at a time across connections (as across
// processes), and a holder that fails releases the lock.
func TestWithLockExcludes(t *testing.T) {
	db, _ := pgtest.Open(t)
	ctx := context.Background()
	entered := make(chan struct{})
	release := make(chan struct{})
	first := make(chan error, 1)
	go func() {
		first <- pgdb.WithLock(ctx, db, "test", func() error {
			close(entered)
			<-release
			return errors.New("first fails")
		})
	}()
	<-entered
	second := make(chan error, 1)
	inSecond := false
	go func() {
		second <- pgdb.WithLock(ctx, db, "test", func() error { inSecond = true; return nil })
	}()
	// The second waits for the advisory lock the first holds.
	for {
		var waiting int
		if err := db.QueryRow(`SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
			AND wait_event_type = 'Lock' AND wait_event = 'advisory'`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting == 1 {
			break
		}
		select {
		case err := <-second:
			t.Fatalf("the second holder ran while the first held the lock: %v", err)
		default:
		}
		time.Sleep(time.Millisecond) // polls a condition; nothing is timed
	}
	close(release)
	if err := <-first; err == nil || err.Error() != "first fails" {
		t.Fatalf("first = %v", err)
	}
	if err := <-second; err != nil || !inSecond {
		t.Fatalf("second = %v, ran %v", err, inSecond)
	}
}
