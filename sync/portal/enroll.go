package portal

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/subtle"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/motcua/motcua/internal/sqlitedb"
	"github.com/motcua/motcua/sync/portalapi"
)

// More sentinel errors.
var (
	// ErrRevoked is returned (wrapped) for a device the operator revoked.
	ErrRevoked = errors.New("device revoked")
	// ErrNoKey is returned (wrapped) for a device enrolled before devices
	// registered keys: it must enroll again, with its token, to register
	// one.
	ErrNoKey = errors.New("device has no enrolled key")
	// ErrEnrollCode is returned (wrapped) for an enrollment code that is
	// unknown, used or expired.
	ErrEnrollCode = errors.New("enrollment code refused")
)

// DefaultEnrollCodeTTL is how long an enrollment code is valid by default.
const DefaultEnrollCodeTTL = 30 * time.Minute

// The default rate limits per remote address: 10 enrollments at once, then
// one every 6 seconds; 20 failed authentications at once, then one every 3
// seconds. A kiosk enrolls once and authenticates with its token; a flood
// is someone guessing.
const (
	DefaultEnrollInterval   = 6 * time.Second
	DefaultEnrollBurst      = 10
	DefaultAuthFailInterval = 3 * time.Second
	DefaultAuthFailBurst    = 20
)

// codeAlphabet is the enrollment codes' alphabet: capitals and digits, none
// that reads as another (no 0/O, 1/I/L).
const codeAlphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"

// codeTime is the fixed-width form of the times enrollment codes are
// compared by, as text, in SQL.
func codeTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

// normalizeCode is a code as its hash is kept: upper case, without the
// dashes and spaces a person types between its groups.
func normalizeCode(code string) string {
	return strings.ToUpper(strings.NewReplacer("-", "", " ", "").Replace(strings.TrimSpace(code)))
}

// CreateEnrollCode makes a one-time enrollment code for a device of agency
// (the portal's own if empty), valid for ttl (DefaultEnrollCodeTTL if 0).
// Only its hash is kept: the operator hands the code to whoever installs
// the kiosk, who runs motcua enroll with it.
func (s *Server) CreateEnrollCode(ctx context.Context, agency string, ttl time.Duration) (string, time.Time, error) {
	if agency == "" {
		agency = s.cfg.AgencyCode
	}
	if ttl <= 0 {
		ttl = DefaultEnrollCodeTTL
	}
	now := s.now()
	if _, _, _, err := portalapi.ParseFileCode(portalapi.FormatFileCode(agency, now, 1)); err != nil {
		return "", time.Time{}, fmt.Errorf("enrollment code: agency %q is not an agency code (capitals, digits and dots)", agency)
	}
	b := make([]byte, 16)
	rand.Read(b)
	var code strings.Builder
	for i, c := range b {
		if i > 0 && i%4 == 0 {
			code.WriteByte('-')
		}
		code.WriteByte(codeAlphabet[int(c)%len(codeAlphabet)])
	}
	expires := now.Add(ttl)
	if _, err := s.db.ExecContext(ctx, `INSERT INTO enroll_codes (code_hash, agency, created_at, expires_at) VALUES (?, ?, ?, ?)`,
		hashToken(normalizeCode(code.String())), agency, codeTime(now), codeTime(expires)); err != nil {
		return "", time.Time{}, fmt.Errorf("enrollment code: %w", err)
	}
	s.log.Info("enrollment code made", "agency", agency, "expires", expires.UTC())
	return code.String(), expires, nil
}

// Revoke revokes a device: its token no longer authenticates it, it cannot
// enroll again by its key, and no manifest of it is filed. Its files stay.
func (s *Server) Revoke(ctx context.Context, device string) error {
	res, err := s.db.ExecContext(ctx, `UPDATE devices SET revoked_at = ? WHERE id = ? AND revoked_at = ''`, formatTime(s.now()), device)
	if err != nil {
		return fmt.Errorf("revoke %s: %w", device, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		var one int
		if err := s.db.QueryRowContext(ctx, `SELECT 1 FROM devices WHERE id = ?`, device).Scan(&one); errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("revoke %s: %w", device, ErrNotFound)
		}
		return nil
	}
	s.log.Warn("device revoked", "device", device)
	return nil
}

// Device is what the portal's operator sees of an enrolled device: no
// token, and its public key in full so that an inspector can check the
// kiosk's signed audit exports against it.
type Device struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Agency    string    `json:"agency"`
	Enrolled  time.Time `json:"enrolled_at"`
	PublicKey string    `json:"public_key"` // hex; "" for a device enrolled before keys
	Key       string    `json:"key"`        // the fingerprint the kiosk prints: ed25519:...
	Revoked   time.Time `json:"revoked_at,omitzero"`
}

// Devices lists the enrolled devices, oldest first.
func (s *Server) Devices(ctx context.Context) ([]Device, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, name, agency, created_at, public_key, revoked_at FROM devices ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("list devices: %w", err)
	}
	defer rows.Close()
	var out []Device
	for rows.Next() {
		var d Device
		var created, key, revoked string
		if err := rows.Scan(&d.ID, &d.Name, &d.Agency, &created, &key, &revoked); err != nil {
			return nil, fmt.Errorf("list devices: %w", err)
		}
		d.Enrolled, d.Revoked = parseTime(created), parseTime(revoked)
		if key != "" {
			pub, err := portalapi.DecodePublicKey(key)
			if err != nil {
				return nil, fmt.Errorf("device %s: stored key: %w", d.ID, err)
			}
			d.PublicKey, d.Key = hex.EncodeToString(pub), portalapi.KeyFingerprint(pub)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// deviceRecord is what the portal knows of a device.
type deviceRecord struct {
	id        string
	publicKey ed25519.PublicKey
	revoked   bool
	agency    string
	// signedAt is when the device signed its last enrollment accepted.
	signedAt time.Time
}

func (s *Server) deviceByID(ctx context.Context, id string) (deviceRecord, error) {
	d := deviceRecord{id: id}
	var key, revoked, signed string
	err := s.db.QueryRowContext(ctx, `SELECT public_key, revoked_at, agency, enroll_signed_at FROM devices WHERE id = ?`, id).
		Scan(&key, &revoked, &d.agency, &signed)
	if errors.Is(err, sql.ErrNoRows) {
		return d, fmt.Errorf("device %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return d, err
	}
	if key != "" {
		if d.publicKey, err = portalapi.DecodePublicKey(key); err != nil {
			return d, fmt.Errorf("device %s: stored key: %w", id, err)
		}
	}
	d.revoked, d.signedAt = revoked != "", parseTime(signed)
	return d, nil
}

// tokenDevice returns the device whose token authorization carries:
// ErrNotFound when there is none or the portal does not know it, ErrRevoked
// (wrapped) for a revoked device's, ErrNoKey for a device that must enroll
// again to register its key, another error when the portal could not look.
// The token's SHA-256 is looked up by its first 64 bits, and the whole is
// compared with subtle.ConstantTimeCompare, so the time taken tells nothing
// of how much of a guess was right.
func (s *Server) tokenDevice(ctx context.Context, authorization string) (deviceRecord, error) {
	token, ok := strings.CutPrefix(authorization, "Bearer ")
	if !ok || token == "" {
		return deviceRecord{}, ErrNotFound
	}
	want := hashToken(token)
	rows, err := s.db.QueryContext(ctx, `SELECT id, token_hash FROM devices WHERE token_hash >= ? AND token_hash < ?`,
		want[:16], want[:16]+"g")
	if err != nil {
		return deviceRecord{}, err
	}
	var id string
	for rows.Next() {
		var cand, hash string
		if err := rows.Scan(&cand, &hash); err != nil {
			rows.Close()
			return deviceRecord{}, err
		}
		if subtle.ConstantTimeCompare([]byte(hash), []byte(want)) == 1 {
			id = cand
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return deviceRecord{}, err
	}
	if id == "" {
		return deviceRecord{}, ErrNotFound
	}
	d, err := s.deviceByID(ctx, id)
	switch {
	case err != nil:
		return d, err
	case d.revoked:
		return d, fmt.Errorf("device %s: %w", id, ErrRevoked)
	case d.publicKey == nil:
		return d, fmt.Errorf("device %s: %w", id, ErrNoKey)
	}
	return d, nil
}

// remoteHost is the IP address a request came from.
func remoteHost(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func isLoopback(host string) bool {
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// tooMany answers 429 with Retry-After.
func (s *Server) tooMany(w http.ResponseWriter, r *http.Request, what string, wait time.Duration) {
	s.log.Warn(what+" rate limited", "remote", remoteHost(r), "retry_after", wait)
	w.Header().Set("Retry-After", strconv.Itoa(retryAfterSeconds(wait)))
	writeError(w, http.StatusTooManyRequests, portalapi.CodeRateLimited,
		"too many "+what+" attempts from this address: retry after Retry-After", nil)
}

func (s *Server) handleEnroll(w http.ResponseWriter, r *http.Request) {
	if wait := s.enrollLimits.take(remoteHost(r), s.now()); wait > 0 {
		s.tooMany(w, r, "enrollment", wait)
		return
	}
	var req portalapi.EnrollRequest
	if err := decodeStrict(r, &req); err != nil {
		if bodyStalled(w, err) {
			return
		}
		writeError(w, http.StatusBadRequest, portalapi.CodeMalformed, err.Error(), nil)
		return
	}
	if strings.TrimSpace(req.DeviceName) == "" {
		writeError(w, http.StatusBadRequest, portalapi.CodeMalformed, "device_name is required",
			[]portalapi.FieldError{{Field: "device_name", Message: "required"}})
		return
	}
	pub, err := portalapi.DecodePublicKey(req.PublicKey)
	if err != nil {
		writeError(w, http.StatusBadRequest, portalapi.CodeMalformed, "public_key: the device's Ed25519 public key is required: "+err.Error(),
			[]portalapi.FieldError{{Field: "public_key", Message: err.Error()}})
		return
	}
	if !portalapi.Verify(pub, portalapi.EnrollMessage(s.instance, req), req.Signature) {
		s.log.Warn("enrollment not signed by the key it registers", "claimed", req.DeviceID, "key", portalapi.KeyFingerprint(pub),
			"remote", remoteHost(r))
		writeError(w, http.StatusForbidden, portalapi.CodeBadSignature, fmt.Sprintf(
			"the enrollment is not signed by the key it registers (%s) for portal instance %s", portalapi.KeyFingerprint(pub), s.instance), nil)
		return
	}
	resp := portalapi.EnrollResponse{DeviceID: "dev-" + randomHex(8), Token: randomHex(32), Instance: s.instance}
	kept, status, perr := s.keepDevice(r, req, pub)
	if perr != nil {
		if status == http.StatusServiceUnavailable {
			s.unavailable(w, r, "enroll", errors.New(perr.Message))
			return
		}
		writeJSON(w, status, perr)
		return
	}
	if kept != "" {
		resp.DeviceID = kept
		_, err = s.db.ExecContext(r.Context(), `UPDATE devices SET token_hash = ?, name = ?, site = ?, public_key = ?,
			enroll_signed_at = ? WHERE id = ?`,
			hashToken(resp.Token), req.DeviceName, req.Site, req.PublicKey, formatTime(req.SignedAt), kept)
		if err == nil {
			resp.AgencyCode, err = s.agencyOf(r.Context(), s.db, kept)
		}
	} else {
		resp.AgencyCode, err = s.enrollNew(r, req, resp)
		if errors.Is(err, ErrEnrollCode) {
			s.log.Warn("enrollment refused", "reason", err, "remote", remoteHost(r))
			writeError(w, http.StatusForbidden, portalapi.CodeEnrollCode, err.Error(), nil)
			return
		}
	}
	if err != nil {
		s.unavailable(w, r, "enroll", err)
		return
	}
	s.log.Info("device enrolled", "device", resp.DeviceID, "name", req.DeviceName, "kept_id", kept != "",
		"key", portalapi.KeyFingerprint(pub), "agency", resp.AgencyCode)
	writeJSON(w, http.StatusCreated, resp)
}

// keepDevice decides whether an enrollment keeps the device id it claims,
// and returns that id ("" for a new device). A device keeps its id by
// signing with the key it enrolled with, later than its last enrollment
// (a device enrolled before keys were registered, by its current token
// instead, and registers its key then). An id claimed otherwise enrolls a
// new device, which needs a code: an id is printed in track links, and an
// id alone must not take a kiosk's status. A revoked device keeps nothing
// and, without a code, is refused.
func (s *Server) keepDevice(r *http.Request, req portalapi.EnrollRequest, pub ed25519.PublicKey) (string, int, *portalapi.Error) {
	if req.DeviceID == "" {
		return "", 0, nil
	}
	d, err := s.deviceByID(r.Context(), req.DeviceID)
	switch {
	case errors.Is(err, ErrNotFound):
	case err != nil:
		return "", http.StatusServiceUnavailable, &portalapi.Error{Message: err.Error()}
	case d.revoked:
		s.log.Warn("enrollment of a revoked device", "device", d.id, "key", portalapi.KeyFingerprint(pub), "remote", remoteHost(r))
		if req.Code == "" {
			return "", http.StatusForbidden, &portalapi.Error{Code: portalapi.CodeRevoked,
				Message: fmt.Sprintf("device %s is revoked at this portal: enroll it anew with a code from the portal's operator", d.id)}
		}
	case d.publicKey != nil:
		if bytes.Equal(d.publicKey, pub) && req.SignedAt.After(d.signedAt) {
			return d.id, 0, nil
		}
		s.log.Warn("device id claimed without its key's fresh signature: enrolling a new device", "claimed", d.id,
			"key", portalapi.KeyFingerprint(pub), "enrolled_key", portalapi.KeyFingerprint(d.publicKey))
	default:
		// Enrolled before keys: its current token proves it.
		t, err := s.tokenDeviceID(r.Context(), r.Header.Get("Authorization"))
		if err != nil && !errors.Is(err, ErrNotFound) {
			return "", http.StatusServiceUnavailable, &portalapi.Error{Message: err.Error()}
		}
		if t == d.id {
			return d.id, 0, nil
		}
		s.log.Warn("device id claimed without its token: enrolling a new device", "claimed", req.DeviceID)
	}
	return "", 0, nil
}

// tokenDeviceID is the id of the device, revoked or not, keyed or not,
// whose token authorization carries.
func (s *Server) tokenDeviceID(ctx context.Context, authorization string) (string, error) {
	d, err := s.tokenDevice(ctx, authorization)
	if err == nil || errors.Is(err, ErrNoKey) || errors.Is(err, ErrRevoked) {
		return d.id, nil
	}
	return "", err
}

// enrollNew records a new device, spending the request's enrollment code
// (or, with Config.OpenEnrollment, none from a loopback address), and
// returns its agency. Two enrollments racing for one code: the first to
// write spends it, the other is refused.
func (s *Server) enrollNew(r *http.Request, req portalapi.EnrollRequest, resp portalapi.EnrollResponse) (string, error) {
	ctx := r.Context()
	open := s.cfg.OpenEnrollment && isLoopback(remoteHost(r))
	if req.Code == "" && !open {
		return "", fmt.Errorf("%w: a one-time enrollment code is required; the portal's operator makes one with `motcua portal enroll-code`", ErrEnrollCode)
	}
	agency := s.cfg.AgencyCode
	err := sqlitedb.Tx(ctx, s.db, func(tx *sql.Tx) error {
		if req.Code != "" {
			hash := hashToken(normalizeCode(req.Code))
			now := codeTime(s.now())
			// The write comes first, so the transaction holds the write
			// lock before it reads: of two racing, one spends the code.
			err := tx.QueryRowContext(ctx, `UPDATE enroll_codes SET used_at = ?, used_by = ?
				WHERE code_hash = ? AND used_at = '' AND expires_at > ? RETURNING agency`, now, resp.DeviceID, hash, now).Scan(&agency)
			if errors.Is(err, sql.ErrNoRows) {
				return s.codeRefusal(ctx, tx, hash)
			}
			if err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO devices (id, name, site, token_hash, created_at, public_key, agency, enroll_signed_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, resp.DeviceID, req.DeviceName, req.Site, hashToken(resp.Token), formatTime(s.now()),
			req.PublicKey, agency, formatTime(req.SignedAt))
		return err
	})
	return agency, err
}

// codeRefusal says why a code was not spent.
func (s *Server) codeRefusal(ctx context.Context, tx *sql.Tx, hash string) error {
	var expires, used string
	err := tx.QueryRowContext(ctx, `SELECT expires_at, used_at FROM enroll_codes WHERE code_hash = ?`, hash).Scan(&expires, &used)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("%w: the enrollment code is not one this portal made", ErrEnrollCode)
	case err != nil:
		return err
	case used != "":
		return fmt.Errorf("%w: the enrollment code was used at %s; ask the portal's operator for a new one", ErrEnrollCode, used)
	}
	return fmt.Errorf("%w: the enrollment code expired at %s; ask the portal's operator for a new one", ErrEnrollCode, expires)
}

// agencyOf is the agency whose file codes device's filings get.
func (s *Server) agencyOf(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, device string) (string, error) {
	var agency string
	err := q.QueryRowContext(ctx, `SELECT agency FROM devices WHERE id = ?`, device).Scan(&agency)
	if errors.Is(err, sql.ErrNoRows) || agency == "" {
		return s.cfg.AgencyCode, nil
	}
	return agency, err
}

// checkSignature checks that sig is the device's signature of a manifest
// sent under key, before anything is filed. A refusal names the device, its
// key and the application, in the log and in the answer.
func (s *Server) checkSignature(ctx context.Context, device, key string, manifest []byte, sig string) (int, *portalapi.Error) {
	d, err := s.deviceByID(ctx, device)
	if err != nil {
		s.log.Error("check manifest signature", "device", device, "err", err)
		return http.StatusServiceUnavailable, &portalapi.Error{Code: portalapi.CodeUnavailable, Message: "the portal cannot reach its records: retry later"}
	}
	if d.revoked {
		return http.StatusForbidden, &portalapi.Error{Code: portalapi.CodeRevoked, Message: fmt.Sprintf("device %s is revoked", device)}
	}
	if d.publicKey == nil || !portalapi.Verify(d.publicKey, portalapi.ManifestMessage(device, key, manifest), sig) {
		fp := "none"
		if d.publicKey != nil {
			fp = portalapi.KeyFingerprint(d.publicKey)
		}
		s.log.Warn("manifest signature does not verify", "device", device, "key", fp, "idempotency_key", key, "signed", sig != "")
		return http.StatusUnprocessableEntity, &portalapi.Error{Code: portalapi.CodeBadSignature, Message: fmt.Sprintf(
			"the manifest of application %s is not signed by device %s's enrolled key %s", key, device, fp),
			Fields: []portalapi.FieldError{{Field: "signature", Message: "does not verify"}}}
	}
	return 0, nil
}
