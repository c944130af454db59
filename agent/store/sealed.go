package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/motcua/motcua/agent/seal"
)

// sealAES is personal_data.seal for a row sealed by agent/seal; 'none'
// marks one written in clear before sealing (migration 0007 seals those).
const sealAES = "aes-256-gcm"

// ErrSealed is wrapped by the errors of personal data that cannot be
// opened: a sealed record that is corrupted or was moved from another row,
// or a store without its key.
var ErrSealed = errors.New("personal data cannot be opened")

// ErrPersonalDataDamaged is wrapped (with ErrSealed) by the errors of a
// sealed record whose bytes were changed or moved since capture: unlike a
// missing key, no key will open it again.
var ErrPersonalDataDamaged = errors.New("personal data damaged")

// KeysErr returns why the store cannot open the personal data it holds (a
// KEK missing, refused or another machine's), or nil. A store opened for
// writing has its keys or is not opened at all; one opened read-only says
// so here, and in every read of personal data.
func (s *Store) KeysErr() error {
	if s.keys.Load() != nil || errors.Is(s.keysErr, seal.ErrNoDataKey) {
		return nil // nothing sealed yet, nothing to open
	}
	return s.keysErr
}

// keyring returns the store's keys, or why it has none.
func (s *Store) keyring() (*seal.Keyring, error) {
	if k := s.keys.Load(); k != nil {
		return k, nil
	}
	if s.keysErr != nil {
		return nil, s.keysErr
	}
	return nil, seal.ErrNoDataKey
}

// pdPlace is where a personal_data field belongs: its application, its
// part and the field (name or data). Sealed records carry it as their
// additional data, so one moved to another row does not open.
func pdPlace(appID int64, part, field string) []string {
	return []string{"personal_data", seal.Place(appID), part, field}
}

// sealPD seals one field of application appID's personal data.
func (s *Store) sealPD(appID int64, part, field string, plain []byte) ([]byte, error) {
	keys, err := s.keyring()
	if err != nil {
		return nil, fmt.Errorf("application %d %s: %w: %w", appID, part, ErrSealed, err)
	}
	return keys.Seal(plain, pdPlace(appID, part, field)...), nil
}

// openPD opens one field of application appID's personal data, stored
// with the given seal. A field that does not open is an error wrapping
// ErrSealed that names the application and the part.
func (s *Store) openPD(ctx context.Context, appID int64, part, field, how string, b []byte) ([]byte, error) {
	if how == "none" {
		return b, nil
	}
	plain, err := s.open(ctx, b, pdPlace(appID, part, field))
	if errors.Is(err, seal.ErrBroken) {
		return nil, fmt.Errorf("application %d %s (%s): %w: %w: %w", appID, part, field, ErrSealed, ErrPersonalDataDamaged, err)
	}
	if err != nil {
		return nil, fmt.Errorf("application %d %s (%s): %w: %w", appID, part, field, ErrSealed, err)
	}
	return plain, nil
}

// open opens b sealed at place; a data key this store has not loaded (added
// since by `motcua keys rotate --data`) is looked for once more.
func (s *Store) open(ctx context.Context, b []byte, place []string) ([]byte, error) {
	keys, err := s.keyring()
	if err != nil {
		return nil, err
	}
	plain, err := keys.Open(b, place...)
	if errors.Is(err, seal.ErrNoDataKey) {
		if keys, _, lerr := seal.Load(ctx, s.db, s.kekPath, false); lerr == nil {
			s.keys.Store(keys)
			plain, err = keys.Open(b, place...)
		}
	}
	return plain, err
}

// sealClear seals, in one transaction, the personal data written in clear
// before sealing (migration 0007) and the manifest blocks kept for shared
// uploads, then truncates the WAL so that no clear page lingers there
// (secure_delete zeroes the ones freed in the database).
func (s *Store) sealClear(ctx context.Context) error {
	keys, err := s.keyring()
	if err != nil {
		return err
	}
	sealed := 0
	err = s.tx(ctx, func(tx *sql.Tx) error {
		sealed = 0
		n, err := s.sealRows(ctx, tx, keys, `seal = 'none'`)
		sealed += n
		if err != nil {
			return err
		}
		n, err = sealBlocks(ctx, tx, keys, func(b []byte) bool { return !seal.Sealed(b) }, nil)
		sealed += n
		return err
	})
	if err != nil {
		return fmt.Errorf("seal personal data stored in clear: %w", err)
	}
	if sealed > 0 {
		if _, err := s.db.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
			return fmt.Errorf("seal personal data stored in clear: checkpoint: %w", err)
		}
		s.log.Info("personal data stored in clear was sealed", "records", sealed)
	}
	return nil
}

// sealRows seals (again) the personal_data rows matching where under keys'
// current data key; rows already sealed are opened with old first.
func (s *Store) sealRows(ctx context.Context, tx *sql.Tx, keys *seal.Keyring, where string) (int, error) {
	type row struct {
		id, app    int64
		part, how  string
		name, data []byte
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, application_id, part, seal, name, data FROM personal_data WHERE `+where)
	if err != nil {
		return 0, err
	}
	var todo []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.id, &r.app, &r.part, &r.how, &r.name, &r.data); err != nil {
			rows.Close()
			return 0, err
		}
		todo = append(todo, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	for _, r := range todo {
		name, data := r.name, r.data
		if r.how != "none" {
			if name, err = s.openPD(ctx, r.app, r.part, "name", r.how, r.name); err != nil {
				return 0, err
			}
			if data, err = s.openPD(ctx, r.app, r.part, "data", r.how, r.data); err != nil {
				return 0, err
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE personal_data SET seal = ?, name = ?, data = ? WHERE id = ?`,
			sealAES, keys.Seal(name, pdPlace(r.app, r.part, "name")...), keys.Seal(data, pdPlace(r.app, r.part, "data")...), r.id); err != nil {
			return 0, err
		}
	}
	return len(todo), nil
}

// blockPlace is where an application's kept manifest block belongs.
func blockPlace(appID int64) []string { return []string{"uploads", seal.Place(appID), "manifests"} }

// sealBlocks seals the kept manifest blocks that want selects, opening a
// sealed one with old first.
func sealBlocks(ctx context.Context, tx *sql.Tx, keys *seal.Keyring, want func([]byte) bool, old *seal.Keyring) (int, error) {
	type row struct {
		app   int64
		block []byte
	}
	rows, err := tx.QueryContext(ctx, `SELECT application_id, manifests FROM uploads WHERE manifests IS NOT NULL`)
	if err != nil {
		return 0, err
	}
	var todo []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.app, &r.block); err != nil {
			rows.Close()
			return 0, err
		}
		if want(r.block) {
			todo = append(todo, r)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	for _, r := range todo {
		plain := r.block
		if seal.Sealed(r.block) {
			if plain, err = old.Open(r.block, blockPlace(r.app)...); err != nil {
				return 0, fmt.Errorf("application %d manifest block: %w: %w", r.app, ErrSealed, err)
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE uploads SET manifests = ? WHERE application_id = ?`,
			keys.Seal(plain, blockPlace(r.app)...), r.app); err != nil {
			return 0, err
		}
	}
	return len(todo), nil
}

// RotateKEK makes a new key-encryption key and wraps the data keys under
// it (`motcua keys rotate`): the records are not touched. It returns the
// new key's id.
func (s *Store) RotateKEK(ctx context.Context) (string, error) {
	id, err := seal.RotateKEK(ctx, s.db, s.kekPath)
	if err != nil {
		return "", err
	}
	s.log.Info("key-encryption key rotated", "kek", id)
	return id, nil
}

// RotateDataKey makes a new data key and seals all personal data under it
// again, in one transaction (`motcua keys rotate --data`). It returns the
// new data key's version and how many records were sealed again.
func (s *Store) RotateDataKey(ctx context.Context) (uint32, int, error) {
	old, err := s.keyring()
	if err != nil {
		return 0, 0, err
	}
	var keys *seal.Keyring
	n := 0
	err = s.tx(ctx, func(tx *sql.Tx) error {
		kek, err := seal.LoadKEK(s.kekPath, false)
		if err != nil {
			return err
		}
		if keys, err = seal.AddDataKey(ctx, tx, kek); err != nil {
			return err
		}
		s.keys.Store(keys)
		if n, err = s.sealRows(ctx, tx, keys, `1`); err != nil {
			return err
		}
		m, err := sealBlocks(ctx, tx, keys, func([]byte) bool { return true }, keys)
		n += m
		return err
	})
	if err != nil {
		s.keys.Store(old)
		return 0, 0, fmt.Errorf("rotate the data key: %w", err)
	}
	s.log.Info("data key rotated", "version", keys.Current(), "records", n)
	return keys.Current(), n, nil
}
