package kiosk

import (
	"context"
	"fmt"

	"github.com/motcua/motcua/agent/application"
	"github.com/motcua/motcua/agent/i18n"
	"github.com/motcua/motcua/agent/store"
)

// Queue lists the stored applications, oldest first, without personal
// data; with states, only those in them.
func (s *Service) Queue(ctx context.Context, states ...application.State) ([]store.Summary, error) {
	list, err := s.cfg.Store.List(ctx, store.ListOptions{States: states})
	if err != nil {
		return nil, fmt.Errorf("queue: %w", err)
	}
	return list, nil
}

// Requeue sends a quarantined application back to the queue, once staff
// have checked it, writing the audit event in the same transaction. Any
// other state is refused with an error wrapping
// application.ErrIllegalTransition.
func (s *Service) Requeue(ctx context.Context, appID int64) error {
	a, err := s.get(ctx, appID)
	if err != nil {
		return err
	}
	if a.State != application.Quarantined {
		return &i18n.Error{Code: "not_quarantined", Msg: i18n.Tf(
			"Hồ sơ số %d đang ở trạng thái %q, không phải bị giữ lại", "application %d is %s, not quarantined",
			appID, a.State.Label()), Err: fmt.Errorf("requeue application %d: %w: it is %s",
			appID, application.ErrIllegalTransition, a.State)}
	}
	return s.cfg.Store.Transition(ctx, appID, application.Queued, store.Change{Actor: s.cfg.Actor,
		Detail: "requeued by staff after quarantine"})
}
