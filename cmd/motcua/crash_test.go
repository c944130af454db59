package main

import (
	"bytes"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSubmitSurvivesSIGKILL starts `motcua submit` again and again and kills
// each one with SIGKILL after a random delay, often in the middle of its
// write. Every submit that printed its result must be stored, whole; the
// database and the audit chain must stay intact.
func TestSubmitSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns many processes")
	}
	data := t.TempDir()
	dir := t.TempDir()
	form := writeFile(t, dir, "f.json", cli(t, data, "", "procedures", "example", "1.001193").stdout)
	scan := make([]byte, 400<<10)
	for i := range scan {
		scan[i] = byte(rand.Uint32())
	}
	page := filepath.Join(dir, "scan.jpg")
	if err := os.WriteFile(page, append([]byte("\xff\xd8\xff\xe0"), scan...), 0o600); err != nil {
		t.Fatal(err)
	}
	// Time one whole submit, then kill the others anywhere from their start
	// to a little after the time a submit needs.
	start := time.Now()
	if r := cli(t, data, "", "submit", "--procedure", "1.001193", "--form", form, "--attach", page); r.code != 0 {
		t.Fatal(r.stderr)
	}
	full := time.Since(start)
	acked := map[int64]string{}
	killed := 0
	for i := 0; i < 40; i++ {
		cmd := exec.Command(motcua, "submit", "--procedure", "1.001193", "--form", form, "--attach", page)
		cmd.Env = append(os.Environ(), "LANG=C.UTF-8", "MOTCUA_DATA_DIR="+data)
		var out bytes.Buffer
		cmd.Stdout = &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(rand.Int64N(int64(full) * 3 / 2)))
		cmd.Process.Kill()
		cmd.Wait()
		if !cmd.ProcessState.Success() {
			killed++
		}
		if strings.Contains(out.String(), "idempotency_key") {
			var r submitResult
			mustJSON(t, out.String(), &r)
			acked[r.ID] = r.IdempotencyKey
		}
	}
	t.Logf("a submit takes %v; %d of 40 killed, %d acknowledged", full, killed, len(acked))
	if killed == 0 {
		t.Fatal("no submit was killed: the test did not test anything")
	}
	if len(acked) == 0 {
		t.Fatal("no submit finished: the test did not test anything")
	}
	if r := cli(t, data, "", "audit", "verify"); r.code != 0 {
		t.Fatalf("audit verify after kills: %+v", r)
	}
	var rows []queueRow
	mustJSON(t, cli(t, data, "", "queue", "--json").stdout, &rows)
	stored := map[int64]string{}
	for _, row := range rows {
		stored[row.ID] = row.IdempotencyKey
		if row.State != "queued" || row.Attachments != 1 || row.PayloadBytes != int64(len(scan)+4) {
			t.Errorf("half-written application: %+v", row)
		}
	}
	for id, key := range acked {
		if stored[id] != key {
			t.Errorf("acknowledged application %d (%s) is missing", id, key)
		}
	}
}
