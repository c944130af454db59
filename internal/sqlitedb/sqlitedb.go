// Package sqlitedb opens SQLite databases the way motcua keeps them safe
// from data loss: WAL journal, synchronous=FULL, foreign keys, a busy
// timeout and immediate transactions on every pooled connection, and a
// schema brought up to date by embedded, numbered migrations.
package sqlitedb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/motcua/motcua/internal/migration"

	"github.com/mattn/go-sqlite3" // also the "sqlite3" database/sql driver
)

var (
	// ErrSchemaTooNew is returned (wrapped) by Open for a database written
	// by a newer program.
	ErrSchemaTooNew = errors.New("database schema is newer than this program")
	// ErrNotWAL is returned (wrapped) by Open when SQLite refuses the WAL
	// journal, as on some network file systems.
	ErrNotWAL = errors.New("database cannot use the WAL journal")
	// ErrSchemaTooOld is returned (wrapped) by OpenReadOnly for a database
	// that a writing command has not yet brought up to date.
	ErrSchemaTooOld = errors.New("database schema is older than this program")
	// ErrDamaged is returned (wrapped) by OpenChecked for a database that
	// fails SQLite's quick_check.
	ErrDamaged = errors.New("database fails its integrity check")
)

// Open opens (creating if needed) the database file at path and applies the
// migrations in fsys (files named NNNN_name.sql, numbered from 1 without
// gaps) that it does not have yet.
func Open(ctx context.Context, path string, migrations fs.FS, log *slog.Logger) (*sql.DB, error) {
	return open(ctx, path, migrations, log, false)
}

// OpenChecked is Open for a program about to write: it runs SQLite's
// quick_check first and refuses a database that fails it (ErrDamaged, with
// SQLite's findings), before any migration or write makes the damage worse
// or buries it under new data.
func OpenChecked(ctx context.Context, path string, migrations fs.FS, log *slog.Logger) (*sql.DB, error) {
	return open(ctx, path, migrations, log, true)
}

func open(ctx context.Context, path string, migrations fs.FS, log *slog.Logger, check bool) (*sql.DB, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	if err := setWAL(ctx, path); err != nil {
		return nil, err
	}
	db, err := sql.Open("sqlite3", DSN(path))
	if err != nil {
		return nil, err
	}
	var mode string
	if err := db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		db.Close()
		return nil, fmt.Errorf("journal mode: %w", err)
	}
	if mode != "wal" {
		db.Close()
		return nil, fmt.Errorf("%w (journal_mode is %q)", ErrNotWAL, mode)
	}
	if check {
		if err := QuickCheck(ctx, db); err != nil {
			db.Close()
			return nil, err
		}
	}
	if err := migrate(ctx, db, migrations, log); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// setWAL switches the database at path (creating it if needed) to the WAL
// journal, which then stays with the file. Two processes switching a new
// database at once can each be told "database is locked" at once, without
// the busy timeout (waiting could deadlock), so the switch is tried again
// for as long as the busy timeout would wait.
func setWAL(ctx context.Context, path string) error {
	db, err := sql.Open("sqlite3", "file:"+escapePath(path)+"?_busy_timeout=10000")
	if err != nil {
		return err
	}
	defer db.Close()
	deadline := time.Now().Add(busyTimeout)
	for wait := time.Millisecond; ; wait = min(2*wait, 100*time.Millisecond) {
		var mode string
		err := db.QueryRowContext(ctx, "PRAGMA journal_mode = WAL").Scan(&mode)
		var se sqlite3.Error
		if err == nil || !errors.As(err, &se) || se.Code != sqlite3.ErrBusy || time.Now().After(deadline) {
			if err != nil {
				return fmt.Errorf("journal mode: %w", err)
			}
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("journal mode: %w", context.Cause(ctx))
		case <-time.After(wait):
		}
	}
}

// busyTimeout is how long a connection waits for another's lock.
const busyTimeout = 10 * time.Second

// DSN builds the go-sqlite3 connection string: every connection of the pool
// gets WAL, synchronous=FULL (a committed transaction survives a power cut),
// foreign keys, a busy timeout, and BEGIN IMMEDIATE for transactions so that
// writers queue for the lock at the start instead of failing at commit;
// and secure_delete, so that deleted or rewritten content (clear personal
// data sealed in place, purged records) is overwritten with zeros instead
// of lingering in free pages.
func DSN(path string) string {
	return "file:" + escapePath(path) + "?_journal_mode=WAL&_synchronous=FULL&_foreign_keys=1" +
		"&_busy_timeout=10000&_txlock=immediate&_secure_delete=on"
}

// OpenReadOnly opens the database file at path for reading only: no
// migration, no checkpoint, no write of any kind to the database or its WAL,
// whatever state they are in (SQLite's mode=ro; a read-only connection
// never checkpoints, not even the last one on close). A database that does
// not exist yet reads as an empty one with the schema of migrations, held in
// memory; nothing is created on disk.
func OpenReadOnly(ctx context.Context, path string, migrations fs.FS, log *slog.Logger) (*sql.DB, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ms, err := migration.Load(migrations)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		db, err := sql.Open("sqlite3", "file::memory:?_foreign_keys=1")
		if err != nil {
			return nil, err
		}
		// Each connection to :memory: is a database of its own: keep one.
		db.SetMaxOpenConns(1)
		if err := migrate(ctx, db, migrations, log); err != nil {
			db.Close()
			return nil, err
		}
		return db, nil
	} else if err != nil {
		return nil, err
	}
	db, err := sql.Open("sqlite3", ReadOnlyDSN(path))
	if err != nil {
		return nil, err
	}
	var have int
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&have); err != nil {
		db.Close()
		return nil, err
	}
	switch {
	case have > len(ms):
		db.Close()
		return nil, fmt.Errorf("%w: schema %d, this program knows up to %d", ErrSchemaTooNew, have, len(ms))
	case have < len(ms):
		db.Close()
		return nil, fmt.Errorf("%w: schema %d, this program reads %d; a command that writes (run, submit) updates it",
			ErrSchemaTooOld, have, len(ms))
	}
	return db, nil
}

// ReadOnlyDSN builds the connection string of a read-only connection:
// SQLite's mode=ro and query_only, so neither the database nor its WAL is
// written, and a busy timeout.
func ReadOnlyDSN(path string) string {
	return "file:" + escapePath(path) + "?mode=ro&_query_only=1&_foreign_keys=1&_busy_timeout=10000"
}

func escapePath(path string) string {
	return strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
}

// migrate applies the migrations above the database's user_version, each in
// its own transaction together with the new user_version. The version is
// read again inside each transaction, which holds the write lock: several
// processes opening a new database at once each apply only what the others
// have not, instead of all running the first migration.
func migrate(ctx context.Context, db *sql.DB, fsys fs.FS, log *slog.Logger) error {
	ms, err := migration.Load(fsys)
	if err != nil {
		return err
	}
	version := func(q interface {
		QueryRowContext(context.Context, string, ...any) *sql.Row
	}) (int, error) {
		var have int
		if err := q.QueryRowContext(ctx, "PRAGMA user_version").Scan(&have); err != nil {
			return 0, err
		}
		if have > len(ms) {
			return 0, fmt.Errorf("%w: schema %d, this program knows up to %d", ErrSchemaTooNew, have, len(ms))
		}
		return have, nil
	}
	// Up to date, the usual case: no write lock is taken.
	if have, err := version(db); err != nil || have == len(ms) {
		if err != nil {
			return fmt.Errorf("schema version: %w", err)
		}
		return nil
	}
	for {
		var applied *migration.File
		err := Tx(ctx, db, func(tx *sql.Tx) error {
			have, err := version(tx)
			if err != nil || have == len(ms) {
				return err
			}
			m := ms[have]
			if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
				return fmt.Errorf("migration %s: %w", m.Name, err)
			}
			if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", m.Version)); err != nil {
				return fmt.Errorf("migration %s: %w", m.Name, err)
			}
			applied = &m
			return nil
		})
		if err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		if applied == nil {
			return nil
		}
		log.Info("applied migration", "name", applied.Name)
	}
}

// Tx runs fn in a transaction (immediate, through the DSN), committing if
// it returns nil and rolling back otherwise.
func Tx(ctx context.Context, db *sql.DB, fn func(*sql.Tx) error) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// QuickCheck runs SQLite's quick_check: the structure of every page, in
// time linear in the database's size, without integrity_check's
// cross-checking of indexes. A failure wraps ErrDamaged and lists what
// SQLite found.
func QuickCheck(ctx context.Context, db *sql.DB) error {
	problems, err := pragmaProblems(ctx, db, "PRAGMA quick_check")
	if err != nil {
		return fmt.Errorf("quick_check: %w", err)
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: %s", ErrDamaged, strings.Join(problems, "; "))
	}
	return nil
}

// pragmaProblems runs an integrity pragma and returns its lines other than
// "ok".
func pragmaProblems(ctx context.Context, db *sql.DB, pragma string) ([]string, error) {
	rows, err := db.QueryContext(ctx, pragma)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var msg string
		if err := rows.Scan(&msg); err != nil {
			return nil, err
		}
		// SQLite reports several findings in one row, a line each, under
		// a heading naming the database.
		for _, line := range strings.Split(msg, "\n") {
			if line = strings.TrimSpace(line); line != "ok" && line != "" && !strings.HasPrefix(line, "*** in database ") {
				problems = append(problems, line)
			}
		}
	}
	return problems, rows.Err()
}

// IntegrityCheck runs SQLite's integrity_check and foreign_key_check.
func IntegrityCheck(ctx context.Context, db *sql.DB) error {
	problems, err := pragmaProblems(ctx, db, "PRAGMA integrity_check")
	if err != nil {
		return err
	}
	fk, err := db.QueryContext(ctx, "PRAGMA foreign_key_check")
	if err != nil {
		return err
	}
	for fk.Next() {
		problems = append(problems, "foreign key violation")
	}
	fk.Close()
	if len(problems) > 0 {
		return fmt.Errorf("integrity check failed: %s", strings.Join(problems, "; "))
	}
	return nil
}
