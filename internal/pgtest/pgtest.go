// Package pgtest starts a throwaway PostgreSQL server for tests: initdb in
// a temporary directory (as a user other than root, which PostgreSQL
// refuses to run as), listening on a free loopback port, with a fresh
// database for each test that asks, and removed when stopped. It uses the
// server binaries (PostgreSQL 15 or later) of the machine (Debian's postgresql-15 puts them in
// /usr/lib/postgresql/15/bin; packaging/install-deps.sh installs them).
//
// A test package calls Start once, usually from TestMain, and Stop at the
// end; or calls New in each test, which shares one server per test binary
// (stopped by StopShared from TestMain, or killed with the test binary).
package pgtest

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/motcua/motcua/internal/pgdb"
)

// Env is the environment variable that asks a test run for PostgreSQL:
// when it is "postgres", a test that cannot start the server fails instead
// of skipping.
const Env = "MOTCUA_TEST_PORTAL_DB"

// ErrNoPostgres is returned (wrapped) by Start when the PostgreSQL server
// binaries (initdb, postgres) are not installed.
var ErrNoPostgres = errors.New("PostgreSQL server binaries (initdb, postgres) not found: install postgresql-15 (packaging/install-deps.sh) or set MOTCUA_PG_BIN")

// Wanted reports whether the test run asks for PostgreSQL (Env=postgres).
func Wanted() bool { return os.Getenv(Env) == "postgres" }

// BinDir returns the directory holding initdb and postgres: $MOTCUA_PG_BIN,
// else the newest /usr/lib/postgresql/*/bin, else the one on $PATH.
func BinDir() (string, error) {
	if d := os.Getenv("MOTCUA_PG_BIN"); d != "" {
		if _, err := os.Stat(filepath.Join(d, "postgres")); err != nil {
			return "", fmt.Errorf("%w: MOTCUA_PG_BIN=%s: %w", ErrNoPostgres, d, err)
		}
		return d, nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "postgres")); err == nil {
			if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
				return d, nil
			}
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		d := filepath.Dir(p)
		if _, err := os.Stat(filepath.Join(d, "postgres")); err == nil {
			return d, nil
		}
	}
	return "", ErrNoPostgres
}

func version(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

// Server is a running throwaway PostgreSQL server.
type Server struct {
	// URL is the admin connection URL (user postgres, database postgres).
	URL string
	// Host and Port are where it listens (loopback).
	Host string
	Port int
	dir  string
	// owned is set when Stop removes dir.
	owned bool
	opts  Options
	cmd   *exec.Cmd
	done  chan struct{}
	n     atomic.Int64
	log   string
	// admin is a connection pool to the server's postgres database.
	mu    sync.Mutex
	admin *sql.DB
}

// Options are the settings of a server StartWith starts; the zero value
// is Start's throwaway server.
type Options struct {
	// Dir is the directory the cluster is made in, which the caller
	// owns: Stop leaves it. Empty: a new temporary directory, which Stop
	// removes.
	Dir string
	// Durable keeps PostgreSQL's durable defaults (fsync,
	// synchronous_commit, full page writes), as a production server
	// does, for measurements; a throwaway server goes without them.
	Durable bool
	// MaxConns is max_connections (default 300), and SharedBuffers
	// shared_buffers (default 64MB).
	MaxConns      int
	SharedBuffers string
}

// Start initialises a cluster in a new temporary directory and starts a
// server on a free loopback port, returning once it accepts connections.
// As root, it runs the server as the user motcua-test if it exists, else
// nobody.
func Start(ctx context.Context) (*Server, error) {
	return StartWith(ctx, Options{})
}

// StartWith is Start with opts.
func StartWith(ctx context.Context, opts Options) (*Server, error) {
	bin, err := BinDir()
	if err != nil {
		return nil, err
	}
	if opts.MaxConns == 0 {
		opts.MaxConns = 300
	}
	if opts.SharedBuffers == "" {
		opts.SharedBuffers = "64MB"
	}
	dir, owned := opts.Dir, opts.Dir == ""
	if owned {
		dir, err = os.MkdirTemp("", "pgtest-")
	} else {
		err = os.MkdirAll(dir, 0o755)
	}
	if err != nil {
		return nil, fmt.Errorf("pgtest: %w", err)
	}
	cleanup := func() {
		if owned {
			os.RemoveAll(dir)
		}
	}
	cred, err := runAs(dir)
	if err != nil {
		cleanup()
		return nil, err
	}
	s := &Server{dir: dir, owned: owned, opts: opts, Host: "127.0.0.1", log: filepath.Join(dir, "postgres.log")}
	data := filepath.Join(dir, "data")
	args := []string{"-D", data, "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-instructions"}
	if !opts.Durable {
		args = append(args, "--no-sync")
	}
	initdb := exec.CommandContext(ctx, filepath.Join(bin, "initdb"), args...)
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	initdb.Dir = dir
	if out, err := initdb.CombinedOutput(); err != nil {
		cleanup()
		return nil, fmt.Errorf("pgtest: initdb: %w\n%s", err, out)
	}
	for attempt := 0; ; attempt++ {
		err = s.start(ctx, bin, data, cred)
		if err == nil {
			return s, nil
		}
		if attempt == 2 || ctx.Err() != nil {
			cleanup()
			return nil, err
		}
	}
}

// runAs chowns dir to the user the server runs as and returns its
// credential; nil when this process is not root.
func runAs(dir string) (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	var u *user.User
	var err error
	for _, name := range []string{"motcua-test", "nobody"} {
		if u, err = user.Lookup(name); err == nil {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("pgtest: running as root, and no user motcua-test or nobody to run PostgreSQL as: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := os.Chown(dir, uid, gid); err != nil {
		return nil, fmt.Errorf("pgtest: %w", err)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), NoSetGroups: true}, nil
}

func (s *Server) start(ctx context.Context, bin, data string, cred *syscall.Credential) error {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("pgtest: free port: %w", err)
	}
	s.Port = l.Addr().(*net.TCPAddr).Port
	l.Close()
	logf, err := os.OpenFile(s.log, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("pgtest: %w", err)
	}
	defer logf.Close()
	args := []string{"-D", data, "-p", strconv.Itoa(s.Port), "-h", s.Host, "-k", s.dir,
		"-c", "max_connections=" + strconv.Itoa(s.opts.MaxConns), "-c", "shared_buffers=" + s.opts.SharedBuffers}
	if !s.opts.Durable {
		// Durability is not wanted from a throwaway server: no fsync.
		args = append(args, "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	}
	s.cmd = exec.Command(filepath.Join(bin, "postgres"), args...)
	// The server dies with the test binary even if Stop is never called.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGQUIT, Setpgid: true}
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	if err := s.cmd.Start(); err != nil {
		return fmt.Errorf("pgtest: start postgres: %w", err)
	}
	s.done = make(chan struct{})
	go func() { s.cmd.Wait(); close(s.done) }()
	s.URL = fmt.Sprintf("postgres://postgres@%s:%d/postgres?sslmode=disable", s.Host, s.Port)
	deadline := time.Now().Add(60 * time.Second)
	for {
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		db, err := pgdb.Connect(cctx, s.URL)
		cancel()
		if err == nil {
			db.Close()
			return nil
		}
		select {
		case <-s.done:
			return fmt.Errorf("pgtest: postgres exited at start: %s", s.logTail())
		case <-ctx.Done():
			s.Stop()
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.kill()
			return fmt.Errorf("pgtest: postgres did not accept connections within a minute: %w; log: %s", err, s.logTail())
		}
	}
}

func (s *Server) logTail() string {
	b, _ := os.ReadFile(s.log)
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(bytes.TrimSpace(b))
}

func (s *Server) kill() {
	if s.cmd != nil && s.cmd.Process != nil {
		s.cmd.Process.Signal(syscall.SIGQUIT)
		select {
		case <-s.done:
		case <-time.After(10 * time.Second):
			s.cmd.Process.Kill()
			<-s.done
		}
	}
}

// DataDir is the server's data directory (its databases under base/, its
// WAL under pg_wal/), for tests that look at what reached the disk.
func (s *Server) DataDir() string { return filepath.Join(s.dir, "data") }

// Pid is the server's (the postmaster's) process id.
func (s *Server) Pid() int { return s.cmd.Process.Pid }

// Stop stops the server at once and removes its directory, unless the
// caller gave it (Options.Dir).
func (s *Server) Stop() {
	s.mu.Lock()
	if s.admin != nil {
		s.admin.Close()
		s.admin = nil
	}
	s.mu.Unlock()
	s.kill()
	if s.owned {
		os.RemoveAll(s.dir)
	}
}

// NewDatabase creates a new, empty database on the server and returns its
// URL.
func (s *Server) NewDatabase(ctx context.Context) (string, error) {
	name := fmt.Sprintf("t%d_%d", os.Getpid(), s.n.Add(1))
	db, err := s.adminDB(ctx)
	if err != nil {
		return "", err
	}
	// Copying the template's files is three times faster than writing
	// them through the WAL (PostgreSQL 15's default) when nothing is
	// synced.
	if _, err := db.ExecContext(ctx, "CREATE DATABASE "+name+" STRATEGY = FILE_COPY"); err != nil {
		return "", fmt.Errorf("pgtest: create database %s: %w", name, err)
	}
	return s.DatabaseURL(name), nil
}

// adminDB returns the server's admin connection pool, opened on first use.
func (s *Server) adminDB(ctx context.Context) (*sql.DB, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.admin == nil {
		db, err := pgdb.Connect(ctx, s.URL)
		if err != nil {
			return nil, err
		}
		s.admin = db
	}
	return s.admin, nil
}

// DatabaseURL is the URL of database name on the server.
func (s *Server) DatabaseURL(name string) string {
	return fmt.Sprintf("postgres://postgres@%s:%d/%s?sslmode=disable", s.Host, s.Port, name)
}

var shared struct {
	sync.Mutex
	s   *Server
	err error
}

// Shared returns the test binary's shared server, started on first use.
func Shared() (*Server, error) {
	shared.Lock()
	defer shared.Unlock()
	if shared.s == nil && shared.err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		shared.s, shared.err = Start(ctx)
		cancel()
	}
	return shared.s, shared.err
}

// StopShared stops the shared server, if one was started.
func StopShared() {
	shared.Lock()
	defer shared.Unlock()
	if shared.s != nil {
		shared.s.Stop()
		shared.s = nil
	}
}

// New returns the URL of a fresh database on the shared server. Without the
// server binaries it skips the test, with a message saying so, unless the
// run asks for PostgreSQL (Env), when it fails; so does any other failure
// to start the server.
func New(t testing.TB) string {
	t.Helper()
	s, err := Shared()
	if errors.Is(err, ErrNoPostgres) && !Wanted() {
		t.Skipf("pgtest: %v (and %s is not postgres)", err, Env)
	}
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	url, err := s.NewDatabase(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return url
}

// Open is New and pgdb.Connect: a connection to a fresh database, closed
// when the test ends.
func Open(t testing.TB) (*sql.DB, string) {
	t.Helper()
	url := New(t)
	db, err := pgdb.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, url
}
