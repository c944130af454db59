package pgtest

import (
	"errors"
	"os"
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
