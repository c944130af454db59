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
	lost, err := s.unfinished(ctx, `portal_instance NOT IN ('', ?)`, current)
	if err != nil {
		return nil, err
	}
	reason := "portal %s no longer has it (portal " + current + " answers now)"
	return s.requeueAll(ctx, lost, current, actor, reason)
}

// RequeueMissing puts back in the queue every application that portal
// instance current had filed and had not finished, and whose idempotency
// key is not in known: the portal's records were rolled back (restored from
// an older backup) and no longer have it. Like RequeueLost, it keeps the
// old codes and says so in the audit log.
func (s *Store) RequeueMissing(ctx context.Context, current string, known map[string]bool, actor string) ([]LostFile, error) {
	all, err := s.unfinished(ctx, `portal_instance = ?`, current)
	if err != nil {
		return nil, err
	}
	var lost []LostFile
	for _, f := range all {
		if !known[f.Key] {
			lost = append(lost, f)
		}
	}
	return s.requeueAll(ctx, lost, current, actor, "portal %s rolled back its records and no longer has it")
}

// unfinished returns the applications filed and not finished (received,
// in review, needing more) whose portal instance matches where (one
// argument).
func (s *Store) unfinished(ctx context.Context, where, arg string) ([]LostFile, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, idempotency_key, COALESCE(file_code, ''), portal_instance, state
		FROM applications WHERE `+where+` AND state IN (?, ?, ?) ORDER BY id`,
		arg, string(application.Received), string(application.InReview), string(application.NeedsMore))
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
	return lost, nil
}

// requeueAll queues lost again, one transaction each; reason, with the
// old instance for %s, goes to the audit log.
func (s *Store) requeueAll(ctx context.Context, lost []LostFile, current, actor, reason string) ([]LostFile, error) {
	for _, f := range lost {
		detail := fmt.Sprintf(reason, f.Instance) + "; old file_code=" + f.FileCode + " kept in history; queued again"
		if err := s.tx(ctx, func(tx *sql.Tx) error { return s.requeue(ctx, tx, f, detail, actor) }); err != nil {
			return nil, fmt.Errorf("queue application %d again: %w", f.ID, err)
		}
	}
	if len(lost) > 0 {
		s.anchorHead(ctx)
	}
	return lost, nil
}

func (s *Store) requeue(ctx context.Context, tx *sql.Tx, f LostFile, detail, actor string) error {
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
		ON CONFLICT (application_id) DO UPDATE SET url = '', generation = generation + 1, confirmed = 0, complete = 0,
		base = 0, manifests = NULL`,
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
	return s.appendAudit(ctx, tx, &audit.Event{At: at, ApplicationID: f.ID, Kind: audit.KindRedelivery,
		From: string(f.State), To: string(application.Queued), Actor: actor, Detail: detail})
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

// AllOldFileCodes returns the old file codes (see OldFileCodes) of every
// application that has any, by application id, oldest first.
func (s *Store) AllOldFileCodes(ctx context.Context) (map[int64][]OldFileCode, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT application_id, portal_instance, file_code, state, dropped_at
		FROM old_file_codes ORDER BY application_id, dropped_at, rowid`)
	if err != nil {
		return nil, fmt.Errorf("old file codes: %w", err)
	}
	defer rows.Close()
	out := map[int64][]OldFileCode{}
	for rows.Next() {
		var id int64
		var c OldFileCode
		if err := rows.Scan(&id, &c.Instance, &c.FileCode, &c.State, &c.DroppedAt); err != nil {
			return nil, fmt.Errorf("old file codes: %w", err)
		}
		out[id] = append(out[id], c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("old file codes: %w", err)
	}
	return out, nil
}

// RecordPortalEvent appends a kiosk-wide audit event (application 0) about
// the portal, such as its change of identity.
func (s *Store) RecordPortalEvent(ctx context.Context, actor, detail string) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		at, _ := parseTime(formatTime(s.now()))
		return s.appendAudit(ctx, tx, &audit.Event{At: at, Kind: audit.KindPortal, Actor: actor, Detail: detail})
	})
	if err != nil {
		return fmt.Errorf("record portal event: %w", err)
	}
	s.anchorHead(ctx)
	return nil
}
