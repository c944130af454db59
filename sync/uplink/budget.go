package uplink

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ErrBudgetSpent is returned (wrapped) when delivering an application would
// go over the day's data budget; it waits for the next day.
var ErrBudgetSpent = errors.New("daily data budget spent")

// vietnam is the time zone the budget's day follows.
var vietnam = time.FixedZone("ICT", 7*3600)

func budgetKey(now time.Time) string {
	return "uplink.budget." + now.In(vietnam).Format("2006-01-02")
}

// budgetUsed returns the upload bytes sent today.
func (w *Worker) budgetUsed(ctx context.Context) (int64, error) {
	v, err := w.cfg.Store.Setting(ctx, budgetKey(w.cfg.Now()))
	if err != nil || v == "" {
		return 0, err
	}
	return strconv.ParseInt(v, 10, 64)
}

// checkBudget refuses an application whose remaining bytes do not fit in
// what is left of today's budget.
func (w *Worker) checkBudget(ctx context.Context, need int64) error {
	if w.cfg.DailyBudget <= 0 || need == 0 {
		return nil
	}
	used, err := w.budgetUsed(ctx)
	if err != nil {
		return err
	}
	if used+need > w.cfg.DailyBudget {
		return fmt.Errorf("%w: %d of %d bytes used today, the next application needs %d", ErrBudgetSpent, used, w.cfg.DailyBudget, need)
	}
	return nil
}

// spend adds n bytes to today's use.
func (w *Worker) spend(ctx context.Context, n int64) {
	if w.cfg.DailyBudget <= 0 || n <= 0 {
		return
	}
	used, err := w.budgetUsed(ctx)
	if err != nil {
		return
	}
	w.cfg.Store.SetSetting(context.WithoutCancel(ctx), budgetKey(w.cfg.Now()), strconv.FormatInt(used+n, 10))
}

// ParseSize reads a byte count such as "500000", "800KB" or "50MB" (powers
// of 1000, as mobile data plans count).
func ParseSize(s string) (int64, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3}, {"B", 1}} {
		if rest, ok := strings.CutSuffix(t, u.suffix); ok {
			t, mult = strings.TrimSpace(rest), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q is not a size like 50MB, 800KB or 500000", s)
	}
	return n * mult, nil
}
