package store

import (
	"context"
	"fmt"
	"time"
)

// OutboxItem is one pending state change for a consumer.
type OutboxItem struct {
	ID            int64
	ApplicationID int64
	Topic         string // the state the application moved to
	CreatedAt     time.Time
	Attempts      int
	LastError     string
}

// Pending returns up to limit pending outbox rows of topic, oldest first.
func (s *Store) Pending(ctx context.Context, topic string, limit int) ([]OutboxItem, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, application_id, topic, created_at, attempts, last_error
		FROM outbox WHERE topic = ? AND done_at IS NULL ORDER BY id LIMIT ?`, topic, limit)
	if err != nil {
		return nil, fmt.Errorf("outbox pending %s: %w", topic, err)
	}
	defer rows.Close()
	var out []OutboxItem
	for rows.Next() {
		var it OutboxItem
		var created string
		if err := rows.Scan(&it.ID, &it.ApplicationID, &it.Topic, &created, &it.Attempts, &it.LastError); err != nil {
			return nil, err
		}
		if it.CreatedAt, err = parseTime(created); err != nil {
			return nil, err
		}
		out = append(out, it)
	}
	return out, rows.Err()
}

// Settle marks done the pending outbox rows of topic for application id:
// its consumer has acted on them (the uplink, once the portal has the
// application or it is quarantined).
func (s *Store) Settle(ctx context.Context, id int64, topic string) error {
	_, err := s.db.ExecContext(ctx, `UPDATE outbox SET done_at = ? WHERE application_id = ? AND topic = ? AND done_at IS NULL`,
		formatTime(s.now()), id, topic)
	if err != nil {
		return fmt.Errorf("settle outbox of application %d: %w", id, err)
	}
	return nil
}

// Attempted records a failed attempt at the pending outbox rows of topic
// for application id.
func (s *Store) Attempted(ctx context.Context, id int64, topic, reason string) error {
	_, err := s.db.ExecContext(ctx, `UPDATE outbox SET attempts = attempts + 1, last_error = ?
		WHERE application_id = ? AND topic = ? AND done_at IS NULL`, reason, id, topic)
	if err != nil {
		return fmt.Errorf("record attempt for application %d: %w", id, err)
	}
	return nil
}
