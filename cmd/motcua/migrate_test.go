package main

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// On a fresh data directory, 8 `motcua submit` processes at once failed 6
// times in 400 with "table applications already exists": each read the
// schema version, found 0, and ran the first migration. Every one of them
// must now store its application.
func TestConcurrentFirstSubmitsMigrateOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns many processes")
	}
	const rounds, procs = 20, 8
	form := writeFile(t, t.TempDir(), "f.json", cli(t, t.TempDir(), "", "procedures", "example", "1.001193").stdout)
	failed := 0
	for round := 0; round < rounds; round++ {
		data := t.TempDir()
		cmds := make([]*exec.Cmd, procs)
		outs := make([]*bytes.Buffer, procs)
		for i := range cmds {
			cmd := exec.Command(motcua, "submit", "--procedure", "1.001193", "--form", form)
			cmd.Env = append(os.Environ(), "LANG=C.UTF-8", "MOTCUA_DATA_DIR="+data, "MOTCUA_CONFIG=", "MOTCUA_PORTAL=")
			outs[i] = &bytes.Buffer{}
			cmd.Stdout, cmd.Stderr = outs[i], outs[i]
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			cmds[i] = cmd
		}
		stored := 0
		for i, cmd := range cmds {
			if err := cmd.Wait(); err == nil {
				stored++
			} else {
				failed++
				if failed <= 3 {
					t.Errorf("round %d, submit %d: %v: %s", round, i, err, strings.TrimSpace(outs[i].String()))
				}
			}
		}
		var rows []queueRow
		if r := cli(t, data, "", "queue", "--json"); r.code == 0 {
			mustJSON(t, r.stdout, &rows)
		}
		if len(rows) != stored {
			t.Errorf("round %d: %d applications in the queue, but %d submits succeeded", round, len(rows), stored)
		}
	}
	if failed > 0 {
		t.Errorf("%d of %d concurrent first submits failed", failed, rounds*procs)
	}
}
