package kiosk

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/motcua/motcua/agent/application"
	"github.com/motcua/motcua/agent/audit"
	"github.com/motcua/motcua/agent/staff"
	"github.com/motcua/motcua/agent/store"
)

// Desk is the service's use cases for one logged-in staff member at the
// counter or the staff console: each checks the member's role and goes in
// the audit log with the member's id as actor ("staff:ID"), including the
// actions the role refuses.
type Desk struct {
	s *Service // the service with the member as its actor
	m staff.Member
}

// For returns the use cases of staff member m.
func (s *Service) For(m staff.Member) *Desk {
	cfg := s.cfg
	cfg.Actor = m.Actor()
	return &Desk{s: New(cfg), m: m}
}

// Member is the staff member at the desk.
func (d *Desk) Member() staff.Member { return d.m }

// Service is the service whose audit events name the member as actor.
func (d *Desk) Service() *Service { return d.s }

// allow checks the member may do a to application appID, auditing a
// refusal.
func (d *Desk) allow(ctx context.Context, a staff.Action, appID int64) error {
	err := d.m.Check(a)
	if err == nil {
		return nil
	}
	d.s.log.Warn("staff action refused by role", "staff", d.m.ID, "role", d.m.Role, "action", a, "application", appID)
	if aerr := d.audit(ctx, staff.KindDenied, appID, map[string]any{"action": a, "role": d.m.Role}); aerr != nil {
		return fmt.Errorf("%w (and its audit event: %w)", err, aerr)
	}
	return err
}

func (d *Desk) audit(ctx context.Context, kind string, appID int64, fields map[string]any) error {
	detail, _ := json.Marshal(fields)
	return d.s.cfg.Store.AppendAudit(ctx, audit.Event{ApplicationID: appID, Kind: kind, Actor: d.m.Actor(), Detail: string(detail)})
}

// Start begins capturing an application: its creation is audited with
// the member as actor.
func (d *Desk) Start(ctx context.Context) (*Session, error) {
	if err := d.allow(ctx, staff.Capture, 0); err != nil {
		return nil, err
	}
	return d.s.Start(), nil
}

// Queue lists the stored applications as Service.Queue does. The list
// holds no personal data, so it is not audited.
func (d *Desk) Queue(ctx context.Context, states ...application.State) ([]store.Summary, error) {
	return d.s.Queue(ctx, states...)
}

// View opens application appID, personal data included, and audits it.
func (d *Desk) View(ctx context.Context, appID int64) (*application.Application, error) {
	if err := d.allow(ctx, staff.View, appID); err != nil {
		return nil, err
	}
	a, err := d.s.get(ctx, appID)
	if err != nil {
		return nil, err
	}
	if err := d.audit(ctx, staff.KindView, appID, map[string]any{"state": a.State}); err != nil {
		return nil, err
	}
	return a, nil
}

// Track finds an application as Service.Track does (a receipt's QR code
// read at the counter) and audits it as a view.
func (d *Desk) Track(ctx context.Context, codeOrURL string) (TrackResult, error) {
	if err := d.allow(ctx, staff.View, 0); err != nil {
		return TrackResult{}, err
	}
	res, err := d.s.Track(ctx, codeOrURL)
	if err != nil {
		return res, err
	}
	if err := d.audit(ctx, staff.KindView, res.App.ID, map[string]any{"state": res.App.State, "from": "receipt"}); err != nil {
		return TrackResult{}, err
	}
	return res, nil
}

// Reprint prints application appID's receipt again, audited once the
// printer took it.
func (d *Desk) Reprint(ctx context.Context, appID int64) error {
	if err := d.allow(ctx, staff.Reprint, appID); err != nil {
		return err
	}
	if err := d.s.Print(ctx, appID); err != nil {
		return err
	}
	return d.audit(ctx, staff.KindReprint, appID, map[string]any{})
}

// Requeue sends a quarantined application back to the queue (a retry
// once the cause is fixed): supervisors and admins only. The transition's
// audit event names the member.
func (d *Desk) Requeue(ctx context.Context, appID int64) error {
	if err := d.allow(ctx, staff.Requeue, appID); err != nil {
		return err
	}
	return d.s.Requeue(ctx, appID)
}

// Export returns application appID, personal data and attachment metadata
// included, as indented JSON, for a supervisor or an admin to hand on (a
// court, the citizen's own request); it is audited as an export.
func (d *Desk) Export(ctx context.Context, appID int64) ([]byte, error) {
	if err := d.allow(ctx, staff.Export, appID); err != nil {
		return nil, err
	}
	a, err := d.s.get(ctx, appID)
	if err != nil {
		return nil, err
	}
	b, err := json.MarshalIndent(a, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("export application %d: %w", appID, err)
	}
	if err := d.audit(ctx, staff.KindExport, appID, map[string]any{"bytes": len(b)}); err != nil {
		return nil, err
	}
	return b, nil
}
