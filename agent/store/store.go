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
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/motcua/motcua/agent/seal"
	"github.com/motcua/motcua/internal/migration"
	"github.com/motcua/motcua/internal/sqlitedb"
	"github.com/motcua/motcua/internal/writable"
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
	// ErrDamaged is returned (wrapped) by Open for a database that fails
	// its integrity check: nothing is written to it.
	ErrDamaged = sqlitedb.ErrDamaged
	// ErrAttachmentDamaged is returned (wrapped) for an attachment whose
	// stored bytes no longer match the SHA-256 recorded at capture.
	ErrAttachmentDamaged = errors.New("attachment damaged: its stored bytes do not match their SHA-256")
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
	db     *sql.DB
	log    *slog.Logger
	now    func() time.Time
	path   string
	anchor string // the audit anchor file: AnchorPath(path)
	// auditKey MACs each audit event (AuditKeyPath(path)); nil when a
	// read-only store finds none.
	auditKey []byte
	// keys seal and open personal data; keysErr, when keys is nil, says
	// why there are none (a read-only open without a KEK, a wrong KEK),
	// and every read or write of personal data fails with it.
	keys    atomic.Pointer[seal.Keyring]
	keysErr error
	kekPath string
}

// KEKPath returns where the key-encryption key of the database at path is
// kept: DATADIR/keys/kek.
func KEKPath(path string) string { return seal.KEKPath(filepath.Dir(path)) }

// FileName is the database file's name inside the data directory.
const FileName = "motcua.db"

// AnchorPath returns where the audit anchor of the database at path is
// kept: next to it, outside it, so that a database that lost its tail
// cannot also lose the record of how long it was.
func AnchorPath(path string) string { return path + ".audit-head" }

// Open opens (creating if needed) the database at path and brings its schema
// up to date, after SQLite's quick_check: a database that fails it is
// refused (ErrDamaged) before anything is written to it. It anchors the audit log's head if the anchor is missing or
// behind (a database from before anchors, a crash between a commit and its
// anchor).
func Open(ctx context.Context, path string, opts Options) (*Store, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	// A database this user cannot write is said so at once, by the file or
	// directory in the way, before SQLite falls back to reading it and the
	// first write fails with a less helpful error.
	base := filepath.Base(path)
	if err := writable.Check(filepath.Dir(path), base, base+"-wal", base+"-shm", filepath.Base(AnchorPath(path)), filepath.Base(AuditKeyPath(path))); err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	db, err := sqlitedb.OpenChecked(ctx, path, migrations, opts.Logger)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	s := &Store{db: db, log: opts.Logger, now: opts.Now, path: path, anchor: AnchorPath(path), kekPath: KEKPath(path)}
	keys, _, err := seal.Load(ctx, db, s.kekPath, true)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	s.keys.Store(keys)
	key, created, err := loadOrCreateAuditKey(AuditKeyPath(path))
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	s.auditKey = key
	if created {
		if err := s.macBackfill(ctx); err != nil {
			db.Close()
			return nil, fmt.Errorf("open store %s: MAC the audit log: %w", path, err)
		}
	}
	if err := s.sealClear(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	s.anchorHead(ctx)
	return s, nil
}

// OpenReadOnly opens the database at path for commands that only read
// (queue, show, audit verify, doctor): nothing is written, neither the
// database nor its WAL, which a damaged database needs kept as it is. A
// database not created yet reads as an empty one.
func OpenReadOnly(ctx context.Context, path string, opts Options) (*Store, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	db, err := sqlitedb.OpenReadOnly(ctx, path, migrations, opts.Logger)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	key, err := readAuditKey(AuditKeyPath(path))
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	s := &Store{db: db, log: opts.Logger, now: opts.Now, path: path, anchor: AnchorPath(path), auditKey: key, kekPath: KEKPath(path)}
	// Without its keys a store still lists its applications: only the
	// personal data stays shut, each read saying why.
	keys, _, err := seal.Load(ctx, db, s.kekPath, false)
	s.keys.Store(keys)
	s.keysErr = err
	return s, nil
}

// SchemaVersion is the schema version this program writes.
func SchemaVersion() int { return migration.Version(migrations) }

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
