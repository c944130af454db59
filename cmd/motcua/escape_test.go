package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/motcua/motcua/agent/application"
	"github.com/motcua/motcua/agent/store"
)

// forged is text that, printed raw, clears the screen, forges a row and
// reverses what follows.
const forged = "\x1b[2J\x1b[H\rOK\n000.00.01.H29-261123-9999\tdone\u202e\u009b"

// assertEscaped fails when out carries a control character or the forged
// row, or has other than lines rows.
func assertEscaped(t *testing.T, what, out string, lines int) {
	t.Helper()
	for _, c := range []string{"\x1b", "\r", "\u202e", "\u009b"} {
		if strings.Contains(out, c) {
			t.Errorf("%s prints the control character %q raw:\n%q", what, c, out)
		}
	}
	if n := strings.Count(out, "\n"); n != lines {
		t.Errorf("%s prints %d lines, want %d (a forged row):\n%s", what, n, lines, out)
	}
	if !strings.Contains(out, `\x1b[2J`) {
		t.Errorf("%s does not show the escaped text:\n%s", what, out)
	}
}

// An officer's note with control characters cannot clear the screen or
// forge rows of `motcua portal list`.
func TestPortalListEscapesControlCharacters(t *testing.T) {
	portalURL, portalDir := startPortal(t)
	data, dir := t.TempDir(), t.TempDir()
	form := writeFile(t, dir, "f.json", cli(t, data, "", "procedures", "example", "1.001193").stdout)
	var sub submitResult
	mustJSON(t, cli(t, data, "", "submit", "--procedure", "1.001193", "--form", form).stdout, &sub)
	if r := cli(t, data, "", "sync", "--once", "--portal", portalURL); r.code != 0 {
		t.Fatalf("sync: %s%s", r.stdout, r.stderr)
	}
	var subs []struct {
		FileCode string `json:"file_code"`
	}
	mustJSON(t, cli(t, "", "", "portal", "--data-dir", portalDir, "list", "--json").stdout, &subs)
	if len(subs) != 1 {
		t.Fatalf("portal list: %+v", subs)
	}
	if r := cli(t, "", "", "portal", "--data-dir", portalDir, "--note", forged, "advance", subs[0].FileCode, "needs_more"); r.code != 0 {
		t.Fatalf("advance: %s", r.stderr)
	}
	r := cli(t, "", "", "portal", "--data-dir", portalDir, "list")
	assertEscaped(t, "portal list", r.stdout, 2)
}

// A delivery error or procedure with control characters cannot clear the
// screen or forge rows of `motcua queue`.
func TestQueueEscapesControlCharacters(t *testing.T) {
	data := t.TempDir()
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(data, store.FileName), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	a, err := st.Create(ctx, store.NewApplication{ProcedureID: "birth-registration", ProcedureCode: "1.001193" + forged,
		CatalogVersion: "2026.11.1", Form: json.RawMessage(`{}`)}, application.Queued)
	if err == nil {
		err = st.Transition(ctx, a.ID, application.Sending, store.Change{Actor: "test"})
	}
	if err == nil {
		err = st.Transition(ctx, a.ID, application.Queued, store.Change{Actor: "test", LastError: forged})
	}
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	r := cli(t, data, "", "queue")
	assertEscaped(t, "queue", r.stdout, 2)
}
