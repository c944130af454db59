package seal

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/motcua/motcua/agent/i18n"
	"github.com/motcua/motcua/internal/sqlitedb"
)

// Schema is the table of wrapped data keys that a database using this
// package creates in its migrations.
const Schema = `CREATE TABLE data_keys (
	version    INTEGER PRIMARY KEY,
	kek_id     TEXT NOT NULL,
	wrapped    BLOB NOT NULL,
	created_at TEXT NOT NULL
) STRICT;`

// Code of the *i18n.Error for a wrong KEK.
const CodeWrongKEK = "wrong_kek"

type wrappedKey struct {
	version uint32
	kekID   string
	wrapped []byte
}

func readWrapped(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}) ([]wrappedKey, error) {
	rows, err := q.QueryContext(ctx, `SELECT version, kek_id, wrapped FROM data_keys ORDER BY version`)
	if err != nil {
		return nil, fmt.Errorf("read data keys: %w", err)
	}
	defer rows.Close()
	var out []wrappedKey
	for rows.Next() {
		var w wrappedKey
		if err := rows.Scan(&w.version, &w.kekID, &w.wrapped); err != nil {
			return nil, fmt.Errorf("read data keys: %w", err)
		}
		out = append(out, w)
	}
	return out, rows.Err()
}

// Load unwraps the data keys of db with the KEK at kekPath and returns the
// keyring, the newest key current. When create is true, a missing KEK
// file is made and a database without a data key gets its first one. A
// KEK rotation cut short (the new KEK at kekPath+".new") is finished or
// undone, whichever the database says.
func Load(ctx context.Context, db *sql.DB, kekPath string, create bool) (*Keyring, *KEK, error) {
	ws, err := readWrapped(ctx, db)
	if err != nil {
		return nil, nil, err
	}
	if len(ws) == 0 && !create {
		return nil, nil, fmt.Errorf("%w: the database has no data key yet", ErrNoDataKey)
	}
	// A KEK is made only for a database that has no data key yet: one
	// whose KEK went missing must get it back, not a new one.
	kek, err := LoadKEK(kekPath, create && len(ws) == 0)
	if errors.Is(err, ErrNoKEK) && len(ws) > 0 {
		return nil, nil, &i18n.Error{Code: CodeWrongKEK, Err: err,
			Msg: i18n.Tf("Thiếu khoá: không có %s, khoá đã bọc dữ liệu này (khoá %s); hãy khôi phục tệp khoá của máy này",
				"Missing key: %s, the key this data was wrapped with (key %s), does not exist; restore this machine's key file",
				kekPath, ws[0].kekID)}
	}
	if err != nil {
		return nil, nil, err
	}
	if len(ws) == 0 && create {
		if err := sqlitedb.Tx(ctx, db, func(tx *sql.Tx) error {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM data_keys`).Scan(&n); err != nil || n > 0 {
				return err
			}
			_, err := addDataKey(ctx, tx, kek, 1)
			return err
		}); err != nil {
			return nil, nil, fmt.Errorf("make the first data key: %w", err)
		}
		if ws, err = readWrapped(ctx, db); err != nil {
			return nil, nil, err
		}
	}
	if len(ws) == 0 {
		return nil, nil, fmt.Errorf("%w: the database has no data key yet", ErrNoDataKey)
	}
	if kek, err = settleRotation(kek, ws[0].kekID, create); err != nil {
		return nil, nil, err
	}
	keys := map[uint32][]byte{}
	for _, w := range ws {
		if w.kekID != kek.ID() {
			return nil, nil, wrongKEK(kek, w)
		}
		dk, err := kek.Unwrap(w.version, w.wrapped)
		if err != nil {
			return nil, nil, err
		}
		keys[w.version] = dk
	}
	r, err := NewKeyring(keys, ws[len(ws)-1].version)
	return r, kek, err
}

func wrongKEK(kek *KEK, w wrappedKey) error {
	return &i18n.Error{Code: CodeWrongKEK,
		Err: fmt.Errorf("%w: %s is key %s, data key %d is wrapped by key %s", ErrWrongKEK, kek.path, kek.ID(), w.version, w.kekID),
		Msg: i18n.Tf("Sai khoá: %s (khoá %s) không phải khoá đã bọc dữ liệu này (khoá %s); hãy khôi phục tệp khoá đúng của máy này",
			"Wrong key: %s (key %s) is not the key this data was wrapped with (key %s); restore this machine's own key file",
			kek.path, kek.ID(), w.kekID)}
}

// settleRotation finishes or undoes a KEK rotation cut short: when the
// data keys name the KEK at path+".new", it takes the place of the old
// one; when they name the old one, the new one is dropped. It never
// touches the files of a read-only open (write false).
func settleRotation(kek *KEK, wantID string, write bool) (*KEK, error) {
	next := kek.path + ".new"
	if _, err := os.Lstat(next); errors.Is(err, fs.ErrNotExist) {
		return kek, nil
	}
	if kek.ID() == wantID {
		if write {
			os.Remove(next)
		}
		return kek, nil
	}
	nk, err := LoadKEK(next, false)
	if err != nil || nk.ID() != wantID {
		return kek, nil // the wrong-key error follows, naming the file in place
	}
	if write {
		if err := os.Rename(next, kek.path); err != nil {
			return nil, fmt.Errorf("finish a key rotation: %w", err)
		}
		syncDir(filepath.Dir(kek.path))
	}
	nk.path = kek.path
	return nk, nil
}

func addDataKey(ctx context.Context, tx *sql.Tx, kek *KEK, v uint32) ([]byte, error) {
	dk := make([]byte, KeySize)
	rand.Read(dk)
	_, err := tx.ExecContext(ctx, `INSERT INTO data_keys (version, kek_id, wrapped, created_at) VALUES (?, ?, ?, ?)`,
		v, kek.ID(), kek.Wrap(v, dk), time.Now().UTC().Format(time.RFC3339))
	return dk, err
}

// RotateKEK makes a new KEK and wraps every data key of db under it, in
// one transaction; the records are not touched, so it is fast whatever
// their number. The new KEK is written next to the old one first and
// takes its place once the transaction commits (Load finishes a rotation
// cut short in between). It returns the new KEK's id.
func RotateKEK(ctx context.Context, db *sql.DB, kekPath string) (string, error) {
	old, err := LoadKEK(kekPath, false)
	if err != nil {
		return "", err
	}
	ws, err := readWrapped(ctx, db)
	if err != nil {
		return "", err
	}
	if len(ws) > 0 {
		if old, err = settleRotation(old, ws[0].kekID, true); err != nil {
			return "", err
		}
	}
	next := kekPath + ".new"
	nk := NewKEK(kekPath)
	os.Remove(next)
	if err := nk.WriteTo(next); err != nil {
		return "", err
	}
	err = sqlitedb.Tx(ctx, db, func(tx *sql.Tx) error {
		ws, err := readWrapped(ctx, tx)
		if err != nil {
			return err
		}
		for _, w := range ws {
			if w.kekID != old.ID() {
				return wrongKEK(old, w)
			}
			dk, err := old.Unwrap(w.version, w.wrapped)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE data_keys SET kek_id = ?, wrapped = ? WHERE version = ?`,
				nk.ID(), nk.Wrap(w.version, dk), w.version); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		os.Remove(next)
		return "", fmt.Errorf("rotate the key-encryption key: %w", err)
	}
	if err := os.Rename(next, kekPath); err != nil {
		return "", fmt.Errorf("rotate the key-encryption key: the data keys are wrapped by %s, which could not replace %s: %w", next, kekPath, err)
	}
	syncDir(filepath.Dir(kekPath))
	return nk.ID(), nil
}

// AddDataKey adds a new data key, the next version, inside tx and returns
// a keyring that seals under it and still opens under the older ones.
func AddDataKey(ctx context.Context, tx *sql.Tx, kek *KEK) (*Keyring, error) {
	ws, err := readWrapped(ctx, tx)
	if err != nil {
		return nil, err
	}
	keys := map[uint32][]byte{}
	var last uint32
	for _, w := range ws {
		dk, err := kek.Unwrap(w.version, w.wrapped)
		if err != nil {
			return nil, err
		}
		keys[w.version] = dk
		last = max(last, w.version)
	}
	dk, err := addDataKey(ctx, tx, kek, last+1)
	if err != nil {
		return nil, fmt.Errorf("add data key %d: %w", last+1, err)
	}
	keys[last+1] = dk
	return NewKeyring(keys, last+1)
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
