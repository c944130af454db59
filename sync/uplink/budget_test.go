package uplink

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/motcua/motcua/agent/application"
)

func TestDailyBudget(t *testing.T) {
	r := newRig(t)
	r.queue("key-budget-01", 60_000)
	b := r.queue("key-budget-02", 70_000)
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC) // 17:00 in Vietnam
	w := r.worker()
	w.cfg.DailyBudget = 100_000
	w.cfg.Now = func() time.Time { return now }
	sum, err := w.Pass(context.Background())
	if !errors.Is(err, ErrBudgetSpent) || sum.Delivered != 1 || sum.Remaining != 1 {
		t.Fatalf("first day: %+v, %v", sum, err)
	}
	if got, _ := r.store.Get(context.Background(), b.ID); got.State != application.Queued {
		t.Fatalf("the application over budget is %s, want queued", got.State)
	}
	if used, _ := w.budgetUsed(context.Background()); used != 60_000 {
		t.Errorf("budget used %d, want 60000", used)
	}
	now = now.Add(8 * time.Hour) // past midnight in Vietnam
	sum, err = w.Pass(context.Background())
	if err != nil || sum.Delivered != 1 || sum.Remaining != 0 {
		t.Fatalf("next day: %+v, %v", sum, err)
	}
	r.checkExactlyOnce()
}

// Stepping the kiosk's clock back a day granted a fresh budget: the day's
// key was read from the clock alone. A day earlier than the latest seen
// counts against the latest.
func TestClockSteppedBackGrantsNoFreshBudget(t *testing.T) {
	r := newRig(t)
	r.queue("key-budget-01", 60_000)
	r.queue("key-budget-02", 70_000)
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC) // 17:00 in Vietnam
	w := r.worker()
	w.cfg.DailyBudget = 100_000
	w.cfg.Now = func() time.Time { return now }
	if sum, err := w.Pass(context.Background()); !errors.Is(err, ErrBudgetSpent) || sum.Delivered != 1 {
		t.Fatalf("first day: %+v, %v", sum, err)
	}
	for _, back := range []time.Duration{24 * time.Hour, 18 * time.Hour, 365 * 24 * time.Hour} {
		stepped := now.Add(-back)
		w.cfg.Now = func() time.Time { return stepped }
		sum, err := w.Pass(context.Background())
		if !errors.Is(err, ErrBudgetSpent) || sum.Delivered != 0 {
			t.Fatalf("clock stepped back %v: %+v, %v; want the budget still spent", back, sum, err)
		}
		day, used, err := BudgetUsed(context.Background(), r.store, stepped)
		if err != nil || day != "2026-11-23" || used != 60_000 {
			t.Errorf("clock stepped back %v: %d bytes on %s (%v); want 60000 on 2026-11-23", back, used, day, err)
		}
	}
	next := now.Add(8 * time.Hour) // past midnight in Vietnam
	w.cfg.Now = func() time.Time { return next }
	if sum, err := w.Pass(context.Background()); err != nil || sum.Delivered != 1 {
		t.Fatalf("next day: %+v, %v", sum, err)
	}
	if day, used, _ := BudgetUsed(context.Background(), r.store, now); day != "2026-11-24" || used != 70_000 {
		t.Errorf("after the next day, the clock back again: %d bytes on %s; want 70000 on 2026-11-24", used, day)
	}
	r.checkExactlyOnce()
}

// A budget counted by an older version, under a key per day, still counts.
func TestBudgetKeptPerDayStillCounts(t *testing.T) {
	r := newRig(t)
	r.queue("key-budget-01", 60_000)
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	if err := r.store.SetSetting(context.Background(), "uplink.budget.2026-11-23", "50000"); err != nil {
		t.Fatal(err)
	}
	w := r.worker()
	w.cfg.DailyBudget = 100_000
	w.cfg.Now = func() time.Time { return now }
	if _, err := w.Pass(context.Background()); !errors.Is(err, ErrBudgetSpent) {
		t.Fatalf("50000 of 100000 used, 60000 more: %v; want the budget spent", err)
	}
}
