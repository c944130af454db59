package main

import (
	"database/sql"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/motcua/motcua/agent/store"
)

// The same ID number submitted three times within the hour with the real
// binary raises an alert: an audit event that names no ID number, and a
// warning line in `motcua doctor`.
func TestSameIDSubmittedAgainRaisesAlertInAuditAndDoctor(t *testing.T) {
	data := t.TempDir()
	example := cli(t, data, "", "procedures", "example", "1.001193").stdout
	form := writeFile(t, t.TempDir(), "f.json", example)
	if line, _ := doctorLine(t, cli(t, data, "", "doctor", "--devices", "sim").stdout, "alerts"); !strings.HasPrefix(line, "OK   alerts: no early-warning alert") {
		t.Fatalf("doctor before any submission: %s", line)
	}
	for i := range 3 {
		if r := cli(t, data, "", "submit", "--procedure", "1.001193", "--form", form); r.code != 0 {
			t.Fatalf("submit %d: %+v", i+1, r)
		}
		if i == 1 {
			line, _ := doctorLine(t, cli(t, data, "", "doctor", "--devices", "sim").stdout, "alerts")
			if !strings.HasPrefix(line, "OK   alerts:") {
				t.Fatalf("doctor after two submissions: %s", line)
			}
		}
	}
	out := cli(t, data, "", "doctor", "--devices", "sim").stdout
	line, hint := doctorLine(t, out, "alerts")
	if !strings.HasPrefix(line, "WARN alerts: ") || !strings.Contains(line, "was submitted 3 times in 60 minutes") || len(hint) != 2 {
		t.Fatalf("doctor after three submissions with the same ID numbers:\n%s", out)
	}
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(data, store.FileName)+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	var details string
	if err := db.QueryRow(`SELECT count(*), group_concat(detail, ' ') FROM audit_events WHERE kind = 'alert' AND actor = 'cli'`).Scan(&n, &details); err != nil || n == 0 {
		t.Fatalf("alert audit events: %d, %v", n, err)
	}
	ids := regexp.MustCompile(`"(\d{12})"`).FindAllStringSubmatch(example, -1)
	if len(ids) == 0 {
		t.Fatalf("the example holds no ID number:\n%s", example)
	}
	for _, m := range ids {
		if id := m[1]; strings.Contains(details, id) || strings.Contains(out, id) {
			t.Errorf("ID number %s is in the alert's audit event or doctor's line", id)
		}
	}
	if !strings.Contains(details, `"alert":"same_id"`) {
		t.Errorf("alert audit events: %s", details)
	}
	if r := cli(t, data, "", "audit", "verify"); r.code != 0 {
		t.Errorf("audit verify: %+v", r)
	}
}

// A flood of submissions from one kiosk, at the configured threshold,
// shows in doctor too.
func TestSubmissionFloodRaisesAlertInDoctor(t *testing.T) {
	data := t.TempDir()
	dir := t.TempDir()
	cfg := writeFile(t, dir, "config.toml", "[alerts]\nsame_id_count = 100\nkiosk_flood_count = 2\nkiosk_flood_minutes = 5\n")
	form := writeFile(t, dir, "f.json", cli(t, data, "", "procedures", "example", "1.001193").stdout)
	for range 2 {
		if r := cli(t, data, "", "submit", "--config", cfg, "--procedure", "1.001193", "--form", form); r.code != 0 {
			t.Fatalf("submit: %+v", r)
		}
	}
	line, _ := doctorLine(t, cli(t, data, "", "doctor", "--config", cfg, "--devices", "sim").stdout, "alerts")
	if !strings.HasPrefix(line, "WARN alerts: 1 early-warning alert(s)") || !strings.Contains(line, "kiosk cli took 2 submissions in 5 minutes") {
		t.Fatalf("doctor after a flood: %s", line)
	}
}

// quietAlerts returns a configuration file whose early-warning thresholds
// the tests' repeated example submissions never reach, for tests that
// count audit events: every submit then writes exactly three.
func quietAlerts(t *testing.T) string {
	t.Helper()
	return writeFile(t, t.TempDir(), "quiet.toml", "[alerts]\nsame_id_count = 100000\nkiosk_flood_count = 100000\n")
}
