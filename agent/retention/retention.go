// Package retention purges citizens' personal data a configured number of
// days after the portal closes their file (done or rejected): a pass now,
// for `motcua purge`, and a pass a day, for `motcua run`. The store does
// the purge itself (overwrite, delete, audit, vacuum); this package decides
// when and up to which date.
package retention

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/motcua/motcua/agent/store"
)

// DefaultEvery is how often Run makes a pass.
const DefaultEvery = 24 * time.Hour

// Purger purges the personal data whose retention window has ended.
type Purger struct {
	Store *store.Store
	// Days is the retention window after the portal closes a file.
	Days int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Actor is recorded in the purge's audit events; "" is "retention".
	Actor  string
	Logger *slog.Logger // nil: discard
}

func (p *Purger) now() time.Time {
	if p.Now == nil {
		return time.Now()
	}
	return p.Now()
}

func (p *Purger) log() *slog.Logger {
	if p.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return p.Logger
}

// Cutoff is the latest closing time whose personal data may go now.
func (p *Purger) Cutoff() time.Time { return p.now().Add(-store.Retention(p.Days)) }

// Due lists the applications a pass would purge now, purging nothing.
func (p *Purger) Due(ctx context.Context) ([]store.Purgeable, error) {
	return p.Store.Purgeable(ctx, p.Cutoff())
}

// Pass purges every application due now and returns them.
func (p *Purger) Pass(ctx context.Context) ([]store.Purgeable, error) {
	actor := p.Actor
	if actor == "" {
		actor = "retention"
	}
	list, err := p.Store.Purge(ctx, p.Cutoff(), p.Days, actor)
	if err != nil {
		return list, fmt.Errorf("retention pass (%d days): %w", p.Days, err)
	}
	return list, nil
}

// Run makes a pass at once and then every interval (DefaultEvery when 0)
// until ctx ends. A failed pass is logged and tried again at the next.
func (p *Purger) Run(ctx context.Context, every time.Duration) {
	if every <= 0 {
		every = DefaultEvery
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		list, err := p.Pass(ctx)
		if err != nil {
			p.log().Error("personal data not purged", "err", err)
		} else if len(list) > 0 {
			p.log().Info("retention: personal data purged", "applications", len(list), "days", p.Days)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
