package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/mattn/go-sqlite3"

	"github.com/motcua/motcua/agent/application"
	"github.com/motcua/motcua/agent/audit"
	"github.com/motcua/motcua/agent/seal"
)

// NewApplication is what Create stores.
type NewApplication struct {
	// IdempotencyKey, if empty, is generated.
	IdempotencyKey string
	ProcedureID    string
	ProcedureCode  string
	CatalogVersion string
	// Form is the validated form as a JSON object.
	Form        json.RawMessage
	Attachments []NewAttachment
	// Actor is who captured it, for the audit log ("cli", "kiosk", ...).
	Actor string
}

// NewAttachment is one evidence document to store with an application.
type NewAttachment struct {
	EvidenceKey string
	Name        string
	MediaType   string
	Content     []byte
}

// Change describes a state change.
type Change struct {
	// Actor is who made it, for the audit log.
	Actor string
	// Detail is a short note for the audit log; never personal data.
	Detail string
	// FileCode, when set, records the portal's file code.
	FileCode string
	// Instance, when set, records the instance id of the portal that has
	// the application (the one that issued FileCode).
	Instance string
	// LastError, when set, records a delivery error; a change to a state
	// reached through the portal clears it.
	LastError string
}

// Create stores a new application as a draft and, in the same transaction,
// moves it on to state (Draft, Ready or Queued), writing an audit event for
// its creation and for each step and an outbox row for each state change.
// Either all of it is stored or none of it.
func (s *Store) Create(ctx context.Context, n NewApplication, state application.State) (*application.Application, error) {
	path, err := pathTo(state)
	if err != nil {
		return nil, err
	}
	if n.IdempotencyKey == "" {
		if n.IdempotencyKey, err = application.NewIdempotencyKey(); err != nil {
			return nil, err
		}
	}
	if !json.Valid(n.Form) || len(n.Form) == 0 || n.Form[0] != '{' {
		return nil, errors.New("create application: form is not a JSON object")
	}
	if n.Actor == "" {
		n.Actor = "agent"
	}
	now := s.now()
	var payload int64
	for _, a := range n.Attachments {
		payload += int64(len(a.Content))
	}
	var id int64
	err = s.tx(ctx, func(tx *sql.Tx) error {
		var err error
		id, err = s.create(ctx, tx, n, path, now, payload)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("create application: %w", err)
	}
	s.anchorHead(ctx)
	s.log.Info("application stored", "id", id, "procedure", n.ProcedureID, "state", state,
		"attachments", len(n.Attachments), "bytes", payload)
	return s.Get(ctx, id)
}

// create inserts application n inside tx and walks it along path.
func (s *Store) create(ctx context.Context, tx *sql.Tx, n NewApplication, path []application.State, now time.Time, payload int64) (int64, error) {
	res, err := tx.ExecContext(ctx, `INSERT INTO applications
		(idempotency_key, procedure_id, procedure_code, catalog_version, state, attachments, payload_bytes, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		n.IdempotencyKey, n.ProcedureID, n.ProcedureCode, n.CatalogVersion, string(application.Draft),
		len(n.Attachments), payload, formatTime(now), formatTime(now))
	if err != nil {
		var se sqlite3.Error
		if errors.As(err, &se) && se.ExtendedCode == sqlite3.ErrConstraintUnique {
			return 0, fmt.Errorf("%w: %s", ErrDuplicateKey, n.IdempotencyKey)
		}
		return 0, err
	}
	id, err := res.LastInsertId()
	if err != nil {
		return 0, err
	}
	// Personal data is sealed before it is written: no clear byte of it
	// reaches the database, its WAL or its free pages.
	form, err := s.sealPD(id, "form", "data", n.Form)
	if err != nil {
		return 0, err
	}
	noName, err := s.sealPD(id, "form", "name", nil)
	if err != nil {
		return 0, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO personal_data (application_id, part, seal, name, data) VALUES (?, 'form', ?, ?, ?)`,
		id, sealAES, noName, form); err != nil {
		return 0, err
	}
	for i, a := range n.Attachments {
		sum := sha256.Sum256(a.Content)
		res, err := tx.ExecContext(ctx, `INSERT INTO attachments
			(application_id, ordinal, evidence_key, media_type, size, sha256) VALUES (?, ?, ?, ?, ?, ?)`,
			id, i+1, a.EvidenceKey, a.MediaType, len(a.Content), hex.EncodeToString(sum[:]))
		if err != nil {
			return 0, err
		}
		aid, err := res.LastInsertId()
		if err != nil {
			return 0, err
		}
		part := attachmentPart(aid)
		name, err := s.sealPD(id, part, "name", []byte(a.Name))
		if err != nil {
			return 0, err
		}
		content, err := s.sealPD(id, part, "data", a.Content)
		if err != nil {
			return 0, err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO personal_data (application_id, part, seal, name, data) VALUES (?, ?, ?, ?, ?)`,
			id, part, sealAES, name, content); err != nil {
			return 0, err
		}
	}
	detail, _ := json.Marshal(map[string]any{
		"procedure": n.ProcedureID, "catalog": n.CatalogVersion, "key": n.IdempotencyKey,
		"attachments": len(n.Attachments), "bytes": payload,
	})
	if err := s.appendAudit(ctx, tx, &audit.Event{At: now, ApplicationID: id, Kind: audit.KindCreated,
		To: string(application.Draft), Actor: n.Actor, Detail: string(detail)}); err != nil {
		return 0, err
	}
	from := application.Draft
	for _, to := range path {
		if err := s.transition(ctx, tx, id, from, to, Change{Actor: n.Actor}); err != nil {
			return 0, err
		}
		from = to
	}
	return id, nil
}

// pathTo returns the states an application walks from draft to reach state
// at creation.
func pathTo(state application.State) ([]application.State, error) {
	switch state {
	case application.Draft:
		return nil, nil
	case application.Ready:
		return []application.State{application.Ready}, nil
	case application.Queued:
		return []application.State{application.Ready, application.Queued}, nil
	}
	return nil, fmt.Errorf("%w: a new application cannot start as %s", application.ErrIllegalTransition, state)
}

func attachmentPart(id int64) string { return "attachment:" + strconv.FormatInt(id, 10) }

// Transition moves application id to state to, if the lifecycle allows it,
// writing the audit event and the outbox row in the same transaction.
func (s *Store) Transition(ctx context.Context, id int64, to application.State, c Change) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var from string
		err := tx.QueryRowContext(ctx, `SELECT state FROM applications WHERE id = ?`, id).Scan(&from)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("application %d: %w", id, ErrNotFound)
		}
		if err != nil {
			return err
		}
		return s.transition(ctx, tx, id, application.State(from), to, c)
	})
	if err != nil {
		return fmt.Errorf("transition application %d to %s: %w", id, to, err)
	}
	s.anchorHead(ctx)
	s.log.Info("application state changed", "id", id, "to", to, "actor", c.Actor)
	return nil
}

func (s *Store) transition(ctx context.Context, tx *sql.Tx, id int64, from, to application.State, c Change) error {
	if err := application.Transition(from, to); err != nil {
		return err
	}
	now := formatTime(s.now())
	lastErr := c.LastError
	q := `UPDATE applications SET state = ?, updated_at = ?, last_error = ?`
	args := []any{string(to), now, lastErr}
	if c.FileCode != "" {
		q += `, file_code = ?`
		args = append(args, c.FileCode)
	}
	if c.Instance != "" {
		q += `, portal_instance = ?`
		args = append(args, c.Instance)
	}
	q += ` WHERE id = ? AND state = ?`
	args = append(args, id, string(from))
	res, err := tx.ExecContext(ctx, q, args...)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return fmt.Errorf("application %d is no longer %s", id, from)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO outbox (application_id, topic, created_at) VALUES (?, ?, ?)`,
		id, string(to), now); err != nil {
		return err
	}
	detail := c.Detail
	if c.FileCode != "" {
		detail = strings.TrimSpace(detail + " file_code=" + c.FileCode)
	}
	actor := c.Actor
	if actor == "" {
		actor = "agent"
	}
	at, _ := parseTime(now)
	return s.appendAudit(ctx, tx, &audit.Event{At: at, ApplicationID: id, Kind: audit.KindTransition,
		From: string(from), To: string(to), Actor: actor, Detail: detail})
}

// appendAudit chains e after the last event and inserts it with its MAC.
// It runs inside an immediate transaction, which holds the write lock, so
// no other writer can append between the read of the head and the insert.
func (s *Store) appendAudit(ctx context.Context, tx *sql.Tx, e *audit.Event) error {
	var seq int64
	prev := audit.Genesis
	err := tx.QueryRowContext(ctx, `SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1`).Scan(&seq, &prev)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("audit head: %w", err)
	}
	e.Seq = seq + 1
	e.At = e.At.UTC()
	e.Chain(prev)
	_, err = tx.ExecContext(ctx, `INSERT INTO audit_events
		(seq, at, application_id, kind, from_state, to_state, actor, detail, prev_hash, hash)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.Seq, e.At.Format(audit.TimeFormat), e.ApplicationID, e.Kind, e.From, e.To, e.Actor, e.Detail, e.PrevHash, e.Hash)
	if err != nil {
		return fmt.Errorf("append audit event: %w", err)
	}
	if s.auditKey == nil {
		return errors.New("append audit event: no audit key (a read-only store)")
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO audit_macs (seq, mac) VALUES (?, ?)`, e.Seq, audit.MAC(s.auditKey, e.Hash)); err != nil {
		return fmt.Errorf("append audit event's MAC: %w", err)
	}
	return nil
}

const appColumns = `a.id, a.idempotency_key, a.procedure_id, a.procedure_code, a.catalog_version, a.state,
	COALESCE(a.file_code, ''), a.portal_instance, a.last_error, a.created_at, a.updated_at, a.purged_at`

func scanApp(sc interface{ Scan(...any) error }, extra ...any) (*application.Application, error) {
	var a application.Application
	var state, created, updated, purged string
	dst := append([]any{&a.ID, &a.IdempotencyKey, &a.ProcedureID, &a.ProcedureCode, &a.CatalogVersion, &state,
		&a.FileCode, &a.PortalInstance, &a.LastError, &created, &updated, &purged}, extra...)
	if err := sc.Scan(dst...); err != nil {
		return nil, err
	}
	a.State = application.State(state)
	var err error
	if a.CreatedAt, err = parseTime(created); err != nil {
		return nil, fmt.Errorf("application %d: created_at: %w", a.ID, err)
	}
	if a.UpdatedAt, err = parseTime(updated); err != nil {
		return nil, fmt.Errorf("application %d: updated_at: %w", a.ID, err)
	}
	if purged != "" {
		if a.PurgedAt, err = parseTime(purged); err != nil {
			return nil, fmt.Errorf("application %d: purged_at: %w", a.ID, err)
		}
	}
	return &a, nil
}

// Get returns application id with its form and attachment metadata.
func (s *Store) Get(ctx context.Context, id int64) (*application.Application, error) {
	var form []byte
	var how string
	// An application whose personal data was purged has none: its form is
	// {} and its attachments have no names.
	a, err := scanApp(s.db.QueryRowContext(ctx, `SELECT `+appColumns+`, COALESCE(p.seal, 'none'), COALESCE(p.data, CAST('{}' AS BLOB))
		FROM applications a LEFT JOIN personal_data p ON p.application_id = a.id AND p.part = 'form'
		WHERE a.id = ?`, id), &how, &form)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("application %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get application %d: %w", id, err)
	}
	if a.Form, err = s.openPD(ctx, id, "form", "data", how, form); err != nil {
		return nil, fmt.Errorf("get application %d: %w", id, err)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT t.id, t.evidence_key, COALESCE(p.seal, 'none'), COALESCE(p.name, CAST('' AS BLOB)), t.media_type, t.size, t.sha256
		FROM attachments t LEFT JOIN personal_data p ON p.application_id = t.application_id AND p.part = 'attachment:' || t.id
		WHERE t.application_id = ? ORDER BY t.ordinal`, id)
	if err != nil {
		return nil, fmt.Errorf("get application %d attachments: %w", id, err)
	}
	defer rows.Close()
	a.Attachments = []application.Attachment{}
	for rows.Next() {
		var t application.Attachment
		var name []byte
		if err := rows.Scan(&t.ID, &t.EvidenceKey, &how, &name, &t.MediaType, &t.Size, &t.SHA256); err != nil {
			return nil, err
		}
		if name, err = s.openPD(ctx, id, attachmentPart(t.ID), "name", how, name); err != nil {
			return nil, fmt.Errorf("get application %d: %w", id, err)
		}
		t.Name = string(name)
		a.Attachments = append(a.Attachments, t)
	}
	return a, rows.Err()
}

// AttachmentContent returns the bytes of attachment id, checked against
// the SHA-256 stored with them: bytes damaged since capture are an error
// wrapping ErrAttachmentDamaged that names the attachment, and are never
// returned.
func (s *Store) AttachmentContent(ctx context.Context, id int64) ([]byte, error) {
	var data []byte
	var app int64
	var how, key, want string
	err := s.db.QueryRowContext(ctx, `SELECT t.application_id, p.seal, p.data, t.evidence_key, t.sha256 FROM attachments t
		JOIN personal_data p ON p.application_id = t.application_id AND p.part = 'attachment:' || t.id
		WHERE t.id = ?`, id).Scan(&app, &how, &data, &key, &want)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("attachment %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("attachment %d: %w", id, err)
	}
	if data, err = s.openPD(ctx, app, attachmentPart(id), "data", how, data); err != nil {
		if errors.Is(err, seal.ErrBroken) {
			// Sealed bytes changed since capture are damaged bytes.
			return nil, fmt.Errorf("%w: attachment %d (%s) of application %d: its sealed bytes were changed since capture: %w",
				ErrAttachmentDamaged, id, key, app, err)
		}
		return nil, fmt.Errorf("attachment %d (%s): %w", id, key, err)
	}
	// The error names the attachment by id and evidence, not by its file
	// name, which is personal data and would reach the logs.
	if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != want {
		return nil, fmt.Errorf("%w: attachment %d (%s) of application %d: its %d bytes have SHA-256 %x, not the %s stored at capture",
			ErrAttachmentDamaged, id, key, app, len(data), sum, want)
	}
	return data, nil
}

// Summary is an application as the queue lists it: no personal data.
type Summary struct {
	application.Application
	AttachmentCount int   `json:"attachment_count"`
	PayloadBytes    int64 `json:"payload_bytes"`
}

// ListOptions filter List.
type ListOptions struct {
	// States keeps only applications in these states; empty means all.
	States []application.State
	// Limit caps the result; 0 means no limit.
	Limit int
	// SmallestFirst orders by total attachment size, then age: the order in
	// which to deliver over a weak link.
	SmallestFirst bool
}

// List returns application summaries, oldest first.
func (s *Store) List(ctx context.Context, o ListOptions) ([]Summary, error) {
	q := `SELECT ` + appColumns + `, a.payload_bytes, a.attachments FROM applications a`
	var args []any
	if len(o.States) > 0 {
		q += ` WHERE a.state IN (?` + strings.Repeat(", ?", len(o.States)-1) + `)`
		for _, st := range o.States {
			args = append(args, string(st))
		}
	}
	if o.SmallestFirst {
		q += ` ORDER BY a.payload_bytes, a.id`
	} else {
		q += ` ORDER BY a.id`
	}
	if o.Limit > 0 {
		q += ` LIMIT ` + strconv.Itoa(o.Limit)
	}
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list applications: %w", err)
	}
	defer rows.Close()
	var out []Summary
	for rows.Next() {
		var sm Summary
		a, err := scanApp(rows, &sm.PayloadBytes, &sm.AttachmentCount)
		if err != nil {
			return nil, fmt.Errorf("list applications: %w", err)
		}
		sm.Application = *a
		out = append(out, sm)
	}
	return out, rows.Err()
}

// CountByProcedure returns how many applications are stored for each
// procedure id, whatever their state: how much each procedure is used at
// this kiosk. It reads no personal data.
func (s *Store) CountByProcedure(ctx context.Context) (map[string]int, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT procedure_id, count(*) FROM applications GROUP BY procedure_id`)
	if err != nil {
		return nil, fmt.Errorf("count applications by procedure: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var id string
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return nil, fmt.Errorf("count applications by procedure: %w", err)
		}
		out[id] = n
	}
	return out, rows.Err()
}

// FindByKey returns the application with the given idempotency key.
func (s *Store) FindByKey(ctx context.Context, key string) (*application.Application, error) {
	var id int64
	err := s.db.QueryRowContext(ctx, `SELECT id FROM applications WHERE idempotency_key = ?`, key).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("idempotency key %s: %w", key, ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	return s.Get(ctx, id)
}
