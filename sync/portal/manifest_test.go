package portal

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/motcua/motcua/sync/portalapi"
)

// withForm returns the example form with key set to value (raw JSON), or
// removed when value is "".
func withForm(key, value string) json.RawMessage {
	var m map[string]json.RawMessage
	json.Unmarshal(exampleForm(), &m)
	if value == "" {
		delete(m, key)
	} else {
		m[key] = json.RawMessage(value)
	}
	b, _ := json.Marshal(m)
	return b
}

// A manifest is checked before it is filed, against the portal's catalog
// with the kiosk's own rules (agent/procedure): a manifest that breaks them
// is refused as 422 malformed, naming the field, so the uplink quarantines
// it with the reason; nothing is filed.
func TestManifestIsCheckedBeforeFiling(t *testing.T) {
	p := newPortal(t)
	manyFields := map[string]string{}
	for i := range 300 {
		manyFields[fmt.Sprintf("extra_%03d", i)] = "x"
	}
	many, _ := json.Marshal(manyFields)
	tests := []struct {
		name  string
		edit  func(m *portalapi.Manifest)
		raw   func(body string) string
		field string
	}{
		{name: "unknown procedure", edit: func(m *portalapi.Manifest) { m.ProcedureID, m.ProcedureCode = "no-such-procedure", "" },
			field: "procedure_id"},
		{name: "procedure given by its code as id", edit: func(m *portalapi.Manifest) { m.ProcedureID = "1.001193" },
			field: "procedure_id"},
		{name: "code disagrees with id", edit: func(m *portalapi.Manifest) { m.ProcedureCode = "2.000908" },
			field: "procedure_code"},
		{name: "required field missing", edit: func(m *portalapi.Manifest) { m.Form = withForm("child_full_name", "") },
			field: "form.child_full_name"},
		{name: "unknown field", edit: func(m *portalapi.Manifest) { m.Form = withForm("bank_account", `"123"`) },
			field: "form.bank_account"},
		{name: "bad date", edit: func(m *portalapi.Manifest) { m.Form = withForm("child_date_of_birth", `"2026-13-45"`) },
			field: "form.child_date_of_birth"},
		{name: "value too long", edit: func(m *portalapi.Manifest) {
			m.Form = withForm("child_full_name", `"`+strings.Repeat("Nguyễn ", 2000)+`"`)
		}, field: "form.child_full_name"},
		{name: "too many fields", edit: func(m *portalapi.Manifest) { m.Form = many }, field: "form"},
		{name: "form too large", edit: func(m *portalapi.Manifest) {
			m.Form = withForm("child_hometown", `"`+strings.Repeat("x", MaxFormBytes)+`"`)
		}, field: "form"},
		{name: "lone surrogate", edit: func(m *portalapi.Manifest) { m.Form = withForm("child_full_name", `"Nguy\udc00n"`) },
			field: "form.child_full_name"},
		{name: "invalid UTF-8", raw: func(body string) string {
			return strings.Replace(body, "Nguyễn Minh Khang", "Nguy\xff\xfen Minh Khang", 1)
		}, field: "form"},
		{name: "missing evidence", edit: func(m *portalapi.Manifest) { m.Form = withForm("birth_certificate_code", "") },
			field: "evidence:birth_certificate"},
		{name: "audit head without a sequence number", edit: func(m *portalapi.Manifest) {
			m.AuditHead = &portalapi.AuditHead{Hash: strings.Repeat("ab", 32)}
		}, field: "audit_head"},
		{name: "audit head hash not hex", edit: func(m *portalapi.Manifest) {
			m.AuditHead = &portalapi.AuditHead{Seq: 7, Hash: strings.Repeat("AB", 32)}
		}, field: "audit_head"},
		{name: "too many attachments", edit: func(m *portalapi.Manifest) {
			for range MaxAttachments + 1 {
				m.Attachments = append(m.Attachments, portalapi.AttachmentRef{EvidenceKey: "birth_certificate", Name: "a.jpg",
					MediaType: "image/jpeg", Size: 1, SHA256: strings.Repeat("0", 64), UploadURL: "/v1/uploads/dev-0-a-1"})
			}
		}, field: "attachments"},
		{name: "application too large", edit: func(m *portalapi.Manifest) {
			// Each attachment is within bounds; together they are not: one
			// application travels as one upload of at most MaxUploadSize.
			for range 2 {
				m.Attachments = append(m.Attachments, portalapi.AttachmentRef{EvidenceKey: "birth_certificate", Name: "a.jpg",
					MediaType: "image/jpeg", Size: MaxUploadSize/2 + 1, SHA256: strings.Repeat("0", 64), UploadURL: "/v1/uploads/dev-0-a-1"})
			}
		}, field: "attachments"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m portalapi.Manifest
			json.Unmarshal([]byte(manifest(fmt.Sprintf("key-check-%04d", i))), &m)
			if tt.edit != nil {
				tt.edit(&m)
			}
			b, _ := json.Marshal(m)
			body := string(b)
			if tt.raw != nil {
				body = tt.raw(body)
			}
			var perr portalapi.Error
			code := p.do("POST", portalapi.PathSubmissions, nil, body, &perr)
			if code != 422 || perr.Code != portalapi.CodeMalformed {
				t.Fatalf("%d %+v, want 422 malformed", code, perr)
			}
			found := false
			for _, f := range perr.Fields {
				found = found || f.Field == tt.field
			}
			if !found {
				t.Errorf("fields %+v, want one for %s", perr.Fields, tt.field)
			}
		})
	}
	if list, _ := p.List(t.Context()); len(list) != 0 {
		t.Fatalf("a refused manifest was filed: %+v", list)
	}
}

// An attachment has at least one byte, and a manifest carried by an upload
// gets the same checks when its last byte arrives.
func TestEmptyAttachmentAndUploadManifestAreChecked(t *testing.T) {
	p := newPortal(t)
	var perr portalapi.Error
	ref := portalapi.AttachmentRef{EvidenceKey: "birth_certificate", Name: "a.jpg", MediaType: "image/jpeg", Size: 0,
		SHA256: hexSum(nil), UploadURL: portalapi.PathUploads + p.device + "-key-empty-0001-1"}
	if code := p.do("POST", portalapi.PathSubmissions, nil, manifest("key-empty-0001", ref), &perr); code != 422 ||
		perr.Code != portalapi.CodeMalformed || len(perr.Fields) == 0 || perr.Fields[0].Field != "attachments[0].size" {
		t.Fatalf("an empty attachment: %d %+v", code, perr)
	}
	content := []byte(strings.Repeat("z", 2000))
	m := portalapi.Manifest{IdempotencyKey: "key-upload-bad1", ProcedureCode: "1.001193", ProcedureID: "birth-registration",
		CatalogVersion: "2026.11.1", CapturedAt: time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC),
		Form: withForm("child_sex", `"robot"`), Attachments: []portalapi.AttachmentRef{{EvidenceKey: "birth_certificate",
			Name: "a.jpg", MediaType: "image/jpeg", Size: 2000, SHA256: hexSum(content)}}}
	mj, _ := json.Marshal(m)
	resp, body := p.send("POST", portalapi.PathUploads, map[string]string{
		"Upload-Length":   "2000",
		"Content-Type":    "application/offset+octet-stream",
		"Upload-Metadata": meta(portalapi.MetaIdempotencyKey, m.IdempotencyKey, portalapi.MetaUploadName, m.IdempotencyKey+"-1", portalapi.MetaManifest, string(mj)),
	}, content)
	if err := json.Unmarshal(body, &perr); resp.StatusCode != 422 || err != nil || perr.Code != portalapi.CodeMalformed ||
		len(perr.Fields) == 0 || perr.Fields[0].Field != "form.child_sex" {
		t.Fatalf("an upload whose manifest is malformed: %d %s", resp.StatusCode, body)
	}
	if list, _ := p.List(t.Context()); len(list) != 0 {
		t.Fatalf("filed: %+v", list)
	}
}
