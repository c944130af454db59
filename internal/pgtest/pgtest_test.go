package pgtest

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestMain(m *testing.M) {
	code := m.Run()
	StopShared()
	os.Exit(code)
}

// Each New is a database of its own on one shared server: what one test
// writes, another does not see.
func TestNewDatabasesAreFreshAndApart(t *testing.T) {
	a, urlA := Open(t)
	b, urlB := Open(t)
	if urlA == urlB {
		t.Fatalf("two databases at one URL %s", urlA)
	}
	if _, err := a.Exec(`CREATE TABLE t (v TEXT)`); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Exec(`INSERT INTO t VALUES (?)`, "a"); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := b.QueryRow(`SELECT count(*) FROM pg_tables WHERE tablename = 't'`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("the second database has %d tables t (%v), want 0", n, err)
	}
	s, err := Shared()
	if err != nil {
		t.Fatal(err)
	}
	if s.Host != "127.0.0.1" || s.Port == 0 {
		t.Fatalf("server at %s:%d, want a loopback port", s.Host, s.Port)
	}
}

// Stop removes the server's directory.
func TestStopRemovesTheServer(t *testing.T) {
	s, err := Start(t.Context())
	if errors.Is(err, ErrNoPostgres) && !Wanted() {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	dir := s.dir
	s.Stop()
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("%s after Stop: %v", dir, err)
	}
}

// A server started with Durable keeps fsync on and the other settings it
// was given (the load test measures PostgreSQL as a province runs it); a
// throwaway one goes without fsync. A directory the caller gave stays
// after Stop, with the server's log, for the caller to read.
func TestStartWithKeepsTheSettingsAndTheCallersDirectory(t *testing.T) {
	// Not t.TempDir(): its parent is closed to the user the server runs
	// as when the test runs as root.
	given, err := os.MkdirTemp("", "pgtest-given-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(given) })
	for _, tt := range []struct {
		name  string
		opts  Options
		fsync string
		conns string
	}{
		{"throwaway", Options{}, "off", "300"},
		{"durable, in the caller's directory", Options{Dir: given, Durable: true, MaxConns: 40}, "on", "40"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, err := StartWith(t.Context(), tt.opts)
			if errors.Is(err, ErrNoPostgres) && !Wanted() {
				t.Skip(err)
			}
			if err != nil {
				t.Fatal(err)
			}
			db, err := s.adminDB(t.Context())
			if err != nil {
				s.Stop()
				t.Fatal(err)
			}
			var fsync, conns string
			db.QueryRow(`SHOW fsync`).Scan(&fsync)
			db.QueryRow(`SHOW max_connections`).Scan(&conns)
			s.Stop()
			if fsync != tt.fsync || conns != tt.conns {
				t.Errorf("fsync %q, max_connections %q; want %q, %q", fsync, conns, tt.fsync, tt.conns)
			}
			if _, err := os.Stat(filepath.Join(s.dir, "postgres.log")); (err == nil) != (tt.opts.Dir != "") {
				t.Errorf("the server's log after Stop: %v; the caller gave the directory: %v", err, tt.opts.Dir != "")
			}
		})
	}
}
