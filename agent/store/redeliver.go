package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/motcua/motcua/agent/application"
	"github.com/motcua/motcua/agent/audit"
)

// LostFile is an application that a portal instance had filed and that the
// portal answering now does not have.
type LostFile struct {
	ID       int64
	Key      string
	FileCode string
	// Instance is the instance id of the portal that issued FileCode.
	Instance string
	// State is the state it had reached there.
	State application.State
}

// OldFileCode is a file code an application had at a portal instance that
// no longer has it.
type OldFileCode struct {
	Instance  string
	FileCode  string
	State     application.State
	DroppedAt string
}

// AdoptPortalInstance records instance as the portal of every application
// filed before the kiosk knew portal instances: the first instance it
// learns is taken to be the portal that filed them.
func (s *Store) AdoptPortalInstance(ctx context.Context, instance string) error {
	_, err := s.db.ExecContext(ctx, `UPDATE OR IGNORE applications SET portal_instance = ?
		WHERE portal_instance = '' AND file_code IS NOT NULL`, instance)
	if err != nil {
		return fmt.Errorf("adopt portal instance %s: %w", instance, err)
	}
	return nil
}

// RequeueLost puts back in the queue every application that a portal
// instance other than current filed and had not finished (received, in
// review or needing more): the portal answering now does not have them.
// Each starts a new upload generation from zero, its old file code moves to
// its history (OldFileCodes) and the audit log says both, in one
// transaction per application. Finished applications (done, rejected) keep
// their codes: their result was issued. It returns what it queued again.
func (s *Store) RequeueLost(ctx context.Context, current, actor string) ([]LostFile, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, idempotency_key, COALESCE(file_code, ''), portal_instance, state
		FROM applications WHERE portal_instance NOT IN ('', ?) AND state IN (?, ?, ?) ORDER BY id`,
		current, string(application.Received), string(application.InReview), string(application.NeedsMore))
	if err != nil {
		return nil, fmt.Errorf("lost files: %w", err)
	}
	var lost []LostFile
	for rows.Next() {
		var f LostFile
		if err := rows.Scan(&f.ID, &f.Key, &f.FileCode, &f.Instance, &f.State); err != nil {
			rows.Close()
			return nil, fmt.Errorf("lost files: %w", err)
		}
		lost = append(lost, f)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("lost files: %w", err)
	}
	for _, f := range lost {
		if err := s.tx(ctx, func(tx *sql.Tx) error { return s.requeue(ctx, tx, f, current, actor) }); err != nil {
			return nil, fmt.Errorf("queue application %d again: %w", f.ID, err)
		}
	}
	if len(lost) > 0 {
		s.anchorHead(ctx)
	}
	return lost, nil
}

func (s *Store) requeue(ctx context.Context, tx *sql.Tx, f LostFile, current, actor string) error {
	now := formatTime(s.now())
	res, err := tx.ExecContext(ctx, `UPDATE applications SET state = ?, file_code = NULL, portal_instance = '',
		last_error = ?, updated_at = ? WHERE id = ? AND state = ? AND portal_instance = ?`,
		string(application.Queued), "the portal no longer has it", now, f.ID, string(f.State), f.Instance)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return fmt.Errorf("application %d is no longer %s at portal %s", f.ID, f.State, f.Instance)
	}
	if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO old_file_codes (application_id, portal_instance, file_code,
		state, dropped_at) VALUES (?, ?, ?, ?, ?)`, f.ID, f.Instance, f.FileCode, string(f.State), now); err != nil {
		return err
	}
	// A new upload generation: the new portal has none of the old bytes.
	if _, err := tx.ExecContext(ctx, `INSERT INTO uploads (application_id, url, generation) VALUES (?, '', 2)
		ON CONFLICT (application_id) DO UPDATE SET url = '', generation = generation + 1, confirmed = 0, complete = 0`,
		f.ID); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM delivery_holds WHERE application_id = ?`, f.ID); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO outbox (application_id, topic, created_at) VALUES (?, ?, ?)`,
		f.ID, string(application.Queued), now); err != nil {
		return err
	}
	at, _ := parseTime(now)
	return appendAudit(ctx, tx, &audit.Event{At: at, ApplicationID: f.ID, Kind: audit.KindRedelivery,
		From: string(f.State), To: string(application.Queued), Actor: actor,
		Detail: fmt.Sprintf("portal %s no longer has it (portal %s answers now); old file_code=%s kept in history; queued again",
			f.Instance, current, f.FileCode)})
}

// OldFileCodes returns the file codes application id had at portal
// instances that no longer have it, oldest first.
func (s *Store) OldFileCodes(ctx context.Context, id int64) ([]OldFileCode, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT portal_instance, file_code, state, dropped_at FROM old_file_codes
		WHERE application_id = ? ORDER BY dropped_at, rowid`, id)
	if err != nil {
		return nil, fmt.Errorf("old file codes of application %d: %w", id, err)
	}
	defer rows.Close()
	var out []OldFileCode
	for rows.Next() {
		var c OldFileCode
		if err := rows.Scan(&c.Instance, &c.FileCode, &c.State, &c.DroppedAt); err != nil {
			return nil, fmt.Errorf("old file codes of application %d: %w", id, err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// RecordPortalEvent appends a kiosk-wide audit event (application 0) about
// the portal, such as its change of identity.
func (s *Store) RecordPortalEvent(ctx context.Context, actor, detail string) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		at, _ := parseTime(formatTime(s.now()))
		return appendAudit(ctx, tx, &audit.Event{At: at, Kind: audit.KindPortal, Actor: actor, Detail: detail})
	})
	if err != nil {
		return fmt.Errorf("record portal event: %w", err)
	}
	s.anchorHead(ctx)
	return nil
}
