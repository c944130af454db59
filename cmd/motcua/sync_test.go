package main

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"strings"
	"testing"
)

// startPortal runs `motcua portal` with args on a free loopback port and
// returns its URL and data directory; it is stopped when the test ends.
func startPortal(t *testing.T, args ...string) (string, string) {
	t.Helper()
	dir := t.TempDir()
	u, _ := runPortal(t, "127.0.0.1:0", dir, args...)
	return u, dir
}

// A kiosk and a portal on one machine, driven as the README says: submit,
// sync, the officer finishes the file, sync again.
func TestSubmitSyncAdvanceSync(t *testing.T) {
	portalURL, portalDir := startPortal(t)
	data := t.TempDir()
	dir := t.TempDir()
	form := writeFile(t, dir, "f.json", cli(t, data, "", "procedures", "example", "1.001193").stdout)
	scan := strings.Repeat("trang scan ", 20000)
	page := writeFile(t, dir, "scan.jpg", "\xff\xd8\xff\xe0"+scan)
	if r := cli(t, data, "", "submit", "--procedure", "1.001193", "--form", form, "--attach", page); r.code != 0 {
		t.Fatal(r.stderr)
	}
	if r := cli(t, data, "", "sync", "--once", "--portal", portalURL); r.code != 0 {
		t.Fatalf("sync: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	var rows []queueRow
	mustJSON(t, cli(t, data, "", "queue", "--json").stdout, &rows)
	if len(rows) != 1 || rows[0].State != "received" || rows[0].FileCode == "" {
		t.Fatalf("after sync: %+v", rows)
	}
	var subs []struct {
		FileCode       string `json:"file_code"`
		IdempotencyKey string `json:"idempotency_key"`
		Attachments    []struct {
			SHA256Received string `json:"sha256_received"`
		} `json:"attachments"`
		AuditHead *struct {
			Seq  int64  `json:"seq"`
			Hash string `json:"hash"`
		} `json:"audit_head"`
	}
	mustJSON(t, cli(t, portalDir, "", "portal", "list", "--json", "--data-dir", portalDir).stdout, &subs)
	b, _ := os.ReadFile(page)
	sum := sha256.Sum256(b)
	if len(subs) != 1 || subs[0].FileCode != rows[0].FileCode || subs[0].IdempotencyKey != rows[0].IdempotencyKey ||
		len(subs[0].Attachments) != 1 || subs[0].Attachments[0].SHA256Received != hex.EncodeToString(sum[:]) {
		t.Fatalf("portal list: %+v", subs)
	}
	if h := subs[0].AuditHead; h == nil || h.Seq < 1 || len(h.Hash) != 64 {
		t.Errorf("portal list shows audit head %+v; want the kiosk's chain head as it sent the application", h)
	}
	if r := cli(t, portalDir, "", "portal", "advance", rows[0].FileCode, "done", "--note", "Mời nhận kết quả", "--data-dir", portalDir); r.code != 0 {
		t.Fatal(r.stderr)
	}
	if r := cli(t, portalDir, "", "portal", "advance", rows[0].FileCode, "in_review", "--data-dir", portalDir); r.code != exitFail {
		t.Errorf("done -> in_review was allowed: %+v", r)
	}
	if r := cli(t, data, "", "sync", "--once", "--portal", portalURL); r.code != 0 {
		t.Fatal(r.stderr)
	}
	mustJSON(t, cli(t, data, "", "queue", "--json").stdout, &rows)
	if rows[0].State != "done" {
		t.Fatalf("after the officer finished: %+v", rows[0])
	}
	if r := cli(t, data, "", "audit", "verify"); r.code != 0 {
		t.Fatal(r.stderr)
	}
}

func TestSyncRefusesBadPortalURLs(t *testing.T) {
	data := t.TempDir()
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"sync", "--once"}, "--portal URL is required"},
		{[]string{"sync", "--once", "--portal", "ftp://portal.example.vn"}, "only http and https"},
		{[]string{"sync", "--once", "--portal", "http://portal.example.vn"}, "unencrypted"},
		{[]string{"sync", "--once", "--portal", "portal.example.vn"}, "not an absolute URL"},
	}
	for _, tt := range tests {
		r := cli(t, data, "", tt.args...)
		if r.code != exitUsage || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("%v: exit %d %q, want exit 2 mentioning %q", tt.args, r.code, r.stderr, tt.want)
		}
	}
}

// With the portal unreachable, sync --once gives up after its timeout,
// exits non-zero with a summary, and leaves the application queued.
func TestSyncOnceFailsWithSummaryWhenPortalIsDown(t *testing.T) {
	data := t.TempDir()
	form := writeFile(t, t.TempDir(), "f.json", cli(t, data, "", "procedures", "example", "1.001193").stdout)
	cli(t, data, "", "submit", "--procedure", "1.001193", "--form", form)
	r := cli(t, data, "", "sync", "--once", "--timeout", "3s", "--portal", "http://127.0.0.1:1")
	if r.code != exitFail || !strings.Contains(r.stdout, `"remaining": 1`) || !strings.Contains(r.stderr, "not delivered") {
		t.Fatalf("sync to a dead portal: %+v", r)
	}
	var rows []queueRow
	mustJSON(t, cli(t, data, "", "queue", "--json").stdout, &rows)
	if rows[0].State != "queued" {
		t.Fatalf("state %s after a failed sync", rows[0].State)
	}
}
