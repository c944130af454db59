package uplink

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/motcua/motcua/agent/store"
)

// ErrBudgetSpent is returned (wrapped) when delivering an application would
// go over the day's data budget; it waits for the next day.
var ErrBudgetSpent = errors.New("daily data budget spent")

// vietnam is the time zone the budget's day follows.
var vietnam = time.FixedZone("ICT", 7*3600)

func budgetKey(now time.Time) string {
	return "uplink.budget." + now.In(vietnam).Format("2006-01-02")
}

// budgetUsed returns the upload bytes booked for today's key: those
// recorded in the store, and those sent whose record failed.
func (w *Worker) budgetUsed(ctx context.Context, key string) (int64, error) {
	w.budgetMu.Lock()
	unrecorded := w.unrecorded[key]
	w.budgetMu.Unlock()
	v, err := w.cfg.Store.Setting(ctx, key)
	if err != nil {
		return 0, fmt.Errorf("read the data budget: %w", err)
	}
	if v == "" {
		return unrecorded, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("read the data budget: stored %q: %w", v, err)
	}
	return n + unrecorded, nil
}

// BudgetUsed returns the upload bytes counted against the data budget of
// the day now falls in (Vietnam time), and that day.
func BudgetUsed(ctx context.Context, st *store.Store, now time.Time) (day string, used int64, err error) {
	key := budgetKey(now)
	used, err = (&Worker{cfg: Config{Store: st}}).budgetUsed(ctx, key)
	return strings.TrimPrefix(key, "uplink.budget."), used, err
}

// booking is bytes booked against one day's budget before they are sent.
type booking struct {
	key    string
	booked int64
}

// book refuses an application whose remaining need bytes do not fit in
// what is left of today's budget, and otherwise records them as used before
// a byte leaves: a failed write sends nothing, and a worker killed
// mid-upload leaves them counted.
func (w *Worker) book(ctx context.Context, need int64) (booking, error) {
	if w.cfg.DailyBudget <= 0 || need == 0 {
		return booking{}, nil
	}
	key := budgetKey(w.cfg.Now())
	used, err := w.budgetUsed(ctx, key)
	if err != nil {
		return booking{}, err
	}
	if used+need > w.cfg.DailyBudget {
		return booking{}, fmt.Errorf("%w: %d of %d bytes used today, the next application needs %d", ErrBudgetSpent, used, w.cfg.DailyBudget, need)
	}
	if err := w.record(ctx, key, need); err != nil {
		return booking{}, err
	}
	return booking{key: key, booked: need}, nil
}

// settleBudget corrects a booking to the sent bytes that in fact left.
// Bytes sent beyond the booking (sent again after a cut) whose record fails
// are kept in memory and still count.
func (w *Worker) settleBudget(ctx context.Context, b booking, sent int64) error {
	if w.cfg.DailyBudget <= 0 || sent == b.booked {
		return nil
	}
	key := b.key
	if key == "" {
		key = budgetKey(w.cfg.Now())
	}
	err := w.record(ctx, key, sent-b.booked)
	if err != nil && sent > b.booked {
		w.budgetMu.Lock()
		if w.unrecorded == nil {
			w.unrecorded = map[string]int64{}
		}
		w.unrecorded[key] += sent - b.booked
		w.budgetMu.Unlock()
	}
	return err
}

// record adds n bytes, perhaps negative, to key's recorded use.
func (w *Worker) record(ctx context.Context, key string, n int64) error {
	v, err := w.cfg.Store.Setting(ctx, key)
	if err != nil {
		return fmt.Errorf("record the data budget: %w", err)
	}
	var used int64
	if v != "" {
		if used, err = strconv.ParseInt(v, 10, 64); err != nil {
			return fmt.Errorf("record the data budget: stored %q: %w", v, err)
		}
	}
	if err := w.cfg.Store.SetSetting(ctx, key, strconv.FormatInt(max(used+n, 0), 10)); err != nil {
		return fmt.Errorf("record the data budget: %w", err)
	}
	return nil
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
