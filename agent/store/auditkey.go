package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/motcua/motcua/agent/audit"
)

// auditKeySize is the size of the audit MAC key in bytes.
const auditKeySize = 32

// AuditKeyPath returns where the key that MACs the audit events of the
// database at path is kept: next to it, never in it, so that someone who
// holds only the database file cannot write an event that verifies.
func AuditKeyPath(path string) string { return path + ".audit-key" }

// readAuditKey reads the audit key at path; a missing file is (nil, nil).
func readAuditKey(path string) ([]byte, error) {
	key, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read audit key: %w", err)
	}
	if len(key) != auditKeySize {
		return nil, fmt.Errorf("read audit key %s: %d bytes, want %d", path, len(key), auditKeySize)
	}
	return key, nil
}

// loadOrCreateAuditKey returns the audit key at path, making one if there
// is none; created says this call made it. Several processes may race to
// make it: the key is written to a file of its own and linked into place,
// so exactly one wins and the others read the winner's key, whole.
func loadOrCreateAuditKey(path string) (key []byte, created bool, err error) {
	if key, err := readAuditKey(path); key != nil || err != nil {
		return key, false, err
	}
	key = make([]byte, auditKeySize)
	rand.Read(key)
	tmp, err := os.CreateTemp(dirOf(path), ".audit-key-*")
	if err != nil {
		return nil, false, fmt.Errorf("create audit key: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(key)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, false, fmt.Errorf("create audit key: %w", err)
	}
	if err := os.Link(tmp.Name(), path); errors.Is(err, fs.ErrExist) {
		key, err := readAuditKey(path)
		return key, false, err
	} else if err != nil {
		return nil, false, fmt.Errorf("create audit key: %w", err)
	}
	return key, true, nil
}

// macBackfill MACs the events written before the store had an audit key
// (a database from before MACs), once, right after the key is made: later,
// an event without a MAC is one that motcua did not write.
func (s *Store) macBackfill(ctx context.Context) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT seq, hash FROM audit_events
			WHERE seq NOT IN (SELECT seq FROM audit_macs) ORDER BY seq`)
		if err != nil {
			return err
		}
		type ev struct {
			seq  int64
			hash []byte
		}
		var evs []ev
		for rows.Next() {
			var e ev
			if err := rows.Scan(&e.seq, &e.hash); err != nil {
				rows.Close()
				return err
			}
			evs = append(evs, e)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, e := range evs {
			if _, err := tx.ExecContext(ctx, `INSERT INTO audit_macs (seq, mac) VALUES (?, ?)`, e.seq, audit.MAC(s.auditKey, e.hash)); err != nil {
				return err
			}
		}
		if len(evs) > 0 {
			s.log.Info("audit events written before the audit key were MACed", "events", len(evs))
		}
		return nil
	})
}
