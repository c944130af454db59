package main

import (
	"crypto/ed25519"
	"database/sql"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/motcua/motcua/agent/audit"
	"github.com/motcua/motcua/agent/store"
	"github.com/motcua/motcua/sync/uplink"
)

// sqlite3CLI runs statements on the database file with the sqlite3 shell,
// as someone holding the file would: outside motcua, triggers dropped.
func sqlite3CLI(t *testing.T, db, statements string) {
	t.Helper()
	if _, err := exec.LookPath("sqlite3"); err != nil {
		t.Skip("the sqlite3 shell is not installed")
	}
	out, err := exec.Command("sqlite3", db, statements).CombinedOutput()
	if err != nil {
		t.Fatalf("sqlite3 %q: %v\n%s", statements, err, out)
	}
}

// copyDir copies the regular files of src into a new temporary directory.
func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// auditEvents reads the whole audit log of the database at path.
func auditEvents(t *testing.T, path string) []audit.Event {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT seq, at, application_id, kind, from_state, to_state, actor, detail, prev_hash, hash
		FROM audit_events ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []audit.Event
	for rows.Next() {
		var e audit.Event
		var at string
		if err := rows.Scan(&e.Seq, &at, &e.ApplicationID, &e.Kind, &e.From, &e.To, &e.Actor, &e.Detail, &e.PrevHash, &e.Hash); err != nil {
			t.Fatal(err)
		}
		e.At, _ = time.Parse(audit.TimeFormat, at)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// rewriteSQL is the SQL that replaces the whole audit log by evs, each
// chained after the one before with a correct hash: what a forger who
// knows the hash function writes.
func rewriteSQL(evs []audit.Event) string {
	var b strings.Builder
	b.WriteString("DROP TRIGGER audit_events_no_delete; DELETE FROM audit_events;\n")
	prev := audit.Genesis
	for i := range evs {
		e := &evs[i]
		e.Seq = int64(i + 1)
		e.Chain(prev)
		prev = e.Hash
		fmt.Fprintf(&b, `INSERT INTO audit_events (seq, at, application_id, kind, from_state, to_state, actor, detail, prev_hash, hash)
			VALUES (%d, '%s', %d, '%s', '%s', '%s', '%s', '%s', X'%s', X'%s');`+"\n",
			e.Seq, e.At.UTC().Format(audit.TimeFormat), e.ApplicationID, e.Kind, e.From, e.To, e.Actor,
			strings.ReplaceAll(e.Detail, "'", "''"), hex.EncodeToString(e.PrevHash), hex.EncodeToString(e.Hash))
	}
	return b.String()
}

// Someone with the database file changes, deletes, inserts or reorders
// audit events directly with the sqlite3 shell, dropping the triggers that
// keep the table append-only, with or without recomputing the hashes:
// `motcua audit verify` says the log is not intact every time.
func TestAuditVerifyDetectsEditsMadeWithTheSQLiteShell(t *testing.T) {
	base := t.TempDir()
	form := writeFile(t, t.TempDir(), "f.json", cli(t, base, "", "procedures", "example", "1.001193").stdout)
	quiet := quietAlerts(t)
	for range 3 {
		if r := cli(t, base, "", "submit", "--config", quiet, "--procedure", "1.001193", "--form", form); r.code != 0 {
			t.Fatalf("submit: %+v", r)
		}
	}
	if r := cli(t, base, "", "audit", "verify"); r.code != 0 {
		t.Fatalf("audit verify before any tampering: %+v", r)
	}
	n := len(auditEvents(t, filepath.Join(base, store.FileName)))
	if n != 9 {
		t.Fatalf("%d audit events after three submits, want 9", n)
	}
	noUpdate := "DROP TRIGGER audit_events_no_update; "
	noDelete := "DROP TRIGGER audit_events_no_delete; "
	tests := []struct {
		name string
		sql  func(evs []audit.Event) string
	}{
		{"changed", func([]audit.Event) string {
			return noUpdate + "UPDATE audit_events SET actor = 'portal' WHERE seq = 5;"
		}},
		{"changed time", func([]audit.Event) string {
			return noUpdate + "UPDATE audit_events SET at = '2020-01-01T00:00:00Z' WHERE seq = 2;"
		}},
		{"deleted in the middle", func([]audit.Event) string { return noDelete + "DELETE FROM audit_events WHERE seq = 5;" }},
		{"deleted first", func([]audit.Event) string { return noDelete + "DELETE FROM audit_events WHERE seq = 1;" }},
		{"deleted last", func([]audit.Event) string { return noDelete + "DELETE FROM audit_events WHERE seq = 9;" }},
		{"inserted without a hash", func([]audit.Event) string {
			return noUpdate + `UPDATE audit_events SET seq = seq + 100 WHERE seq >= 5; UPDATE audit_events SET seq = seq - 99 WHERE seq > 100;
				INSERT INTO audit_events (seq, at, kind, actor, prev_hash, hash) VALUES (5, '2026-11-30T00:00:00Z', 'transition', 'cli', x'00', x'00');`
		}},
		{"reordered", func([]audit.Event) string {
			return noUpdate + `UPDATE audit_events SET seq = 100 WHERE seq = 4; UPDATE audit_events SET seq = 4 WHERE seq = 5;
				UPDATE audit_events SET seq = 5 WHERE seq = 100;`
		}},
		{"changed and rehashed", func(evs []audit.Event) string {
			evs[4].Actor = "portal"
			return rewriteSQL(evs)
		}},
		{"deleted and rehashed", func(evs []audit.Event) string { return rewriteSQL(append(evs[:4], evs[5:]...)) }},
		{"inserted and rehashed", func(evs []audit.Event) string {
			forged := evs[4]
			forged.Detail = "forged"
			return rewriteSQL(append(evs[:5], append([]audit.Event{forged}, evs[5:]...)...))
		}},
		{"reordered and rehashed", func(evs []audit.Event) string {
			evs[3], evs[4] = evs[4], evs[3]
			return rewriteSQL(evs)
		}},
		{"appended and rehashed", func(evs []audit.Event) string {
			forged := evs[len(evs)-1]
			forged.From, forged.To, forged.Actor, forged.Detail = "queued", "rejected", "portal", ""
			return rewriteSQL(append(evs, forged))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := copyDir(t, base)
			db := filepath.Join(data, store.FileName)
			sqlite3CLI(t, db, tt.sql(auditEvents(t, db)))
			r := cli(t, data, "", "audit", "verify")
			if r.code != exitFail || !strings.Contains(r.stderr, "audit log NOT intact") {
				t.Fatalf("audit verify after the log was %s: exit %d\nstdout %s\nstderr %s", tt.name, r.code, r.stdout, r.stderr)
			}
		})
	}
}

// `motcua audit export` writes a period of the log signed by the kiosk's
// key; `motcua audit check` accepts it as written, refuses it changed or
// under another key, and says when the log it came from was not intact.
func TestAuditExportIsSignedAndCheckable(t *testing.T) {
	data := t.TempDir()
	form := writeFile(t, t.TempDir(), "f.json", cli(t, data, "", "procedures", "example", "1.001193").stdout)
	for range 2 {
		if r := cli(t, data, "", "submit", "--procedure", "1.001193", "--form", form); r.code != 0 {
			t.Fatalf("submit: %+v", r)
		}
	}
	out := filepath.Join(t.TempDir(), "audit.json")
	today := time.Now().Format("2006-01-02")
	r := cli(t, data, "", "audit", "export", "--from", today, "--to", today, "--out", out)
	if r.code != 0 || !strings.Contains(r.stdout, "Wrote 6 audit events") {
		t.Fatalf("audit export: %+v", r)
	}
	key := regexp.MustCompile(`signed by key ([0-9a-f]{64})`).FindStringSubmatch(r.stdout)
	if key == nil {
		t.Fatalf("audit export names no key: %s", r.stdout)
	}
	// The export is signed with the device key the portal enrolls, so an
	// inspector can check it against the key the portal recorded.
	dev, err := uplink.LoadOrCreateDeviceKey(filepath.Join(data, uplink.DeviceKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if pub := hex.EncodeToString(dev.Public().(ed25519.PublicKey)); pub != key[1] {
		t.Errorf("export signed by %s, not the device key %s", key[1], pub)
	}
	if r := cli(t, data, "", "audit", "check", out, "--public-key", key[1]); r.code != 0 || !strings.Contains(r.stdout, "signature ok") ||
		!strings.Contains(r.stdout, "6 events") || !strings.Contains(r.stdout, "was intact with 6 events") {
		t.Fatalf("audit check: %+v", r)
	}
	yesterday := time.Now().AddDate(0, 0, -1).Format("2006-01-02")
	if r := cli(t, data, "", "audit", "export", "--from", yesterday, "--to", yesterday); r.code != 0 || !strings.Contains(r.stdout, `"events": []`) {
		t.Errorf("export of a day without events: %+v", r)
	}
	b, _ := os.ReadFile(out)
	changed := writeFile(t, t.TempDir(), "changed.json", strings.Replace(string(b), `"actor": "cli"`, `"actor": "portal"`, 1))
	if r := cli(t, data, "", "audit", "check", changed); r.code != exitFail || !strings.Contains(r.stderr, "signature does not match") {
		t.Errorf("audit check of a changed export: %+v", r)
	}
	other := strings.Repeat("ab", 32)
	if r := cli(t, data, "", "audit", "check", out, "--public-key", other); r.code != exitFail || !strings.Contains(r.stderr, "not the trusted key") {
		t.Errorf("audit check under another key: %+v", r)
	}
	if r := cli(t, data, "", "audit", "export", "--from", today, "--to", yesterday); r.code != exitUsage {
		t.Errorf("--to before --from: %+v", r)
	}
	sqlite3CLI(t, filepath.Join(data, store.FileName), "DROP TRIGGER audit_events_no_update; UPDATE audit_events SET actor = 'portal' WHERE seq = 2;")
	r = cli(t, data, "", "audit", "export", "--from", today, "--to", today, "--out", out)
	if r.code != 0 || !strings.Contains(r.stderr, "NOT intact") {
		t.Fatalf("export of a tampered log: %+v", r)
	}
	if r := cli(t, data, "", "audit", "check", out); r.code != exitFail || !strings.Contains(r.stderr, "event 2's hash does not match its content") {
		t.Errorf("check of the export of a tampered log: %+v", r)
	}
}
