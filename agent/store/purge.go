package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/motcua/motcua/agent/application"
	"github.com/motcua/motcua/agent/audit"
)

// KindPurge is the audit event of an application whose personal data was
// purged after the retention window.
const KindPurge = "purge"

// Purgeable is an application whose personal data the retention window
// lets go: the portal reported it done or rejected before the cut-off.
type Purgeable struct {
	ID             int64
	IdempotencyKey string
	ProcedureID    string
	State          application.State
	// Closed is when the portal's final state was recorded.
	Closed time.Time
	// Parts and Bytes count its personal data rows and their bytes.
	Parts int
	Bytes int64
}

// Purgeable lists the applications done or rejected at or before cutoff
// whose personal data is still kept, oldest first. It reads no personal
// data, only its size.
func (s *Store) Purgeable(ctx context.Context, cutoff time.Time) ([]Purgeable, error) {
	return purgeable(ctx, s.db, cutoff)
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func purgeable(ctx context.Context, q querier, cutoff time.Time) ([]Purgeable, error) {
	// updated_at is when the application reached its final state: done and
	// rejected have no transition out. Its text compares as its time to the
	// second (RFC 3339 trims a fraction's zeros), which a window of days
	// does not notice.
	rows, err := q.QueryContext(ctx, `SELECT a.id, a.idempotency_key, a.procedure_id, a.state, a.updated_at,
		count(p.id), COALESCE(sum(length(p.data) + length(p.name)), 0)
		FROM applications a LEFT JOIN personal_data p ON p.application_id = a.id
		WHERE a.purged_at = '' AND a.state IN (?, ?) AND a.updated_at <= ?
		GROUP BY a.id ORDER BY a.updated_at, a.id`,
		string(application.Done), string(application.Rejected), formatTime(cutoff))
	if err != nil {
		return nil, fmt.Errorf("list purgeable applications: %w", err)
	}
	defer rows.Close()
	var out []Purgeable
	for rows.Next() {
		var p Purgeable
		var state, closed string
		if err := rows.Scan(&p.ID, &p.IdempotencyKey, &p.ProcedureID, &state, &closed, &p.Parts, &p.Bytes); err != nil {
			return nil, fmt.Errorf("list purgeable applications: %w", err)
		}
		p.State = application.State(state)
		if p.Closed, err = parseTime(closed); err != nil {
			return nil, fmt.Errorf("application %d: updated_at: %w", p.ID, err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// Purge removes the personal data of every application done or rejected
// at or before cutoff: its form and its attachments' names and bytes are
// overwritten with zeros, then deleted, with SQLite's secure_delete on so
// that the freed pages are zeroed too; one audit event per application
// (actor, the retention in days in its detail) records it in the same
// transaction. The application rows stay, without personal data, for
// statistics. Then the database is vacuumed and its WAL checkpointed and
// truncated, so no copy of the bytes is left in free pages or the WAL.
func (s *Store) Purge(ctx context.Context, cutoff time.Time, days int, actor string) ([]Purgeable, error) {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("purge: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `PRAGMA secure_delete = ON`); err != nil {
		return nil, fmt.Errorf("purge: secure_delete: %w", err)
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("purge: %w", err)
	}
	defer tx.Rollback()
	list, err := purgeable(ctx, tx, cutoff)
	if err != nil {
		return nil, err
	}
	now := formatTime(s.now())
	at, _ := parseTime(now)
	for _, p := range list {
		if _, err := tx.ExecContext(ctx, `UPDATE personal_data SET data = zeroblob(length(data)), name = zeroblob(length(name))
			WHERE application_id = ?`, p.ID); err != nil {
			return nil, fmt.Errorf("purge application %d: overwrite: %w", p.ID, err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM personal_data WHERE application_id = ?`, p.ID); err != nil {
			return nil, fmt.Errorf("purge application %d: %w", p.ID, err)
		}
		// A shared upload's manifest block holds forms too.
		if _, err := tx.ExecContext(ctx, `DELETE FROM uploads WHERE application_id = ?`, p.ID); err != nil {
			return nil, fmt.Errorf("purge application %d: upload: %w", p.ID, err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE applications SET purged_at = ? WHERE id = ?`, now, p.ID); err != nil {
			return nil, fmt.Errorf("purge application %d: %w", p.ID, err)
		}
		detail, _ := json.Marshal(map[string]any{"retention_days": days, "closed": formatTime(p.Closed),
			"parts": p.Parts, "bytes": p.Bytes})
		if err := s.appendAudit(ctx, tx, &audit.Event{At: at, ApplicationID: p.ID, Kind: KindPurge,
			From: string(p.State), To: string(p.State), Actor: actor, Detail: string(detail)}); err != nil {
			return nil, fmt.Errorf("purge application %d: %w", p.ID, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("purge: %w", err)
	}
	if len(list) == 0 {
		return nil, nil
	}
	s.anchorHead(ctx)
	if _, err := conn.ExecContext(ctx, `VACUUM`); err != nil {
		return list, fmt.Errorf("purge: vacuum: %w", err)
	}
	// A reader in another process can hold the checkpoint back: the WAL
	// then keeps the vacuum's frames (zeros where the data was, but the
	// overwritten pages too) until the next checkpoint passes it.
	var busy, frames, done int
	if err := conn.QueryRowContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &frames, &done); err != nil {
		return list, fmt.Errorf("purge: checkpoint: %w", err)
	}
	if busy != 0 {
		s.log.Warn("purge: another process held the WAL checkpoint back; the WAL is emptied at the next checkpoint",
			"wal_frames", frames, "checkpointed", done)
	}
	s.log.Info("personal data purged", "applications", len(list), "retention_days", days)
	return list, nil
}

// Retention is how long personal data is kept once the portal has closed a
// file.
func Retention(days int) time.Duration { return time.Duration(days) * 24 * time.Hour }
