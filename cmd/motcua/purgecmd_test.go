package main

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/motcua/motcua/agent/store"
	"github.com/motcua/motcua/sync/portalapi"
)

// A file the officer finished (the tracking page says who) is purged by `motcua purge` once its
// retention window is over (0 days here): --dry-run lists it and keeps it;
// purge erases its form and scan, keeps it in the queue and in the counts,
// and audit verify still holds.
func TestPurgeCommandErasesAClosedFile(t *testing.T) {
	portalURL, portalDir := startPortal(t)
	data := t.TempDir()
	dir := t.TempDir()
	cfg := writeFile(t, dir, "config.toml", "[retention]\ndays = 0\n")
	form := writeFile(t, dir, "f.json", cli(t, data, "", "procedures", "example", "1.001193").stdout)
	page := writeFile(t, dir, "scan.jpg", "\xff\xd8\xff\xe0"+strings.Repeat("PURGE-ME-SCAN ", 2000))
	open := writeFile(t, dir, "f2.json", cli(t, data, "", "procedures", "example", "1.001193").stdout)
	for _, f := range []string{form, open} {
		if r := cli(t, data, "", "submit", "--procedure", "1.001193", "--form", f, "--attach", page); r.code != 0 {
			t.Fatal(r.stderr)
		}
	}
	if r := cli(t, data, "", "sync", "--once", "--portal", portalURL); r.code != 0 {
		t.Fatalf("sync: %+v", r)
	}
	var rows []queueRow
	mustJSON(t, cli(t, data, "", "queue", "--json").stdout, &rows)
	if r := cli(t, portalDir, "", "portal", "advance", rows[0].FileCode, "done", "--data-dir", portalDir,
		"--officer", "Nguyễn Văn Cán", "--office", "UBND xã Yên Thường"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	// The citizen's tracking page, as the receipt's QR code links it, says
	// who closed the file.
	var filed []struct {
		DeviceID       string `json:"device_id"`
		IdempotencyKey string `json:"idempotency_key"`
		FileCode       string `json:"file_code"`
	}
	mustJSON(t, cli(t, portalDir, "", "portal", "list", "--json", "--data-dir", portalDir).stdout, &filed)
	var track string
	for _, f := range filed {
		if f.FileCode == rows[0].FileCode {
			track = portalURL + portalapi.TrackPath(f.DeviceID, f.IdempotencyKey)
		}
	}
	resp, err := http.Get(track)
	if err != nil {
		t.Fatal(err)
	}
	html, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(html), "Handled by</span>: Nguyễn Văn Cán, UBND xã Yên Thường") {
		t.Errorf("the tracking page does not say who finished the file:\n%s", html)
	}
	if r := cli(t, data, "", "sync", "--once", "--portal", portalURL); r.code != 0 {
		t.Fatal(r.stderr)
	}
	dry := cli(t, data, "", "purge", "--dry-run", "--config", cfg)
	if dry.code != 0 || !strings.Contains(dry.stdout, "Would purge the personal data of 1 application(s)") {
		t.Fatalf("purge --dry-run: %+v", dry)
	}
	if r := cli(t, data, "", "show", "1"); !strings.Contains(r.stdout, "child_full_name") {
		t.Fatalf("--dry-run purged the form: %s", r.stdout)
	}
	r := cli(t, data, "", "purge", "--config", cfg)
	if r.code != 0 || !strings.Contains(r.stdout, "Purged application 1 (birth-registration, done") ||
		!strings.Contains(r.stdout, "Purged the personal data of 1 application(s)") {
		t.Fatalf("purge: %+v", r)
	}
	var shown struct {
		Form     json.RawMessage `json:"form"`
		PurgedAt string          `json:"purged_at"`
		History  []historyEntry  `json:"history"`
	}
	mustJSON(t, cli(t, data, "", "show", "1").stdout, &shown)
	if string(shown.Form) != "{}" || shown.PurgedAt == "" || shown.History[len(shown.History)-1].Kind != store.KindPurge {
		t.Errorf("show after the purge: form %s, purged_at %q, history %+v", shown.Form, shown.PurgedAt, shown.History)
	}
	if r := cli(t, data, "", "show", "2"); !strings.Contains(r.stdout, "child_full_name") {
		t.Errorf("the file still open lost its form: %s", r.stdout)
	}
	mustJSON(t, cli(t, data, "", "queue", "--json").stdout, &rows)
	if len(rows) != 2 || rows[0].State != "done" {
		t.Errorf("queue after the purge: %+v; want both applications, the first done", rows)
	}
	if r := cli(t, data, "", "audit", "verify"); r.code != 0 {
		t.Errorf("audit verify after the purge: %+v", r)
	}
	if r := cli(t, data, "", "purge", "--config", cfg); r.code != 0 || !strings.Contains(r.stdout, "of 0 application(s)") {
		t.Errorf("a second purge: %+v", r)
	}
}

// `motcua run` makes the retention pass when it starts: a file the officer
// finished is purged without anyone running `motcua purge`.
func TestRunPurgesAtStart(t *testing.T) {
	portalURL, portalDir := startPortal(t)
	data := t.TempDir()
	dir := t.TempDir()
	cfg := writeFile(t, dir, "config.toml", "devices = \"sim\"\n[retention]\ndays = 0\n")
	form := writeFile(t, dir, "f.json", cli(t, data, "", "procedures", "example", "1.001193").stdout)
	if r := cli(t, data, "", "submit", "--procedure", "1.001193", "--form", form); r.code != 0 {
		t.Fatal(r.stderr)
	}
	if r := cli(t, data, "", "sync", "--once", "--portal", portalURL); r.code != 0 {
		t.Fatalf("sync: %+v", r)
	}
	var rows []queueRow
	mustJSON(t, cli(t, data, "", "queue", "--json").stdout, &rows)
	if r := cli(t, portalDir, "", "portal", "advance", rows[0].FileCode, "rejected", "--data-dir", portalDir); r.code != 0 {
		t.Fatal(r.stderr)
	}
	if r := cli(t, data, "", "sync", "--once", "--portal", portalURL); r.code != 0 {
		t.Fatal(r.stderr)
	}
	a := startAgent(t, data, "--config", cfg, "--portal", portalURL)
	a.waitLog(t, "retention: personal data purged", "applications=1", "days=0")
	a.stop(t)
	var shown struct {
		Form     json.RawMessage `json:"form"`
		PurgedAt string          `json:"purged_at"`
	}
	mustJSON(t, cli(t, data, "", "show", "1").stdout, &shown)
	if string(shown.Form) != "{}" || shown.PurgedAt == "" {
		t.Errorf("show after run: form %s, purged_at %q", shown.Form, shown.PurgedAt)
	}
}
