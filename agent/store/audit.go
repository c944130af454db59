package store

import (
	"context"
	"fmt"

	"github.com/motcua/motcua/agent/audit"
)

// VerifyAudit walks the whole audit log in order and checks its hash chain.
// It returns the number of events verified; on a broken chain the error
// wraps audit.ErrBroken and names the first bad event.
func (s *Store) VerifyAudit(ctx context.Context) (int64, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT seq, at, application_id, kind, from_state, to_state, actor, detail,
		prev_hash, hash FROM audit_events ORDER BY seq`)
	if err != nil {
		return 0, fmt.Errorf("verify audit: %w", err)
	}
	defer rows.Close()
	v := audit.NewVerifier()
	for rows.Next() {
		var e audit.Event
		var at string
		if err := rows.Scan(&e.Seq, &at, &e.ApplicationID, &e.Kind, &e.From, &e.To, &e.Actor, &e.Detail,
			&e.PrevHash, &e.Hash); err != nil {
			return v.Count(), fmt.Errorf("verify audit: %w", err)
		}
		if e.At, err = parseTime(at); err != nil {
			return v.Count(), fmt.Errorf("verify audit: event %d: %w", e.Seq, err)
		}
		if err := v.Add(&e); err != nil {
			return v.Count(), err
		}
	}
	if err := rows.Err(); err != nil {
		return v.Count(), fmt.Errorf("verify audit: %w", err)
	}
	return v.Count(), nil
}

// Events returns the audit events of application id, in order.
func (s *Store) Events(ctx context.Context, id int64) ([]audit.Event, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT seq, at, application_id, kind, from_state, to_state, actor, detail,
		prev_hash, hash FROM audit_events WHERE application_id = ? ORDER BY seq`, id)
	if err != nil {
		return nil, fmt.Errorf("audit events of %d: %w", id, err)
	}
	defer rows.Close()
	var out []audit.Event
	for rows.Next() {
		var e audit.Event
		var at string
		if err := rows.Scan(&e.Seq, &at, &e.ApplicationID, &e.Kind, &e.From, &e.To, &e.Actor, &e.Detail,
			&e.PrevHash, &e.Hash); err != nil {
			return nil, err
		}
		if e.At, err = parseTime(at); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
