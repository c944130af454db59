// Package store keeps applications in a local SQLite database that survives
// power cuts: WAL journal, synchronous=FULL, foreign keys, immediate
// transactions, embedded numbered migrations. Every state change writes, in
// the same transaction, an outbox row and a hash-chained audit event.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	_ "github.com/mattn/go-sqlite3" // the "sqlite3" database/sql driver
)

// Sentinel errors.
var (
	// ErrNotFound is returned (wrapped) for an application or attachment
	// that does not exist.
	ErrNotFound = errors.New("not found")
	// ErrDuplicateKey is returned (wrapped) when an idempotency key is
	// already taken.
	ErrDuplicateKey = errors.New("idempotency key already used")
	// ErrSchemaTooNew is returned (wrapped) by Open for a database written
	// by a newer motcua.
	ErrSchemaTooNew = errors.New("database schema is newer than this program")
	// ErrNotWAL is returned (wrapped) by Open when SQLite refuses the WAL
	// journal, as on some network file systems.
	ErrNotWAL = errors.New("database cannot use the WAL journal")
)

//go:embed migrations/*.sql
var migrations embed.FS

// Options configure a Store.
type Options struct {
	// Logger receives the store's logs; nil discards them.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Store is the agent's database.
type Store struct {
	db   *sql.DB
	log  *slog.Logger
	now  func() time.Time
	path string
}

// FileName is the database file's name inside the data directory.
const FileName = "motcua.db"

// Open opens (creating if needed) the database at path and brings its schema
// up to date.
func Open(ctx context.Context, path string, opts Options) (*Store, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	db, err := sql.Open("sqlite3", dsn(path))
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	s := &Store{db: db, log: opts.Logger, now: opts.Now, path: path}
	if err := s.init(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	return s, nil
}

// dsn builds the go-sqlite3 connection string: every connection of the pool
// gets WAL, synchronous=FULL (a committed transaction survives a power cut),
// foreign keys, a busy timeout, and BEGIN IMMEDIATE for transactions so that
// writers queue for the lock at the start instead of failing at commit.
func dsn(path string) string {
	esc := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
	return "file:" + esc + "?_journal_mode=WAL&_synchronous=FULL&_foreign_keys=1" +
		"&_busy_timeout=10000&_txlock=immediate"
}

func (s *Store) init(ctx context.Context) error {
	var mode string
	if err := s.db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return err
	}
	if mode != "wal" {
		return fmt.Errorf("%w (journal_mode is %q)", ErrNotWAL, mode)
	}
	return s.migrate(ctx)
}

type migration struct {
	version int
	name    string
	sql     string
}

func loadMigrations() ([]migration, error) {
	files, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, f := range files {
		base := filepath.Base(f)
		n, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
		if err != nil {
			return nil, fmt.Errorf("migration %s: name must start with its number", base)
		}
		b, err := migrations.ReadFile(f)
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: n, name: base, sql: string(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	for i, m := range out {
		if m.version != i+1 {
			return nil, fmt.Errorf("migrations must be numbered 1, 2, ... without gaps: %s", m.name)
		}
	}
	return out, nil
}

// SchemaVersion is the schema version this program writes.
func SchemaVersion() int {
	ms, _ := loadMigrations()
	return len(ms)
}

// migrate applies the migrations above the database's user_version, each in
// its own transaction together with the new user_version.
func (s *Store) migrate(ctx context.Context) error {
	ms, err := loadMigrations()
	if err != nil {
		return err
	}
	var have int
	if err := s.db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&have); err != nil {
		return err
	}
	if have > len(ms) {
		return fmt.Errorf("%w: schema %d, this program knows up to %d", ErrSchemaTooNew, have, len(ms))
	}
	for _, m := range ms[have:] {
		err := s.tx(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, m.sql); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", m.version))
			return err
		})
		if err != nil {
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
		s.log.Info("applied migration", "name", m.name)
	}
	return nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Path returns the database file's path.
func (s *Store) Path() string { return s.path }

// tx runs fn in an immediate transaction, committing if it returns nil.
func (s *Store) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// IntegrityCheck runs SQLite's integrity_check and foreign_key_check.
func (s *Store) IntegrityCheck(ctx context.Context) error {
	rows, err := s.db.QueryContext(ctx, "PRAGMA integrity_check")
	if err != nil {
		return err
	}
	var problems []string
	for rows.Next() {
		var msg string
		if err := rows.Scan(&msg); err != nil {
			rows.Close()
			return err
		}
		if msg != "ok" {
			problems = append(problems, msg)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	fk, err := s.db.QueryContext(ctx, "PRAGMA foreign_key_check")
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

func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func parseTime(s string) (time.Time, error) { return time.Parse(time.RFC3339Nano, s) }
