package store

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/motcua/motcua/agent/application"
)

// manualClock is an injected clock that moves only when told.
type manualClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *manualClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *manualClock) advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// closeAs walks application id from queued to the portal's final state.
func closeAs(t *testing.T, s *Store, id int64, final application.State) {
	t.Helper()
	for _, to := range []application.State{application.Sending, application.Received, final} {
		if err := s.Transition(context.Background(), id, to, Change{Actor: "portal"}); err != nil {
			t.Fatal(err)
		}
	}
}

// Personal data goes the configured number of days after the portal closes
// a file, not before, and only for done or rejected files: overwritten,
// deleted, out of the file and its WAL; the application row, its counts
// and the audit log stay, and the purge is an audit event.
func TestPurgeRemovesPersonalDataAfterTheRetentionWindow(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), FileName)
	clk := &manualClock{t: time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)}
	s, err := Open(ctx, path, Options{Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	scan := func(key string) []byte { return []byte("SCAN-OF-CCCD-" + key + "-MARKER") }
	create := func(key string, form string) int64 {
		n := newApp(key, NewAttachment{EvidenceKey: "id_card", Name: "cccd-001099012345.pdf", MediaType: "application/pdf",
			Content: bytes.Repeat(scan(key), 50)})
		n.Form = json.RawMessage(form)
		a, err := s.Create(ctx, n, application.Queued)
		if err != nil {
			t.Fatal(err)
		}
		return a.ID
	}
	done := create("done", `{"child_full_name":"Nguyễn Văn Purged"}`)
	rejected := create("rejected", `{"child_full_name":"Trần Thị Purged"}`)
	later := create("later", `{"child_full_name":"Lê Văn Later"}`)
	open := create("open", `{"child_full_name":"Phạm Thị Open"}`)
	closeAs(t, s, done, application.Done)
	closeAs(t, s, rejected, application.Rejected)
	clk.advance(5 * 24 * time.Hour)
	closeAs(t, s, later, application.Done)
	if err := s.Transition(ctx, open, application.Sending, Change{}); err != nil {
		t.Fatal(err)
	}

	const days = 90
	clk.advance(Retention(days) - 5*24*time.Hour - time.Minute)
	if got, err := s.Purge(ctx, clk.now().Add(-Retention(days)), days, "test"); err != nil || len(got) != 0 {
		t.Fatalf("Purge a minute before the window ends = %+v, %v; want nothing purged", got, err)
	}
	clk.advance(2 * time.Minute)
	list, err := s.Purgeable(ctx, clk.now().Add(-Retention(days)))
	if err != nil || len(list) != 2 || list[0].ID != done || list[1].ID != rejected || list[0].Parts != 2 || list[0].Bytes == 0 {
		t.Fatalf("Purgeable = %+v, %v; want the done and the rejected application, two parts each", list, err)
	}
	// The rows reach the database file itself, where a plain DELETE would
	// leave their bytes in free space.
	if _, err := s.db.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); !bytes.Contains(b, scan("done")) {
		t.Log("the form is not in clear in the database file (sealed at rest): the file check below sees nothing either way")
	}
	got, err := s.Purge(ctx, clk.now().Add(-Retention(days)), days, "test")
	if err != nil || len(got) != 2 {
		t.Fatalf("Purge = %+v, %v; want 2 applications purged", got, err)
	}

	for _, id := range []int64{done, rejected} {
		a, err := s.Get(ctx, id)
		if err != nil {
			t.Fatalf("Get purged application %d: %v", id, err)
		}
		if string(a.Form) != "{}" || a.PurgedAt.IsZero() || len(a.Attachments) != 1 || a.Attachments[0].Name != "" {
			t.Errorf("purged application %d = form %s, purged at %v, attachments %+v", id, a.Form, a.PurgedAt, a.Attachments)
		}
		var n int
		s.db.QueryRow(`SELECT count(*) FROM personal_data WHERE application_id = ?`, id).Scan(&n)
		if n != 0 {
			t.Errorf("application %d keeps %d personal data rows", id, n)
		}
		evs, _ := s.Events(ctx, id)
		if last := evs[len(evs)-1]; last.Kind != KindPurge || last.Actor != "test" {
			t.Errorf("application %d's last audit event is %+v, want the purge", id, last)
		}
	}
	for _, id := range []int64{later, open} {
		if a, err := s.Get(ctx, id); err != nil || string(a.Form) == "{}" || !a.PurgedAt.IsZero() {
			t.Errorf("application %d, not due, = %+v, %v; want its form kept", id, a, err)
		}
	}
	if counts, err := s.CountByProcedure(ctx); err != nil || counts["birth-registration"] != 4 {
		t.Errorf("CountByProcedure after the purge = %v, %v; want the 4 applications still counted", counts, err)
	}
	if n, err := s.VerifyAudit(ctx); err != nil {
		t.Errorf("VerifyAudit after the purge = %d, %v", n, err)
	}
	// The purged forms and scans are in neither the database file nor its
	// WAL: not in free pages (secure_delete, VACUUM), not in old frames
	// (checkpoint).
	for _, f := range []string{path, path + "-wal"} {
		b, err := os.ReadFile(f)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		for _, gone := range []string{"Nguyễn Văn Purged", "Trần Thị Purged", string(scan("done")), string(scan("rejected"))} {
			if bytes.Contains(b, []byte(gone)) {
				t.Errorf("%s still holds %q after the purge", filepath.Base(f), gone)
			}
		}
	}
	if got, err := s.Purge(ctx, clk.now().Add(-Retention(days)), days, "test"); err != nil || len(got) != 0 {
		t.Errorf("a second Purge = %+v, %v; want nothing", got, err)
	}
}

// BenchmarkPurgeDailyPass purges one day's closed files (20 applications of
// three 100 KB scans) from a database that keeps 100 more: the pass's cost
// is mostly the VACUUM, which rewrites the whole database.
func BenchmarkPurgeDailyPass(b *testing.B) {
	ctx := context.Background()
	clk := &manualClock{t: time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)}
	s, err := Open(ctx, filepath.Join(b.TempDir(), FileName), Options{Now: clk.now})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	atts := pages(3, 100<<10, 7)
	n := 0
	create := func(final bool) {
		n++
		app := newApp(fmt.Sprint("bench-", n), atts...)
		a, err := s.Create(ctx, app, application.Queued)
		if err != nil {
			b.Fatal(err)
		}
		if final {
			for _, to := range []application.State{application.Sending, application.Received, application.Done} {
				if err := s.Transition(ctx, a.ID, to, Change{Actor: "portal"}); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	for range 100 {
		create(false)
	}
	b.SetBytes(20 * 3 * 100 << 10)
	for b.Loop() {
		b.StopTimer()
		for range 20 {
			create(true)
		}
		clk.advance(Retention(90) + time.Hour)
		b.StartTimer()
		got, err := s.Purge(ctx, clk.now().Add(-Retention(90)), 90, "bench")
		if err != nil || len(got) != 20 {
			b.Fatalf("Purge = %d, %v", len(got), err)
		}
	}
}
