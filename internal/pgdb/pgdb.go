// Package pgdb opens PostgreSQL databases for motcua the way
// internal/sqlitedb opens SQLite ones: through database/sql (the pgx v5
// driver), with a schema brought up to date by embedded, numbered
// migrations. Queries keep SQLite's '?' placeholders: the connections this
// package makes rewrite them to PostgreSQL's $1, $2, ..., so code written
// for *sql.DB runs unchanged on either engine.
package pgdb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"log/slog"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/motcua/motcua/internal/migration"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

var (
	// ErrBadURL is returned (wrapped) by Open for a database URL that is
	// not a postgres:// URL pgx can parse.
	ErrBadURL = errors.New("not a PostgreSQL database URL")
	// ErrUnreachable is returned (wrapped) by Open when the server does
	// not answer or refuses the connection (no server, wrong password, no
	// such database).
	ErrUnreachable = errors.New("cannot connect to the PostgreSQL server")
	// ErrSchemaTooNew is returned (wrapped) by Open for a database written
	// by a newer program.
	ErrSchemaTooNew = errors.New("database schema is newer than this program")
)

// DefaultMaxConns caps the connections one *sql.DB opens to the server,
// unless the URL says otherwise with pool_max_conns (as pgxpool reads it).
const DefaultMaxConns = 20

// connectTimeout bounds one connection attempt when the URL does not set
// connect_timeout.
const connectTimeout = 10 * time.Second

// IsURL reports whether s names a PostgreSQL database (postgres:// or
// postgresql://) rather than, say, a file.
func IsURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// Redact returns rawURL with its password, if any, replaced by "xxxxx", for
// logs and error messages.
func Redact(rawURL string) string {
	rawURL = passwordRe.ReplaceAllString(rawURL, "${1}xxxxx@")
	return passwordParamRe.ReplaceAllString(rawURL, "${1}xxxxx")
}

// passwordRe matches the user and password of a URL, even one url.Parse
// refuses, and passwordParamRe a password given as a parameter.
var (
	passwordRe      = regexp.MustCompile(`^([a-z]+://[^:/@]*:)[^/]*@`)
	passwordParamRe = regexp.MustCompile(`([?&]password=)[^&]*`)
)

// Open connects to the database at rawURL (postgres://user:password@host:
// port/db?sslmode=...), checks that the server answers, and applies the
// migrations in fsys (files named NNNN_name.sql, numbered from 1 without
// gaps) that it does not have yet. Several processes opening one database
// at once are safe: the migrations run under a PostgreSQL advisory lock,
// and each process applies only what the others have not.
func Open(ctx context.Context, rawURL string, migrations fs.FS, log *slog.Logger) (*sql.DB, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	db, err := Connect(ctx, rawURL)
	if err != nil {
		return nil, err
	}
	if err := migrate(ctx, db, migrations, log); err != nil {
		db.Close()
		return nil, fmt.Errorf("database %s: %w", Redact(rawURL), err)
	}
	return db, nil
}

// Connect is Open without migrations: it connects and checks that the
// server answers.
func Connect(ctx context.Context, rawURL string) (*sql.DB, error) {
	if !IsURL(rawURL) {
		return nil, fmt.Errorf("%w: %q must start with postgres:// or postgresql://", ErrBadURL, Redact(rawURL))
	}
	maxConns := DefaultMaxConns
	connURL := rawURL
	if u, err := url.Parse(rawURL); err == nil {
		q := u.Query()
		if v := q.Get("pool_max_conns"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				return nil, fmt.Errorf("%w: %s: pool_max_conns must be a positive number, not %q", ErrBadURL, Redact(rawURL), v)
			}
			maxConns = n
			q.Del("pool_max_conns")
			u.RawQuery = q.Encode()
			connURL = u.String()
		}
	}
	cfg, err := pgx.ParseConfig(connURL)
	if err != nil {
		// pgx's parse errors may quote the URL; say which without the
		// password.
		var pe *pgconn.ParseConfigError
		msg := err.Error()
		if errors.As(err, &pe) && pe.Unwrap() != nil {
			msg = pe.Unwrap().Error()
		}
		return nil, fmt.Errorf("%w: %s: %s", ErrBadURL, Redact(rawURL), msg)
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = connectTimeout
	}
	db := sql.OpenDB(rebindConnector{stdlib.GetConnector(*cfg)})
	db.SetMaxOpenConns(maxConns)
	db.SetMaxIdleConns(maxConns)
	db.SetConnMaxIdleTime(5 * time.Minute)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("%w at %s: %w", ErrUnreachable, Redact(rawURL), err)
	}
	return db, nil
}

// rebindConnector makes connections that take '?' placeholders.
type rebindConnector struct{ driver.Connector }

func (c rebindConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &rebindConn{conn.(*stdlib.Conn)}, nil
}

// rebindConn is a pgx connection whose queries are rebound (Rebind) before
// they reach the server. Its other methods are pgx's own.
type rebindConn struct{ *stdlib.Conn }

func (c *rebindConn) Prepare(query string) (driver.Stmt, error) {
	return c.Conn.Prepare(Rebind(query))
}

func (c *rebindConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	return c.Conn.PrepareContext(ctx, Rebind(query))
}

func (c *rebindConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if len(args) > 0 {
		query = Rebind(query)
	}
	return c.Conn.ExecContext(ctx, query, args)
}

func (c *rebindConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	if len(args) > 0 {
		query = Rebind(query)
	}
	return c.Conn.QueryContext(ctx, query, args)
}

// Rebind rewrites the '?' placeholders of query to PostgreSQL's $1, $2, ...
// in order. A '?' inside a quoted string or identifier, or a comment, is
// left as it is. A query without arguments is sent as written (Exec and
// Query rebind only when they have arguments), so a migration may use any
// PostgreSQL syntax.
func Rebind(query string) string {
	if !strings.Contains(query, "?") {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 8)
	n := 0
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case c == '\'' || c == '"':
			j := i + 1
			for j < len(query) && query[j] != c {
				j++
			}
			b.WriteString(query[i:min(j+1, len(query))])
			i = j
		case c == '-' && i+1 < len(query) && query[i+1] == '-':
			j := strings.IndexByte(query[i:], '\n')
			if j < 0 {
				j = len(query) - i
			}
			b.WriteString(query[i : i+j])
			i += j - 1
		case c == '/' && i+1 < len(query) && query[i+1] == '*':
			j := strings.Index(query[i+2:], "*/")
			end := len(query)
			if j >= 0 {
				end = i + 2 + j + 2
			}
			b.WriteString(query[i:end])
			i = end - 1
		case c == '?':
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// IsUniqueViolation reports whether err is PostgreSQL's unique_violation
// (SQLSTATE 23505): a concurrent transaction wrote the same key first.
func IsUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// IsPostgres reports whether db was opened by this package.
func IsPostgres(db *sql.DB) bool {
	_, ok := db.Driver().(*stdlib.Driver)
	return ok
}

// lockKey is the advisory lock key for name.
func lockKey(name string) int64 {
	h := fnv.New64a()
	h.Write([]byte("motcua:" + name))
	return int64(h.Sum64())
}

// WithLock runs fn while holding the session advisory lock named name, so
// that processes sharing the database run it one at a time. The lock is
// held by one connection of db set aside for it, and released when fn
// returns (or, if this process dies, when its connection closes).
func WithLock(ctx context.Context, db *sql.DB, name string, fn func() error) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("lock %s: %w", name, err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, lockKey(name)); err != nil {
		return fmt.Errorf("lock %s: %w", name, err)
	}
	defer func() {
		if _, err := conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, lockKey(name)); err != nil {
			// A connection that may still hold the lock is not put back
			// in the pool: closing it releases the lock.
			conn.Raw(func(any) error { return driver.ErrBadConn })
		}
	}()
	return fn()
}

// migrate applies the migrations the database does not have, each in its
// own transaction with its row in schema_migrations, while holding the
// advisory lock "migrate": of several processes opening a new database at
// once, the first applies them and the others find them applied.
func migrate(ctx context.Context, db *sql.DB, fsys fs.FS, log *slog.Logger) error {
	ms, err := migration.Load(fsys)
	if err != nil {
		return err
	}
	return WithLock(ctx, db, "migrate", func() error {
		if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    INTEGER PRIMARY KEY,
			name       TEXT NOT NULL,
			applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		var have int
		if err := db.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&have); err != nil {
			return fmt.Errorf("schema version: %w", err)
		}
		if have > len(ms) {
			return fmt.Errorf("%w: schema %d, this program knows up to %d", ErrSchemaTooNew, have, len(ms))
		}
		for _, m := range ms[have:] {
			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				return fmt.Errorf("migration %s: %w", m.Name, err)
			}
			if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
				tx.Rollback()
				return fmt.Errorf("migration %s: %w", m.Name, err)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name) VALUES (?, ?)`, m.Version, m.Name); err != nil {
				tx.Rollback()
				return fmt.Errorf("migration %s: %w", m.Name, err)
			}
			if err := tx.Commit(); err != nil {
				return fmt.Errorf("migration %s: %w", m.Name, err)
			}
			log.Info("applied migration", "name", m.Name)
		}
		return nil
	})
}
