package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/motcua/motcua/agent/application"
	"github.com/motcua/motcua/agent/seal"
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

// Upload is where an application's resumable upload stands.
type Upload struct {
	URL string
	// Generation names the upload's attempt; a new generation starts from
	// zero under a new name.
	Generation int
	Confirmed  int64
	Complete   bool
	// Base is where the application's attachments begin in an upload
	// shared with other applications (generation 0), once all its bytes
	// are at the portal: its manifest names them there.
	Base int64
	// Block is the manifest block a shared upload starts with, kept so
	// that a resumed upload sends the very bytes it began with.
	Block []byte
}

// Upload returns the upload of application id, if one was started.
func (s *Store) Upload(ctx context.Context, id int64) (Upload, bool, error) {
	var u Upload
	err := s.db.QueryRowContext(ctx, `SELECT url, generation, confirmed, complete, base, manifests
		FROM uploads WHERE application_id = ?`, id).Scan(&u.URL, &u.Generation, &u.Confirmed, &u.Complete, &u.Base, &u.Block)
	if errors.Is(err, sql.ErrNoRows) {
		return u, false, nil
	}
	if err != nil {
		return u, false, fmt.Errorf("upload of application %d: %w", id, err)
	}
	if u.Block != nil && seal.Sealed(u.Block) {
		if u.Block, err = s.open(ctx, u.Block, blockPlace(id)); err != nil {
			return u, false, fmt.Errorf("upload of application %d: manifest block: %w: %w", id, ErrSealed, err)
		}
	}
	return u, true, nil
}

// SaveUpload records where application id's upload stands.
func (s *Store) SaveUpload(ctx context.Context, id int64, u Upload) error {
	// The manifest block holds the forms: it is sealed like them.
	if u.Block != nil {
		keys, err := s.keyring()
		if err != nil {
			return fmt.Errorf("save upload of application %d: %w: %w", id, ErrSealed, err)
		}
		u.Block = keys.Seal(u.Block, blockPlace(id)...)
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO uploads (application_id, url, generation, confirmed, complete, base, manifests)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (application_id) DO UPDATE SET url = excluded.url,
		generation = excluded.generation, confirmed = excluded.confirmed, complete = excluded.complete,
		base = excluded.base, manifests = excluded.manifests`,
		id, u.URL, u.Generation, u.Confirmed, u.Complete, u.Base, u.Block)
	if err != nil {
		return fmt.Errorf("save upload of application %d: %w", id, err)
	}
	return nil
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
	if changed {
		s.anchorHead(ctx)
	}
	return changed, nil
}

// SaveCatalog keeps a procedure catalog pulled from the portal.
func (s *Store) SaveCatalog(ctx context.Context, version string, data []byte) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO catalogs (version, data, fetched_at) VALUES (?, ?, ?)
		ON CONFLICT (version) DO NOTHING`, version, data, formatTime(s.now()))
	if err != nil {
		return fmt.Errorf("save catalog %s: %w", version, err)
	}
	return nil
}

// Catalogs returns the stored catalogs' data by version.
func (s *Store) Catalogs(ctx context.Context) (map[string][]byte, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT version, data FROM catalogs`)
	if err != nil {
		return nil, fmt.Errorf("catalogs: %w", err)
	}
	defer rows.Close()
	out := map[string][]byte{}
	for rows.Next() {
		var v string
		var b []byte
		if err := rows.Scan(&v, &b); err != nil {
			return nil, err
		}
		out[v] = b
	}
	return out, rows.Err()
}

// HoldDelivery keeps application id from delivery until until, as the
// portal asked (429 with Retry-After).
func (s *Store) HoldDelivery(ctx context.Context, id int64, until time.Time) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO delivery_holds (application_id, until) VALUES (?, ?)
		ON CONFLICT (application_id) DO UPDATE SET until = excluded.until`, id, formatTime(until))
	if err != nil {
		return fmt.Errorf("hold delivery of application %d: %w", id, err)
	}
	return nil
}

// DeliveryHolds returns, by application, the holds that end after now.
func (s *Store) DeliveryHolds(ctx context.Context, now time.Time) (map[int64]time.Time, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT application_id, until FROM delivery_holds`)
	if err != nil {
		return nil, fmt.Errorf("delivery holds: %w", err)
	}
	defer rows.Close()
	out := map[int64]time.Time{}
	for rows.Next() {
		var id int64
		var until string
		if err := rows.Scan(&id, &until); err != nil {
			return nil, fmt.Errorf("delivery holds: %w", err)
		}
		t, err := parseTime(until)
		if err != nil {
			return nil, fmt.Errorf("delivery hold of application %d: %w", id, err)
		}
		if t.After(now) {
			out[id] = t
		}
	}
	return out, rows.Err()
}
