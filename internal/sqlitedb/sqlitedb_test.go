package sqlitedb

import (
	"context"
	"errors"
	"os"
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

// OpenReadOnly writes nothing: a missing database is not created, and a
// write through it is refused; its schema must be the program's.
func TestOpenReadOnly(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "t.db")
	v1 := fstest.MapFS{"0001_init.sql": {Data: []byte("CREATE TABLE t (x INTEGER);")}}
	v2 := fstest.MapFS{
		"0001_init.sql": {Data: []byte("CREATE TABLE t (x INTEGER);")},
		"0002_more.sql": {Data: []byte("CREATE TABLE u (y INTEGER);")},
	}
	db, err := OpenReadOnly(ctx, path, v1, nil)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.QueryRow("SELECT count(*) FROM t").Scan(&n); err != nil || n != 0 {
		t.Errorf("a missing database reads as %d rows (%v), want an empty one", n, err)
	}
	db.Close()
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("OpenReadOnly created %s", entries[0].Name())
	}

	db, err = Open(ctx, path, v1, nil)
	if err != nil {
		t.Fatal(err)
	}
	db.Exec("INSERT INTO t VALUES (1)")
	db.Close()
	db, err = OpenReadOnly(ctx, path, v1, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow("SELECT count(*) FROM t").Scan(&n); err != nil || n != 1 {
		t.Errorf("read %d rows (%v), want 1", n, err)
	}
	if _, err := db.Exec("INSERT INTO t VALUES (2)"); err == nil {
		t.Error("a write through a read-only connection was accepted")
	}
	db.Close()
	if _, err := OpenReadOnly(ctx, path, v2, nil); !errors.Is(err, ErrSchemaTooOld) {
		t.Errorf("older schema: %v, want ErrSchemaTooOld", err)
	}
	db, _ = Open(ctx, path, v2, nil)
	db.Close()
	if _, err := OpenReadOnly(ctx, path, v1, nil); !errors.Is(err, ErrSchemaTooNew) {
		t.Errorf("newer schema: %v, want ErrSchemaTooNew", err)
	}
}

// OpenChecked refuses a database that fails quick_check, with SQLite's
// finding, and migrates nothing into it.
func TestOpenCheckedRefusesADamagedDatabase(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "t.db")
	v1 := fstest.MapFS{"0001_init.sql": {Data: []byte("CREATE TABLE a (x INTEGER); CREATE TABLE b (y INTEGER);")}}
	db, err := OpenChecked(ctx, path, v1, nil)
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	for _, q := range []string{"INSERT INTO a VALUES (1)", "PRAGMA writable_schema = ON",
		"UPDATE sqlite_master SET rootpage = (SELECT rootpage FROM sqlite_master WHERE name = 'a') WHERE name = 'b'",
		"PRAGMA writable_schema = OFF"} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()
	v2 := fstest.MapFS{
		"0001_init.sql": v1["0001_init.sql"],
		"0002_more.sql": {Data: []byte("CREATE TABLE c (z INTEGER);")},
	}
	if _, err := OpenChecked(ctx, path, v2, nil); !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), "2nd reference to page") {
		t.Fatalf("OpenChecked of a damaged database: %v, want ErrDamaged naming the page", err)
	}
	db, err = OpenReadOnly(ctx, path, v1, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var version int
	if db.QueryRow("PRAGMA user_version").Scan(&version); version != 1 {
		t.Errorf("the damaged database was migrated to %d", version)
	}
}

// Several openers of a new database at once (each its own connections, as
// separate processes have) apply each migration once: the version is read
// again under the write lock.
func TestConcurrentOpensMigrateOnce(t *testing.T) {
	ctx := context.Background()
	ms := fstest.MapFS{
		"0001_a.sql": {Data: []byte("CREATE TABLE a (x INTEGER);")},
		"0002_b.sql": {Data: []byte("CREATE TABLE b (y INTEGER);")},
	}
	for round := 0; round < 20; round++ {
		path := filepath.Join(t.TempDir(), "t.db")
		errs := make(chan error, 8)
		for i := 0; i < 8; i++ {
			go func() {
				db, err := Open(ctx, path, ms, nil)
				if err == nil {
					db.Close()
				}
				errs <- err
			}()
		}
		for i := 0; i < 8; i++ {
			if err := <-errs; err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
		}
	}
}
