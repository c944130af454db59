package main

import (
	"context"
	"encoding/json"
	"fmt"
	"image/png"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/motcua/motcua/devices/scanner/scantest"
	"github.com/motcua/motcua/sync/portalapi"
)

// portalInstance asks the portal at portalURL its instance id.
func portalInstance(t *testing.T, portalURL string) string {
	t.Helper()
	resp, err := http.Get(portalURL + portalapi.PathHealth)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var h portalapi.Health
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil || h.Instance == "" {
		t.Fatalf("portal health: %v %+v", err, h)
	}
	return h.Instance
}

// receiptPortal reads, by OCR, the portal instance a receipt PNG names
// ("Cổng / Portal: abcd1234"), or "" when it names none. Letters OCR
// mistakes for digits in a hex id are read as the digits.
func receiptPortal(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	text, err := scantest.OCR(context.Background(), img, "vie+eng", 203)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`Portal\s*:\s*(\S+)`).FindStringSubmatch(text)
	if m == nil {
		return ""
	}
	return strings.NewReplacer("o", "0", "O", "0", "l", "1", "I", "1", "|", "1").Replace(m[1])
}

// A receipt names the portal instance that issued its file code, so that
// after a portal is restored from nothing (and issues ...-0001 again) a
// code on an old receipt can be told from the same code on a new one; and
// `motcua queue` lists the old file codes an application had at a portal
// that no longer has it, not only its history.
func TestReceiptAndQueueNameThePortalThatIssuedTheCode(t *testing.T) {
	portalURL, stop := runPortal(t, "127.0.0.1:0", t.TempDir())
	first := portalInstance(t, portalURL)
	u, _ := url.Parse(portalURL)
	data, dir := t.TempDir(), t.TempDir()
	form := writeFile(t, dir, "f.json", cli(t, data, "", "procedures", "example", "1.001193").stdout)
	var sub submitResult
	mustJSON(t, cli(t, data, "", "submit", "--procedure", "1.001193", "--form", form).stdout, &sub)
	png := filepath.Join(dir, "r.png")
	if r := cli(t, data, "", "receipt", fmt.Sprint(sub.ID), "--png", png); r.code != 0 {
		t.Fatal(r.stderr)
	}
	if got := receiptPortal(t, png); got != "" {
		t.Errorf("a receipt without a file code names portal %q", got)
	}
	if r := cli(t, data, "", "sync", "--once", "--portal", portalURL); r.code != 0 {
		t.Fatalf("sync: %s%s", r.stdout, r.stderr)
	}
	var before []queueRow
	mustJSON(t, cli(t, data, "", "queue", "--json").stdout, &before)
	if r := cli(t, data, "", "receipt", fmt.Sprint(sub.ID), "--png", png); r.code != 0 {
		t.Fatal(r.stderr)
	}
	if got, want := receiptPortal(t, png), first[2:10]; got != want {
		t.Errorf("receipt names portal %q, want %q (%s)", got, want, first)
	}
	if strings.Contains(cli(t, data, "", "queue").stdout, "OLD FILE CODE") {
		t.Error("queue lists old file codes before any portal lost them")
	}

	stop()
	again, _ := runPortal(t, u.Host, t.TempDir())
	second := portalInstance(t, again)
	if r := cli(t, data, "", "sync", "--once", "--portal", again); r.code != 0 {
		t.Fatalf("sync after the reset: %s%s", r.stdout, r.stderr)
	}
	if r := cli(t, data, "", "receipt", fmt.Sprint(sub.ID), "--png", png); r.code != 0 {
		t.Fatal(r.stderr)
	}
	if got, want := receiptPortal(t, png), second[2:10]; got != want {
		t.Errorf("receipt after the reset names portal %q, want %q (%s)", got, want, second)
	}
	var after []queueRow
	mustJSON(t, cli(t, data, "", "queue", "--json").stdout, &after)
	if len(after) != 1 || len(after[0].OldFileCodes) != 1 {
		t.Fatalf("queue --json after the reset: %+v", after)
	}
	old := after[0].OldFileCodes[0]
	if old.FileCode != before[0].FileCode || old.PortalInstance != first || old.State != "received" {
		t.Errorf("old file code %+v, want %s from %s", old, before[0].FileCode, first)
	}
	if after[0].PortalInstance != second {
		t.Errorf("queue --json: portal %q, want %q", after[0].PortalInstance, second)
	}
	text := cli(t, data, "", "queue").stdout
	if !regexp.MustCompile(`(?m)^` + fmt.Sprint(sub.ID) + `\s+` + regexp.QuoteMeta(before[0].FileCode) + `\s+` + first[2:10] + `\s+received\s`).MatchString(text) {
		t.Errorf("queue does not list the old file code %s of portal %s:\n%s", before[0].FileCode, first[2:10], text)
	}
}
