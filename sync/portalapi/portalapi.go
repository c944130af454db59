// Package portalapi is motcua's wire protocol with the portal: the types and
// paths that the uplink (client) and the reference portal (server) share.
// docs/protocol.md describes the protocol; this package is its definition.
//
// The protocol is built for weak links: every submission carries an
// idempotency key fixed at capture, attachments travel as resumable tus 1.0
// uploads, and status comes back by cursor so nothing is missed after days
// offline.
package portalapi

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"time"
)

// Paths, relative to the portal's base URL.
const (
	PathEnroll      = "/v1/enroll"
	PathUploads     = "/v1/uploads/"
	PathSubmissions = "/v1/submissions"
	PathStatus      = "/v1/status"
	PathCatalog     = "/v1/catalog"
	PathHealth      = "/v1/health"
	PathTrack       = "/track/"
)

// TrackPath is the tracking page's path for an application the portal may
// not have yet: its idempotency key, scoped by the device that files it (an
// idempotency key is only unique per device). A file code's page is
// PathTrack + the file code.
func TrackPath(deviceID, key string) string {
	return PathTrack + deviceID + "/" + key
}

// Tus metadata keys an application's upload carries (Upload-Metadata).
const (
	MetaIdempotencyKey = "idempotency_key"
	// MetaUploadName names the upload: the portal files it as
	// DEVICEID-NAME, so the kiosk knows the upload's URL before it sends a
	// byte and can ask for it after a cut that lost the answer.
	MetaUploadName = "upload_name"
	// MetaManifest is the application's Manifest as JSON, its attachments
	// given by offset in this upload. When the last byte arrives the portal
	// files the application and answers with HeaderReceipt.
	MetaManifest = "manifest"
)

// HeaderReceipt carries the Receipt, as JSON, on the response to the request
// that completed an application's upload.
const HeaderReceipt = "Motcua-Receipt"

// Health is the portal's answer on PathHealth.
type Health struct {
	Status string `json:"status"`
	// Instance identifies the portal's records: made once when they are
	// created, it stays the same across restarts and changes when the
	// records are made anew (restored from nothing, or another portal at
	// the same URL). File codes, device ids and status cursors are only
	// meaningful within one instance.
	Instance string `json:"instance"`
	// Failed names what the portal found broken when it answers 503
	// (Status "unavailable"): "database", "uploads".
	Failed []string `json:"failed,omitempty"`
}

// EnrollRequest enrolls a device (a kiosk) with the portal.
type EnrollRequest struct {
	DeviceName string `json:"device_name"`
	// Site says where the device is, for officers: a center, a post office.
	Site string `json:"site,omitempty"`
	// DeviceID, when set, asks to keep the device id the portal issued
	// before. The portal keeps it only when the request is signed by that
	// device's enrolled key, later than its last enrollment (a device
	// enrolled before keys: when it carries that device's current token,
	// Authorization: Bearer); it then issues a new token and revokes the
	// old one. Otherwise it enrolls a new device, which needs a Code.
	DeviceID string `json:"device_id,omitempty"`
	// Code is the one-time enrollment code the portal's operator made
	// (motcua portal enroll-code): required to enroll a new device.
	Code string `json:"code,omitempty"`
	// PublicKey is the device's Ed25519 public key (EncodePublicKey): the
	// portal checks every manifest of the device against it.
	PublicKey string `json:"public_key,omitempty"`
	// SignedAt and Signature prove the device holds PublicKey's private
	// key (EnrollMessage); a device keeps its id by such a proof.
	SignedAt  time.Time `json:"signed_at,omitzero"`
	Signature string    `json:"signature,omitempty"`
}

// EnrollResponse is the portal's answer to EnrollRequest.
type EnrollResponse struct {
	DeviceID string `json:"device_id"`
	// Token authenticates the device's later requests.
	Token string `json:"token"`
	// AgencyCode is the receiving agency's code, the first part of the file
	// codes the portal issues to this device.
	AgencyCode string `json:"agency_code"`
	// Instance is the portal's instance id, as in Health.
	Instance string `json:"instance,omitempty"`
}

// Manifest submits one application. The portal files it once, whatever the
// number of times it is sent: a repeated IdempotencyKey from the same device
// gets the same Receipt. Keys are scoped to the device: another device's
// same key is another application.
type Manifest struct {
	IdempotencyKey string          `json:"idempotency_key"`
	ProcedureCode  string          `json:"procedure_code,omitempty"`
	ProcedureID    string          `json:"procedure_id"`
	CatalogVersion string          `json:"catalog_version"`
	CapturedAt     time.Time       `json:"captured_at"`
	Form           json.RawMessage `json:"form"`
	Attachments    []AttachmentRef `json:"attachments"`
	// AuditHead, when set, is the head of the kiosk's audit chain as the
	// application was sent. The portal keeps it with the submission: a
	// chain later truncated or rewritten at the kiosk no longer holds that
	// hash at that sequence number.
	AuditHead *AuditHead `json:"audit_head,omitempty"`
}

// AuditHead names one event of a kiosk's hash-chained audit log.
type AuditHead struct {
	Seq int64 `json:"seq"`
	// Hash is the event's SHA-256 chain hash, lowercase hex.
	Hash string `json:"hash"`
}

// AttachmentRef names an uploaded attachment in a Manifest.
type AttachmentRef struct {
	EvidenceKey string `json:"evidence_key"`
	Name        string `json:"name"`
	MediaType   string `json:"media_type"`
	Size        int64  `json:"size"`
	// SHA256 is the lowercase hex digest computed at capture; the portal
	// checks the received bytes against it.
	SHA256 string `json:"sha256"`
	// UploadURL is the tus upload holding the bytes; empty in a manifest
	// sent as the upload's own metadata.
	UploadURL string `json:"upload_url,omitempty"`
	// Offset is where the attachment's bytes start in that upload: an
	// application's attachments travel back to back in one upload.
	Offset int64 `json:"offset"`
}

// State is a file's state at the portal.
type State string

// The states a portal reports.
const (
	Received  State = "received"
	InReview  State = "in_review"
	NeedsMore State = "needs_more"
	Done      State = "done"
	Rejected  State = "rejected"
)

// Valid reports whether s is a state the protocol knows.
func (s State) Valid() bool {
	switch s {
	case Received, InReview, NeedsMore, Done, Rejected:
		return true
	}
	return false
}

// Receipt is the portal's answer to a Manifest.
type Receipt struct {
	FileCode   string    `json:"file_code"`
	State      State     `json:"state"`
	ReceivedAt time.Time `json:"received_at"`
	// DueAt is when the result is promised (ngày hẹn trả), if known.
	DueAt time.Time `json:"due_at,omitzero"`
	// Duplicate is true when the key had been filed before.
	Duplicate bool `json:"duplicate,omitempty"`
	// Instance is the instance id (see Health) of the portal that issued
	// FileCode: a file code names a file only within its instance.
	Instance string `json:"instance,omitempty"`
	// Seq is the sequence number of the status event that filing made
	// (its "received" event), 0 when the portal does not say. The
	// device's status cursor will pass it; until it does, it tells the
	// device that a portal whose Last is before it rolled back its records.
	Seq int64 `json:"seq,omitempty"`
}

// StatusEvent is one change of a file's state at the portal.
type StatusEvent struct {
	// Seq orders events; a device pulls the events after its cursor.
	Seq            int64     `json:"seq"`
	FileCode       string    `json:"file_code"`
	IdempotencyKey string    `json:"idempotency_key"`
	State          State     `json:"state"`
	Note           string    `json:"note,omitempty"` // the officer's note
	At             time.Time `json:"at"`
}

// StatusPage is a page of status events after a cursor.
type StatusPage struct {
	Events []StatusEvent `json:"events"`
	// Cursor is what to send next time: the Seq of the last event here, or
	// the cursor sent when there are none.
	Cursor int64 `json:"cursor"`
	// More is true when more events wait after this page.
	More bool `json:"more"`
	// Last is the sequence number of the device's latest event at the
	// portal, 0 for none. A cursor past it means the portal no longer has
	// events it sent: its records were rolled back (restored from an older
	// backup), and files it had told of may be gone.
	Last int64 `json:"last"`
}

// Error is the body of every error response.
type Error struct {
	// Code is stable: "malformed", "unauthorized", "upload_incomplete",
	// "checksum_mismatch", "conflict", "rate_limited", "unavailable",
	// "bad_signature", "enroll_code", "revoked", ...
	Code    string       `json:"error"`
	Message string       `json:"message"`
	Fields  []FieldError `json:"fields,omitempty"`
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// FieldError names one problem in a malformed manifest.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error codes.
const (
	CodeMalformed        = "malformed"
	CodeUnauthorized     = "unauthorized"
	CodeUploadIncomplete = "upload_incomplete"
	CodeChecksumMismatch = "checksum_mismatch"
	CodeConflict         = "conflict"
	CodeRateLimited      = "rate_limited"
	CodeUnavailable      = "unavailable"
	CodeNotFound         = "not_found"
	CodeUploadExists     = "upload_exists"
	// CodeTimeout answers a request whose body stopped arriving (408): the
	// link failed, not the request, so it is sent again.
	CodeTimeout = "timeout"
)

// MaxDailySequence bounds a file code's sequence number per agency per day:
// far above any agency's day, and bounded so that a code keeps a fixed
// form.
const MaxDailySequence = 9_999_999

// The sequence is four digits, zero-padded, up to 9999, then as many digits
// as it takes, with no leading zero, up to MaxDailySequence: every sequence
// number has exactly one form.
var fileCodeRe = regexp.MustCompile(`^([0-9A-Z.]+[0-9A-Z])-([0-9]{6})-([0-9]{4}|[1-9][0-9]{4,6})$`)

// FormatFileCode builds a one-stop file code (mã hồ sơ, Circular
// 01/2018/TT-VPCP art. 19): the receiving agency's code, the receipt date as
// YYMMDD and the sequence per agency per day, at least 4 digits, e.g.
// 000.00.01.H29-240115-0001 or 000.00.01.H29-240115-10000. seq must be 1
// to MaxDailySequence.
func FormatFileCode(agency string, day time.Time, seq int) string {
	return fmt.Sprintf("%s-%s-%04d", agency, day.Format("060102"), seq)
}

// ParseFileCode splits a file code into its agency, day and sequence.
func ParseFileCode(code string) (agency string, day time.Time, seq int, err error) {
	m := fileCodeRe.FindStringSubmatch(code)
	if m == nil {
		return "", time.Time{}, 0, fmt.Errorf("file code %q is not AGENCY-YYMMDD-NNNN (4 to 7 digits)", code)
	}
	day, err = time.Parse("060102", m[2])
	if err != nil {
		return "", time.Time{}, 0, fmt.Errorf("file code %q: bad date %s", code, m[2])
	}
	seq, _ = strconv.Atoi(m[3])
	if seq == 0 {
		return "", time.Time{}, 0, fmt.Errorf("file code %q: sequence 0000", code)
	}
	return m[1], day, seq, nil
}
