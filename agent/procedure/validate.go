package procedure

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/motcua/motcua/agent/i18n"
	"github.com/motcua/motcua/agent/identity"
)

// Values are a validated, normalized form: each filled field's key maps to a
// string, or to a PersonValue for person fields. Empty optional fields are
// left out.
type Values map[string]any

// FieldError names one invalid field and what is wrong with it.
type FieldError struct {
	// Field is the field key; "key.part" for a part of a person block,
	// "evidence:key" for missing evidence, "" for the form as a whole.
	Field   string    `json:"field"`
	Label   i18n.Text `json:"label,omitzero"`
	Code    string    `json:"code"`
	Message i18n.Text `json:"message"`
}

func (e FieldError) Error() string {
	if e.Field == "" {
		return e.Message.EN
	}
	return e.Field + ": " + e.Message.EN
}

// Errors is the list of everything wrong with a form, in form order. It is
// returned as an error by Validate.
type Errors []FieldError

func (es Errors) Error() string {
	msgs := make([]string, len(es))
	for i, e := range es {
		msgs[i] = e.Error()
	}
	return fmt.Sprintf("%d invalid field(s): %s", len(es), strings.Join(msgs, "; "))
}

// Default length bounds, in characters.
const (
	defaultTextMax    = 255
	defaultAddressMax = 500
)

// Validate checks a form, a JSON object of field key to value, against the
// procedure, with today as the capture day for date rules. It returns the
// normalized values, or Errors listing every invalid field: required fields
// left empty, unknown keys, values of the wrong type or format, and citizen
// IDs that disagree with the same person's date of birth or sex. Empty
// strings and nulls count as not filled.
func (p *Procedure) Validate(form []byte, today identity.Date) (Values, error) {
	raw, errs := decodeForm(form)
	if errs != nil {
		return nil, errs
	}
	v := validator{p: p, today: today, vals: Values{}}
	for _, f := range p.Fields() {
		v.field(f, raw[f.Key])
	}
	var unknown []string
	for k := range raw {
		if p.Field(k) == nil {
			unknown = append(unknown, k)
		}
	}
	sort.Strings(unknown)
	for _, k := range unknown {
		v.fail(k, nil, "unknown_field", i18n.Tf(
			"Thủ tục %s không có trường %q",
			"procedure %s has no field %q", p.ID, k))
	}
	v.crossCheck()
	if len(v.errs) > 0 {
		return nil, v.errs
	}
	return v.vals, nil
}

// ValidateSection checks the fields of one section of the form, for a kiosk
// that validates a screen at a time: the same rules as Validate, but keys of
// the procedure's other fields are left alone (neither checked nor required),
// and a citizen ID is checked against a date of birth and sex held in other
// fields only when all of them are in this section. Keys the procedure does
// not have are errors, as in Validate. It returns this section's
// normalized values, or Errors. An unknown section key is an error wrapping
// ErrUnknownSection.
func (p *Procedure) ValidateSection(key string, form []byte, today identity.Date) (Values, error) {
	sec := p.Section(key)
	if sec == nil {
		return nil, fmt.Errorf("%w: procedure %s has no section %q", ErrUnknownSection, p.ID, key)
	}
	raw, errs := decodeForm(form)
	if errs != nil {
		return nil, errs
	}
	// Only this section's values are validated, so a cross check runs only
	// when all its fields are in the section.
	v := validator{p: p, today: today, vals: Values{}}
	for i := range sec.Fields {
		v.field(&sec.Fields[i], raw[sec.Fields[i].Key])
	}
	var unknown []string
	for k := range raw {
		if p.Field(k) == nil {
			unknown = append(unknown, k)
		}
	}
	sort.Strings(unknown)
	for _, k := range unknown {
		v.fail(k, nil, "unknown_field", i18n.Tf(
			"Thủ tục %s không có trường %q",
			"procedure %s has no field %q", p.ID, k))
	}
	v.crossCheck()
	if len(v.errs) > 0 {
		return nil, v.errs
	}
	return v.vals, nil
}

// ErrUnknownSection is returned (wrapped) by ValidateSection for a section
// key the procedure does not have.
var ErrUnknownSection = errors.New("unknown section")

// Section returns the section with the given key, or nil.
func (p *Procedure) Section(key string) *Section {
	for i := range p.Sections {
		if p.Sections[i].Key == key {
			return &p.Sections[i]
		}
	}
	return nil
}

// decodeForm reads a form, a single JSON object.
func decodeForm(form []byte) (map[string]json.RawMessage, Errors) {
	var raw map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(form))
	if err := dec.Decode(&raw); err != nil || raw == nil {
		msg := "not a JSON object"
		if err != nil {
			msg = err.Error()
		}
		return nil, Errors{{Code: "not_object", Message: i18n.Tf(
			"Tờ khai phải là một đối tượng JSON (%s)",
			"the form must be a JSON object (%s)", msg)}}
	}
	if dec.More() {
		return nil, Errors{{Code: "not_object", Message: i18n.T(
			"Tờ khai có dữ liệu thừa sau đối tượng JSON",
			"the form has trailing data after the JSON object")}}
	}
	return raw, nil
}

// CheckEvidence reports the required evidence that is neither attached
// (attached lists evidence keys) nor waived by a filled field. An attached key
// that the procedure does not list is an error too.
func (p *Procedure) CheckEvidence(vals Values, attached []string) Errors {
	have := map[string]bool{}
	var errs Errors
	for _, k := range attached {
		have[k] = true
		if p.evidence(k) == nil {
			errs = append(errs, FieldError{Field: "evidence:" + k, Code: "unknown_evidence", Message: i18n.Tf(
				"Thủ tục %s không yêu cầu giấy tờ %q",
				"procedure %s lists no evidence %q", p.ID, k)})
		}
	}
	for _, e := range p.Evidence {
		if !e.Required || have[e.Key] {
			continue
		}
		if _, ok := vals[e.WaivedBy]; e.WaivedBy != "" && ok {
			continue
		}
		fe := FieldError{Field: "evidence:" + e.Key, Label: e.Label, Code: "missing_evidence",
			Message: i18n.Tf("Thiếu giấy tờ: %s", "missing evidence: %s", e.Label)}
		if e.WaivedBy != "" {
			w := p.Field(e.WaivedBy)
			fe.Message = i18n.Tf("Thiếu giấy tờ: %s (hoặc điền %q)", "missing evidence: %s (or fill %q)", e.Label, w.Label)
		}
		errs = append(errs, fe)
	}
	return errs
}

// UnmetEvidence returns the keys of required evidence not yet in attached, in
// catalog order, then the optional ones: the order in which to assign
// attachments that come without an evidence key.
func (p *Procedure) UnmetEvidence(attached []string) []string {
	have := map[string]bool{}
	for _, k := range attached {
		have[k] = true
	}
	var req, opt []string
	for _, e := range p.Evidence {
		switch {
		case have[e.Key]:
		case e.Required:
			req = append(req, e.Key)
		default:
			opt = append(opt, e.Key)
		}
	}
	return append(req, opt...)
}

func (p *Procedure) evidence(key string) *Evidence {
	for i := range p.Evidence {
		if p.Evidence[i].Key == key {
			return &p.Evidence[i]
		}
	}
	return nil
}

type validator struct {
	p     *Procedure
	today identity.Date
	vals  Values
	errs  Errors
}

func (v *validator) fail(key string, f *Field, code string, msg i18n.Text) {
	fe := FieldError{Field: key, Code: code, Message: msg}
	if f != nil {
		fe.Label = f.Label
	}
	v.errs = append(v.errs, fe)
}

// failErr records err, using its bilingual message when it has one.
func (v *validator) failErr(key string, f *Field, code string, err error) {
	var ie *i18n.Error
	if errors.As(err, &ie) {
		v.fail(key, f, code, ie.Msg)
		return
	}
	v.fail(key, f, code, i18n.T(err.Error(), err.Error()))
}

func isEmpty(raw json.RawMessage) bool {
	s := strings.TrimSpace(string(raw))
	return s == "" || s == "null" || s == `""`
}

func (v *validator) field(f *Field, raw json.RawMessage) {
	if isEmpty(raw) {
		if f.Required {
			v.fail(f.Key, f, "required", i18n.Tf("Chưa điền: %s", "required: %s", f.Label))
		}
		return
	}
	if f.Type == TypePerson {
		v.person(f, raw)
		return
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		v.fail(f.Key, f, "invalid_type", i18n.Tf(
			"%s phải là một chuỗi ký tự", "%s must be a JSON string", f.Label))
		return
	}
	if !utf8.ValidString(s) {
		v.fail(f.Key, f, "invalid_text", i18n.T("Có ký tự không hợp lệ (không phải UTF-8)", "not valid UTF-8"))
		return
	}
	if s = strings.TrimSpace(s); s == "" {
		if f.Required {
			v.fail(f.Key, f, "required", i18n.Tf("Chưa điền: %s", "required: %s", f.Label))
		}
		return
	}
	out, ok := v.scalar(f, f.Key, s)
	if ok {
		v.vals[f.Key] = out
	}
}

// scalar validates and normalizes one string value of field f, recording
// errors under key.
func (v *validator) scalar(f *Field, key, s string) (string, bool) {
	switch f.Type {
	case TypeText, TypeAddress:
		return v.text(f, key, s)
	case TypeName:
		n, err := identity.NormalizeName(s)
		if err != nil {
			v.failErr(key, f, "invalid_name", err)
			return "", false
		}
		return n, true
	case TypeDate:
		d, err := identity.ParseDate(s)
		if err != nil {
			v.failErr(key, f, "invalid_date", err)
			return "", false
		}
		return d.String(), v.dateRule(f, key, d)
	case TypeYear:
		y, err := strconv.Atoi(s)
		if err != nil || len(s) != 4 || y < 1850 || y > v.today.Year {
			v.fail(key, f, "invalid_year", i18n.Tf(
				"Năm phải gồm 4 chữ số, từ 1850 đến %d (nhận được %q)",
				"year must be 4 digits from 1850 to %d (got %q)", v.today.Year, s))
			return "", false
		}
		return s, true
	case TypeChoice:
		for _, c := range f.Choices {
			if c.Value == s {
				return s, true
			}
		}
		allowed := make([]string, len(f.Choices))
		for i, c := range f.Choices {
			allowed[i] = c.Value
		}
		v.fail(key, f, "invalid_choice", i18n.Tf(
			"Lựa chọn %q không có trong danh sách (%s)",
			"choice %q is not one of %s", s, strings.Join(allowed, ", ")))
		return "", false
	case TypeCitizenID:
		id, err := identity.ParseCitizenID(s)
		if err != nil {
			v.failErr(key, f, "invalid_citizen_id", err)
			return "", false
		}
		return string(id), true
	case TypePhone:
		return v.phone(f, key, s)
	case TypeEmail:
		a, err := mail.ParseAddress(s)
		if err != nil || a.Address != s || a.Name != "" || !strings.Contains(s[strings.LastIndexByte(s, '@'):], ".") {
			v.fail(key, f, "invalid_email", i18n.Tf(
				"Địa chỉ thư điện tử %q không hợp lệ", "%q is not a valid e-mail address", s))
			return "", false
		}
		return strings.ToLower(s), true
	}
	v.fail(key, f, "invalid_type", i18n.Tf("Kiểu trường không hỗ trợ: %s", "unsupported field type %s", f.Type))
	return "", false
}

func (v *validator) text(f *Field, key, s string) (string, bool) {
	for i, r := range s {
		if unicode.IsControl(r) {
			v.fail(key, f, "invalid_text", i18n.Tf(
				"Có ký tự điều khiển ở vị trí %d", "control character at position %d", i+1))
			return "", false
		}
	}
	s = identity.NormalizeText(s)
	max := f.MaxLength
	if max == 0 {
		max = defaultTextMax
		if f.Type == TypeAddress {
			max = defaultAddressMax
		}
	}
	if n := utf8.RuneCountInString(s); n > max {
		v.fail(key, f, "too_long", i18n.Tf(
			"Quá dài: %d ký tự, tối đa %d", "too long: %d characters, at most %d", n, max))
		return "", false
	}
	return s, true
}

func (v *validator) dateRule(f *Field, key string, d identity.Date) bool {
	switch f.DateRule {
	case PastOnly:
		if d.After(v.today) {
			v.fail(key, f, "future_date", i18n.Tf(
				"Ngày %s chưa tới (hôm nay là %s)", "date %s is in the future (today is %s)", d, v.today))
			return false
		}
	case FutureOnly:
		if d.Before(v.today) {
			v.fail(key, f, "past_date", i18n.Tf(
				"Ngày %s đã qua (hôm nay là %s)", "date %s is in the past (today is %s)", d, v.today))
			return false
		}
	}
	return true
}

var (
	phoneJunk   = strings.NewReplacer(" ", "", ".", "", "-", "", "(", "", ")", "")
	mobileRe    = regexp.MustCompile(`^0[35789][0-9]{8}$`)
	landlineRe  = regexp.MustCompile(`^02[0-9]{9}$`)
	phoneDigits = regexp.MustCompile(`^\+?[0-9]+$`)
)

// phone normalizes Vietnamese phone numbers to the national form: mobile
// numbers 0[35789]xxxxxxxx (10 digits), landlines 02xxxxxxxxx (11 digits).
// "+84" and "84" prefixes are replaced by "0".
func (v *validator) phone(f *Field, key, s string) (string, bool) {
	n := phoneJunk.Replace(s)
	if phoneDigits.MatchString(n) {
		switch {
		case strings.HasPrefix(n, "+84"):
			n = "0" + n[3:]
		case strings.HasPrefix(n, "84") && (len(n) == 11 || len(n) == 12):
			n = "0" + n[2:]
		}
		if mobileRe.MatchString(n) || landlineRe.MatchString(n) {
			return n, true
		}
	}
	v.fail(key, f, "invalid_phone", i18n.Tf(
		"Số điện thoại %q không hợp lệ: cần 10 số di động (ví dụ 0912345678) hoặc 11 số cố định (02...)",
		"phone number %q is not valid: expected a 10-digit mobile (e.g. 0912345678) or an 11-digit landline (02...)", s))
	return "", false
}

func (v *validator) person(f *Field, raw json.RawMessage) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		v.fail(f.Key, f, "invalid_type", i18n.Tf(
			"%s phải là một khối thông tin cá nhân {full_name, date_of_birth, citizen_id, sex}",
			"%s must be an object {full_name, date_of_birth, citizen_id, sex}", f.Label))
		return
	}
	required := map[string]bool{PartFullName: true}
	parts := f.PersonParts
	if len(parts) == 0 {
		parts = []string{PartDateOfBirth, PartCitizenID}
	}
	for _, p := range parts {
		required[p] = true
	}
	str := func(part string) (string, bool) {
		r, ok := obj[part]
		delete(obj, part)
		key := f.Key + "." + part
		if !ok || isEmpty(r) {
			if required[part] {
				v.fail(key, f, "required", i18n.Tf("Chưa điền: %s (%s)", "required: %s (%s)",
					f.Label, partLabel(part)))
			}
			return "", false
		}
		var s string
		if err := json.Unmarshal(r, &s); err != nil {
			v.fail(key, f, "invalid_type", i18n.Tf("%s phải là một chuỗi ký tự", "%s must be a JSON string",
				partLabel(part)))
			return "", false
		}
		return strings.TrimSpace(s), true
	}
	var pv PersonValue
	okAll := true
	if s, ok := str(PartFullName); ok {
		name, err := identity.NormalizeName(s)
		if err != nil {
			v.failErr(f.Key+"."+PartFullName, f, "invalid_name", err)
			okAll = false
		}
		pv.FullName = name
	} else {
		okAll = false
	}
	var dob identity.Date
	if s, ok := str(PartDateOfBirth); ok {
		d, err := identity.ParseDate(s)
		switch {
		case err != nil:
			v.failErr(f.Key+"."+PartDateOfBirth, f, "invalid_date", err)
			okAll = false
		case d.After(v.today):
			v.fail(f.Key+"."+PartDateOfBirth, f, "future_date", i18n.Tf(
				"Ngày sinh %s chưa tới (hôm nay là %s)", "date of birth %s is in the future (today is %s)", d, v.today))
			okAll = false
		default:
			dob = d
			pv.DateOfBirth = d.String()
		}
	}
	var sex identity.Sex
	if s, ok := str(PartSex); ok {
		x, err := identity.ParseSex(s)
		if err != nil {
			v.failErr(f.Key+"."+PartSex, f, "invalid_sex", err)
			okAll = false
		}
		sex = x
		pv.Sex = string(x)
	}
	if s, ok := str(PartCitizenID); ok {
		id, err := identity.ParseCitizenID(s)
		if err != nil {
			v.failErr(f.Key+"."+PartCitizenID, f, "invalid_citizen_id", err)
			okAll = false
		} else {
			pv.CitizenID = string(id)
			if !dob.IsZero() {
				if err := identity.CheckID(id, dob, sex); err != nil {
					v.failErr(f.Key+"."+PartCitizenID, f, "id_mismatch", err)
					okAll = false
				}
			}
		}
	}
	extra := make([]string, 0, len(obj))
	for k := range obj {
		extra = append(extra, k)
	}
	sort.Strings(extra)
	for _, k := range extra {
		v.fail(f.Key+"."+k, f, "unknown_field", i18n.Tf(
			"Khối thông tin cá nhân không có mục %q", "a person block has no part %q", k))
		okAll = false
	}
	if okAll {
		v.vals[f.Key] = pv
	}
}

func partLabel(part string) i18n.Text {
	switch part {
	case PartFullName:
		return i18n.T("họ tên", "full name")
	case PartDateOfBirth:
		return i18n.T("ngày sinh", "date of birth")
	case PartCitizenID:
		return i18n.T("số định danh", "citizen ID")
	case PartSex:
		return i18n.T("giới tính", "sex")
	}
	return i18n.T(part, part)
}

// crossCheck checks citizen IDs against the same person's date of birth and
// sex held in other fields (Field.IDMatches).
func (v *validator) crossCheck() {
	for _, f := range v.p.Fields() {
		if f.IDMatches == nil {
			continue
		}
		idStr, ok := v.vals[f.Key].(string)
		if !ok {
			continue
		}
		dobStr, ok := v.vals[f.IDMatches.DateOfBirth].(string)
		if !ok {
			continue
		}
		dob, err := identity.ParseDate(dobStr)
		if err != nil {
			continue
		}
		var sex identity.Sex
		if s, ok := v.vals[f.IDMatches.Sex].(string); ok && (s == string(identity.Male) || s == string(identity.Female)) {
			sex = identity.Sex(s)
		}
		if err := identity.CheckID(identity.CitizenID(idStr), dob, sex); err != nil {
			v.failErr(f.Key, f, "id_mismatch", err)
			delete(v.vals, f.Key)
		}
	}
}
