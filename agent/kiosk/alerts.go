package kiosk

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/motcua/motcua/agent/alert"
	"github.com/motcua/motcua/agent/procedure"
)

// Alerts returns the early-warning alerts of the last 24 hours, newest
// first, for the staff console; none when the service has no monitor.
func (s *Service) Alerts(ctx context.Context) ([]alert.Alert, error) {
	if s.cfg.Alerts == nil {
		return nil, nil
	}
	as, err := s.cfg.Alerts.Current(ctx, s.cfg.Now())
	if err != nil {
		return nil, fmt.Errorf("alerts: %w", err)
	}
	return as, nil
}

// watchSubmission tells the early-warning monitor of a new submission: one
// signal for the kiosk, one for each citizen ID number in the form. An
// alert it raises is published to the status surface; a failure to record
// is logged and never fails the submission, which is stored already.
func (s *Service) watchSubmission(ctx context.Context, p *procedure.Procedure, form []byte) {
	m := s.cfg.Alerts
	if m == nil {
		return
	}
	record := func(kind alert.Kind, subject string) {
		a, err := m.Record(ctx, kind, subject)
		if err != nil {
			s.log.Error("early warning: signal not recorded", "kind", kind, "err", err)
			return
		}
		if a != nil {
			s.log.Warn("early warning: alert raised", "kind", a.Kind, "subject", a.Subject, "count", a.Count)
		}
	}
	record(alert.KioskFlood, s.cfg.Actor)
	for _, id := range citizenIDs(p, form) {
		record(alert.SameID, id)
	}
}

// citizenIDs returns the distinct citizen ID numbers of a validated form:
// the values of its citizen ID fields and of its person blocks.
func citizenIDs(p *procedure.Procedure, form []byte) []string {
	var vals map[string]json.RawMessage
	if json.Unmarshal(form, &vals) != nil {
		return nil
	}
	seen := map[string]bool{}
	var ids []string
	add := func(id string) {
		if id != "" && !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	for _, f := range p.Fields() {
		raw, ok := vals[f.Key]
		if !ok {
			continue
		}
		switch f.Type {
		case procedure.TypeCitizenID:
			var id string
			if json.Unmarshal(raw, &id) == nil {
				add(id)
			}
		case procedure.TypePerson:
			var pv procedure.PersonValue
			if json.Unmarshal(raw, &pv) == nil {
				add(pv.CitizenID)
			}
		}
	}
	return ids
}
