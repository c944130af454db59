package alert

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/motcua/motcua/agent/store"
)

type manualClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *manualClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *manualClock) advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func newMonitor(t *testing.T) (*Monitor, *store.Store, *manualClock, string) {
	t.Helper()
	dir := t.TempDir()
	clk := &manualClock{t: time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)}
	path := filepath.Join(dir, store.FileName)
	st, err := store.Open(context.Background(), path, store.Options{Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	key, err := LoadOrCreateKey(filepath.Join(dir, KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	m, err := New(st, key, Options{Rules: Rules{SameID: {Count: 3, Window: time.Hour}, FailedPIN: {Count: 2, Window: time.Minute}}})
	if err != nil {
		t.Fatal(err)
	}
	return m, st, clk, path
}

// Each rule raises one alert when its count is reached within its window,
// not before, not for signals spread wider than the window, and not again
// while the window that raised it lasts; each alert is an audit event.
func TestRulesRaiseOnceWithinTheirWindow(t *testing.T) {
	ctx := context.Background()
	m, st, clk, _ := newMonitor(t)
	type step struct {
		kind    Kind
		subject string
		after   time.Duration
		raises  bool
	}
	steps := []step{
		{SameID, "001099012345", 0, false},
		{SameID, "001099012346", time.Minute, false},      // another number
		{SameID, "001099012345", 61 * time.Minute, false}, // the first is out of the window
		{SameID, "001099012345", 10 * time.Minute, false},
		{SameID, "001099012345", 10 * time.Minute, true}, // three within the hour
		{SameID, "001099012345", time.Minute, false},     // raised already
		{FailedPIN, "staff-lan", 0, false},
		{FailedPIN, "staff-lan", 30 * time.Second, true},
		{FailedPIN, "staff-lan", 2 * time.Minute, false},
		{FailedPIN, "staff-lan", 10 * time.Second, true}, // a new window, a new alert
		{KioskFlood, "kiosk-1", 0, false},
	}
	raised := 0
	for i, s := range steps {
		clk.advance(s.after)
		a, err := m.Record(ctx, s.kind, s.subject)
		if err != nil {
			t.Fatal(err)
		}
		if (a != nil) != s.raises {
			t.Fatalf("step %d (%s %s): alert %+v, want raised=%v", i, s.kind, s.subject, a, s.raises)
		}
		if a != nil {
			raised++
		}
	}
	cur, err := m.Current(ctx, clk.now())
	if err != nil || len(cur) != raised {
		t.Fatalf("Current = %+v, %v; want the %d alerts", cur, err, raised)
	}
	if cur[0].Kind != FailedPIN || cur[0].Subject != "staff-lan" || cur[0].Count != 2 {
		t.Errorf("newest alert %+v, want staff-lan's failed PINs", cur[0])
	}
	last := cur[len(cur)-1]
	if last.Kind != SameID || last.Count != 3 || last.Subject == "001099012345" || len(last.Subject) != 12 {
		t.Errorf("ID alert %+v, want 3 times, its subject a 12-digit hash prefix", last)
	}
	if got := last.Message().EN; got != "the same ID number (hash "+last.Subject+") was submitted 3 times in 60 minutes" {
		t.Errorf("message %q", got)
	}
	head, _, err := st.AuditHead(ctx)
	if err != nil || head != int64(raised) {
		t.Errorf("audit log has %d events, want one per alert (%d)", head, raised)
	}
	if _, err := st.VerifyAudit(ctx); err != nil {
		t.Error(err)
	}
	clk.advance(Recent + time.Minute)
	if cur, _ := m.Current(ctx, clk.now()); len(cur) != 0 {
		t.Errorf("alerts a day old are still current: %+v", cur)
	}
	if _, err := m.Record(ctx, Kind("nope"), "x"); err == nil {
		t.Error("an unknown kind was recorded")
	}
}

// The ID number is never written: not to the database, its WAL or the
// audit log.
func TestIDNumberIsNotStoredInClear(t *testing.T) {
	ctx := context.Background()
	m, st, _, path := newMonitor(t)
	const id = "079203004567"
	for range 3 {
		if _, err := m.Record(ctx, SameID, id); err != nil {
			t.Fatal(err)
		}
	}
	if cur, _ := m.Current(ctx, time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)); len(cur) != 1 {
		t.Fatalf("alerts %+v, want one", cur)
	}
	st.Close()
	for _, f := range []string{path, path + "-wal"} {
		b, err := os.ReadFile(f)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(id)) {
			t.Errorf("%s holds the ID number in clear", filepath.Base(f))
		}
	}
}
