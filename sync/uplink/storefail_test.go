package uplink

import (
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"

	"github.com/motcua/motcua/agent/application"
	"github.com/motcua/motcua/agent/store"
	"github.com/motcua/motcua/internal/sqlitedb"
)

// failWrites makes the kiosk's SQLite refuse writes as a full disk does:
// a trigger named name aborts every event on table when cond holds
// (NEW.key, OLD.x...). It returns a function that lets writes through
// again.
func (r *rig) failWrites(name, event, table, cond string) func() {
	r.t.Helper()
	db, err := sql.Open("sqlite3", sqlitedb.DSN(r.store.Path()))
	if err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(func() { db.Close() })
	q := "CREATE TRIGGER " + name + " BEFORE " + event + " ON " + table
	if cond != "" {
		q += " WHEN " + cond
	}
	q += " BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END"
	if _, err := db.Exec(q); err != nil {
		r.t.Fatal(err)
	}
	return func() {
		r.t.Helper()
		if _, err := db.Exec("DROP TRIGGER " + name); err != nil {
			r.t.Fatal(err)
		}
	}
}

// TestFailedBudgetWriteDoesNotOverrunBudget pins the daily budget when the
// store cannot record it: nothing is sent that the store has not counted,
// so the budget holds even while writes fail.
func TestFailedBudgetWriteDoesNotOverrunBudget(t *testing.T) {
	const budget = 100_000
	r := newRig(t)
	var apps []*application.Application
	for _, key := range []string{"key-disk-full-1", "key-disk-full-2", "key-disk-full-3", "key-disk-full-4"} {
		apps = append(apps, r.queue(key, 30_000))
	}
	now := time.Date(2026, 11, 23, 3, 0, 0, 0, time.UTC)
	w := r.worker()
	w.cfg.DailyBudget = budget
	w.cfg.Now = func() time.Time { return now }
	// The day's first record goes in; every later change to it fails.
	allow := r.failWrites("budget_full", "UPDATE", "settings", "NEW.key LIKE 'uplink.budget.%'")
	sum, err := w.Pass(context.Background())
	if err == nil || !strings.Contains(err.Error(), "disk is full") {
		t.Fatalf("pass with a failing store = %+v, %v; want the store's error", sum, err)
	}
	if sent := w.BytesSent(); sent > budget {
		t.Fatalf("sent %d bytes on a %d-byte budget while the store failed", sent, budget)
	}
	allow()
	if _, err := w.Pass(context.Background()); err == nil {
		t.Fatal("the pass that fills the budget reported no error")
	}
	if sent := w.BytesSent(); sent > budget {
		t.Errorf("sent %d bytes on a %d-byte budget", sent, budget)
	}
	subs, _ := r.portal.List(context.Background())
	if len(subs) != 3 {
		t.Errorf("the portal has %d applications; want 3 within the budget", len(subs))
	}
	if got, _ := r.store.Get(context.Background(), apps[3].ID); got.State != application.Queued {
		t.Errorf("the application over budget is %s", got.State)
	}
	now = now.Add(24 * time.Hour)
	if sum, err := w.Pass(context.Background()); err != nil || sum.Delivered != 1 {
		t.Fatalf("next day: %+v, %v", sum, err)
	}
	r.checkExactlyOnce()
}

// TestFailedStoreWritesMarkNothingDelivered fails, one at a time, each
// write the uplink makes: the failure is reported, no application is taken
// as received that the portal does not hold under the same file code, and
// once the store works again everything is delivered exactly once.
func TestFailedStoreWritesMarkNothingDelivered(t *testing.T) {
	tests := []struct {
		name, event, table, cond string
	}{
		{"state changes", "UPDATE", "applications", ""},
		{"the move to received", "UPDATE", "applications", "NEW.state = 'received'"},
		{"upload progress", "UPDATE", "uploads", ""},
		{"new uploads", "INSERT", "uploads", ""},
		{"outbox settlement", "UPDATE", "outbox", ""},
		{"the status cursor", "UPDATE", "settings", "NEW.key = 'uplink.status_cursor'"},
		{"delivery holds", "INSERT", "delivery_holds", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t)
			r.queue("key-store-fail1")
			r.queue("key-store-fail2", 20<<10)
			r.queue("key-store-fail3", 50<<10)
			w := r.worker()
			if _, err := w.Pass(context.Background()); err != nil {
				t.Fatal(err) // enrolled, nothing pending
			}
			r.queue("key-store-fail4", 10<<10)
			allow := r.failWrites("fail_"+strings.ReplaceAll(tt.name, " ", "_"), tt.event, tt.table, tt.cond)
			_, err := w.Pass(context.Background())
			if tt.table != "delivery_holds" && (err == nil || !strings.Contains(err.Error(), "disk is full")) {
				t.Errorf("pass with a failing store: %v; want the store's error", err)
			}
			r.checkReceivedAreFiled()
			allow()
			if err := w.Recover(context.Background()); err != nil {
				t.Fatal(err)
			}
			if sum, err := w.Once(context.Background()); err != nil || sum.Remaining != 0 {
				t.Fatalf("Once after the store recovered = %+v, %v", sum, err)
			}
			r.checkExactlyOnce()
		})
	}
}

// checkReceivedAreFiled asserts that every application the kiosk has a
// file code for is filed at the portal under that code.
func (r *rig) checkReceivedAreFiled() {
	r.t.Helper()
	ctx := context.Background()
	subs, err := r.portal.List(ctx)
	if err != nil {
		r.t.Fatal(err)
	}
	codes := map[string]string{}
	for _, s := range subs {
		codes[s.IdempotencyKey] = s.FileCode
	}
	local, _ := r.store.List(ctx, store.ListOptions{})
	for _, a := range local {
		if a.State == application.Received && codes[a.IdempotencyKey] != a.FileCode {
			r.t.Errorf("%s is received here with %q, but the portal has %q", a.IdempotencyKey, a.FileCode, codes[a.IdempotencyKey])
		}
	}
}
