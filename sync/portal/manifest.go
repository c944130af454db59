package portal

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/motcua/motcua/agent/identity"
	"github.com/motcua/motcua/agent/procedure"
	"github.com/motcua/motcua/sync/portalapi"
)

var keyRe = regexp.MustCompile(`^[A-Za-z0-9_-]{8,128}$`)

// Bounds on a manifest, far above what any real application reaches (the
// largest form of the catalog is a few kilobytes, with some forty fields,
// none longer than 500 characters, and a handful of scanned documents), so
// that a forged manifest cannot fill the portal's records.
const (
	// MaxFormBytes bounds a form's JSON.
	MaxFormBytes = 64 << 10
	// MaxFormFields bounds the number of fields of a form.
	MaxFormFields = 200
	// MaxValueChars bounds every text value of a form, in characters, at
	// any depth (the catalog's own bounds are tighter: 255, or 500 for an
	// address).
	MaxValueChars = 1000
	// MaxAttachments bounds the attachments of one application.
	MaxAttachments = 100
	// maxNameChars bounds the short texts of a manifest: procedure ids and
	// codes, the catalog version, attachment names, media types and
	// evidence keys.
	maxNameChars = 255
)

// auditHashRe matches an audit chain hash: SHA-256, lowercase hex.
var auditHashRe = regexp.MustCompile(`^[0-9a-f]{64}$`)

// checkManifest lists what is wrong in m, checked as the kiosk checks an
// application before it is queued: the procedure is in the portal's catalog
// and its code agrees with its id, the form is valid UTF-8, within bounds
// and valid for the procedure (agent/procedure, with the capture day as
// today), the required evidence is attached or waived, and every attachment
// has at least one byte. An audit head, if given, is well-formed.
func (s *Server) checkManifest(m *portalapi.Manifest) []portalapi.FieldError {
	var errs []portalapi.FieldError
	bad := func(field, msg string) { errs = append(errs, portalapi.FieldError{Field: field, Message: msg}) }
	for _, f := range []struct{ field, value string }{
		{"procedure_id", m.ProcedureID}, {"procedure_code", m.ProcedureCode}, {"catalog_version", m.CatalogVersion},
	} {
		if utf8.RuneCountInString(f.value) > maxNameChars {
			bad(f.field, fmt.Sprintf("must be at most %d characters", maxNameChars))
		}
	}
	if m.CatalogVersion == "" {
		bad("catalog_version", "required")
	}
	if m.CapturedAt.IsZero() {
		bad("captured_at", "required")
	}
	if h := m.AuditHead; h != nil && (h.Seq < 1 || !auditHashRe.MatchString(h.Hash)) {
		bad("audit_head", "must be a sequence number from 1 and a SHA-256 as 64 lowercase hex digits")
	}
	var p *procedure.Procedure
	switch found, err := s.cfg.Catalog.Lookup(m.ProcedureID); {
	case m.ProcedureID == "":
		bad("procedure_id", "required")
	case err != nil || found.ID != m.ProcedureID:
		bad("procedure_id", fmt.Sprintf("%q is not the id of a procedure in catalog %s", m.ProcedureID, s.cfg.Catalog.Version))
	case m.ProcedureCode != "" && m.ProcedureCode != found.Code:
		bad("procedure_code", fmt.Sprintf("%q is not the code of %s, which is %q", m.ProcedureCode, found.ID, found.Code))
	default:
		p = found
	}
	formErrs := checkFormShape(m.Form)
	errs = append(errs, formErrs...)
	attached := checkAttachments(m.Attachments, bad)
	if p == nil || len(formErrs) > 0 || m.CapturedAt.IsZero() {
		return errs
	}
	vals, err := p.Validate(m.Form, identity.Today(m.CapturedAt))
	var invalid procedure.Errors
	if errors.As(err, &invalid) {
		for _, fe := range invalid {
			field := "form"
			if fe.Field != "" {
				field += "." + fe.Field
			}
			bad(field, fe.Message.EN)
		}
		return errs
	}
	if err != nil {
		bad("form", err.Error())
		return errs
	}
	if attached != nil {
		for _, fe := range p.CheckEvidence(vals, attached) {
			bad(fe.Field, fe.Message.EN)
		}
	}
	return errs
}

// checkFormShape checks what any form must be before its procedure's rules
// are applied: a JSON object of valid UTF-8 text within the bounds.
func checkFormShape(form json.RawMessage) []portalapi.FieldError {
	one := func(field, msg string) []portalapi.FieldError {
		return []portalapi.FieldError{{Field: field, Message: msg}}
	}
	if len(form) > MaxFormBytes {
		return one("form", fmt.Sprintf("is %d bytes; a form is at most %d", len(form), MaxFormBytes))
	}
	if !utf8.Valid(form) {
		return one("form", "is not valid UTF-8")
	}
	var fields map[string]any
	if err := json.Unmarshal(form, &fields); err != nil || fields == nil {
		return one("form", "must be a JSON object")
	}
	if len(fields) > MaxFormFields {
		return one("form", fmt.Sprintf("has %d fields; a form has at most %d", len(fields), MaxFormFields))
	}
	var errs []portalapi.FieldError
	for key, v := range fields {
		if msg := checkText(key); msg != "" {
			errs = append(errs, portalapi.FieldError{Field: "form", Message: "a field name " + msg})
			continue
		}
		if msg := checkValue(v); msg != "" {
			errs = append(errs, portalapi.FieldError{Field: "form." + key, Message: msg})
		}
	}
	return errs
}

// checkValue checks every text in a decoded JSON value.
func checkValue(v any) string {
	switch v := v.(type) {
	case string:
		return checkText(v)
	case []any:
		for _, e := range v {
			if msg := checkValue(e); msg != "" {
				return msg
			}
		}
	case map[string]any:
		for k, e := range v {
			if msg := checkText(k); msg != "" {
				return msg
			}
			if msg := checkValue(e); msg != "" {
				return msg
			}
		}
	}
	return ""
}

// checkText checks one decoded text: within MaxValueChars, and with no
// U+FFFD, which is what a JSON escape of half a surrogate pair decodes to.
func checkText(s string) string {
	if n := utf8.RuneCountInString(s); n > MaxValueChars {
		return fmt.Sprintf("is %d characters; at most %d", n, MaxValueChars)
	}
	if strings.ContainsRune(s, utf8.RuneError) {
		return "is not valid text (a broken character)"
	}
	return ""
}

// checkAttachments checks each attachment reference and returns their
// evidence keys, or nil when there are too many to check.
func checkAttachments(atts []portalapi.AttachmentRef, bad func(field, msg string)) []string {
	if len(atts) > MaxAttachments {
		bad("attachments", fmt.Sprintf("has %d attachments; an application has at most %d", len(atts), MaxAttachments))
		return nil
	}
	keys := []string{}
	var total int64
	for i, a := range atts {
		if a.Size > 0 && a.Size <= MaxUploadSize {
			total += a.Size
		}
		field := fmt.Sprintf("attachments[%d]", i)
		if !isSHA256(a.SHA256) {
			bad(field+".sha256", "must be 64 lowercase hex digits")
		}
		if a.Size < 1 || a.Size > MaxUploadSize {
			bad(field+".size", fmt.Sprintf("must be 1 to %d bytes", MaxUploadSize))
		}
		if uploadID(a.UploadURL) == "" {
			bad(field+".upload_url", "is not an upload of this portal")
		}
		if a.EvidenceKey == "" {
			bad(field+".evidence_key", "required")
		}
		for _, f := range []struct{ name, value string }{{"evidence_key", a.EvidenceKey}, {"name", a.Name}, {"media_type", a.MediaType}} {
			if utf8.RuneCountInString(f.value) > maxNameChars || !utf8.ValidString(f.value) {
				bad(field+"."+f.name, fmt.Sprintf("must be valid text of at most %d characters", maxNameChars))
			}
		}
		keys = append(keys, a.EvidenceKey)
	}
	// One application travels as one upload, so its attachments together
	// are bounded as one upload is.
	if total > MaxUploadSize {
		bad("attachments", fmt.Sprintf("total %d bytes; an application has at most %d", total, MaxUploadSize))
	}
	return keys
}
