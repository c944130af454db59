// Package portal is the reference portal: a stand-in for the national public
// service portal that implements motcua's protocol (sync/portalapi), so that
// kiosks, tests and demos have a real HTTP peer. Attachments arrive as tus
// 1.0 uploads (github.com/tus/tusd/v2), kept on local disk or in an
// S3-compatible bucket (uploads.go); records live in SQLite, or in
// PostgreSQL shared by several portal processes.
package portal

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"database/sql"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	tushandler "github.com/tus/tusd/v2/pkg/handler"

	"github.com/motcua/motcua/agent/procedure"
	"github.com/motcua/motcua/agent/seal"
	"github.com/motcua/motcua/internal/pgdb"
	"github.com/motcua/motcua/internal/sqlitedb"
	"github.com/motcua/motcua/sync/portalapi"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

var migrations, _ = fs.Sub(migrationFiles, "migrations")

// pgMigrations are migrations translated for PostgreSQL (Config.DatabaseURL),
// numbered alike: migration N of one set makes the schema of the other's N.
//
//go:embed pgmigrations/*.sql
var pgMigrationFiles embed.FS

var pgMigrations, _ = fs.Sub(pgMigrationFiles, "pgmigrations")

// Sentinel errors.
var (
	ErrNotFound          = errors.New("not found")
	ErrIllegalTransition = errors.New("illegal state change")
	// ErrNotBuilt is returned for a back end this build does not have yet.
	ErrNotBuilt = errors.New("this back end is not built yet")
)

// DefaultAgencyCode is the receiving agency's code used when none is
// configured (the example code of Circular 01/2018/TT-VPCP).
const DefaultAgencyCode = "000.00.01.H29"

// MaxUploadSize bounds one attachment.
const MaxUploadSize = 50 << 20

// Config configures a Server.
type Config struct {
	// DataDir holds portal.db and the uploads, and always the key that
	// wraps the portal's data key (keys/kek).
	DataDir string
	// DatabaseURL, when set, keeps the records in PostgreSQL
	// (postgres://user:password@host:5432/db?sslmode=...) instead of
	// DataDir/portal.db, so that several portal processes share them.
	DatabaseURL string
	// UploadsURL, when set, keeps the uploads in S3-compatible object
	// storage (s3://bucket?endpoint=http://host:8333&region=...) instead of
	// DataDir/uploads.
	UploadsURL string
	// AgencyCode prefixes the file codes; DefaultAgencyCode if empty.
	AgencyCode string
	// BaseURL is the portal's external URL, used to build upload URLs; if
	// empty they are built from each request's Host.
	BaseURL string
	// ProcessingDays sets the due date of a received file; 0 means 3.
	ProcessingDays int
	// Catalog is the procedure catalog the portal publishes; nil means the
	// one built into this program.
	Catalog *procedure.Catalog
	Logger  *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// NetworkTimeout cuts an upload whose body sends nothing for this long
	// (the deadline moves on with every read, so slow uploads that keep
	// sending are never cut); 0 means DefaultNetworkTimeout.
	NetworkTimeout time.Duration
	// ReadHeaderTimeout bounds the time to read a request's headers, and
	// IdleTimeout how long a kept-alive connection may wait for its next
	// request; 0 means DefaultReadHeaderTimeout and DefaultIdleTimeout.
	ReadHeaderTimeout time.Duration
	IdleTimeout       time.Duration
	// MaxConns caps the connections open at once, and MaxConnsPerAddr those
	// from one remote IP address; connections over either cap are closed
	// as soon as they are accepted. 0 means DefaultMaxConns and
	// DefaultMaxConnsPerAddr; a negative MaxConnsPerAddr means no cap per
	// address (behind a proxy every connection comes from the proxy).
	MaxConns        int
	MaxConnsPerAddr int
	// UploadExpiry is how long an upload no filed application uses is kept
	// after it last received bytes; 0 means DefaultUploadExpiry, negative
	// means forever. Serve removes expired uploads.
	UploadExpiry time.Duration
	// FilingInterval is the sustained pace of new filings allowed to one
	// device, one per interval, and FilingBurst how many it may file at
	// once (a kiosk back after days offline); 0 means DefaultFilingInterval
	// and DefaultFilingBurst. A negative interval turns the limit off.
	FilingInterval time.Duration
	FilingBurst    int
	// OpenEnrollment lets a device enroll without a one-time code, from a
	// loopback address only: for `motcua run`'s own local portal and for
	// tests. A portal reached over the network always asks for a code.
	OpenEnrollment bool
	// EnrollInterval and EnrollBurst pace the enrollments from one remote
	// address, and AuthFailInterval and AuthFailBurst its failed
	// authentications; 0 means the defaults (DefaultEnrollInterval, ...).
	// A negative interval turns the limit off.
	EnrollInterval   time.Duration
	EnrollBurst      int
	AuthFailInterval time.Duration
	AuthFailBurst    int
	// TLSCertFile and TLSKeyFile, when set, make Serve answer TLS with
	// that certificate (PEM, the chain first) and key.
	TLSCertFile, TLSKeyFile string
}

// The default filing limit per device: 120 at once, then one a second.
const (
	DefaultFilingInterval = time.Second
	DefaultFilingBurst    = 120
)

// Server is the reference portal.
type Server struct {
	cfg Config
	db  *sql.DB
	// pg is true when the records are in PostgreSQL (Config.DatabaseURL),
	// shared with other portal processes; false for SQLite.
	pg      bool
	log     *slog.Logger
	now     func() time.Time
	uploads uploadStore
	// locks are the uploads' tus locks, kept in the records so that
	// several processes share them (locks.go).
	locks *uploadLocker
	// spoolDir holds checksummed chunks while their checksum is verified.
	spoolDir string
	// refusedConns counts connections closed for being over a cap.
	refusedConns atomic.Int64
	tus          *tushandler.Handler
	mux          *http.ServeMux
	catalog      []byte
	limits       *filingLimits
	// enrollLimits and authFails are per remote address.
	enrollLimits *filingLimits
	authFails    *filingLimits
	// beforeFile, if set, runs after a manifest's checks and before it is
	// filed (tests).
	beforeFile func()
	// beforeCommit, if set, runs inside a filing's transaction, its rows
	// written, before it commits (tests).
	beforeCommit func(key string)
	// instance is the records' instance id (portalapi.Health).
	instance string
	// tls, if set, is what Serve answers TLS with.
	tls *tls.Config
	// keys seal what the portal keeps of citizens (sealed.go).
	keys atomic.Pointer[seal.Keyring]
	// metrics are served by MetricsHandler.
	metrics *metrics
	// failures rate-limits the log of server errors (server.go).
	failures failureLog
}

// Vietnam's time zone, for file codes and due dates.
var vietnam = time.FixedZone("ICT", 7*3600)

// testBackend, set only by the package's tests, fills in the back ends a
// test run asks for (MOTCUA_TEST_PORTAL_DB, MOTCUA_TEST_PORTAL_UPLOADS), so
// that the whole suite runs on each.
var testBackend func(*Config)

// Open opens the portal's records: in PostgreSQL at cfg.DatabaseURL if it
// is set, else in cfg.DataDir/portal.db.
func Open(ctx context.Context, cfg Config) (*Server, error) {
	if testBackend != nil {
		testBackend(&cfg)
	}
	if cfg.AgencyCode == "" {
		cfg.AgencyCode = DefaultAgencyCode
	}
	if cfg.ProcessingDays == 0 {
		cfg.ProcessingDays = 3
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.NetworkTimeout == 0 {
		cfg.NetworkTimeout = DefaultNetworkTimeout
	}
	if cfg.ReadHeaderTimeout == 0 {
		cfg.ReadHeaderTimeout = DefaultReadHeaderTimeout
	}
	if cfg.IdleTimeout == 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	if cfg.MaxConns == 0 {
		cfg.MaxConns = DefaultMaxConns
	}
	if cfg.UploadExpiry == 0 {
		cfg.UploadExpiry = DefaultUploadExpiry
	}
	if cfg.MaxConnsPerAddr == 0 {
		cfg.MaxConnsPerAddr = DefaultMaxConnsPerAddr
	}
	if cfg.Catalog == nil {
		cat, err := procedure.Embedded()
		if err != nil {
			return nil, fmt.Errorf("open portal: %w", err)
		}
		cfg.Catalog = cat
	}
	var tlsConfig *tls.Config
	if cfg.TLSCertFile != "" || cfg.TLSKeyFile != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TLSCertFile, cfg.TLSKeyFile)
		if err != nil {
			return nil, fmt.Errorf("open portal: TLS certificate %s and key %s: %w", cfg.TLSCertFile, cfg.TLSKeyFile, err)
		}
		tlsConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	catalogJSON, err := json.Marshal(cfg.Catalog)
	if err != nil {
		return nil, fmt.Errorf("open portal: catalog: %w", err)
	}
	db, err := openRecords(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open portal: %w", err)
	}
	s := &Server{cfg: cfg, db: db, pg: cfg.DatabaseURL != "", log: cfg.Logger, now: cfg.Now, catalog: catalogJSON,
		limits:       newFilingLimits(cfg.FilingInterval, cfg.FilingBurst),
		tls:          tlsConfig,
		metrics:      newMetrics(),
		enrollLimits: newLimits(cfg.EnrollInterval, cfg.EnrollBurst, DefaultEnrollInterval, DefaultEnrollBurst),
		authFails:    newLimits(cfg.AuthFailInterval, cfg.AuthFailBurst, DefaultAuthFailInterval, DefaultAuthFailBurst)}
	if err := db.QueryRowContext(ctx, `SELECT id FROM instance`).Scan(&s.instance); err != nil {
		db.Close()
		return nil, fmt.Errorf("open portal: instance id: %w", err)
	}
	// Portal processes sharing PostgreSQL records start one at a time: the
	// first makes the data key, the others load it.
	err = s.startup(ctx, func() error {
		keys, _, err := seal.Load(ctx, db, seal.KEKPath(cfg.DataDir), true)
		if err != nil {
			return err
		}
		s.keys.Store(keys)
		if err := s.sealClear(ctx); err != nil {
			return err
		}
		s.uploads, err = s.openUploads(ctx)
		return err
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open portal: %w", err)
	}
	lockDB := db
	if !s.pg {
		if lockDB, err = openLockRecords(filepath.Join(cfg.DataDir, "portal.db")); err != nil {
			s.uploads.Close()
			db.Close()
			return nil, fmt.Errorf("open portal: %w", err)
		}
	}
	if s.locks, err = newUploadLocker(ctx, lockDB, cfg.Logger, time.Now, processTTL, processBeat, lockPoll); err != nil {
		if lockDB != db {
			lockDB.Close()
		}
		s.uploads.Close()
		db.Close()
		return nil, fmt.Errorf("open portal: %w", err)
	}
	// Each process spools in a directory of its own: the others may be
	// spooling beside it.
	s.spoolDir = filepath.Join(cfg.DataDir, "spool", s.locks.process)
	if err := mkdir(s.spoolDir); err != nil {
		s.Close()
		return nil, err
	}
	// Chunks a crashed process left in its spool were never accepted.
	if err := s.removeDeadSpools(ctx); err != nil {
		s.log.Error("remove the spools of portal processes no longer running", "err", err)
	}
	// Bytes a crash left without their .info are unreachable.
	if n, err := s.RemoveOrphans(ctx); err != nil {
		s.log.Error("remove orphan upload bytes", "err", err)
	} else if n > 0 {
		s.log.Info("removed orphan upload bytes", "removed", n)
	}
	if s.tus, err = s.newTus(); err != nil {
		s.Close()
		return nil, fmt.Errorf("open portal: tus handler: %w", err)
	}
	s.routes()
	return s, nil
}

// openRecords opens the portal's records in PostgreSQL or SQLite, and
// brings their schema up to date.
func openRecords(ctx context.Context, cfg Config) (*sql.DB, error) {
	if cfg.DatabaseURL == "" {
		return sqlitedb.Open(ctx, filepath.Join(cfg.DataDir, "portal.db"), migrations, cfg.Logger)
	}
	db, err := pgdb.Open(ctx, cfg.DatabaseURL, pgMigrations, cfg.Logger)
	if err != nil {
		return nil, fmt.Errorf("records: %w", err)
	}
	return db, nil
}

// openLockRecords opens the SQLite records at path a second time for the
// upload locks (locks.go), with synchronous=NORMAL: a lock is taken and
// released with each request on an upload, and waiting for the disk twice
// a request cost six times what the lock does. Losing the last locks in a
// power cut loses nothing: the processes that held them, all on this
// machine, are gone too. An application crash loses no committed lock in
// WAL mode.
func openLockRecords(path string) (*sql.DB, error) {
	dsn := sqlitedb.DSN(path)
	lockDSN := strings.Replace(dsn, "_synchronous=FULL", "_synchronous=NORMAL", 1)
	if lockDSN == dsn {
		return nil, fmt.Errorf("upload locks: the records' connection string %q sets no synchronous=FULL to relax", dsn)
	}
	busy := fmt.Sprintf("_busy_timeout=%d", lockBusyTimeout.Milliseconds())
	if lockDSN = strings.Replace(lockDSN, "_busy_timeout=10000", busy, 1); !strings.Contains(lockDSN, busy) {
		return nil, fmt.Errorf("upload locks: the records' connection string %q sets no busy timeout of 10 s", dsn)
	}
	db, err := sql.Open("sqlite3", lockDSN)
	if err != nil {
		return nil, fmt.Errorf("upload locks: %w", err)
	}
	return db, nil
}

// lockBusyTimeout is how long one try on the SQLite upload locks waits
// for SQLite's writer lock (openLockRecords): the records' 10 s, each try
// being cut sooner by the wait it serves (a request's, the lease's). A
// shorter one lost the writer lock to the filings under 1,000 kiosks. A
// variable for the tests, which make it 0.
var lockBusyTimeout = 10 * time.Second

// startup runs fn, the part of Open that writes, one portal process at a
// time when the records are shared (PostgreSQL); SQLite's transactions
// already queue for its one writer.
func (s *Server) startup(ctx context.Context, fn func() error) error {
	if !s.pg {
		return fn()
	}
	return pgdb.WithLock(ctx, s.db, "portal-startup", fn)
}

// Instance returns the instance id of the portal's records: made once when
// they were created, it changes only when they are made anew.
func (s *Server) Instance() string { return s.instance }

// Close gives up the upload locks this process holds and closes the
// portal's records and uploads.
func (s *Server) Close() error {
	s.locks.close()
	if s.locks.db != s.db {
		s.locks.db.Close()
	}
	return errors.Join(s.uploads.Close(), s.db.Close())
}

// Handler returns the portal's HTTP handler, measured for MetricsHandler.
func (s *Server) Handler() http.Handler { return s.served(freshContext(s.mux)) }

func (s *Server) routes() {
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("GET "+portalapi.PathHealth, s.handleHealth)
	s.mux.HandleFunc("POST "+portalapi.PathEnroll, s.handleEnroll)
	s.mux.Handle(portalapi.PathUploads, s.withTusProtocol(s.authenticated(s.ownUploads(s.lockedUploads(s.withChecksum(http.StripPrefix(strings.TrimSuffix(portalapi.PathUploads, "/"), s.tus)))))))
	s.mux.Handle("POST "+portalapi.PathSubmissions, s.authenticated(http.HandlerFunc(s.handleSubmit)))
	s.mux.Handle("GET "+portalapi.PathStatus, s.authenticated(http.HandlerFunc(s.handleStatus)))
	s.mux.HandleFunc("GET "+portalapi.PathTrack+"{code}", s.handleTrack)
	s.mux.HandleFunc("GET "+portalapi.PathTrack+"{device}/{code}", s.handleTrack)
	s.mux.Handle("GET "+portalapi.PathCatalog, s.authenticated(http.HandlerFunc(s.handleCatalog)))
}

type ctxKey struct{}

// deviceFrom returns the device a request was authenticated as.
func deviceFrom(ctx context.Context) string {
	id, _ := ctx.Value(ctxKey{}).(string)
	return id
}

// authenticated lets through requests carrying a known device token. A
// remote address that fails too often is answered 429 before its token is
// even looked at.
func (s *Server) authenticated(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// tus answers OPTIONS (protocol discovery) without credentials.
		if r.Method == http.MethodOptions {
			next.ServeHTTP(w, r)
			return
		}
		addr := remoteHost(r)
		if wait := s.authFails.available(addr, s.now()); wait > 0 {
			s.tooMany(w, r, "failed authentication", wait)
			return
		}
		d, err := s.tokenDevice(r.Context(), r.Header.Get("Authorization"))
		var msg string
		switch {
		case errors.Is(err, ErrNotFound):
			msg = "missing or unknown device token: enroll first"
		case errors.Is(err, ErrRevoked):
			msg = fmt.Sprintf("device %s is revoked at this portal", d.id)
		case errors.Is(err, ErrNoKey):
			msg = fmt.Sprintf("device %s has no enrolled key: enroll again to register it", d.id)
		case err != nil:
			s.unavailable(w, r, "authenticate", err)
			return
		}
		if msg != "" {
			s.authFails.take(addr, s.now())
			if d.id != "" {
				s.log.Warn("authentication refused", "device", d.id, "reason", msg, "remote", addr)
			}
			writeError(w, http.StatusUnauthorized, portalapi.CodeUnauthorized, msg, nil)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, d.id)))
	})
}

// authRetryAfter is the wait a device is asked for when the portal cannot
// check its token.
const authRetryAfter = 30 * time.Second

// unavailable answers 503 with Retry-After for a failure of the portal's
// own (its database), and logs it: the device did nothing wrong, and a 401
// would make it enroll again as a new device.
func (s *Server) unavailable(w http.ResponseWriter, r *http.Request, op string, err error) {
	if r.Context().Err() == nil {
		s.log.Error(op, "method", r.Method, "path", r.URL.Path, "err", err)
	}
	w.Header().Set("Retry-After", strconv.Itoa(retryAfterSeconds(authRetryAfter)))
	writeError(w, http.StatusServiceUnavailable, portalapi.CodeUnavailable, "the portal cannot reach its records: retry later", nil)
}

func hashToken(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

var uploadNameRe = regexp.MustCompile(`^[A-Za-z0-9_-]{1,160}$`)

// preUploadCreate checks a new upload's metadata, names it after the device
// and the name the kiosk chose, and records which device created it.
func (s *Server) preUploadCreate(hook tushandler.HookEvent) (tushandler.HTTPResponse, tushandler.FileInfoChanges, error) {
	var no tushandler.FileInfoChanges
	d, err := s.tokenDevice(hook.Context, hook.HTTPRequest.Header.Get("Authorization"))
	device := d.id
	if errors.Is(err, ErrNotFound) || errors.Is(err, ErrRevoked) || errors.Is(err, ErrNoKey) {
		return tushandler.HTTPResponse{}, no, protocolError(http.StatusUnauthorized, portalapi.CodeUnauthorized, "unknown device token", nil)
	}
	if err != nil {
		s.log.Error("create upload: authenticate", "err", err)
		perr := protocolError(http.StatusServiceUnavailable, portalapi.CodeUnavailable, "the portal cannot reach its records: retry later", nil)
		te := perr.(tushandler.Error)
		te.HTTPResponse.Header["Retry-After"] = strconv.Itoa(retryAfterSeconds(authRetryAfter))
		return tushandler.HTTPResponse{}, no, te
	}
	meta := hook.Upload.MetaData
	if hook.Upload.SizeIsDeferred {
		return tushandler.HTTPResponse{}, no, protocolError(http.StatusBadRequest, portalapi.CodeMalformed, "Upload-Length is required", nil)
	}
	if meta[portalapi.MetaIdempotencyKey] == "" {
		return tushandler.HTTPResponse{}, no, protocolError(http.StatusBadRequest, portalapi.CodeMalformed, "metadata idempotency_key is required", nil)
	}
	name := meta[portalapi.MetaUploadName]
	if !uploadNameRe.MatchString(name) {
		return tushandler.HTTPResponse{}, no, protocolError(http.StatusBadRequest, portalapi.CodeMalformed,
			"metadata upload_name must be 1 to 160 letters, digits, '-' or '_'", nil)
	}
	if raw, ok := meta[portalapi.MetaManifest]; ok {
		// Refused before a byte is stored; checked again before filing.
		var m portalapi.Manifest
		if json.Unmarshal([]byte(raw), &m) == nil {
			if status, perr := s.checkSignature(hook.Context, device, m.IdempotencyKey, []byte(raw), meta[portalapi.MetaSignature]); perr != nil {
				return tushandler.HTTPResponse{}, no, protocolError(status, perr.Code, perr.Message, perr.Fields)
			}
		}
	}
	id := device + "-" + name
	// The upload is made under its lock: of two creations of one name
	// through two processes at once, one makes it, the other is told it
	// exists.
	if sc := scopeFrom(hook.Context); sc != nil && sc.holding(id) == nil {
		wait, cancel := context.WithTimeout(hook.Context, politeLockWait)
		h, err := s.locks.acquire(wait, id, nil, false)
		cancel()
		if err != nil && !errors.Is(err, tushandler.ErrLockTimeout) {
			// The records did not answer: nothing says the upload exists.
			if hook.Context.Err() == nil {
				s.log.Error("create upload: take its lock: answered 503", "upload", id, "err", err)
			}
			perr := protocolError(http.StatusServiceUnavailable, portalapi.CodeUnavailable, "the portal cannot reach its upload locks: retry later", nil)
			te := perr.(tushandler.Error)
			te.HTTPResponse.Header["Retry-After"] = strconv.Itoa(retryAfterSeconds(lockRetryAfter))
			return tushandler.HTTPResponse{}, no, te
		}
		if err != nil {
			return tushandler.HTTPResponse{}, no, protocolError(http.StatusConflict, portalapi.CodeUploadExists,
				"upload "+id+" exists and is in use: ask its offset with HEAD and resume", nil)
		}
		sc.add(h)
	}
	if _, err := s.uploads.GetUpload(hook.Context, id); err == nil {
		return tushandler.HTTPResponse{}, no, protocolError(http.StatusConflict, portalapi.CodeUploadExists,
			"upload "+id+" exists: ask its offset with HEAD and resume", nil)
	}
	changed := tushandler.MetaData{}
	for k, v := range meta {
		changed[k] = v
	}
	changed["device_id"] = device
	// The manifest holds the form: the upload's .info keeps it sealed.
	if m, ok := changed[portalapi.MetaManifest]; ok {
		changed[portalapi.MetaManifest] = s.sealText(m, manifestPlace(id)...)
	}
	return tushandler.HTTPResponse{}, tushandler.FileInfoChanges{ID: id, MetaData: changed}, nil
}

// preFinish files the application whose manifest an upload carries, once
// its last byte has arrived, and answers with the receipt.
func (s *Server) preFinish(hook tushandler.HookEvent) (tushandler.HTTPResponse, error) {
	ctx, cancel := filingContext(hook.Context)
	defer cancel()
	hook.Context = ctx
	if n, ok := hook.Upload.MetaData[portalapi.MetaManifests]; ok {
		return s.fileBatch(hook, n)
	}
	raw, ok := hook.Upload.MetaData[portalapi.MetaManifest]
	if !ok {
		return tushandler.HTTPResponse{}, nil
	}
	device := hook.Upload.MetaData["device_id"]
	raw, err := s.openText(raw, manifestPlace(hook.Upload.ID)...)
	if err != nil {
		s.log.Error("an upload's sealed manifest does not open", "upload", hook.Upload.ID, "err", err)
		return tushandler.HTTPResponse{}, protocolError(http.StatusInternalServerError, "internal",
			"the portal cannot open this upload's manifest", nil)
	}
	var m portalapi.Manifest
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		return tushandler.HTTPResponse{}, protocolError(http.StatusUnprocessableEntity, portalapi.CodeMalformed,
			"metadata manifest is not a manifest: "+err.Error(), nil)
	}
	if status, perr := s.checkSignature(hook.Context, device, m.IdempotencyKey, []byte(raw), hook.Upload.MetaData[portalapi.MetaSignature]); perr != nil {
		return tushandler.HTTPResponse{}, protocolError(status, perr.Code, perr.Message, perr.Fields)
	}
	url := portalapi.PathUploads + hook.Upload.ID
	for i := range m.Attachments {
		m.Attachments[i].UploadURL = url
	}
	rc, status, perr, retry := s.submit(hook.Context, device, &m)
	if perr != nil {
		err := protocolError(status, perr.Code, perr.Message, perr.Fields)
		if te, ok := err.(tushandler.Error); ok && retry > 0 {
			te.HTTPResponse.Header["Retry-After"] = strconv.Itoa(retryAfterSeconds(retry))
			err = te
		}
		return tushandler.HTTPResponse{}, err
	}
	if !rc.Duplicate {
		s.metrics.filed(filingSingle)
	}
	b, _ := json.Marshal(rc)
	return tushandler.HTTPResponse{Header: tushandler.HTTPHeader{portalapi.HeaderReceipt: string(b)}}, nil
}

// protocolError is a tus error answered with the protocol's JSON body.
func protocolError(status int, code, msg string, fields []portalapi.FieldError) error {
	b, _ := json.Marshal(portalapi.Error{Code: code, Message: msg, Fields: fields})
	return tushandler.Error{ErrorCode: code, Message: msg, HTTPResponse: tushandler.HTTPResponse{
		StatusCode: status, Body: string(b), Header: tushandler.HTTPHeader{"Content-Type": "application/json; charset=utf-8"}}}
}

func isSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil && strings.ToLower(s) == s
}

func decodeStrict(r *http.Request, v any) error {
	return decodeStrictFrom(http.MaxBytesReader(nil, r.Body, 4<<20), v)
}

// decodeStrictBytes is decodeStrict for a body already read.
func decodeStrictBytes(b []byte, v any) error { return decodeStrictFrom(bytes.NewReader(b), v) }

func decodeStrictFrom(r io.Reader, v any) error {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("body is not the expected JSON: %w", err)
	}
	if dec.More() {
		return errors.New("body has trailing data")
	}
	return nil
}

// bodyStalled answers a request whose body stopped arriving for
// NetworkTimeout, and reports whether it did: 408 timeout, which a client
// sends again, since the link failed and not the request; a body that
// arrived but is not what it should be is the caller's to refuse.
func bodyStalled(w http.ResponseWriter, err error) bool {
	var ne net.Error
	if !errors.Is(err, os.ErrDeadlineExceeded) && !(errors.As(err, &ne) && ne.Timeout()) {
		return false
	}
	w.Header().Set("Connection", "close")
	writeError(w, http.StatusRequestTimeout, portalapi.CodeTimeout,
		"the request body stopped arriving before it was whole: send it again", nil)
	return true
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}

func writeError(w http.ResponseWriter, status int, code, msg string, fields []portalapi.FieldError) {
	writeJSON(w, status, portalapi.Error{Code: code, Message: msg, Fields: fields})
}

func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func parseTime(s string) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, s)
	return t
}

// handleCatalog serves the procedure catalog, tagged with its version: a
// kiosk that has it gets 304 and no body.
func (s *Server) handleCatalog(w http.ResponseWriter, r *http.Request) {
	etag := `"` + s.cfg.Catalog.Version + `"`
	w.Header().Set("ETag", etag)
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Write(s.catalog)
}
