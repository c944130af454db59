package sqlitedb

import (
	"context"
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/mattn/go-sqlite3"

	"github.com/motcua/motcua/agent/i18n"
	"github.com/motcua/motcua/internal/writable"
)

// SQLITE_FULL (here from a page limit, as a full disk gives it) is told in
// both languages with the data directory and its free space; the SQLite
// error stays in the chain.
func TestExplainDiskFull(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "t.db")
	db, err := Open(ctx, path, fstest.MapFS{"0001_init.sql": {Data: []byte("CREATE TABLE t (b BLOB);")}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var pages int
	if err := conn.QueryRowContext(ctx, "PRAGMA page_count").Scan(&pages); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, "PRAGMA max_page_count = "+strconv.Itoa(pages)); err != nil {
		t.Fatal(err)
	}
	_, err = conn.ExecContext(ctx, "INSERT INTO t VALUES (zeroblob(1000000))")
	var se sqlite3.Error
	if !errors.As(err, &se) || se.Code != sqlite3.ErrFull {
		t.Fatalf("insert past max_page_count: %v, want SQLITE_FULL", err)
	}
	x := Explain(err, path)
	var ie *i18n.Error
	if !errors.Is(x, writable.ErrDiskFull) || !errors.As(x, &ie) || !errors.As(x, &se) {
		t.Fatalf("Explain = %v (%T), want a disk-full *i18n.Error wrapping the SQLite error", x, x)
	}
	if !strings.Contains(ie.Msg.EN, "The disk is full: "+dir+" cannot be written (") || !strings.Contains(ie.Msg.EN, " free)") ||
		!strings.Contains(ie.Msg.VI, "Ổ đĩa đầy: không ghi được vào "+dir+" (còn trống ") {
		t.Errorf("message %q / %q", ie.Msg.EN, ie.Msg.VI)
	}
}

// Errors whose cause is neither the disk nor the files' permissions are
// left as they are.
func TestExplainLeavesOtherErrors(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "t.db")
	db, err := Open(ctx, path, fstest.MapFS{"0001_init.sql": {Data: []byte("CREATE TABLE t (x INTEGER PRIMARY KEY);")}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.Exec("INSERT INTO t VALUES (1)")
	_, unique := db.Exec("INSERT INTO t VALUES (1)")
	_, syntax := db.Exec("SELEKT 1")
	for _, err := range []error{unique, syntax, errors.New("other"), nil} {
		if x := Explain(err, path); x != err {
			t.Errorf("Explain(%v) = %v, want it unchanged", err, x)
		}
	}
}
