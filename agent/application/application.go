package application

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"
)

// Application is one citizen's application for one procedure.
type Application struct {
	// ID is the local id, assigned by the store.
	ID int64 `json:"id"`
	// IdempotencyKey is chosen once, at capture, and sent with every delivery
	// attempt so the portal never files the same application twice.
	IdempotencyKey string `json:"idempotency_key"`
	// ProcedureID and ProcedureCode name the procedure; CatalogVersion is the
	// catalog the form was captured and validated against.
	ProcedureID    string `json:"procedure_id"`
	ProcedureCode  string `json:"procedure_code,omitempty"`
	CatalogVersion string `json:"catalog_version"`
	State          State  `json:"state"`
	// FileCode is the portal's file code (mã hồ sơ), once received.
	FileCode string `json:"file_code,omitempty"`
	// PortalInstance is the instance id of the portal that issued FileCode:
	// a file code names a file only within its portal instance.
	PortalInstance string `json:"portal_instance,omitempty"`
	// LastError is the last delivery error, for staff.
	LastError string `json:"last_error,omitempty"`
	// Form holds the validated, normalized form values as a JSON object. It
	// is personal data.
	Form        json.RawMessage `json:"form"`
	Attachments []Attachment    `json:"attachments"`
	CreatedAt   time.Time       `json:"created_at"`
	UpdatedAt   time.Time       `json:"updated_at"`
	// PurgedAt is when the retention window removed its personal data
	// (Form is then {} and the attachments have no names); zero while kept.
	PurgedAt time.Time `json:"purged_at,omitzero"`
}

// Attachment is one evidence document. Its bytes are personal data and are
// fetched from the store separately.
type Attachment struct {
	ID          int64  `json:"id"`
	EvidenceKey string `json:"evidence_key"`
	Name        string `json:"name"`
	MediaType   string `json:"media_type"`
	Size        int64  `json:"size"`
	// SHA256 is the lowercase hex digest of the bytes, computed at capture.
	SHA256 string `json:"sha256"`
}

// NewIdempotencyKey returns a fresh random key: 128 bits as 32 hex digits.
func NewIdempotencyKey() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("idempotency key: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}
