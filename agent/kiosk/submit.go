package kiosk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/motcua/motcua/agent/application"
	"github.com/motcua/motcua/agent/i18n"
	"github.com/motcua/motcua/agent/identity"
	"github.com/motcua/motcua/agent/procedure"
	"github.com/motcua/motcua/agent/store"
)

// Capture is one application to store: what a Session submits, and what
// `motcua submit` reads from its flags.
type Capture struct {
	Procedure *procedure.Procedure
	// Form is the form as a JSON object of field key to value.
	Form json.RawMessage
	// Attachments each name their evidence.
	Attachments []store.NewAttachment
	// IdempotencyKey, when set, makes a repeated Submit store nothing new;
	// empty, the store makes one.
	IdempotencyKey string
	// Problems found before (files that could not be read, say) are
	// reported with the rest, and nothing is stored.
	Problems procedure.Errors
}

// Submit validates c's form against its procedure, the service's catalog
// version and today, checks its evidence, and stores it queued, in one
// transaction. Every problem comes back at once, as procedure.Errors, and
// nothing is stored. When IdempotencyKey names an application already
// stored with the same procedure and normalized form, Submit returns it
// with Existing set; with a different one, an error wrapping ErrKeyReused.
func (s *Service) Submit(ctx context.Context, c Capture) (*Submitted, error) {
	p := c.Procedure
	if p == nil {
		return nil, errNoProcedureChosen()
	}
	vals, problems := s.check(p, c.Form, c.Attachments)
	problems = append(append(procedure.Errors(nil), c.Problems...), problems...)
	if len(problems) > 0 {
		return nil, problems
	}
	normalized, err := json.Marshal(vals)
	if err != nil {
		return nil, fmt.Errorf("encode form: %w", err)
	}
	st := s.cfg.Store
	a, err := st.Create(ctx, store.NewApplication{
		IdempotencyKey: c.IdempotencyKey,
		ProcedureID:    p.ID,
		ProcedureCode:  p.Code,
		CatalogVersion: s.cfg.Catalog.Version,
		Form:           normalized,
		Attachments:    c.Attachments,
		Actor:          s.cfg.Actor,
	}, application.Queued)
	existing := false
	if errors.Is(err, store.ErrDuplicateKey) {
		// A retried submission: answer with what is stored, if it is the same.
		a, err = st.FindByKey(ctx, c.IdempotencyKey)
		if err == nil && (a.ProcedureID != p.ID || string(a.Form) != string(normalized)) {
			return nil, &i18n.Error{Code: "already_submitted", Msg: i18n.Tf(
				"Hồ sơ này đã được nộp (số %[2]d) và không sửa được nữa; hãy bắt đầu hồ sơ mới",
				"idempotency key %[1]s is already used by application %[2]d with a different form", c.IdempotencyKey, a.ID),
				Err: ErrKeyReused}
		}
		existing = true
	}
	if err != nil {
		return nil, err
	}
	if !existing {
		s.watchSubmission(ctx, p, normalized)
	}
	return &Submitted{App: a, Existing: existing, Receipt: s.receiptFor(a)}, nil
}

// check validates form and the attachments' evidence against p, collecting
// every problem: the form's, then the evidence's (only once the form is
// valid, since a filled field may waive evidence).
func (s *Service) check(p *procedure.Procedure, form []byte, atts []store.NewAttachment) (procedure.Values, procedure.Errors) {
	var problems procedure.Errors
	vals, err := p.Validate(form, identity.Today(s.cfg.Now()))
	if err != nil {
		var ferrs procedure.Errors
		if !errors.As(err, &ferrs) {
			// Validate returns nothing but Errors.
			ferrs = procedure.Errors{{Code: "invalid_form", Message: textOf(err)}}
		}
		problems = append(problems, ferrs...)
	}
	if vals != nil {
		keys := make([]string, len(atts))
		for i, a := range atts {
			keys[i] = a.EvidenceKey
		}
		problems = append(problems, p.CheckEvidence(vals, keys)...)
	}
	return vals, problems
}
