package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/mattn/go-sqlite3"

	"github.com/motcua/motcua/agent/audit"
)

// ErrDuplicateLogin is returned (wrapped) when a staff login is already
// taken.
var ErrDuplicateLogin = errors.New("staff login already used")

// StaffRecord is a staff member as stored. PINHash is the encoded argon2id
// hash agent/staff makes; the PIN itself is never stored.
type StaffRecord struct {
	ID          int64
	Login       string
	Name        string
	Role        string
	PINHash     string
	Disabled    bool
	Failures    int       // failed PINs since the last good one
	LockedUntil time.Time // zero: not locked
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

const staffColumns = `id, login, name, role, pin_hash, disabled, failures, locked_until, created_at, updated_at`

func scanStaff(sc interface{ Scan(...any) error }) (*StaffRecord, error) {
	var r StaffRecord
	var locked, created, updated string
	if err := sc.Scan(&r.ID, &r.Login, &r.Name, &r.Role, &r.PINHash, &r.Disabled, &r.Failures, &locked, &created, &updated); err != nil {
		return nil, err
	}
	var err error
	if locked != "" {
		if r.LockedUntil, err = parseTime(locked); err != nil {
			return nil, fmt.Errorf("staff %d: locked_until: %w", r.ID, err)
		}
	}
	if r.CreatedAt, err = parseTime(created); err != nil {
		return nil, fmt.Errorf("staff %d: created_at: %w", r.ID, err)
	}
	if r.UpdatedAt, err = parseTime(updated); err != nil {
		return nil, fmt.Errorf("staff %d: updated_at: %w", r.ID, err)
	}
	return &r, nil
}

// AddStaff stores staff member r (its ID, counters and times are set
// here) together with audit event e, in one transaction, and returns the
// new member's id. A login already taken wraps ErrDuplicateLogin.
func (s *Store) AddStaff(ctx context.Context, r StaffRecord, e audit.Event) (int64, error) {
	now := s.now()
	var id int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO staff (login, name, role, pin_hash, disabled, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, r.Login, r.Name, r.Role, r.PINHash, r.Disabled, formatTime(now), formatTime(now))
		if err != nil {
			var se sqlite3.Error
			if errors.As(err, &se) && se.ExtendedCode == sqlite3.ErrConstraintUnique {
				return fmt.Errorf("%w: %q", ErrDuplicateLogin, r.Login)
			}
			return err
		}
		if id, err = res.LastInsertId(); err != nil {
			return err
		}
		e.At = now
		return s.appendAudit(ctx, tx, &e)
	})
	if err != nil {
		return 0, fmt.Errorf("add staff %q: %w", r.Login, err)
	}
	s.anchorHead(ctx)
	return id, nil
}

// StaffByLogin returns the staff member with login; ErrNotFound (wrapped)
// when there is none.
func (s *Store) StaffByLogin(ctx context.Context, login string) (*StaffRecord, error) {
	r, err := scanStaff(s.db.QueryRowContext(ctx, `SELECT `+staffColumns+` FROM staff WHERE login = ?`, login))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("staff %q: %w", login, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("staff %q: %w", login, err)
	}
	return r, nil
}

// ListStaff returns every staff member, disabled ones included, by login.
func (s *Store) ListStaff(ctx context.Context) ([]StaffRecord, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+staffColumns+` FROM staff ORDER BY login`)
	if err != nil {
		return nil, fmt.Errorf("list staff: %w", err)
	}
	defer rows.Close()
	var out []StaffRecord
	for rows.Next() {
		r, err := scanStaff(rows)
		if err != nil {
			return nil, fmt.Errorf("list staff: %w", err)
		}
		out = append(out, *r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list staff: %w", err)
	}
	return out, nil
}

// UpdateStaff writes staff member r's name, role, PIN hash, disabled flag,
// failures and lockout, together with audit event e, in one transaction.
func (s *Store) UpdateStaff(ctx context.Context, r StaffRecord, e audit.Event) error {
	now := s.now()
	locked := ""
	if !r.LockedUntil.IsZero() {
		locked = formatTime(r.LockedUntil)
	}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE staff SET name = ?, role = ?, pin_hash = ?, disabled = ?, failures = ?,
			locked_until = ?, updated_at = ? WHERE id = ?`, r.Name, r.Role, r.PINHash, r.Disabled, r.Failures, locked,
			formatTime(now), r.ID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return errors.Join(err, ErrNotFound)
		}
		e.At = now
		return s.appendAudit(ctx, tx, &e)
	})
	if err != nil {
		return fmt.Errorf("update staff %d: %w", r.ID, err)
	}
	s.anchorHead(ctx)
	return nil
}

// StaffFailure counts one failed PIN of staff member id in one
// transaction with its audit event e: the failures go up by one and, when
// they reach limit, the member is locked until now+lockFor. It returns
// the failures counted and the lockout (zero when not locked). Counting
// in SQL, not from a value read before, keeps two windows from losing a
// failure.
func (s *Store) StaffFailure(ctx context.Context, id int64, limit int, lockFor time.Duration, e audit.Event) (int, time.Time, error) {
	now := s.now()
	var failures int
	var until time.Time
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `UPDATE staff SET failures = failures + 1, updated_at = ? WHERE id = ?
			RETURNING failures`, formatTime(now), id).Scan(&failures); err != nil {
			return err
		}
		until = time.Time{}
		if failures >= limit {
			until = now.Add(lockFor)
			if _, err := tx.ExecContext(ctx, `UPDATE staff SET locked_until = ? WHERE id = ?`, formatTime(until), id); err != nil {
				return err
			}
		}
		e.At = now
		return s.appendAudit(ctx, tx, &e)
	})
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrNotFound
	}
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("staff %d failed PIN: %w", id, err)
	}
	s.anchorHead(ctx)
	return failures, until, nil
}

// AppendAudit appends event e (its time set to now) to the audit log in
// a transaction of its own: for what changes no row, such as a staff
// login or a staff member viewing an application.
func (s *Store) AppendAudit(ctx context.Context, e audit.Event) error {
	e.At = s.now()
	if err := s.tx(ctx, func(tx *sql.Tx) error { return s.appendAudit(ctx, tx, &e) }); err != nil {
		return fmt.Errorf("audit %s: %w", e.Kind, err)
	}
	s.anchorHead(ctx)
	return nil
}
