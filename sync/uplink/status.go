package uplink

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/motcua/motcua/agent/application"
	"github.com/motcua/motcua/agent/store"
	"github.com/motcua/motcua/sync/portalapi"
)

// portalStates maps the portal's states to the lifecycle's.
var portalStates = map[portalapi.State]application.State{
	portalapi.Received:  application.Received,
	portalapi.InReview:  application.InReview,
	portalapi.NeedsMore: application.NeedsMore,
	portalapi.Done:      application.Done,
	portalapi.Rejected:  application.Rejected,
}

// filed reports whether s is a state the kiosk reaches only with a file
// code recorded: one of the portal's states.
func filed(s application.State) bool {
	for _, p := range portalStates {
		if p == s {
			return true
		}
	}
	return false
}

// PullStatus applies the portal's status events after the stored cursor,
// page by page, and returns how many changed an application.
func (w *Worker) PullStatus(ctx context.Context) (int, error) {
	n, _, err := w.pullStatus(ctx, nil)
	return n, err
}

// pullStatus is PullStatus. With inFlight set it runs beside the
// deliveries of a pass, whose applications it names by idempotency key,
// and applies only what cannot race them: it stops, leaving the cursor
// before it, at the first event for an application of the pass, for one
// the kiosk does not have or has no file code for (not yet in a portal's
// state), and at a portal that rolled back its records, whose recovery
// queues files again by what the portal knows; it then reports deferred,
// and the pull after the deliveries applies the rest. An event for an
// application whose receipt is on its way would otherwise move it before
// its receipt is recorded, which then no longer applies, and a recovery
// could queue again a file filed a moment after the portal was asked what
// it knows.
func (w *Worker) pullStatus(ctx context.Context, inFlight map[string]bool) (changed int, deferred bool, err error) {
	st := w.cfg.Store
	for {
		cursor, err := w.seqSetting(ctx, settingCursor)
		if err != nil {
			return changed, false, err
		}
		seen, err := w.seqSetting(ctx, settingSeen)
		if err != nil {
			return changed, false, err
		}
		seen = max(seen, cursor)
		page, err := w.statusPage(ctx, cursor)
		if err != nil {
			return changed, false, err
		}
		if inFlight != nil && w.rolledBack(page, seen) {
			return changed, true, nil
		}
		if reset, err := w.recoverForgotten(ctx, page, seen); err != nil || reset {
			if err != nil {
				return changed, false, err
			}
			continue
		}
		for _, e := range page.Events {
			if e.Seq <= cursor {
				return changed, false, fmt.Errorf("pull status: event %d is not after cursor %d", e.Seq, cursor)
			}
			to, ok := portalStates[e.State]
			if _, _, _, err := portalapi.ParseFileCode(e.FileCode); !ok || err != nil {
				return changed, false, fmt.Errorf("pull status: event %d has state %q, file code %q", e.Seq, e.State, e.FileCode)
			}
			if inFlight != nil {
				if inFlight[e.IdempotencyKey] {
					return changed, true, nil
				}
				a, err := st.FindByKey(ctx, e.IdempotencyKey)
				if errors.Is(err, store.ErrNotFound) || (err == nil && !filed(a.State)) {
					return changed, true, nil
				}
				if err != nil {
					return changed, false, err
				}
			}
			did, err := st.ApplyPortalState(ctx, e.IdempotencyKey, to, store.Change{Actor: "portal", FileCode: e.FileCode, Instance: w.instance, Detail: e.Note})
			switch {
			case errors.Is(err, store.ErrNotFound):
				w.log.Warn("status for an application this kiosk does not have", "file_code", e.FileCode)
			case errors.Is(err, application.ErrIllegalTransition):
				w.log.Warn("status cannot be applied", "file_code", e.FileCode, "err", err)
			case err != nil:
				return changed, false, err
			case did:
				changed++
			}
			if err == nil {
				// The portal has the application: nothing is left to deliver,
				// even when its receipt never reached this kiosk.
				a, err := st.FindByKey(ctx, e.IdempotencyKey)
				if err != nil {
					return changed, false, err
				}
				if err := st.Settle(ctx, a.ID, string(application.Queued)); err != nil {
					return changed, false, err
				}
			}
			if err := st.SetSetting(ctx, settingCursor, strconv.FormatInt(e.Seq, 10)); err != nil {
				return changed, false, err
			}
			cursor = e.Seq
		}
		if !page.More || len(page.Events) == 0 {
			return changed, false, nil
		}
	}
}

// pulled is what the pulls beside a pass's deliveries did.
type pulled struct {
	updates  int
	deferred bool
	err      error
	// unconfirmed is set when the health check did not confirm the
	// portal (err says why): nothing was pulled, nor filed.
	unconfirmed bool
}

// pullAside runs the status and catalog pulls beside the deliveries of
// the applications queued (pullStatus), after the health check that opens
// g when there is one (checkInstance), and sends what they did on the
// channel it returns. They take a connection of their own (with HTTP/2 a
// stream of the shared one): a few hundred bytes up, while the upload has
// the link.
func (w *Worker) pullAside(ctx context.Context, queued []store.Summary, g *gate) <-chan pulled {
	inFlight := make(map[string]bool, len(queued))
	for _, a := range queued {
		inFlight[a.IdempotencyKey] = true
	}
	done := make(chan pulled, 1)
	enrolled := w.instance
	go func() {
		var p pulled
		if g != nil {
			if err := w.checkInstance(ctx, g, enrolled); err != nil {
				p.err, p.unconfirmed = err, true
				done <- p
				return
			}
		}
		p.updates, p.deferred, p.err = w.pullStatus(ctx, inFlight)
		if err := w.PullCatalog(ctx); err != nil {
			w.log.Warn("catalog pull failed", "err", err)
		}
		done <- p
	}()
	return done
}

// seqSetting reads a status event sequence number kept in the store, 0 when
// there is none.
func (w *Worker) seqSetting(ctx context.Context, key string) (int64, error) {
	v, err := w.cfg.Store.Setting(ctx, key)
	if err != nil || v == "" {
		return 0, err
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("pull status: stored %s %q: %w", key, v, err)
	}
	return n, nil
}

// sawReceipts keeps the latest status event that rcs, receipts just
// recorded, name (settingSeen), so that a portal rolled back before it is
// known as such though the status pull has not reached it. A receipt that
// names none, or another portal instance, or one the store fails to keep,
// sends the status pull after the pass's deliveries (unseen), as a portal
// that names no event needs.
func (w *Worker) sawReceipts(ctx context.Context, rcs ...portalapi.Receipt) {
	latest := int64(0)
	for _, rc := range rcs {
		if rc.Seq <= 0 || (rc.Instance != "" && rc.Instance != w.instance) {
			w.unseen = true
			continue
		}
		latest = max(latest, rc.Seq)
	}
	if latest == 0 {
		return
	}
	seen, err := w.seqSetting(ctx, settingSeen)
	if err == nil && latest <= seen {
		return
	}
	if err == nil {
		err = w.cfg.Store.SetSetting(ctx, settingSeen, strconv.FormatInt(latest, 10))
	}
	if err != nil {
		w.log.Error("could not keep the status event a receipt named; the status pull goes after the deliveries", "err", err)
		w.unseen = true
	}
}
