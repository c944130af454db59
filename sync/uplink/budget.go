package uplink

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/motcua/motcua/agent/store"
	"github.com/motcua/motcua/internal/datasize"
)

// ErrBudgetSpent is returned (wrapped) when delivering an application would
// go over the day's data budget; it waits for the next day.
var ErrBudgetSpent = errors.New("daily data budget spent")

// vietnam is the time zone the budget's day follows.
var vietnam = time.FixedZone("ICT", 7*3600)

// settingBudget holds the daily data budget's record (budgetRecord, as
// JSON): one setting, so each change of it is one write.
const settingBudget = "uplink.budget.state"

// budgetDay is the day now falls in, in Vietnam: "2006-01-02", so days
// compare as strings.
func budgetDay(now time.Time) string { return now.In(vietnam).Format("2006-01-02") }

// budgetRecord is what the store keeps of the daily data budget.
type budgetRecord struct {
	// Day is the latest day seen. A clock stepped back to an earlier day
	// counts against it, so setting the clock back grants no fresh budget.
	Day string `json:"day"`
	// Used is the upload bytes counted on Day.
	Used int64 `json:"used"`
	// Open is the booking of the application being sent. Settling it
	// clears it; a worker killed mid-upload leaves it, and the next worker
	// corrects it to what the portal acknowledged.
	Open *openBooking `json:"open,omitempty"`
}

// openBooking is bytes booked for an application before they were sent.
type openBooking struct {
	ID     int64 `json:"id"`
	Booked int64 `json:"booked"`
	// From is the upload's offset confirmed in the store when booked.
	From int64 `json:"from"`
}

// loadBudget reads the budget's record, moved on to the day the worker's
// clock is in: a later day starts from zero, an earlier one stays on the
// latest day seen. A record kept by an older version under a key per day
// ("uplink.budget.2006-01-02") is read for today.
func loadBudget(ctx context.Context, st *store.Store, now time.Time) (budgetRecord, error) {
	var b budgetRecord
	today := budgetDay(now)
	v, err := st.Setting(ctx, settingBudget)
	if err != nil {
		return b, fmt.Errorf("read the data budget: %w", err)
	}
	if v != "" {
		if err := json.Unmarshal([]byte(v), &b); err != nil {
			return b, fmt.Errorf("read the data budget: stored %q: %w", v, err)
		}
	} else {
		old, err := st.Setting(ctx, "uplink.budget."+today)
		if err != nil {
			return b, fmt.Errorf("read the data budget: %w", err)
		}
		b.Day = today
		if old != "" {
			if b.Used, err = strconv.ParseInt(old, 10, 64); err != nil {
				return b, fmt.Errorf("read the data budget: stored %q: %w", old, err)
			}
		}
	}
	if today > b.Day {
		b = budgetRecord{Day: today}
	}
	return b, nil
}

func saveBudget(ctx context.Context, st *store.Store, b budgetRecord) error {
	v, err := json.Marshal(b)
	if err == nil {
		err = st.SetSetting(ctx, settingBudget, string(v))
	}
	if err != nil {
		return fmt.Errorf("record the data budget: %w", err)
	}
	return nil
}

// BudgetUsed returns the upload bytes counted against the data budget, and
// the day they count on: the day now falls in (Vietnam time), or the latest
// day seen when now is earlier.
func BudgetUsed(ctx context.Context, st *store.Store, now time.Time) (day string, used int64, err error) {
	b, err := loadBudget(ctx, st, now)
	return b.Day, b.Used, err
}

// budgetUsed returns the upload bytes counted today: those recorded in the
// store, and those sent whose record failed.
func (w *Worker) budgetUsed(ctx context.Context) (int64, error) {
	b, err := loadBudget(ctx, w.cfg.Store, w.cfg.Now())
	if err != nil {
		return 0, err
	}
	return b.Used + w.unrecordedOn(b.Day), nil
}

func (w *Worker) unrecordedOn(day string) int64 {
	w.budgetMu.Lock()
	defer w.budgetMu.Unlock()
	return w.unrecorded[day]
}

// booking is bytes booked against one day's budget before they are sent.
type booking struct {
	day    string
	booked int64
}

// book refuses application id when its remaining need bytes do not fit in
// what is left of today's budget, and otherwise records them as used before
// a byte leaves: a failed write sends nothing, and a worker killed
// mid-upload leaves them counted until the next worker corrects them.
func (w *Worker) book(ctx context.Context, id, need int64) (booking, error) {
	if w.cfg.DailyBudget <= 0 {
		return booking{}, nil
	}
	st := w.cfg.Store
	b, err := loadBudget(ctx, st, w.cfg.Now())
	if err != nil {
		return booking{}, err
	}
	corrected := b.Open != nil
	var learned portalOffset
	if corrected {
		learned = w.correctOpen(ctx, &b)
	}
	used := b.Used + w.unrecordedOn(b.Day)
	if need == 0 || used+need > w.cfg.DailyBudget {
		if corrected {
			if err := saveBudget(ctx, st, b); err != nil {
				return booking{}, err
			}
		}
		if need == 0 {
			return booking{}, nil
		}
		return booking{}, fmt.Errorf("%w: %d of %d bytes used today, the next application needs %d", ErrBudgetSpent, used, w.cfg.DailyBudget, need)
	}
	up, _, err := st.Upload(ctx, id)
	if err != nil {
		return booking{}, err
	}
	from := up.Confirmed
	if learned.known && learned.id == id {
		// The store's offset lags behind the portal's after a kill: a
		// booking from it would count again, after another kill, bytes
		// counted already.
		from = max(from, learned.offset)
	}
	b.Used += need
	b.Open = &openBooking{ID: id, Booked: need, From: from}
	if err := saveBudget(ctx, st, b); err != nil {
		return booking{}, err
	}
	return booking{day: b.Day, booked: need}, nil
}

// portalOffset is an upload's offset the portal answered for application id.
type portalOffset struct {
	id     int64
	offset int64
	known  bool
}

// correctOpen corrects the booking a killed worker left open to the bytes
// the portal acknowledged for it: its upload's offset now, less the offset
// it was booked from. What cannot be learned stays counted. It returns the
// offset it learned.
func (w *Worker) correctOpen(ctx context.Context, b *budgetRecord) portalOffset {
	o := *b.Open
	learned := portalOffset{id: o.ID}
	b.Open = nil
	acked := o.Booked
	up, found, err := w.cfg.Store.Upload(ctx, o.ID)
	switch {
	case err != nil:
	case !found || up.URL == "":
		// The upload was never named, so no byte of it was sent.
		acked = 0
	case up.Complete:
	default:
		off, err := w.uploadOffset(ctx, up.URL)
		switch {
		case errors.Is(err, errUploadGone):
			acked = 0
		case err == nil:
			acked = min(max(off-o.From, 0), o.Booked)
			learned.offset, learned.known = off, true
		}
	}
	b.Used = max(b.Used-(o.Booked-acked), 0)
	w.log.Info("data budget: corrected the booking of an interrupted delivery to what the portal acknowledged",
		"id", o.ID, "booked", o.Booked, "acknowledged", acked)
	return learned
}

// settleBudget corrects a booking to the sent bytes that in fact left, and
// closes it. Bytes sent beyond the booking (sent again after a cut) whose
// record fails are kept in memory and still count.
func (w *Worker) settleBudget(ctx context.Context, bk booking, sent int64) error {
	if w.cfg.DailyBudget <= 0 || (bk.day == "" && sent == 0) {
		return nil
	}
	st := w.cfg.Store
	b, err := loadBudget(ctx, st, w.cfg.Now())
	if err == nil {
		switch bk.day {
		case b.Day:
			b.Used = max(b.Used+sent-bk.booked, 0)
		case "":
			b.Used += sent
		default:
			// The day changed during the upload: its bytes stay counted on
			// the day they were booked on.
		}
		b.Open = nil
		err = saveBudget(ctx, st, b)
	}
	if err != nil && sent > bk.booked {
		day := bk.day
		if day == "" {
			day = budgetDay(w.cfg.Now())
		}
		w.budgetMu.Lock()
		if w.unrecorded == nil {
			w.unrecorded = map[string]int64{}
		}
		w.unrecorded[day] += sent - bk.booked
		w.budgetMu.Unlock()
	}
	return err
}

// ParseSize reads a byte count such as "500000", "800KB" or "50MB" (powers
// of 1000, as mobile data plans count). It is datasize.Parse.
func ParseSize(s string) (int64, error) { return datasize.Parse(s) }
