package main

import (
	"net"
	"strings"
	"testing"

	"github.com/motcua/motcua/internal/pgtest"
)

// --db that is not a PostgreSQL URL is a usage error naming the flag;
// a server that does not answer is an error naming where it was looked
// for, without the password; --db on keys goes with --portal.
func TestPortalDBFlagErrorsSayWhatIsWrong(t *testing.T) {
	if r := cli(t, t.TempDir(), "", "portal", "--db", "portal.db", "devices"); r.code != exitUsage ||
		!strings.Contains(r.stderr, "--db") || !strings.Contains(r.stderr, "postgres://") {
		t.Errorf("portal --db portal.db: exit %d, stderr %q", r.code, r.stderr)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	url := "postgres://motcua:secret@" + closed + "/portal?connect_timeout=2"
	r := cli(t, t.TempDir(), "", "portal", "--db", url, "devices")
	if r.code == 0 || !strings.Contains(r.stderr, "cannot connect to the PostgreSQL server") || !strings.Contains(r.stderr, closed) ||
		strings.Contains(r.stderr, "secret") {
		t.Errorf("portal --db to a closed port: exit %d, stderr %q", r.code, r.stderr)
	}
	if r := cli(t, t.TempDir(), "", "keys", "rotate", "--db", url); r.code != exitUsage || !strings.Contains(r.stderr, "--portal") {
		t.Errorf("keys rotate --db without --portal: exit %d, stderr %q", r.code, r.stderr)
	}
}

// A kiosk delivers to `motcua portal --db postgres://...`, and the portal's
// other commands given the same --db see the file: the records are in
// PostgreSQL, not in the data directory.
func TestPortalRecordsInPostgres(t *testing.T) {
	db := pgtest.New(t)
	keys := t.TempDir()
	portalURL, _ := runPortal(t, "127.0.0.1:0", keys, "--db", db)
	data := t.TempDir()
	dir := t.TempDir()
	form := writeFile(t, dir, "f.json", cli(t, data, "", "procedures", "example", "1.001193").stdout)
	if r := cli(t, data, "", "submit", "--procedure", "1.001193", "--form", form); r.code != 0 {
		t.Fatal(r.stderr)
	}
	if r := cli(t, data, "", "sync", "--once", "--portal", portalURL); r.code != 0 {
		t.Fatalf("sync: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	var subs []struct {
		FileCode string `json:"file_code"`
	}
	mustJSON(t, cli(t, keys, "", "portal", "list", "--json", "--data-dir", keys, "--db", db).stdout, &subs)
	if len(subs) != 1 || subs[0].FileCode == "" {
		t.Fatalf("portal list --db: %+v", subs)
	}
	// Another data directory has no records of its own: without --db it
	// lists nothing.
	if r := cli(t, keys, "", "portal", "list", "--json", "--data-dir", t.TempDir()); strings.TrimSpace(r.stdout) != "[]" {
		t.Fatalf("portal list without --db: %q %q", r.stdout, r.stderr)
	}
	if r := cli(t, keys, "", "portal", "advance", subs[0].FileCode, "done", "--data-dir", keys, "--db", db); r.code != 0 {
		t.Fatalf("advance --db: %d %s", r.code, r.stderr)
	}
	if r := cli(t, keys, "", "keys", "rotate", "--portal", "--data", "--data-dir", keys, "--db", db); r.code != 0 ||
		!strings.Contains(r.stdout, "Data key 2 seals the portal's 1 records") {
		t.Fatalf("keys rotate --portal --db: %d %q %q", r.code, r.stdout, r.stderr)
	}
}
