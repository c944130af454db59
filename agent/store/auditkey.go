package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/motcua/motcua/agent/audit"
	"github.com/motcua/motcua/internal/keyfile"
)

// auditKeySize is the size of the audit MAC key in bytes.
const auditKeySize = 32

// AuditKeyPath returns where the key that MACs the audit events of the
// database at path is kept: next to it, never in it, so that someone who
// holds only the database file cannot write an event that verifies.
func AuditKeyPath(path string) string { return path + ".audit-key" }

// readAuditKey reads the audit key at path; a missing file is (nil, nil).
func readAuditKey(path string) ([]byte, error) {
	key, err := keyfile.Read(path, auditKeySize)
	if err != nil {
		return nil, fmt.Errorf("audit key: %w", err)
	}
	return key, nil
}

// loadOrCreateAuditKey returns the audit key at path, making one if there
// is none; created says this call made it.
func loadOrCreateAuditKey(path string) ([]byte, bool, error) {
	key, created, err := keyfile.LoadOrCreate(path, auditKeySize)
	if err != nil {
		return nil, false, fmt.Errorf("audit key: %w", err)
	}
	return key, created, nil
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
