package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/motcua/motcua/agent/audit"
)

// VerifyAudit walks the whole audit log in order and checks its hash chain,
// then compares its head with the anchor kept outside the database. It
// returns the number of events verified; on a broken chain the error wraps
// audit.ErrBroken and names the first bad event, and on a log that ends
// before its anchor it wraps audit.ErrTailLost and says how many events
// are gone and the last application key known.
func (s *Store) VerifyAudit(ctx context.Context) (int64, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT e.seq, e.at, e.application_id, e.kind, e.from_state, e.to_state, e.actor,
		e.detail, e.prev_hash, e.hash, m.mac FROM audit_events e LEFT JOIN audit_macs m ON m.seq = e.seq ORDER BY e.seq`)
	if err != nil {
		return 0, fmt.Errorf("verify audit: %w", err)
	}
	defer rows.Close()
	v := audit.NewVerifier()
	for rows.Next() {
		var e audit.Event
		var at string
		var mac []byte
		if err := rows.Scan(&e.Seq, &at, &e.ApplicationID, &e.Kind, &e.From, &e.To, &e.Actor, &e.Detail,
			&e.PrevHash, &e.Hash, &mac); err != nil {
			return v.Count(), fmt.Errorf("verify audit: %w", err)
		}
		if e.At, err = parseTime(at); err != nil {
			return v.Count(), fmt.Errorf("verify audit: event %d: %w", e.Seq, err)
		}
		if err := v.Add(&e); err != nil {
			return v.Count(), err
		}
		if err := s.checkMAC(&e, mac); err != nil {
			return v.Count() - 1, err
		}
	}
	if err := rows.Err(); err != nil {
		return v.Count(), fmt.Errorf("verify audit: %w", err)
	}
	rows.Close()
	anchor, err := audit.ReadAnchor(s.anchor)
	if err != nil {
		return v.Count(), err
	}
	var hashErr error
	err = anchor.Check(v.Count(), func(seq int64) []byte {
		var h []byte
		hashErr = s.db.QueryRowContext(ctx, `SELECT hash FROM audit_events WHERE seq = ?`, seq).Scan(&h)
		return h
	})
	if hashErr != nil {
		return v.Count(), fmt.Errorf("verify audit: anchored event: %w", hashErr)
	}
	return v.Count(), err
}

// checkMAC checks event e's MAC against the store's audit key. With no key
// file, the events must have no MACs either (a database no writer has
// opened since MACs came); a key file lost since is said so.
func (s *Store) checkMAC(e *audit.Event, mac []byte) error {
	switch {
	case s.auditKey == nil && mac == nil:
		return nil
	case s.auditKey == nil:
		return fmt.Errorf("%w: event %d has a MAC but the audit key %s is missing", audit.ErrBroken, e.Seq, AuditKeyPath(s.path))
	case mac == nil:
		return fmt.Errorf("%w: event %d has no MAC: it was not written by motcua with this device's audit key", audit.ErrBroken, e.Seq)
	case !audit.CheckMAC(s.auditKey, e.Hash, mac):
		return fmt.Errorf("%w: event %d's MAC does not match: it was written or rewritten without this device's audit key", audit.ErrBroken, e.Seq)
	}
	return nil
}

// anchorHead records the audit log's head in the anchor file after a commit
// that appended events. It holds the database's write lock meanwhile, so
// that the anchors several processes write follow the log's order, and it
// never moves an anchor back: a database behind its anchor has lost its
// tail, and that must stay visible to audit verify and doctor. A failure
// is logged, not returned: the commit before it stands, and an anchor left
// behind is only a weaker check, never a false alarm.
func (s *Store) anchorHead(ctx context.Context) {
	// The commit is done: the anchor follows it even when ctx has ended.
	ctx = context.WithoutCancel(ctx)
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var head audit.Anchor
		err := tx.QueryRowContext(ctx, `SELECT e.seq, e.hash, e.application_id, COALESCE(a.idempotency_key, '')
			FROM audit_events e LEFT JOIN applications a ON a.id = e.application_id
			ORDER BY e.seq DESC LIMIT 1`).Scan(&head.Seq, &head.Hash, &head.ApplicationID, &head.IdempotencyKey)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		old, err := audit.ReadAnchor(s.anchor)
		if err != nil {
			return err
		}
		var hashErr error
		err = old.Check(head.Seq, func(seq int64) []byte {
			var h []byte
			hashErr = tx.QueryRowContext(ctx, `SELECT hash FROM audit_events WHERE seq = ?`, seq).Scan(&h)
			return h
		})
		switch {
		case hashErr != nil && !errors.Is(hashErr, sql.ErrNoRows):
			return hashErr
		case err != nil:
			return fmt.Errorf("anchor kept as it is: %w", err)
		case old != nil && old.Seq == head.Seq:
			return nil
		}
		return audit.WriteAnchor(s.anchor, head)
	})
	if err != nil {
		s.log.Error("audit anchor not updated", "anchor", s.anchor, "err", err)
	}
}

// Events returns the audit events of application id, in order.
func (s *Store) Events(ctx context.Context, id int64) ([]audit.Event, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT seq, at, application_id, kind, from_state, to_state, actor, detail,
		prev_hash, hash FROM audit_events WHERE application_id = ? ORDER BY seq`, id)
	if err != nil {
		return nil, fmt.Errorf("audit events of %d: %w", id, err)
	}
	return scanEvents(rows)
}

// EventsBetween returns the audit events of every application that
// happened from from to to, both included, in order.
func (s *Store) EventsBetween(ctx context.Context, from, to time.Time) ([]audit.Event, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT seq, at, application_id, kind, from_state, to_state, actor, detail,
		prev_hash, hash FROM audit_events ORDER BY seq`)
	if err != nil {
		return nil, fmt.Errorf("audit events: %w", err)
	}
	all, err := scanEvents(rows)
	if err != nil {
		return nil, fmt.Errorf("audit events: %w", err)
	}
	// Times are compared parsed: their text is not of fixed width.
	var out []audit.Event
	for _, e := range all {
		if !e.At.Before(from) && !e.At.After(to) {
			out = append(out, e)
		}
	}
	return out, nil
}

func scanEvents(rows *sql.Rows) ([]audit.Event, error) {
	defer rows.Close()
	var err error
	var out []audit.Event
	for rows.Next() {
		var e audit.Event
		var at string
		if err := rows.Scan(&e.Seq, &at, &e.ApplicationID, &e.Kind, &e.From, &e.To, &e.Actor, &e.Detail,
			&e.PrevHash, &e.Hash); err != nil {
			return nil, err
		}
		if e.At, err = parseTime(at); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// AuditHead returns the sequence number and hash of the audit log's last
// event; 0 and nil for an empty log.
func (s *Store) AuditHead(ctx context.Context) (int64, []byte, error) {
	var seq int64
	var hash []byte
	err := s.db.QueryRowContext(ctx, `SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1`).Scan(&seq, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil, nil
	}
	if err != nil {
		return 0, nil, fmt.Errorf("audit head: %w", err)
	}
	return seq, hash, nil
}
