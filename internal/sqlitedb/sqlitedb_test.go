package sqlitedb

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
)

func TestMigrationsApplyOnceInOrder(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "a", "t.db")
	v1 := fstest.MapFS{"0001_init.sql": {Data: []byte("CREATE TABLE t (x INTEGER);")}}
	db, err := Open(ctx, path, v1, nil)
	if err != nil {
		t.Fatal(err)
	}
	db.Exec("INSERT INTO t VALUES (1)")
	db.Close()
	v2 := fstest.MapFS{
		"0001_init.sql": {Data: []byte("CREATE TABLE t (x INTEGER);")},
		"0002_more.sql": {Data: []byte("ALTER TABLE t ADD COLUMN y TEXT NOT NULL DEFAULT 'a';")},
	}
	db, err = Open(ctx, path, v2, nil)
	if err != nil {
		t.Fatal(err)
	}
	var x int
	var y string
	var version int
	db.QueryRow("SELECT x, y FROM t").Scan(&x, &y)
	db.QueryRow("PRAGMA user_version").Scan(&version)
	db.Close()
	if x != 1 || y != "a" || version != 2 {
		t.Fatalf("after migrating: x=%d y=%q version=%d", x, y, version)
	}
	if _, err := Open(ctx, path, v1, nil); !errors.Is(err, ErrSchemaTooNew) {
		t.Fatalf("opening with older migrations: %v, want ErrSchemaTooNew", err)
	}
}

func TestBadMigrations(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		fs   fstest.MapFS
		want string
	}{
		{"gap", fstest.MapFS{"0001_a.sql": {Data: []byte("SELECT 1;")}, "0003_c.sql": {Data: []byte("SELECT 1;")}}, "without gaps"},
		{"unnumbered", fstest.MapFS{"init.sql": {Data: []byte("SELECT 1;")}}, "must start with its number"},
		{"failing SQL", fstest.MapFS{"0001_a.sql": {Data: []byte("CREATE TABLE (;")}}, "0001_a.sql"},
	}
	for _, tt := range tests {
		_, err := Open(ctx, filepath.Join(t.TempDir(), "t.db"), tt.fs, nil)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: Open = %v, want an error mentioning %q", tt.name, err, tt.want)
		}
	}
}

// A failed migration leaves the schema where it was: its statements and the
// version bump are one transaction.
func TestFailedMigrationIsRolledBack(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "t.db")
	bad := fstest.MapFS{"0001_a.sql": {Data: []byte("CREATE TABLE a (x); CREATE TABLE a (x);")}}
	if _, err := Open(ctx, path, bad, nil); err == nil {
		t.Fatal("a failing migration was accepted")
	}
	good := fstest.MapFS{"0001_a.sql": {Data: []byte("CREATE TABLE a (x);")}}
	db, err := Open(ctx, path, good, nil)
	if err != nil {
		t.Fatalf("the failed migration left a half-made schema: %v", err)
	}
	db.Close()
}
