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
	"time"

	"github.com/motcua/motcua/internal/sqlitedb"
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
	ErrSchemaTooNew = sqlitedb.ErrSchemaTooNew
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrations are the store's schema migrations, numbered from 1.
var migrations, _ = fs.Sub(migrationFiles, "migrations")

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
	db, err := sqlitedb.Open(ctx, path, migrations, opts.Logger)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	return &Store{db: db, log: opts.Logger, now: opts.Now, path: path}, nil
}

// SchemaVersion is the schema version this program writes.
func SchemaVersion() int { return sqlitedb.Version(migrations) }

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Path returns the database file's path.
func (s *Store) Path() string { return s.path }

// tx runs fn in an immediate transaction, committing if it returns nil.
func (s *Store) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	return sqlitedb.Tx(ctx, s.db, fn)
}

// IntegrityCheck runs SQLite's integrity_check and foreign_key_check.
func (s *Store) IntegrityCheck(ctx context.Context) error { return sqlitedb.IntegrityCheck(ctx, s.db) }

func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func parseTime(s string) (time.Time, error) { return time.Parse(time.RFC3339Nano, s) }
