// Package procedure is the catalog of public-service procedures as data: each
// procedure's form fields, required evidence, fees, processing time and the
// procedures to suggest afterwards. The catalog is embedded in the binary and
// versioned, so a kiosk can capture applications offline with the catalog it
// last had.
package procedure

import (
	"encoding/json"

	"github.com/motcua/motcua/agent/i18n"
)

// FieldType is the kind of value a form field holds.
type FieldType string

// The field types. Values travel as JSON: strings for every type but Person,
// which is an object (see PersonValue).
const (
	TypeText      FieldType = "text"       // free text, NFC-normalized, trimmed
	TypeName      FieldType = "name"       // a person's full name: letters only, NFC
	TypeDate      FieldType = "date"       // a calendar date, "YYYY-MM-DD"
	TypeYear      FieldType = "year"       // a year, "YYYY" (e.g. a parent's year of birth)
	TypeChoice    FieldType = "choice"     // one of Field.Choices' values
	TypeCitizenID FieldType = "citizen_id" // the 12-digit citizen ID number
	TypePhone     FieldType = "phone"      // a Vietnamese phone number, stored as 0xxxxxxxxx
	TypeEmail     FieldType = "email"      // an e-mail address
	TypeAddress   FieldType = "address"    // a postal address, free text
	TypePerson    FieldType = "person"     // a block: full name, date of birth, citizen ID, sex
)

// CardField names a value that the citizen ID card's QR code carries. A field
// whose CardFill is set can be filled from the card instead of typed.
type CardField string

// The values the ID card can fill.
const (
	CardNone        CardField = ""
	CardID          CardField = "id"            // the 12-digit ID
	CardOldID       CardField = "old_id"        // the old 9-digit ID
	CardName        CardField = "name"          // full name
	CardDateOfBirth CardField = "date_of_birth" // date of birth
	CardSex         CardField = "sex"           // sex, as a Choice value "male" or "female"
	CardAddress     CardField = "address"       // permanent residence
	CardIssueDate   CardField = "issue_date"    // card issue date
	CardPerson      CardField = "person"        // a whole Person block
)

// Person block parts, the keys of a Person value.
const (
	PartFullName    = "full_name"
	PartDateOfBirth = "date_of_birth"
	PartCitizenID   = "citizen_id"
	PartSex         = "sex"
)

// DateRule restricts a Date field relative to the capture day.
type DateRule string

// The date rules.
const (
	AnyDate    DateRule = ""
	PastOnly   DateRule = "past"   // today or earlier (dates of birth, death, issue)
	FutureOnly DateRule = "future" // today or later (appointments, intended dates)
)

// Catalog is a versioned set of procedures.
type Catalog struct {
	// Version identifies this catalog; it is recorded with every application
	// captured against it.
	Version string `json:"version"`
	// Published is the day this version was published, YYYY-MM-DD.
	Published string `json:"published"`
	// Procedures in display order.
	Procedures []*Procedure `json:"procedures"`
}

// Procedure is one public-service procedure (thủ tục hành chính).
type Procedure struct {
	// ID is the stable local identifier, a lowercase slug such as
	// "birth-registration". Commands accept it as well as Code.
	ID string `json:"id"`
	// Code is the official procedure code on the national portal, such as
	// "1.001193", or empty when not known.
	Code string `json:"code,omitempty"`
	// CodeVerified is false when Code comes from a secondary source and has
	// not been checked against the national procedure database.
	CodeVerified bool `json:"code_verified"`
	// Name is the procedure's name.
	Name i18n.Text `json:"name"`
	// Summary says in one sentence what the procedure is for, in plain words.
	Summary i18n.Text `json:"summary"`
	// Agency is the kind of agency that handles it (commune police, commune
	// People's Committee, ...).
	Agency i18n.Text `json:"agency"`
	// LegalBasis lists the main legal documents, for staff.
	LegalBasis []string `json:"legal_basis,omitempty"`
	// Form is the official form number, when there is one (e.g. "CT01").
	Form string `json:"form,omitempty"`
	// ProcessingDays is the processing time in working days; 0 means the same
	// day.
	ProcessingDays int `json:"processing_days"`
	// ProcessingNote qualifies ProcessingDays.
	ProcessingNote i18n.Text `json:"processing_note,omitzero"`
	// Fee is what the citizen pays.
	Fee Fee `json:"fee"`
	// Sections group the form's fields, one screen each in the kiosk.
	Sections []Section `json:"sections"`
	// Evidence lists the documents to attach.
	Evidence []Evidence `json:"evidence"`
	// Bundle lists the IDs of the procedures that this linked procedure
	// (liên thông) performs together; empty for ordinary procedures.
	Bundle []string `json:"bundle,omitempty"`
	// Linked lists the IDs of procedures to suggest after this one.
	Linked []string `json:"linked,omitempty"`
	// Video is a short instructional video the form's first screen offers,
	// or nil.
	Video *Video `json:"video,omitempty"`
}

// Video names a short instructional video about a procedure. The file lives
// in the data directory's videos folder, so File is a plain file name (no
// folder, no path separators, no "..") that the kiosk joins to that folder.
type Video struct {
	File  string    `json:"file"`
	Title i18n.Text `json:"title"`
}

// Fee is a procedure's fee in Vietnamese đồng.
type Fee struct {
	CounterVND int64     `json:"counter_vnd"` // at the counter
	OnlineVND  int64     `json:"online_vnd"`  // submitted online (often reduced)
	Note       i18n.Text `json:"note,omitzero"`
}

// Section is a group of fields shown together.
type Section struct {
	Key    string    `json:"key"`
	Title  i18n.Text `json:"title"`
	Fields []Field   `json:"fields"`
}

// Field is one form field.
type Field struct {
	// Key is unique within the procedure: lowercase letters, digits and
	// underscores, e.g. "child_full_name".
	Key   string    `json:"key"`
	Type  FieldType `json:"type"`
	Label i18n.Text `json:"label"`
	// Help is a short hint shown and spoken with the field.
	Help     i18n.Text `json:"help,omitzero"`
	Required bool      `json:"required"`
	// CardFill names the ID card value that fills this field, if any. For a
	// Person field it is CardPerson.
	CardFill CardField `json:"card_fill,omitempty"`
	// Choices are the allowed values of a Choice field.
	Choices []Choice `json:"choices,omitempty"`
	// MaxLength bounds Text and Address values, in characters; 0 means the
	// default (255 for text, 500 for addresses).
	MaxLength int `json:"max_length,omitempty"`
	// DateRule restricts Date values.
	DateRule DateRule `json:"date_rule,omitempty"`
	// PersonParts lists the parts of a Person block that must be filled;
	// full_name is always required. Empty means full_name, date_of_birth and
	// citizen_id.
	PersonParts []string `json:"person_parts,omitempty"`
	// IDMatches, on a CitizenID field, names the Date field holding the same
	// person's date of birth and the Choice field holding their sex, so that
	// the ID can be checked against them.
	IDMatches *IDMatch `json:"id_matches,omitempty"`
	// Example is a valid value used by `motcua procedures example`.
	Example json.RawMessage `json:"example,omitempty"`
}

// IDMatch names the fields a citizen ID is checked against.
type IDMatch struct {
	DateOfBirth string `json:"date_of_birth,omitempty"`
	Sex         string `json:"sex,omitempty"`
}

// Choice is one allowed value of a Choice field.
type Choice struct {
	Value string    `json:"value"`
	Label i18n.Text `json:"label"`
}

// Evidence is a document to attach to the application.
type Evidence struct {
	Key      string    `json:"key"`
	Label    i18n.Text `json:"label"`
	Required bool      `json:"required"`
	// WaivedBy names a field: when the form fills it, this evidence is not
	// needed (for example an electronic birth certificate code, or a record
	// the national databases already hold).
	WaivedBy string    `json:"waived_by,omitempty"`
	Note     i18n.Text `json:"note,omitzero"`
}

// PersonValue is the value of a Person field.
type PersonValue struct {
	FullName    string `json:"full_name"`
	DateOfBirth string `json:"date_of_birth,omitempty"`
	CitizenID   string `json:"citizen_id,omitempty"`
	Sex         string `json:"sex,omitempty"`
}
