package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/motcua/motcua/agent/application"
)

// Setting returns the value of a device setting, or "" when unset.
func (s *Store) Setting(ctx context.Context, key string) (string, error) {
	var v string
	err := s.db.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("setting %s: %w", key, err)
	}
	return v, nil
}

// SetSetting stores a device setting.
func (s *Store) SetSetting(ctx context.Context, key, value string) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES (?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value)
	if err != nil {
		return fmt.Errorf("set setting %s: %w", key, err)
	}
	return nil
}

// Upload is where one attachment's resumable upload stands.
type Upload struct {
	URL       string
	Confirmed int64
	Complete  bool
}

// Upload returns the upload of attachment id, if one was started.
func (s *Store) Upload(ctx context.Context, attachmentID int64) (Upload, bool, error) {
	var u Upload
	err := s.db.QueryRowContext(ctx, `SELECT url, confirmed, complete FROM uploads WHERE attachment_id = ?`,
		attachmentID).Scan(&u.URL, &u.Confirmed, &u.Complete)
	if errors.Is(err, sql.ErrNoRows) {
		return u, false, nil
	}
	if err != nil {
		return u, false, fmt.Errorf("upload of attachment %d: %w", attachmentID, err)
	}
	return u, true, nil
}

// SaveUpload records where attachment id's upload stands.
func (s *Store) SaveUpload(ctx context.Context, attachmentID int64, u Upload) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO uploads (attachment_id, url, confirmed, complete) VALUES (?, ?, ?, ?)
		ON CONFLICT (attachment_id) DO UPDATE SET url = excluded.url, confirmed = excluded.confirmed,
		complete = excluded.complete`, attachmentID, u.URL, u.Confirmed, u.Complete)
	if err != nil {
		return fmt.Errorf("save upload of attachment %d: %w", attachmentID, err)
	}
	return nil
}

// ForgetUpload drops attachment id's upload, so it starts again from zero.
func (s *Store) ForgetUpload(ctx context.Context, attachmentID int64) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM uploads WHERE attachment_id = ?`, attachmentID)
	return err
}

// ApplyPortalState moves the application with the given idempotency key to
// state to, through the states in between when the portal skipped some (a
// file still marked sending here that the portal reports done). It records
// fileCode when given. An application already in state to is left alone;
// one that cannot reach it is an error wrapping
// application.ErrIllegalTransition.
func (s *Store) ApplyPortalState(ctx context.Context, key string, to application.State, c Change) (changed bool, err error) {
	err = s.tx(ctx, func(tx *sql.Tx) error {
		var id int64
		var from string
		err := tx.QueryRowContext(ctx, `SELECT id, state FROM applications WHERE idempotency_key = ?`, key).Scan(&id, &from)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("idempotency key %s: %w", key, ErrNotFound)
		}
		if err != nil {
			return err
		}
		if application.State(from) == to {
			return nil
		}
		path := application.Path(application.State(from), to)
		if path == nil {
			return fmt.Errorf("%w: %s -> %s", application.ErrIllegalTransition, from, to)
		}
		at := application.State(from)
		for _, next := range path {
			if err := s.transition(ctx, tx, id, at, next, c); err != nil {
				return err
			}
			at = next
		}
		changed = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("apply portal state %s to %s: %w", to, key, err)
	}
	return changed, nil
}
