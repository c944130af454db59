package kiosk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/motcua/motcua/agent/application"
	"github.com/motcua/motcua/agent/device"
	"github.com/motcua/motcua/agent/i18n"
	"github.com/motcua/motcua/agent/identity"
	"github.com/motcua/motcua/agent/procedure"
	"github.com/motcua/motcua/agent/status"
	"github.com/motcua/motcua/agent/store"
)

// Session is one citizen's application being captured. Its methods may be
// called from several goroutines (a scan runs while the screen reads the
// evidence); Submit and Scan hold the session only as long as they must.
type Session struct {
	s  *Service
	mu sync.Mutex
	// gen counts resets: a scan that ends after a Wipe attaches nothing to
	// the next citizen's session.
	gen      int
	key      string // the idempotency key, made at Start
	keyErr   error
	p        *procedure.Procedure
	values   map[string]any // string, or procedure.PersonValue for person fields
	fromCard map[string]any // the value each field got from a card
	card     *identity.Card
	docs     map[string][]Doc
	done     *Submitted
}

// EvidenceItem is one piece of evidence the procedure lists, with what is
// attached for it.
type EvidenceItem struct {
	Evidence procedure.Evidence
	// Waived is true when the form fills the field that makes this evidence
	// unnecessary (Evidence.WaivedBy).
	Waived bool
	Docs   []Doc
}

// Doc is one attached document.
type Doc struct {
	Name, MediaType string
	Content         []byte
	Pages           int // 0 when not known
}

// Review is everything the citizen checks before submitting.
type Review struct {
	Sections []ReviewSection
	Evidence []EvidenceItem
	// Problems lists everything Submit would refuse, in form order; empty
	// when the application can be submitted.
	Problems procedure.Errors
}

// ReviewSection is one section of the form with its fields' values.
type ReviewSection struct {
	Section procedure.Section
	Rows    []ReviewRow
}

// ReviewRow is one field: its label and its value as the citizen reads it
// ("" when not filled).
type ReviewRow struct {
	Key      string
	Label    i18n.Text
	Value    string
	FromCard bool
}

// Submitted is a stored application.
type Submitted struct {
	App *application.Application
	// Existing is true when the application was already stored with this
	// idempotency key: nothing new was stored.
	Existing bool
	Receipt  device.Receipt
}

// Start begins a session, with the idempotency key that its Submit will
// use however many times it is called.
func (s *Service) Start() *Session {
	ss := &Session{s: s}
	ss.reset()
	return ss
}

func (ss *Session) reset() {
	ss.gen++
	ss.key, ss.keyErr = application.NewIdempotencyKey()
	ss.p, ss.card, ss.done = nil, nil, nil
	ss.values = map[string]any{}
	ss.fromCard = map[string]any{}
	ss.docs = map[string][]Doc{}
}

// errNoProcedureChosen is the error of every call that needs a procedure
// before one is chosen.
func errNoProcedureChosen() error {
	return &i18n.Error{Code: "no_procedure", Msg: i18n.T("Chưa chọn thủ tục", "no procedure chosen"),
		Err: fmt.Errorf("%w: none chosen", ErrNoProcedure)}
}

// Choose picks the procedure by local id or official code. Answers and
// documents already given are kept where the new procedure has the same
// field or evidence. After a Submit, the session captures a new
// application, with a new idempotency key.
func (ss *Session) Choose(idOrCode string) error {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	p, err := ss.s.cfg.Catalog.Lookup(idOrCode)
	if err != nil {
		return &i18n.Error{Code: "no_procedure", Msg: i18n.Tf("Không có thủ tục %q", "no procedure %q", idOrCode),
			Err: fmt.Errorf("%w: %w", ErrNoProcedure, err)}
	}
	ss.p = p
	if ss.done != nil {
		// The submitted application is stored: what comes next is another.
		ss.key, ss.keyErr = application.NewIdempotencyKey()
	}
	for k := range ss.values {
		if p.Field(k) == nil {
			delete(ss.values, k)
			delete(ss.fromCard, k)
		}
	}
	for k := range ss.docs {
		if evidenceOf(p, k) == nil {
			delete(ss.docs, k)
		}
	}
	ss.done = nil
	return nil
}

// Procedure returns the chosen procedure, or nil.
func (ss *Session) Procedure() *procedure.Procedure {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.p
}

// Steps returns the form's sections, in order; nil before a procedure is
// chosen.
func (ss *Session) Steps() []procedure.Section {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.p == nil {
		return nil
	}
	return ss.p.Sections
}

// IdempotencyKey returns the key Submit stores the application with.
func (ss *Session) IdempotencyKey() string {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.key
}

// ApplyCard fills the form from an ID card and returns the keys it filled.
//
// With target "", the card is the requester's: it fills every field whose
// card_fill is set in the first section that has such fields (the
// requester's; a procedure for two people, such as marriage registration,
// has a second block a second card fills), and Card returns it afterwards.
// With target naming a Person field (e.g. "groom"), it fills that block and
// the card-filled fields of its section (the person's residence). With
// target naming a section whose fields describe one person by name, year or
// date of birth, citizen ID, sex and residence (e.g. "father" in birth
// registration), it fills those fields.
func (ss *Session) ApplyCard(c identity.Card, target string) ([]string, error) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.p == nil {
		return nil, errNoProcedureChosen()
	}
	var filled []string
	set := func(f *procedure.Field, v any) {
		ss.values[f.Key] = v
		ss.fromCard[f.Key] = v
		filled = append(filled, f.Key)
	}
	fillByCardFill := func(fields []procedure.Field) {
		for i := range fields {
			f := &fields[i]
			if v, ok := cardValue(f, f.CardFill, c); ok && f.CardFill != procedure.CardNone && f.CardFill != procedure.CardPerson {
				set(f, v)
			}
		}
	}
	switch sec, f := ss.p.Section(target), ss.p.Field(target); {
	case target == "":
		for _, sec := range ss.p.Sections {
			if !slices.ContainsFunc(sec.Fields, func(f procedure.Field) bool { return f.CardFill != procedure.CardNone }) {
				continue
			}
			for i := range sec.Fields {
				f := &sec.Fields[i]
				if v, ok := cardValue(f, f.CardFill, c); ok {
					set(f, v)
				}
			}
			break
		}
		card := c
		ss.card = &card
	case f != nil && f.Type == procedure.TypePerson:
		v, _ := cardValue(f, procedure.CardPerson, c)
		set(f, v)
		fillByCardFill(ss.sectionOf(f.Key).Fields)
	case sec != nil:
		for i := range sec.Fields {
			f := &sec.Fields[i]
			if v, ok := cardValue(f, personPart(f), c); ok {
				set(f, v)
			}
		}
	default:
		return nil, &i18n.Error{Code: "unknown_target", Msg: i18n.Tf(
			"Thủ tục %s không có mục %q để điền từ thẻ", "procedure %s has no person block or section %q to fill from a card",
			ss.p.ID, target)}
	}
	return filled, nil
}

// personPart guesses which card value fills f in a section about one
// person: the name, year or date of birth, citizen ID, sex, residence.
func personPart(f *procedure.Field) procedure.CardField {
	if f.CardFill != procedure.CardNone {
		return f.CardFill
	}
	switch {
	case f.Type == procedure.TypePerson:
		return procedure.CardPerson
	case f.Type == procedure.TypeName:
		return procedure.CardName
	case f.Type == procedure.TypeCitizenID:
		return procedure.CardID
	case f.Type == procedure.TypeYear && strings.Contains(f.Key, "birth"):
		return procedure.CardDateOfBirth
	case f.Type == procedure.TypeDate && strings.Contains(f.Key, "birth"):
		return procedure.CardDateOfBirth
	case f.Type == procedure.TypeChoice && strings.HasSuffix(f.Key, "sex"):
		return procedure.CardSex
	case f.Type == procedure.TypeAddress && strings.Contains(f.Key, "residence"):
		return procedure.CardAddress
	}
	return procedure.CardNone
}

// cardValue is card value cf as a value of field f.
func cardValue(f *procedure.Field, cf procedure.CardField, c identity.Card) (any, bool) {
	var s string
	switch cf {
	case procedure.CardID:
		s = string(c.ID)
	case procedure.CardOldID:
		s = c.OldID
	case procedure.CardName:
		s = c.Name
	case procedure.CardDateOfBirth:
		s = c.DateOfBirth.String()
		if f.Type == procedure.TypeYear && !c.DateOfBirth.IsZero() {
			s = strconv.Itoa(c.DateOfBirth.Year)
		}
	case procedure.CardSex:
		s = string(c.Sex)
		if !slices.ContainsFunc(f.Choices, func(ch procedure.Choice) bool { return ch.Value == s }) {
			return nil, false
		}
	case procedure.CardAddress:
		s = c.Address
	case procedure.CardIssueDate:
		s = c.IssueDate.String()
	case procedure.CardPerson:
		if f.Type != procedure.TypePerson {
			return nil, false
		}
		return procedure.PersonValue{FullName: c.Name, DateOfBirth: c.DateOfBirth.String(),
			CitizenID: string(c.ID), Sex: string(c.Sex)}, c.Name != ""
	default:
		return nil, false
	}
	return s, s != "" && f.Type != procedure.TypePerson
}

func (ss *Session) sectionOf(key string) procedure.Section {
	for _, sec := range ss.p.Sections {
		if slices.ContainsFunc(sec.Fields, func(f procedure.Field) bool { return f.Key == key }) {
			return sec
		}
	}
	return procedure.Section{}
}

// Card returns the requester's card, nil before one.
func (ss *Session) Card() *identity.Card {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.card
}

// Set sets a field: a string for scalars, a procedure.PersonValue for a
// person block; "" or nil (or a zero PersonValue) clears it. Values are
// checked by ValidateStep and Submit, not here.
func (ss *Session) Set(key string, v any) error {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.p == nil {
		return errNoProcedureChosen()
	}
	f := ss.p.Field(key)
	if f == nil {
		return &i18n.Error{Code: "unknown_field", Msg: i18n.Tf("Thủ tục %s không có trường %q",
			"procedure %s has no field %q", ss.p.ID, key)}
	}
	switch v := v.(type) {
	case nil:
		delete(ss.values, key)
	case string:
		if f.Type == procedure.TypePerson {
			return fmt.Errorf("field %s is a person block: set a procedure.PersonValue, not a string", key)
		}
		if v == "" {
			delete(ss.values, key)
		} else {
			ss.values[key] = v
		}
	case procedure.PersonValue:
		if f.Type != procedure.TypePerson {
			return fmt.Errorf("field %s is a %s field: set a string, not a person block", key, f.Type)
		}
		if v == (procedure.PersonValue{}) {
			delete(ss.values, key)
		} else {
			ss.values[key] = v
		}
	default:
		return fmt.Errorf("field %s: cannot set a %T (want string or procedure.PersonValue)", key, v)
	}
	return nil
}

// Value returns a field's value as set: a string or a procedure.PersonValue.
func (ss *Session) Value(key string) (any, bool) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	v, ok := ss.values[key]
	return v, ok
}

// FromCard reports whether the field's value came from a card and was not
// changed since.
func (ss *Session) FromCard(key string) bool {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.isFromCard(key)
}

func (ss *Session) isFromCard(key string) bool {
	cv, ok := ss.fromCard[key]
	v, set := ss.values[key]
	return ok && set && v == cv
}

// form is the session's answers as a JSON form.
func (ss *Session) form() []byte {
	b, err := json.Marshal(ss.values)
	if err != nil {
		// Only strings and PersonValues are ever stored.
		panic(fmt.Sprintf("kiosk: encode form: %v", err))
	}
	return b
}

func (ss *Session) today() identity.Date { return identity.Today(ss.s.cfg.Now()) }

// ValidateStep checks only that section's fields, with bilingual messages;
// nil when they are fine.
func (ss *Session) ValidateStep(sectionKey string) procedure.Errors {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.validateStep(sectionKey)
}

func (ss *Session) validateStep(sectionKey string) procedure.Errors {
	if ss.p == nil {
		return procedure.Errors{{Code: "no_procedure", Message: i18n.T("Chưa chọn thủ tục", "no procedure chosen")}}
	}
	_, err := ss.p.ValidateSection(sectionKey, ss.form(), ss.today())
	var errs procedure.Errors
	switch {
	case errors.As(err, &errs):
		return errs
	case err != nil:
		return procedure.Errors{{Code: "unknown_section", Message: i18n.Tf("Không có bước %[1]q", "%[2]v", sectionKey, err)}}
	}
	return nil
}

// Evidence lists each evidence the procedure asks for, whether a filled
// field waives it, and the documents attached for it.
func (ss *Session) Evidence() []EvidenceItem {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.evidence()
}

func (ss *Session) evidence() []EvidenceItem {
	if ss.p == nil {
		return nil
	}
	out := make([]EvidenceItem, len(ss.p.Evidence))
	for i, e := range ss.p.Evidence {
		_, waived := ss.values[e.WaivedBy]
		out[i] = EvidenceItem{Evidence: e, Waived: e.WaivedBy != "" && waived, Docs: slices.Clone(ss.docs[e.Key])}
	}
	return out
}

func evidenceOf(p *procedure.Procedure, key string) *procedure.Evidence {
	for i := range p.Evidence {
		if p.Evidence[i].Key == key {
			return &p.Evidence[i]
		}
	}
	return nil
}

func (ss *Session) checkEvidenceKey(key string) error {
	if ss.p == nil {
		return errNoProcedureChosen()
	}
	if evidenceOf(ss.p, key) == nil {
		return &i18n.Error{Code: "unknown_evidence", Msg: i18n.Tf("Thủ tục %s không yêu cầu giấy tờ %q",
			"procedure %s lists no evidence %q", ss.p.ID, key)}
	}
	return nil
}

// Attach adds a document to evidence evidenceKey.
func (ss *Session) Attach(evidenceKey string, d Doc) error {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.attach(evidenceKey, d)
}

func (ss *Session) attach(evidenceKey string, d Doc) error {
	if err := ss.checkEvidenceKey(evidenceKey); err != nil {
		return err
	}
	switch {
	case len(d.Content) == 0:
		return i18n.Errorf("empty_attachment", "Tệp %s rỗng", "attachment %s is empty", d.Name)
	case len(d.Content) > MaxAttachmentBytes:
		return i18n.Errorf("attachment_too_large", "Tệp %[1]s quá lớn (tối đa %[3]d MB)",
			"attachment %[1]s is %[2]d bytes, more than the %[3]d MB allowed", d.Name, len(d.Content), MaxAttachmentBytes>>20)
	}
	if d.Name == "" {
		d.Name = fmt.Sprintf("%s-%d", evidenceKey, len(ss.docs[evidenceKey])+1)
	}
	if d.MediaType == "" {
		d.MediaType = "application/octet-stream"
	}
	ss.docs[evidenceKey] = append(ss.docs[evidenceKey], d)
	return nil
}

// Detach removes the i-th document (from 0) of evidence evidenceKey.
func (ss *Session) Detach(evidenceKey string, i int) error {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if err := ss.checkEvidenceKey(evidenceKey); err != nil {
		return err
	}
	docs := ss.docs[evidenceKey]
	if i < 0 || i >= len(docs) {
		return fmt.Errorf("evidence %s has %d document(s): no document %d: %w", evidenceKey, len(docs), i, ErrNotFound)
	}
	ss.docs[evidenceKey] = slices.Delete(docs, i, i+1)
	return nil
}

// Scan scans one document for evidenceKey with the configured scanner,
// publishing status.ScanProgress (each page when the scanner is a
// device.ProgressScanner), and attaches it. When the scanner stops part way
// (a jam) and returns the pages scanned so far (a device.ScanStoppedError),
// Scan returns them as the Doc, not attached, with the error: the citizen
// retakes the scan or keeps them with Attach.
func (ss *Session) Scan(ctx context.Context, evidenceKey string) (Doc, error) {
	ss.mu.Lock()
	err := ss.checkEvidenceKey(evidenceKey)
	gen, n := ss.gen, len(ss.docs[evidenceKey])
	ss.mu.Unlock()
	if err != nil {
		return Doc{}, err
	}
	if ss.s.cfg.Scanner == nil {
		return Doc{}, &i18n.Error{Code: "no_scanner", Msg: i18n.T(
			"Máy này không có máy quét; vui lòng nhờ cán bộ hỗ trợ", "this kiosk has no scanner"),
			Err: fmt.Errorf("scan %s: %w", evidenceKey, ErrNoScanner)}
	}
	ss.s.publish(status.ScanProgress{})
	var got device.Document
	if ps, ok := ss.s.cfg.Scanner.(device.ProgressScanner); ok {
		got, err = ps.ScanDocumentProgress(ctx, func(page int) { ss.s.publish(status.ScanProgress{Page: page}) })
	} else {
		got, err = ss.s.cfg.Scanner.ScanDocument(ctx)
	}
	name := fmt.Sprintf("%s-%d.pdf", evidenceKey, n+1)
	d := Doc{Name: name, MediaType: "application/pdf", Content: got.PDF, Pages: got.Pages}
	if err != nil {
		ss.s.publish(status.ScanProgress{Page: got.Pages, Done: true, Problem: problemText(err)})
		if got.Pages > 0 && len(got.PDF) > 0 {
			return d, fmt.Errorf("scan %s: %d page(s) kept: %w", evidenceKey, got.Pages, err)
		}
		return Doc{}, fmt.Errorf("scan %s: %w", evidenceKey, err)
	}
	ss.s.publish(status.ScanProgress{Page: got.Pages, Done: true})
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.gen != gen {
		return Doc{}, fmt.Errorf("scan %s: %w", evidenceKey, ErrWiped)
	}
	if err := ss.attach(evidenceKey, d); err != nil {
		return Doc{}, err
	}
	return d, nil
}

// problemText is err's bilingual message: its own when it has one.
func problemText(err error) i18n.Text {
	var ie *i18n.Error
	if errors.As(err, &ie) {
		return ie.Msg
	}
	return i18n.T("Máy quét gặp lỗi; vui lòng thử lại hoặc nhờ cán bộ hỗ trợ", "scanner error: "+err.Error())
}

// Review returns every section with its labelled values, the evidence, and
// every problem Submit would refuse.
func (ss *Session) Review() Review {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.p == nil {
		return Review{Problems: ss.validateStep("")}
	}
	var r Review
	for _, sec := range ss.p.Sections {
		rs := ReviewSection{Section: sec}
		for i := range sec.Fields {
			f := &sec.Fields[i]
			v := ss.values[f.Key]
			rs.Rows = append(rs.Rows, ReviewRow{Key: f.Key, Label: f.Label, Value: display(f, v), FromCard: ss.isFromCard(f.Key)})
		}
		r.Sections = append(r.Sections, rs)
	}
	r.Evidence = ss.evidence()
	_, r.Problems = ss.check()
	return r
}

// display is a value as a citizen reads it, in Vietnamese: a choice's
// label, a date as day/month/year.
func display(f *procedure.Field, v any) string {
	switch v := v.(type) {
	case string:
		for _, c := range f.Choices {
			if c.Value == v {
				return c.Label.VI
			}
		}
		if f.Type == procedure.TypeDate {
			return dayMonthYear(v)
		}
		return v
	case procedure.PersonValue:
		parts := []string{v.FullName}
		if v.DateOfBirth != "" {
			parts = append(parts, "sinh ngày "+dayMonthYear(v.DateOfBirth))
		}
		if v.CitizenID != "" {
			parts = append(parts, "số định danh "+v.CitizenID)
		}
		if v.Sex != "" {
			parts = append(parts, identity.Sex(v.Sex).Vietnamese())
		}
		return strings.Join(parts, ", ")
	}
	return ""
}

// dayMonthYear writes a date as Vietnamese read it, 05/10/2026; a value
// that is not a date is left as typed.
func dayMonthYear(s string) string {
	d, err := identity.ParseDate(s)
	if err != nil {
		return s
	}
	return fmt.Sprintf("%02d/%02d/%04d", d.Day, d.Month, d.Year)
}

// attachments is the session's documents as the store takes them, in
// evidence order.
func (ss *Session) attachments() []store.NewAttachment {
	var out []store.NewAttachment
	for _, e := range ss.p.Evidence {
		for _, d := range ss.docs[e.Key] {
			out = append(out, store.NewAttachment{EvidenceKey: e.Key, Name: d.Name, MediaType: d.MediaType, Content: d.Content})
		}
	}
	return out
}

// check validates the whole form and the evidence, as Submit does.
func (ss *Session) check() (procedure.Values, procedure.Errors) {
	return ss.s.check(ss.p, ss.form(), ss.attachments())
}

// Submit validates the whole form and evidence and stores the application
// queued, in one transaction, with the session's idempotency key: a second
// call stores nothing new and returns the stored application with Existing
// set. Problems come back as procedure.Errors.
func (ss *Session) Submit(ctx context.Context) (*Submitted, error) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.p == nil {
		return nil, errNoProcedureChosen()
	}
	if ss.keyErr != nil {
		return nil, fmt.Errorf("submit: %w", ss.keyErr)
	}
	sub, err := ss.s.Submit(ctx, Capture{Procedure: ss.p, Form: ss.form(), Attachments: ss.attachments(), IdempotencyKey: ss.key})
	if err != nil {
		return nil, err
	}
	ss.done = sub
	return sub, nil
}

// Linked returns the procedures the catalog suggests after this one, once
// it is submitted; nil before.
func (ss *Session) Linked() []*procedure.Procedure {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.p == nil || ss.done == nil {
		return nil
	}
	var out []*procedure.Procedure
	for _, id := range ss.p.Linked {
		if p, err := ss.s.cfg.Catalog.Lookup(id); err == nil {
			out = append(out, p)
		}
	}
	return out
}

// StartLinked starts a new session for linked procedure id, with its own
// idempotency key, prefilled from this one: the requester's card, then
// every value whose field has the same key and type there, and the
// requester block's fields under the new procedure's requester (a birth
// registration's requester_phone fills a permanent residence's
// applicant_phone).
func (ss *Session) StartLinked(id string) (*Session, error) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.p == nil {
		return nil, errNoProcedureChosen()
	}
	if !slices.Contains(ss.p.Linked, id) {
		return nil, &i18n.Error{Code: "no_procedure", Msg: i18n.Tf("Thủ tục %q không đi kèm thủ tục %s",
			"procedure %q is not linked from %s", id, ss.p.ID), Err: fmt.Errorf("%w: %q is not linked from %s", ErrNoProcedure, id, ss.p.ID)}
	}
	next := ss.s.Start()
	if err := next.Choose(id); err != nil {
		return nil, err
	}
	if ss.card != nil {
		if _, err := next.ApplyCard(*ss.card, ""); err != nil {
			return nil, err
		}
	}
	copyValue := func(from, to string) {
		v, ok := ss.values[from]
		f, g := ss.p.Field(from), next.p.Field(to)
		if !ok || f == nil || g == nil || f.Type != g.Type {
			return
		}
		if _, set := next.values[to]; set {
			return
		}
		next.values[to] = v
		if ss.isFromCard(from) {
			next.fromCard[to] = v
		}
	}
	for _, f := range next.p.Fields() {
		copyValue(f.Key, f.Key)
	}
	if src, dst := requesterBlock(ss.p), requesterBlock(next.p); src != "" && dst != "" {
		for _, f := range next.p.Fields() {
			if rest, ok := strings.CutPrefix(f.Key, dst); ok && (rest == "" || rest[0] == '_') {
				copyValue(src+rest, f.Key)
			}
		}
	}
	return next, nil
}

// requesterBlock is the key of the procedure's first person block the card
// fills: the requester's.
func requesterBlock(p *procedure.Procedure) string {
	for _, f := range p.Fields() {
		if f.Type == procedure.TypePerson && f.CardFill == procedure.CardPerson {
			return f.Key
		}
	}
	return ""
}

// Wipe forgets every answer, card and document, and the chosen procedure;
// the session starts over with a new idempotency key.
func (ss *Session) Wipe() {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	ss.reset()
}
