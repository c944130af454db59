package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/motcua/motcua/agent/application"
)

// DeliveryFailures is how an application's delivery has been failing. A
// retry updates it instead of writing an audit event and an outbox row, so
// an application that fails for days does not grow the audit log.
type DeliveryFailures struct {
	// Attempts counts the failed deliveries since the last success.
	Attempts int
	// ServerErrors counts the portal's server errors in a row on the
	// application's current upload.
	ServerErrors int
	// FailingSince is when the portal's server errors began; zero when the
	// last attempt ended otherwise.
	FailingSince time.Time
	LastError    string
	LastAt       time.Time
}

// DeliveryFailures returns how application id's delivery has been failing;
// the zero value when it has not.
func (s *Store) DeliveryFailures(ctx context.Context, id int64) (DeliveryFailures, error) {
	var f DeliveryFailures
	var since, last string
	err := s.db.QueryRowContext(ctx, `SELECT attempts, server_errors, failing_since, last_error, last_at
		FROM delivery_failures WHERE application_id = ?`, id).Scan(&f.Attempts, &f.ServerErrors, &since, &f.LastError, &last)
	if errors.Is(err, sql.ErrNoRows) {
		return DeliveryFailures{}, nil
	}
	if err != nil {
		return f, fmt.Errorf("delivery failures of application %d: %w", id, err)
	}
	if since != "" {
		if f.FailingSince, err = parseTime(since); err != nil {
			return f, fmt.Errorf("delivery failures of application %d: %w", id, err)
		}
	}
	if f.LastAt, err = parseTime(last); err != nil {
		return f, fmt.Errorf("delivery failures of application %d: %w", id, err)
	}
	return f, nil
}

// RecordDeliveryFailure stores f as application id's delivery failures
// and, in the same transaction, counts the attempt on its pending outbox
// rows of topic and keeps f.LastError as the application's last error. It
// writes no audit event: the state change that began the failures did.
func (s *Store) RecordDeliveryFailure(ctx context.Context, id int64, topic string, f DeliveryFailures) error {
	since := ""
	if !f.FailingSince.IsZero() {
		since = formatTime(f.FailingSince)
	}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO delivery_failures
			(application_id, attempts, server_errors, failing_since, last_error, last_at) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (application_id) DO UPDATE SET attempts = excluded.attempts, server_errors = excluded.server_errors,
			failing_since = excluded.failing_since, last_error = excluded.last_error, last_at = excluded.last_at`,
			id, f.Attempts, f.ServerErrors, since, f.LastError, formatTime(f.LastAt)); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE outbox SET attempts = attempts + 1, last_error = ?
			WHERE application_id = ? AND topic = ? AND done_at IS NULL`, f.LastError, id, topic); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE applications SET last_error = ? WHERE id = ?`, f.LastError, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("record delivery failure of application %d: %w", id, err)
	}
	return nil
}

// ClearDeliveryFailures forgets application id's delivery failures, once
// it is delivered.
func (s *Store) ClearDeliveryFailures(ctx context.Context, id int64) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM delivery_failures WHERE application_id = ?`, id); err != nil {
		return fmt.Errorf("clear delivery failures of application %d: %w", id, err)
	}
	return nil
}

// TransitionVia moves application id to state to through the states in
// between (queued -> sending -> received for an application retried
// without leaving queued), one audit event and outbox row for each, in one
// transaction.
func (s *Store) TransitionVia(ctx context.Context, id int64, to application.State, c Change) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var from string
		err := tx.QueryRowContext(ctx, `SELECT state FROM applications WHERE id = ?`, id).Scan(&from)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("application %d: %w", id, ErrNotFound)
		}
		if err != nil {
			return err
		}
		path := application.Path(application.State(from), to)
		if path == nil {
			return fmt.Errorf("%w: %s -> %s", application.ErrIllegalTransition, from, to)
		}
		at := application.State(from)
		for _, next := range path {
			step := c
			if next != to {
				step = Change{Actor: c.Actor}
			}
			if err := s.transition(ctx, tx, id, at, next, step); err != nil {
				return err
			}
			at = next
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("transition application %d to %s: %w", id, to, err)
	}
	s.anchorHead(ctx)
	s.log.Info("application state changed", "id", id, "to", to, "actor", c.Actor)
	return nil
}
