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
	if used, _ := w.budgetUsed(context.Background(), budgetKey(now)); used != 60_000 {
		t.Errorf("budget used %d, want 60000", used)
	}
	now = now.Add(8 * time.Hour) // past midnight in Vietnam
	sum, err = w.Pass(context.Background())
	if err != nil || sum.Delivered != 1 || sum.Remaining != 0 {
		t.Fatalf("next day: %+v, %v", sum, err)
	}
	r.checkExactlyOnce()
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"500000": 500000, "800KB": 800000, "50MB": 50000000, "1 GB": 1e9, "12b": 12} {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "MB", "-5MB", "ten"} {
		if _, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q) accepted", in)
		}
	}
}
