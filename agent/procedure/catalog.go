package procedure

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/motcua/motcua/agent/i18n"
)

// ErrUnknownProcedure is returned (wrapped) by Lookup for a code or id that is
// not in the catalog.
var ErrUnknownProcedure = errors.New("unknown procedure")

// ErrBadCatalog is returned (wrapped) when catalog data breaks a rule.
var ErrBadCatalog = errors.New("bad catalog")

//go:embed catalog/*.json
var embedded embed.FS

var (
	embeddedOnce sync.Once
	embeddedCat  *Catalog
	embeddedErr  error
)

// Embedded returns the catalog built into the binary. It is checked once;
// callers must not modify it.
func Embedded() (*Catalog, error) {
	embeddedOnce.Do(func() {
		sub, err := fs.Sub(embedded, "catalog")
		if err != nil {
			embeddedErr = err
			return
		}
		embeddedCat, embeddedErr = Load(sub)
	})
	return embeddedCat, embeddedErr
}

// index is the catalog's index.json.
type index struct {
	Version   string   `json:"version"`
	Published string   `json:"published"`
	Order     []string `json:"order"`
}

// Load reads a catalog from fsys: index.json (version and display order)
// and one <id>.json per procedure. Unknown JSON keys are errors, and the
// catalog's rules are checked (see Check).
func Load(fsys fs.FS) (*Catalog, error) {
	var idx index
	if err := decodeStrict(fsys, "index.json", &idx); err != nil {
		return nil, err
	}
	files, err := fs.Glob(fsys, "*.json")
	if err != nil {
		return nil, err
	}
	listed := make(map[string]bool, len(idx.Order))
	for _, id := range idx.Order {
		listed[id] = true
	}
	for _, f := range files {
		if id := strings.TrimSuffix(f, ".json"); f != "index.json" && !listed[id] {
			return nil, fmt.Errorf("%w: %s is not listed in index.json", ErrBadCatalog, f)
		}
	}
	cat := &Catalog{Version: idx.Version, Published: idx.Published}
	for _, id := range idx.Order {
		p := new(Procedure)
		if err := decodeStrict(fsys, id+".json", p); err != nil {
			return nil, err
		}
		if p.ID != id {
			return nil, fmt.Errorf("%w: %s.json holds procedure %q", ErrBadCatalog, id, p.ID)
		}
		cat.Procedures = append(cat.Procedures, p)
	}
	if err := cat.Check(); err != nil {
		return nil, err
	}
	return cat, nil
}

func decodeStrict(fsys fs.FS, name string, v any) error {
	b, err := fs.ReadFile(fsys, name)
	if err != nil {
		return fmt.Errorf("catalog: %w", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrBadCatalog, path.Base(name), err)
	}
	return nil
}

// Parse reads a whole catalog as one JSON document (the form the portal
// serves it in), refusing unknown keys and checking the catalog's rules.
func Parse(data []byte) (*Catalog, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	cat := new(Catalog)
	if err := dec.Decode(cat); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadCatalog, err)
	}
	if err := cat.Check(); err != nil {
		return nil, err
	}
	return cat, nil
}

// Newer reports whether version a is later than version b; versions are
// YEAR.MONTH.N and compare part by part as numbers.
func Newer(a, b string) bool {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(pa) && i < len(pb); i++ {
		x, errx := strconv.Atoi(pa[i])
		y, erry := strconv.Atoi(pb[i])
		if errx != nil || erry != nil {
			return a > b
		}
		if x != y {
			return x > y
		}
	}
	return len(pa) > len(pb)
}

// Lookup returns the procedure with the given official code or local id.
func (c *Catalog) Lookup(codeOrID string) (*Procedure, error) {
	for _, p := range c.Procedures {
		if p.ID == codeOrID || (p.Code != "" && p.Code == codeOrID) {
			return p, nil
		}
	}
	return nil, fmt.Errorf("%w: %q (see `motcua procedures`)", ErrUnknownProcedure, codeOrID)
}

var (
	slugRe  = regexp.MustCompile(`^[a-z][a-z0-9-]*$`)
	keyRe   = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	valueRe = regexp.MustCompile(`^[a-z0-9][a-z0-9_]*$`)
	codeRe  = regexp.MustCompile(`^[0-9]\.[0-9]{6}$`)
	version = regexp.MustCompile(`^[0-9]{4}\.[0-9]{1,2}\.[0-9]+$`)
	// videoFileRe is a plain file name with an extension: it cannot name a
	// folder, climb out of the videos folder or be hidden.
	videoFileRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+)+$`)
)

var fieldTypes = map[FieldType]bool{
	TypeText: true, TypeName: true, TypeDate: true, TypeYear: true, TypeChoice: true, TypeCitizenID: true,
	TypePhone: true, TypeEmail: true, TypeAddress: true, TypePerson: true,
}

// cardFits says which card values may fill which field types.
var cardFits = map[CardField][]FieldType{
	CardID:          {TypeCitizenID},
	CardOldID:       {TypeText},
	CardName:        {TypeName, TypeText},
	CardDateOfBirth: {TypeDate},
	CardSex:         {TypeChoice},
	CardAddress:     {TypeAddress, TypeText},
	CardIssueDate:   {TypeDate},
	CardPerson:      {TypePerson},
}

var personParts = map[string]bool{PartDateOfBirth: true, PartCitizenID: true, PartSex: true}

// Check verifies the catalog's rules: a version, unique procedure ids and
// codes, well-formed field keys unique within each procedure, known field
// types, choices for choice fields, card fills that fit their field, an
// example for every field, references (waived_by, id_matches, linked,
// bundle) that point at things that exist, and a video that names a plain
// file name. It reports every problem found.
func (c *Catalog) Check() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrBadCatalog}, args...)...))
	}
	if !version.MatchString(c.Version) {
		bad("version %q is not YYYY.M.N", c.Version)
	}
	if len(c.Procedures) == 0 {
		bad("no procedures")
	}
	ids := map[string]bool{}
	codes := map[string]string{}
	for _, p := range c.Procedures {
		if !slugRe.MatchString(p.ID) {
			bad("procedure id %q is not a lowercase slug", p.ID)
		}
		if ids[p.ID] {
			bad("procedure id %q appears twice", p.ID)
		}
		ids[p.ID] = true
		if p.Code != "" {
			if !codeRe.MatchString(p.Code) {
				bad("%s: code %q is not of the form 1.001193", p.ID, p.Code)
			}
			if other, ok := codes[p.Code]; ok {
				bad("%s: code %s is also %s's", p.ID, p.Code, other)
			}
			codes[p.Code] = p.ID
		}
	}
	for _, p := range c.Procedures {
		for _, msg := range p.check(ids) {
			bad("%s: %s", p.ID, msg)
		}
	}
	return errors.Join(errs...)
}

func (p *Procedure) check(ids map[string]bool) []string {
	var out []string
	bad := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	text := func(what string, t i18n.Text) {
		if t.VI == "" || t.EN == "" {
			bad("%s needs both Vietnamese and English", what)
		}
	}
	text("name", p.Name)
	text("summary", p.Summary)
	text("agency", p.Agency)
	if p.ProcessingDays < 0 {
		bad("negative processing_days")
	}
	if p.Fee.CounterVND < 0 || p.Fee.OnlineVND < 0 {
		bad("negative fee")
	}
	if len(p.Sections) == 0 {
		bad("no sections")
	}
	fields := map[string]*Field{}
	sections := map[string]bool{}
	for si := range p.Sections {
		s := &p.Sections[si]
		if !keyRe.MatchString(s.Key) || sections[s.Key] {
			bad("section key %q is malformed or repeated", s.Key)
		}
		sections[s.Key] = true
		text("section "+s.Key+" title", s.Title)
		if len(s.Fields) == 0 {
			bad("section %s has no fields", s.Key)
		}
		for fi := range s.Fields {
			f := &s.Fields[fi]
			if !keyRe.MatchString(f.Key) {
				bad("field key %q is malformed", f.Key)
			}
			if fields[f.Key] != nil {
				bad("field key %q appears twice", f.Key)
			}
			fields[f.Key] = f
			text("field "+f.Key+" label", f.Label)
			if !fieldTypes[f.Type] {
				bad("field %s: unknown type %q", f.Key, f.Type)
			}
			if (f.Type == TypeChoice) != (len(f.Choices) > 0) {
				bad("field %s: choices go with, and only with, type choice", f.Key)
			}
			seen := map[string]bool{}
			for _, c := range f.Choices {
				if !valueRe.MatchString(c.Value) || seen[c.Value] {
					bad("field %s: choice value %q is malformed or repeated", f.Key, c.Value)
				}
				seen[c.Value] = true
				text("field "+f.Key+" choice "+c.Value, c.Label)
			}
			if f.CardFill != CardNone {
				fits, ok := cardFits[f.CardFill]
				if !ok {
					bad("field %s: unknown card_fill %q", f.Key, f.CardFill)
				} else if !containsType(fits, f.Type) {
					bad("field %s: card_fill %s does not fit type %s", f.Key, f.CardFill, f.Type)
				}
			}
			if f.DateRule != AnyDate && (f.Type != TypeDate || (f.DateRule != PastOnly && f.DateRule != FutureOnly)) {
				bad("field %s: date_rule %q", f.Key, f.DateRule)
			}
			for _, part := range f.PersonParts {
				if f.Type != TypePerson || !personParts[part] {
					bad("field %s: person part %q", f.Key, part)
				}
			}
			if len(f.Example) == 0 {
				bad("field %s has no example", f.Key)
			}
		}
	}
	for _, f := range fields {
		if f.IDMatches == nil {
			continue
		}
		if f.Type != TypeCitizenID {
			bad("field %s: id_matches only goes on citizen_id fields", f.Key)
		}
		if k := f.IDMatches.DateOfBirth; k != "" && (fields[k] == nil || fields[k].Type != TypeDate) {
			bad("field %s: id_matches.date_of_birth %q is not a date field", f.Key, k)
		}
		if k := f.IDMatches.Sex; k != "" && (fields[k] == nil || fields[k].Type != TypeChoice) {
			bad("field %s: id_matches.sex %q is not a choice field", f.Key, k)
		}
	}
	evs := map[string]bool{}
	for _, e := range p.Evidence {
		if !keyRe.MatchString(e.Key) || evs[e.Key] {
			bad("evidence key %q is malformed or repeated", e.Key)
		}
		evs[e.Key] = true
		text("evidence "+e.Key+" label", e.Label)
		if e.WaivedBy != "" && fields[e.WaivedBy] == nil {
			bad("evidence %s: waived_by %q is not a field", e.Key, e.WaivedBy)
		}
	}
	for _, id := range p.Linked {
		if !ids[id] || id == p.ID {
			bad("linked procedure %q does not exist", id)
		}
	}
	for _, id := range p.Bundle {
		if !ids[id] || id == p.ID {
			bad("bundled procedure %q does not exist", id)
		}
	}
	if v := p.Video; v != nil {
		if !videoFileRe.MatchString(v.File) {
			bad("video file %q is not a plain file name (letters, digits, '-', '_' and an extension; no folder, no '..')", v.File)
		}
		text("video title", v.Title)
	}
	return out
}

func containsType(ts []FieldType, t FieldType) bool {
	for _, x := range ts {
		if x == t {
			return true
		}
	}
	return false
}

// Fields returns every field of the procedure in form order.
func (p *Procedure) Fields() []*Field {
	var out []*Field
	for si := range p.Sections {
		for fi := range p.Sections[si].Fields {
			out = append(out, &p.Sections[si].Fields[fi])
		}
	}
	return out
}

// Field returns the field with the given key, or nil.
func (p *Procedure) Field(key string) *Field {
	for _, f := range p.Fields() {
		if f.Key == key {
			return f
		}
	}
	return nil
}

// Example returns a filled, valid example form for the procedure, as an
// indented JSON object, usable as `motcua submit --form`.
func (p *Procedure) Example() []byte {
	var b strings.Builder
	b.WriteString("{\n")
	fs := p.Fields()
	for i, f := range fs {
		key, _ := json.Marshal(f.Key)
		fmt.Fprintf(&b, "  %s: %s", key, compact(f.Example))
		if i < len(fs)-1 {
			b.WriteString(",")
		}
		b.WriteString("\n")
	}
	b.WriteString("}\n")
	return []byte(b.String())
}

func compact(raw json.RawMessage) string {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return string(raw)
	}
	return b.String()
}
