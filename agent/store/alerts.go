package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/motcua/motcua/agent/audit"
)

// KindAlert is the audit event of an early-warning alert (application 0).
const KindAlert = "alert"

// AlertRecord is an early-warning alert as stored: a rule's threshold
// reached for one subject. Subject is whatever the caller recorded (a
// keyed hash for an ID number, never the number).
type AlertRecord struct {
	ID       int64
	Kind     string
	Subject  string
	Count    int
	Window   time.Duration
	FirstAt  time.Time
	RaisedAt time.Time
}

// RecordSignal records one signal of kind for subject now and, in the same
// transaction, counts those of the window before it: when they reach
// threshold and no alert for that kind and subject was raised within the
// window, it raises one, with its audit event (actor, no personal data),
// and returns it; otherwise it returns nil. Signals older than the window
// are dropped. Several processes may record at once: the transaction holds
// the write lock, so one alert is raised, not two.
func (s *Store) RecordSignal(ctx context.Context, kind, subject string, window time.Duration, threshold int, actor string) (*AlertRecord, error) {
	now := s.now().UTC()
	since := formatTime(now.Add(-window))
	var raised *AlertRecord
	err := s.tx(ctx, func(tx *sql.Tx) error {
		raised = nil
		if _, err := tx.ExecContext(ctx, `DELETE FROM alert_signals WHERE kind = ? AND at < ?`, kind, since); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO alert_signals (kind, subject, at) VALUES (?, ?, ?)`,
			kind, subject, formatTime(now)); err != nil {
			return err
		}
		var n int
		var first string
		if err := tx.QueryRowContext(ctx, `SELECT count(*), min(at) FROM alert_signals WHERE kind = ? AND subject = ? AND at >= ?`,
			kind, subject, since).Scan(&n, &first); err != nil {
			return err
		}
		if n < threshold {
			return nil
		}
		var last string
		err := tx.QueryRowContext(ctx, `SELECT raised_at FROM alerts WHERE kind = ? AND subject = ? AND raised_at >= ?
			ORDER BY raised_at DESC LIMIT 1`, kind, subject, since).Scan(&last)
		if err == nil {
			return nil // raised already within the window
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		a := &AlertRecord{Kind: kind, Subject: subject, Count: n, Window: window, RaisedAt: now}
		if a.FirstAt, err = parseTime(first); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO alerts (kind, subject, count, window_seconds, first_at, raised_at)
			VALUES (?, ?, ?, ?, ?, ?)`, kind, subject, n, int64(window/time.Second), first, formatTime(now))
		if err != nil {
			return err
		}
		if a.ID, err = res.LastInsertId(); err != nil {
			return err
		}
		detail, _ := json.Marshal(map[string]any{"alert": kind, "subject": subject, "count": n,
			"window_minutes": int64(window / time.Minute)})
		if err := s.appendAudit(ctx, tx, &audit.Event{At: now, Kind: KindAlert, Actor: actor, Detail: string(detail)}); err != nil {
			return err
		}
		raised = a
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("record %s signal: %w", kind, err)
	}
	if raised != nil {
		s.anchorHead(ctx)
	}
	return raised, nil
}

// Alerts returns the alerts raised at or after since, newest first.
func (s *Store) Alerts(ctx context.Context, since time.Time) ([]AlertRecord, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, kind, subject, count, window_seconds, first_at, raised_at
		FROM alerts WHERE raised_at >= ? ORDER BY raised_at DESC, id DESC`, formatTime(since))
	if err != nil {
		return nil, fmt.Errorf("alerts: %w", err)
	}
	defer rows.Close()
	var out []AlertRecord
	for rows.Next() {
		var a AlertRecord
		var secs int64
		var first, raised string
		if err := rows.Scan(&a.ID, &a.Kind, &a.Subject, &a.Count, &secs, &first, &raised); err != nil {
			return nil, fmt.Errorf("alerts: %w", err)
		}
		a.Window = time.Duration(secs) * time.Second
		if a.FirstAt, err = parseTime(first); err != nil {
			return nil, fmt.Errorf("alert %d: %w", a.ID, err)
		}
		if a.RaisedAt, err = parseTime(raised); err != nil {
			return nil, fmt.Errorf("alert %d: %w", a.ID, err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}
