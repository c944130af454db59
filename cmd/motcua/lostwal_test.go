package main

import (
	"bytes"
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/motcua/motcua/agent/store"
)

// walPageFrame is the size of one WAL frame for the store's 4096-byte pages:
// a 24-byte frame header and the page.
const walPageFrame = 24 + 4096

// walDataDir submits n applications with the real binary, keeping their
// commits in motcua.db-wal: a reader that the test holds open keeps the
// submits from checkpointing (a checkpoint cannot pass a reader's snapshot,
// and only the last connection checkpoints on close). It returns a copy of
// the data directory taken while the WAL is live, as a power cut or a crash
// leaves it, and the idempotency keys acknowledged, in order.
func walDataDir(t *testing.T, n int) (string, []string) {
	t.Helper()
	data := t.TempDir()
	form := writeFile(t, t.TempDir(), "f.json", cli(t, data, "", "procedures", "example", "1.001193").stdout)
	quiet := quietAlerts(t)
	submit := func() string {
		r := cli(t, data, "", "submit", "--config", quiet, "--procedure", "1.001193", "--form", form)
		if r.code != 0 {
			t.Fatalf("submit: %+v", r)
		}
		var res submitResult
		mustJSON(t, r.stdout, &res)
		return res.IdempotencyKey
	}
	keys := []string{submit()}
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(data, store.FileName)+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN"); err != nil {
		t.Fatal(err)
	}
	var count int
	if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM applications").Scan(&count); err != nil || count != 1 {
		t.Fatalf("reader sees %d applications (%v), want 1", count, err)
	}
	for len(keys) < n {
		keys = append(keys, submit())
	}
	wal, err := os.ReadFile(filepath.Join(data, store.FileName+"-wal"))
	if err != nil || len(wal) < 32+(n-1)*walPageFrame {
		t.Fatalf("the submits' commits are not in the WAL (%d bytes, %v): the test would test nothing", len(wal), err)
	}
	cp := t.TempDir()
	entries, err := os.ReadDir(data)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() || strings.HasSuffix(e.Name(), "-shm") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(data, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(cp, e.Name()), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	conn.ExecContext(ctx, "ROLLBACK")
	return cp, keys
}

// lostEvents matches the report of a lost audit tail.
var lostEvents = regexp.MustCompile(`(\d+) audit events lost after #(\d+); last known application key (\S+)`)

// A truncated or damaged motcua.db-wal lost 5, 10 and 7 of 10 acknowledged
// applications in three runs while doctor said OK and audit verify said
// intact: a missing tail leaves a shorter chain that still holds. The head
// anchored outside the database shows the loss, with its size and the last
// key known.
func TestLostWALTailIsReported(t *testing.T) {
	const n = 10
	tests := []struct {
		name   string
		damage func(wal []byte) []byte
	}{
		{"truncated to its header", func(wal []byte) []byte { return wal[:32] }},
		{"truncated in the middle", func(wal []byte) []byte { return wal[:32+(len(wal)-32)/walPageFrame/2*walPageFrame+100] }},
		{"a frame overwritten", func(wal []byte) []byte {
			off := 32 + (len(wal)-32)/walPageFrame/3*walPageFrame + 24 + 1000
			copy(wal[off:], bytes.Repeat([]byte{0xAA}, 64))
			return wal
		}},
	}
	cfg := writeFile(t, t.TempDir(), "c.toml", "devices = \"real\"\n")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, keys := walDataDir(t, n)
			walPath := filepath.Join(data, store.FileName+"-wal")
			wal, err := os.ReadFile(walPath)
			if err != nil {
				t.Fatal(err)
			}
			damaged := tt.damage(wal)
			if err := os.WriteFile(walPath, damaged, 0o600); err != nil {
				t.Fatal(err)
			}

			r := cli(t, data, "", "queue", "--json")
			var rows []queueRow
			mustJSON(t, r.stdout, &rows)
			lost := n - len(rows)
			if lost == 0 {
				t.Fatal("the damage lost no application: the test would test nothing")
			}
			t.Logf("%s: %d of %d acknowledged applications lost", tt.name, lost, n)

			// Every submit writes three events: created, ready, queued.
			wantLost := strconv.Itoa(3 * lost)
			wantAfter := strconv.Itoa(3 * len(rows))
			r = cli(t, data, "", "audit", "verify")
			m := lostEvents.FindStringSubmatch(r.stderr)
			if r.code != exitFail || m == nil || m[1] != wantLost || m[2] != wantAfter || m[3] != keys[n-1] {
				t.Errorf("audit verify: exit %d, stdout %q, stderr %q; want exit 1 and %s audit events lost after #%s; last known application key %s",
					r.code, r.stdout, r.stderr, wantLost, wantAfter, keys[n-1])
			}
			r = cliEnv(t, data, nil, "doctor", "--config", cfg)
			line, hint := doctorLine(t, r.stdout, "database")
			m = lostEvents.FindStringSubmatch(line)
			if r.code != exitFail || !strings.HasPrefix(line, "FAIL database: ") || m == nil || m[1] != wantLost ||
				m[3] != keys[n-1] || len(hint) != 2 || !strings.HasPrefix(hint[0], "Không xoá gì") {
				t.Errorf("doctor: exit %d, database line %q, hint %q; want a failure naming the loss", r.code, line, hint)
			}
		})
	}
}

// doctor promised to change nothing and told staff to delete nothing, yet
// it checkpointed and deleted a damaged WAL; so did queue, show and audit
// verify, which only read. Each must leave the database and its WAL byte
// for byte as they were, the evidence technical support needs.
func TestReadingCommandsLeaveADamagedWALAsItIs(t *testing.T) {
	data, _ := walDataDir(t, 6)
	walPath := filepath.Join(data, store.FileName+"-wal")
	wal, err := os.ReadFile(walPath)
	if err != nil {
		t.Fatal(err)
	}
	// Damage the last commit's frames: its tail is lost, the rest reads.
	copy(wal[len(wal)-walPageFrame+24+500:], bytes.Repeat([]byte{0x55}, 64))
	if err := os.WriteFile(walPath, wal, 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := os.ReadFile(filepath.Join(data, store.FileName))
	if err != nil {
		t.Fatal(err)
	}
	cfg := writeFile(t, t.TempDir(), "c.toml", "devices = \"real\"\n")
	for _, args := range [][]string{
		{"doctor", "--config", cfg},
		{"queue"},
		{"queue", "--json"},
		{"show", "1"},
		{"audit", "verify"},
		{"procedures"},
		{"receipt", "1", "--png", filepath.Join(t.TempDir(), "r.png")},
	} {
		r := cli(t, data, "", args...)
		afterWAL, err := os.ReadFile(walPath)
		if err != nil || !bytes.Equal(afterWAL, wal) {
			t.Fatalf("motcua %s changed the WAL (%d bytes before, %d after, %v); it said %s%s",
				strings.Join(args, " "), len(wal), len(afterWAL), err, r.stdout, r.stderr)
		}
		if afterDB, err := os.ReadFile(filepath.Join(data, store.FileName)); err != nil || !bytes.Equal(afterDB, db) {
			t.Fatalf("motcua %s changed the database (%v)", strings.Join(args, " "), err)
		}
	}
}

// A database deleted whole is the largest lost tail: doctor must not call
// it "not created yet" while the anchor remembers its events.
func TestDeletedDatabaseIsReported(t *testing.T) {
	data := t.TempDir()
	form := writeFile(t, t.TempDir(), "f.json", cli(t, data, "", "procedures", "example", "1.001193").stdout)
	var key string
	for i := 0; i < 2; i++ {
		r := cli(t, data, "", "submit", "--procedure", "1.001193", "--form", form)
		var res submitResult
		mustJSON(t, r.stdout, &res)
		key = res.IdempotencyKey
	}
	if err := os.Remove(filepath.Join(data, store.FileName)); err != nil {
		t.Fatal(err)
	}
	want := "6 audit events lost after #0; last known application key " + key
	if r := cli(t, data, "", "audit", "verify"); r.code != exitFail || !strings.Contains(r.stderr, want) {
		t.Errorf("audit verify: %+v; want exit 1 and %q", r, want)
	}
	cfg := writeFile(t, t.TempDir(), "c.toml", "devices = \"real\"\n")
	r := cliEnv(t, data, nil, "doctor", "--config", cfg)
	if line, hint := doctorLine(t, r.stdout, "database"); r.code != exitFail || !strings.HasPrefix(line, "FAIL database: ") ||
		!strings.Contains(line, want) || len(hint) != 2 {
		t.Errorf("doctor: exit %d, %q %q; want a failure with %q", r.code, line, hint, want)
	}
}
