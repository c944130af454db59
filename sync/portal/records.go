package portal

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/mattn/go-sqlite3"

	"github.com/motcua/motcua/agent/seal"
	"github.com/motcua/motcua/internal/pgdb"
	"github.com/motcua/motcua/internal/sqlitedb"
	"github.com/motcua/motcua/sync/portalapi"
)

func mkdir(dir string) error { return os.MkdirAll(dir, 0o700) }

// uploadID extracts the tus upload id from an upload URL of this portal.
func uploadID(url string) string {
	i := strings.Index(url, portalapi.PathUploads)
	if i < 0 {
		return ""
	}
	id := url[i+len(portalapi.PathUploads):]
	if !uploadIDRe.MatchString(id) {
		return ""
	}
	return id
}

// uploadIDRe is the form of an upload's id: the device's id as enrollment
// issues it, then the upload's name (uploadNameRe), which has its own
// bound.
var uploadIDRe = regexp.MustCompile(`^dev-[0-9a-f]{16}-[A-Za-z0-9_-]{1,160}$`)

// received is what the portal found for one declared attachment.
type received struct {
	sha256 string
	err    *portalapi.FieldError
	// incomplete is true when the upload has not received all its bytes.
	incomplete bool
}

// checkUpload verifies that attachment a's bytes are in a complete upload
// of device, at the declared offset and size, and hash to the declared
// SHA-256, which it computes over the bytes received.
func (s *Server) checkUpload(ctx context.Context, device string, i int, a portalapi.AttachmentRef) received {
	field := fmt.Sprintf("attachments[%d]", i)
	id := uploadID(a.UploadURL)
	up, err := s.uploads.GetUpload(ctx, id)
	if err != nil {
		return received{err: &portalapi.FieldError{Field: field, Message: "no such upload"}, incomplete: true}
	}
	info, err := up.GetInfo(ctx)
	if err != nil {
		return received{err: &portalapi.FieldError{Field: field, Message: "no such upload"}, incomplete: true}
	}
	if info.MetaData["device_id"] != device {
		// Another device's upload looks like no upload at all.
		return received{err: &portalapi.FieldError{Field: field, Message: "no such upload"}, incomplete: true}
	}
	if a.Offset < 0 || a.Offset+a.Size > info.Size {
		return received{err: &portalapi.FieldError{Field: field,
			Message: fmt.Sprintf("bytes %d to %d lie outside the %d-byte upload", a.Offset, a.Offset+a.Size, info.Size)}}
	}
	if info.Offset < info.Size {
		return received{incomplete: true, err: &portalapi.FieldError{Field: field,
			Message: fmt.Sprintf("upload has %d of %d bytes", info.Offset, info.Size)}}
	}
	rd, err := up.GetReader(ctx)
	if err != nil {
		return received{err: &portalapi.FieldError{Field: field, Message: "cannot read upload"}}
	}
	defer rd.Close()
	h := sha256.New()
	_, err = io.CopyN(io.Discard, rd, a.Offset)
	if err == nil {
		_, err = io.CopyN(h, rd, a.Size)
	}
	if err != nil {
		return received{err: &portalapi.FieldError{Field: field, Message: "cannot read upload"}}
	}
	sum := hex.EncodeToString(h.Sum(nil))
	if sum != a.SHA256 {
		return received{sha256: sum, err: &portalapi.FieldError{Field: field,
			Message: fmt.Sprintf("received bytes hash to %s, manifest says %s", sum, a.SHA256)}}
	}
	return received{sha256: sum}
}

func (s *Server) handleSubmit(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, 4<<20))
	if err != nil {
		if bodyStalled(w, err) {
			return
		}
		writeError(w, http.StatusUnprocessableEntity, portalapi.CodeMalformed, "body is not the expected JSON: "+err.Error(), nil)
		return
	}
	var m portalapi.Manifest
	if err := decodeStrictBytes(body, &m); err != nil {
		writeError(w, http.StatusUnprocessableEntity, portalapi.CodeMalformed, err.Error(), nil)
		return
	}
	device := deviceFrom(r.Context())
	if status, perr := s.checkSignature(r.Context(), device, m.IdempotencyKey, body, r.Header.Get(portalapi.HeaderSignature)); perr != nil {
		writeJSON(w, status, perr)
		return
	}
	rc, status, perr, retry := s.submit(r.Context(), device, &m)
	if perr != nil {
		if retry > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(retryAfterSeconds(retry)))
		}
		writeJSON(w, status, perr)
		return
	}
	if !rc.Duplicate {
		s.metrics.filed(filingSingle)
	}
	writeJSON(w, status, rc)
}

// submit checks a manifest and its attachments' bytes and files it,
// answering a key filed before with its receipt. It returns the HTTP status
// and, on failure, the protocol error and how long to wait before a retry
// (Retry-After), if the refusal is for a time.
func (s *Server) submit(ctx context.Context, device string, m *portalapi.Manifest) (portalapi.Receipt, int, *portalapi.Error, time.Duration) {
	malformed := func(errs []portalapi.FieldError) (portalapi.Receipt, int, *portalapi.Error, time.Duration) {
		return portalapi.Receipt{}, http.StatusUnprocessableEntity,
			&portalapi.Error{Code: portalapi.CodeMalformed, Message: "the manifest is malformed", Fields: errs}, 0
	}
	if !keyRe.MatchString(m.IdempotencyKey) {
		return malformed([]portalapi.FieldError{{Field: "idempotency_key", Message: "must be 8 to 128 letters, digits, '-' or '_'"}})
	}
	// A key already filed gets its receipt again, whatever else was sent:
	// a retry after a lost answer is never refused because the catalog
	// changed in between.
	if rc, err := s.receiptByKey(ctx, device, m.IdempotencyKey); err == nil {
		rc.Duplicate = true
		return rc, http.StatusOK, nil, 0
	}
	if wait := s.limits.available(device, s.now()); wait > 0 {
		return rateLimited(s, device, wait)
	}
	if errs := s.checkManifest(m); len(errs) > 0 {
		return malformed(errs)
	}
	// The uploads stay locked until the filing is recorded: no sweeper,
	// in this process or another, removes one in between.
	ids := make([]string, len(m.Attachments))
	for i, a := range m.Attachments {
		ids[i] = uploadID(a.UploadURL)
	}
	unlock, busy, err := s.lockUploads(ctx, ids)
	if err != nil {
		s.log.Error("file submission: lock its uploads: answered 503", "key", m.IdempotencyKey, "err", err)
		return portalapi.Receipt{}, http.StatusServiceUnavailable, &portalapi.Error{Code: portalapi.CodeUnavailable,
			Message: "the portal cannot reach its upload locks: retry later"}, lockRetryAfter
	}
	defer unlock()
	if len(busy) > 0 {
		var fields []portalapi.FieldError
		for i, id := range ids {
			if slices.Contains(busy, id) {
				fields = append(fields, portalapi.FieldError{Field: fmt.Sprintf("attachments[%d]", i), Message: "upload is in use by another request"})
			}
		}
		return portalapi.Receipt{}, http.StatusConflict, &portalapi.Error{Code: portalapi.CodeUploadIncomplete,
			Message: "attachments are not fully uploaded", Fields: fields}, 0
	}
	sums := make([]string, len(m.Attachments))
	var incomplete, corrupt []portalapi.FieldError
	for i, a := range m.Attachments {
		got := s.checkUpload(ctx, device, i, a)
		switch {
		case got.err == nil:
			sums[i] = got.sha256
		case got.incomplete:
			incomplete = append(incomplete, *got.err)
		default:
			corrupt = append(corrupt, *got.err)
		}
	}
	if len(corrupt) > 0 {
		return portalapi.Receipt{}, http.StatusUnprocessableEntity, &portalapi.Error{Code: portalapi.CodeChecksumMismatch,
			Message: "attachments do not match the manifest: upload them again", Fields: corrupt}, 0
	}
	if len(incomplete) > 0 {
		return portalapi.Receipt{}, http.StatusConflict, &portalapi.Error{Code: portalapi.CodeUploadIncomplete,
			Message: "attachments are not fully uploaded", Fields: incomplete}, 0
	}
	if wait := s.limits.take(device, s.now()); wait > 0 {
		return rateLimited(s, device, wait)
	}
	if s.beforeFile != nil {
		s.beforeFile()
	}
	rc, err := s.file(ctx, device, m, sums)
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		// Nothing was filed: the kiosk sends the manifest again.
		s.log.Error("file submission: it did not finish", "key", m.IdempotencyKey, "err", err)
		return portalapi.Receipt{}, http.StatusServiceUnavailable, &portalapi.Error{Code: portalapi.CodeUnavailable,
			Message: "the filing did not finish in time: retry later"}, filingRetryAfter
	}
	if errors.Is(err, errDaySpent) {
		s.log.Error("file submission", "key", m.IdempotencyKey, "err", err)
		return portalapi.Receipt{}, http.StatusServiceUnavailable, &portalapi.Error{Code: portalapi.CodeUnavailable,
			Message: "today's file codes are all issued: retry tomorrow"}, untilNextDay(s.now())
	}
	if busyRecords(err) {
		// Nothing was written: the kiosk files it again, as it would
		// after a lost answer.
		s.log.Error("file submission: the records are busy: answered 503", "key", m.IdempotencyKey, "err", err)
		return portalapi.Receipt{}, http.StatusServiceUnavailable, &portalapi.Error{Code: portalapi.CodeUnavailable,
			Message: "the portal's records are busy: retry later"}, lockRetryAfter
	}
	if err != nil {
		s.log.Error("file submission", "key", m.IdempotencyKey, "err", err)
		return portalapi.Receipt{}, http.StatusInternalServerError, &portalapi.Error{Code: "internal", Message: "could not file the submission"}, 0
	}
	if rc.Duplicate {
		return rc, http.StatusOK, nil, 0
	}
	return rc, http.StatusCreated, nil, 0
}

// busyRecords reports whether err is the records being busy for a time,
// not wrong: SQLite's writer lock not had within the busy timeout
// (SQLITE_BUSY, SQLITE_LOCKED), or PostgreSQL's serialization failures,
// deadlocks, lock timeouts, exhausted resources and lost connections. The
// transaction was rolled back, so the same request may simply be retried.
func busyRecords(err error) bool {
	var se sqlite3.Error
	if errors.As(err, &se) {
		return se.Code == sqlite3.ErrBusy || se.Code == sqlite3.ErrLocked
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return strings.HasPrefix(pe.Code, "40") || pe.Code == "55P03" || strings.HasPrefix(pe.Code, "53") ||
			strings.HasPrefix(pe.Code, "08") || pe.Code == "57P03"
	}
	return false
}

// rateLimited is submit's answer to a device that files too fast.
func rateLimited(s *Server, device string, wait time.Duration) (portalapi.Receipt, int, *portalapi.Error, time.Duration) {
	s.log.Warn("filing rate limited", "device", device, "retry_after", wait)
	return portalapi.Receipt{}, http.StatusTooManyRequests, &portalapi.Error{Code: portalapi.CodeRateLimited,
		Message: "this device files faster than the portal allows: retry after Retry-After"}, wait
}

// errDaySpent is returned (wrapped) by file when the day's sequence has
// reached portalapi.MaxDailySequence.
var errDaySpent = errors.New("the day's file code sequence is spent")

// file records a submission and issues its file code, in one transaction.
// A key filed concurrently in the meantime gets that receipt.
func (s *Server) file(ctx context.Context, device string, m *portalapi.Manifest, sums []string) (portalapi.Receipt, error) {
	now := s.now()
	local := now.In(vietnam)
	day := local.Format("060102")
	due := addWorkingDays(local, s.cfg.ProcessingDays)
	var rc portalapi.Receipt
	auditSeq, auditHash := int64(0), ""
	if m.AuditHead != nil {
		auditSeq, auditHash = m.AuditHead.Seq, m.AuditHead.Hash
	}
	err := sqlitedb.Tx(ctx, s.db, func(tx *sql.Tx) error {
		// Held first, so that the key is looked for after any filing of
		// the same device by another process has committed.
		if err := s.lockDevice(ctx, tx, device); err != nil {
			return err
		}
		var code string
		err := tx.QueryRowContext(ctx, `SELECT file_code FROM submissions WHERE device_id = ? AND idempotency_key = ?`,
			device, m.IdempotencyKey).Scan(&code)
		if err == nil {
			rc.Duplicate = true
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		agency, err := s.agencyOf(ctx, tx, device)
		if err != nil {
			return err
		}
		var seq int
		// The counter's row is held until the filing commits, so codes
		// are issued one at a time and, with a rollback, not at all: no
		// gap, no code twice, across processes.
		err = tx.QueryRowContext(ctx, `INSERT INTO day_counters (agency, day, seq) VALUES (?, ?, 1)
			ON CONFLICT (agency, day) DO UPDATE SET seq = day_counters.seq + 1 RETURNING seq`, agency, day).Scan(&seq)
		if err != nil {
			return err
		}
		if seq > portalapi.MaxDailySequence {
			// The transaction rolls back: the counter stays at the bound.
			return fmt.Errorf("%w: agency %s, day %s", errDaySpent, agency, day)
		}
		rc = portalapi.Receipt{FileCode: portalapi.FormatFileCode(agency, local, seq), State: portalapi.Received,
			ReceivedAt: now.UTC(), DueAt: due.UTC(), Instance: s.instance}
		// The row's id is chosen before it is written, so that the form
		// is sealed to it: no clear byte of it reaches the database or its
		// WAL.
		id, err := s.newSubmissionID(ctx, tx)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO submissions (id, device_id, idempotency_key, file_code, procedure_code,
			procedure_id, catalog_version, captured_at, received_at, due_at, state, updated_at, form, audit_seq, audit_hash)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			id, device, m.IdempotencyKey, rc.FileCode, m.ProcedureCode, m.ProcedureID, m.CatalogVersion,
			formatTime(m.CapturedAt), formatTime(now), formatTime(due), string(portalapi.Received), formatTime(now),
			s.keyring().Seal(m.Form, formPlace(id)...), auditSeq, auditHash)
		if err != nil {
			return err
		}
		for i, a := range m.Attachments {
			if _, err := tx.ExecContext(ctx, `INSERT INTO submission_attachments (submission_id, ordinal, evidence_key, name,
				media_type, size, sha256_declared, sha256_received, upload_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				id, i+1, a.EvidenceKey, s.sealText(a.Name, namePlace(id, i+1)...), a.MediaType, a.Size, a.SHA256, sums[i], uploadID(a.UploadURL)); err != nil {
				return err
			}
		}
		if err := tx.QueryRowContext(ctx, `INSERT INTO events (submission_id, device_id, state, at) VALUES (?, ?, ?, ?) RETURNING seq`,
			id, device, string(portalapi.Received), formatTime(now)).Scan(&rc.Seq); err != nil {
			return err
		}
		if s.beforeCommit != nil {
			s.beforeCommit(m.IdempotencyKey)
		}
		return nil
	})
	if pgdb.IsUniqueViolation(err) {
		// Not expected while the device's row is held; if another
		// process filed the key all the same, that filing is the one.
		if dup, derr := s.receiptByKey(ctx, device, m.IdempotencyKey); derr == nil {
			s.log.Warn("key filed concurrently by another process", "key", m.IdempotencyKey, "err", err)
			dup.Duplicate = true
			return dup, nil
		}
	}
	if err != nil {
		return rc, err
	}
	if rc.Duplicate {
		rc, err = s.receiptByKey(ctx, device, m.IdempotencyKey)
		rc.Duplicate = true
		return rc, err
	}
	s.log.Info("submission filed", "file_code", rc.FileCode, "key", m.IdempotencyKey, "attachments", len(m.Attachments))
	return rc, nil
}

// lockDevice holds device's row until tx ends, on PostgreSQL: a device's
// filings and status changes then commit one at a time, each drawing its
// event seq while it holds the row, so the device's events commit in the
// order of their seq and a status cursor never passes one not committed
// yet. Other devices' transactions go on meanwhile. On SQLite every write
// transaction holds the database's one write lock already.
func (s *Server) lockDevice(ctx context.Context, tx *sql.Tx, device string) error {
	if !s.pg {
		return nil
	}
	var one int
	err := tx.QueryRowContext(ctx, `SELECT 1 FROM devices WHERE id = ? FOR UPDATE`, device).Scan(&one)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("lock device %s: %w", device, err)
	}
	return nil
}

// newSubmissionID draws the id of a new submission in tx: from its
// sequence on PostgreSQL, where other processes file at the same time;
// one past the greatest on SQLite, whose write lock tx holds.
func (s *Server) newSubmissionID(ctx context.Context, tx *sql.Tx) (int64, error) {
	q := `SELECT COALESCE(MAX(id), 0) + 1 FROM submissions`
	if s.pg {
		q = `SELECT nextval(pg_get_serial_sequence('submissions', 'id'))`
	}
	var id int64
	if err := tx.QueryRowContext(ctx, q).Scan(&id); err != nil {
		return 0, fmt.Errorf("new submission id: %w", err)
	}
	return id, nil
}

// addWorkingDays adds n working days (Monday to Friday) to t.
func addWorkingDays(t time.Time, n int) time.Time {
	for n > 0 {
		t = t.AddDate(0, 0, 1)
		if wd := t.Weekday(); wd != time.Saturday && wd != time.Sunday {
			n--
		}
	}
	return t
}

// receiptByKey returns the receipt of the submission that device filed
// under key: a key is the device's own, and another device's same key is
// another application.
func (s *Server) receiptByKey(ctx context.Context, device, key string) (portalapi.Receipt, error) {
	var rc portalapi.Receipt
	var state, received, due string
	err := s.db.QueryRowContext(ctx, `SELECT file_code, state, received_at, due_at,
		(SELECT COALESCE(MIN(e.seq), 0) FROM events e WHERE e.device_id = s.device_id AND e.submission_id = s.id)
		FROM submissions s WHERE device_id = ? AND idempotency_key = ?`, device, key).Scan(&rc.FileCode, &state, &received, &due, &rc.Seq)
	if errors.Is(err, sql.ErrNoRows) {
		return rc, ErrNotFound
	}
	rc.State, rc.ReceivedAt, rc.DueAt, rc.Instance = portalapi.State(state), parseTime(received), parseTime(due), s.instance
	return rc, err
}

func (s *Server) handleStatus(w http.ResponseWriter, r *http.Request) {
	cursor, err := strconv.ParseInt(r.URL.Query().Get("cursor"), 10, 64)
	if r.URL.Query().Get("cursor") == "" {
		cursor, err = 0, nil
	}
	if err != nil || cursor < 0 {
		writeError(w, http.StatusBadRequest, portalapi.CodeMalformed, "cursor must be a non-negative integer", nil)
		return
	}
	limit := 100
	if l := r.URL.Query().Get("limit"); l != "" {
		if limit, err = strconv.Atoi(l); err != nil || limit < 1 || limit > 1000 {
			writeError(w, http.StatusBadRequest, portalapi.CodeMalformed, "limit must be 1 to 1000", nil)
			return
		}
	}
	var last int64
	if err := s.db.QueryRowContext(r.Context(), `SELECT COALESCE(MAX(seq), 0) FROM events WHERE device_id = ?`,
		deviceFrom(r.Context())).Scan(&last); err != nil {
		s.unavailable(w, r, "status", err)
		return
	}
	rows, err := s.db.QueryContext(r.Context(), `SELECT e.seq, s.file_code, s.idempotency_key, e.state, e.note, e.at
		FROM events e JOIN submissions s ON s.id = e.submission_id
		WHERE e.device_id = ? AND e.seq > ? ORDER BY e.seq LIMIT ?`, deviceFrom(r.Context()), cursor, limit+1)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "internal", "status query failed", nil)
		return
	}
	defer rows.Close()
	page := portalapi.StatusPage{Events: []portalapi.StatusEvent{}, Cursor: cursor, Last: last}
	for rows.Next() {
		var e portalapi.StatusEvent
		var state, at string
		if err := rows.Scan(&e.Seq, &e.FileCode, &e.IdempotencyKey, &state, &e.Note, &at); err != nil {
			writeError(w, http.StatusInternalServerError, "internal", "status query failed", nil)
			return
		}
		if len(page.Events) == limit {
			page.More = true
			break
		}
		e.State, e.At = portalapi.State(state), parseTime(at)
		page.Events = append(page.Events, e)
		page.Cursor = e.Seq
	}
	writeJSON(w, http.StatusOK, page)
}

// Submission is a filed submission as `motcua portal list` shows it.
type Submission struct {
	FileCode       string                 `json:"file_code"`
	IdempotencyKey string                 `json:"idempotency_key"`
	DeviceID       string                 `json:"device_id"`
	ProcedureCode  string                 `json:"procedure_code,omitempty"`
	ProcedureID    string                 `json:"procedure_id"`
	State          portalapi.State        `json:"state"`
	Note           string                 `json:"note,omitempty"`
	ReceivedAt     time.Time              `json:"received_at"`
	DueAt          time.Time              `json:"due_at"`
	Attachments    []SubmissionAttachment `json:"attachments"`
	// AuditHead is the head of the kiosk's audit chain as it sent the
	// application, if it sent one.
	AuditHead *portalapi.AuditHead `json:"audit_head,omitempty"`
}

// SubmissionAttachment is one attachment of a Submission.
type SubmissionAttachment struct {
	EvidenceKey    string `json:"evidence_key"`
	Size           int64  `json:"size"`
	SHA256Declared string `json:"sha256_declared"`
	// SHA256Received is what the portal computed over the bytes it
	// received.
	SHA256Received string `json:"sha256_received"`
}

// List returns every filed submission, oldest first.
func (s *Server) List(ctx context.Context) ([]Submission, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, file_code, idempotency_key, device_id, procedure_code, procedure_id,
		state, note, received_at, due_at, audit_seq, audit_hash FROM submissions ORDER BY id`)
	if err != nil {
		return nil, err
	}
	var out []Submission
	var ids []int64
	for rows.Next() {
		var sub Submission
		var id int64
		var state, received, due string
		var head portalapi.AuditHead
		if err := rows.Scan(&id, &sub.FileCode, &sub.IdempotencyKey, &sub.DeviceID, &sub.ProcedureCode, &sub.ProcedureID,
			&state, &sub.Note, &received, &due, &head.Seq, &head.Hash); err != nil {
			rows.Close()
			return nil, err
		}
		if head.Seq > 0 {
			sub.AuditHead = &head
		}
		sub.State, sub.ReceivedAt, sub.DueAt = portalapi.State(state), parseTime(received), parseTime(due)
		sub.Attachments = []SubmissionAttachment{}
		out = append(out, sub)
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i, id := range ids {
		arows, err := s.db.QueryContext(ctx, `SELECT evidence_key, size, sha256_declared, sha256_received
			FROM submission_attachments WHERE submission_id = ? ORDER BY ordinal`, id)
		if err != nil {
			return nil, err
		}
		for arows.Next() {
			var a SubmissionAttachment
			if err := arows.Scan(&a.EvidenceKey, &a.Size, &a.SHA256Declared, &a.SHA256Received); err != nil {
				arows.Close()
				return nil, err
			}
			out[i].Attachments = append(out[i].Attachments, a)
		}
		arows.Close()
	}
	return out, nil
}

// Form returns the form of a filed submission, as an officer reads it.
func (s *Server) Form(ctx context.Context, fileCode string) (json.RawMessage, error) {
	var form []byte
	var id int64
	err := s.db.QueryRowContext(ctx, `SELECT id, form FROM submissions WHERE file_code = ?`, fileCode).Scan(&id, &form)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("file %s: %w", fileCode, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("file %s: %w", fileCode, err)
	}
	if !seal.Sealed(form) {
		return form, nil // kept in clear before sealing, and not sealed since
	}
	plain, err := s.openSealed(form, formPlace(id)...)
	if err != nil {
		return nil, fmt.Errorf("file %s (submission %d) form: %w: %w", fileCode, id, ErrSealed, err)
	}
	return plain, nil
}

// portalMoves are the state changes an officer may make.
var portalMoves = map[portalapi.State][]portalapi.State{
	portalapi.Received:  {portalapi.InReview, portalapi.Done, portalapi.NeedsMore, portalapi.Rejected},
	portalapi.InReview:  {portalapi.Done, portalapi.NeedsMore, portalapi.Rejected},
	portalapi.NeedsMore: {portalapi.InReview, portalapi.Done, portalapi.Rejected},
}

// Handler is who makes a status change: the officer and their agency.
type Handler struct {
	Officer string
	Agency  string
}

// Advance moves a filed submission to state, as an officer would, with an
// optional note for the citizen, recording no handler.
func (s *Server) Advance(ctx context.Context, fileCode string, to portalapi.State, note string) error {
	return s.AdvanceBy(ctx, fileCode, to, note, Handler{})
}

// AdvanceBy is Advance recording who made the change, for the tracking
// page's history.
func (s *Server) AdvanceBy(ctx context.Context, fileCode string, to portalapi.State, note string, by Handler) error {
	if !to.Valid() {
		return fmt.Errorf("%w: %q is not a portal state (received, in_review, needs_more, done, rejected)", ErrIllegalTransition, to)
	}
	return sqlitedb.Tx(ctx, s.db, func(tx *sql.Tx) error {
		var id int64
		var device, from string
		read := func() error {
			err := tx.QueryRowContext(ctx, `SELECT id, device_id, state FROM submissions WHERE file_code = ?`, fileCode).Scan(&id, &device, &from)
			if errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("file %s: %w", fileCode, ErrNotFound)
			}
			return err
		}
		if err := read(); err != nil {
			return err
		}
		if s.pg {
			// With the device's row held, the state is read again: an
			// officer in another process may have just changed it.
			if err := s.lockDevice(ctx, tx, device); err != nil {
				return err
			}
			if err := read(); err != nil {
				return err
			}
		}
		allowed := false
		for _, st := range portalMoves[portalapi.State(from)] {
			allowed = allowed || st == to
		}
		if !allowed {
			return fmt.Errorf("%w: file %s is %s and cannot become %s", ErrIllegalTransition, fileCode, from, to)
		}
		now := formatTime(s.now())
		if _, err := tx.ExecContext(ctx, `UPDATE submissions SET state = ?, note = ?, updated_at = ? WHERE id = ?`,
			string(to), note, now, id); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO events (submission_id, device_id, state, note, at, officer, agency)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, id, device, string(to), note, now, by.Officer, by.Agency)
		return err
	})
}

// filingTimeout bounds a filing begun when an upload's last byte arrived:
// the check of its bytes and its records, or those of every application a
// shared upload carries.
const filingTimeout = 5 * time.Minute

// filingRetryAfter is the wait asked of a kiosk whose filing did not
// finish.
const filingRetryAfter = 10 * time.Second

// filingContext returns the context an upload's filing runs on: the
// request's values without its cancellation, bounded by filingTimeout.
// tusd cancels the request's context when the connection's read deadline
// (NetworkTimeout, set when the body began) passes or the kiosk goes; a
// shared upload's 32 filings under a thousand kiosks outlasted it, and
// the filings left were cancelled half-way and answered 500. Each filing
// is one transaction, so one run to its end is whole, and the kiosk that
// went finds its receipts in the status pull or by sending the manifest
// again.
func filingContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), filingTimeout)
}
