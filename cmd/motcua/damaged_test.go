package main

import (
	"bytes"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/motcua/motcua/agent/store"
)

// damage makes the database at path fail its integrity check the way a
// torn or misdirected write does: two tables claim the same page. Reads
// and appends to the applications still work, so nothing stops a writer
// but the check.
func damage(t *testing.T, path string) {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	for _, q := range []string{
		"PRAGMA writable_schema = ON",
		`UPDATE sqlite_master SET rootpage = (SELECT rootpage FROM sqlite_master WHERE name = 'audit_events')
			WHERE name = 'delivery_holds'`,
		"PRAGMA writable_schema = OFF",
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// submit kept writing into a database that failed its integrity check. It
// must refuse, say why in both languages and point at doctor, and leave
// the file as it was.
func TestSubmitRefusesADamagedDatabase(t *testing.T) {
	data := t.TempDir()
	form := writeFile(t, t.TempDir(), "f.json", cli(t, data, "", "procedures", "example", "1.001193").stdout)
	for i := 0; i < 3; i++ {
		if r := cli(t, data, "", "submit", "--procedure", "1.001193", "--form", form); r.code != 0 {
			t.Fatal(r.stderr)
		}
	}
	path := filepath.Join(data, store.FileName)
	damage(t, path)
	if r := cli(t, data, "", "audit", "verify"); r.code != exitFail || !strings.Contains(r.stderr, "integrity check failed") {
		t.Fatalf("the damage does not fail the integrity check: %+v", r)
	}
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	r := cli(t, data, "", "submit", "--procedure", "1.001193", "--form", form)
	if r.code != exitFail || r.stdout != "" || !strings.Contains(r.stderr, "fails its integrity check: 2nd reference to page") ||
		!strings.Contains(r.stderr, "motcua doctor") || !strings.Contains(r.stderr, "Không") {
		t.Errorf("submit into a damaged database: exit %d, stdout %q, stderr %q; want a refusal naming the reason and doctor, in both languages",
			r.code, r.stdout, r.stderr)
	}
	after, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(before, after) {
		t.Errorf("submit changed the damaged database (%v)", err)
	}
	if _, err := os.Stat(path + "-wal"); err == nil {
		t.Errorf("submit left a WAL behind on the damaged database")
	}
}
