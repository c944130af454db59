package identity

import (
	"bytes"
	"errors"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/motcua/motcua/agent/i18n"
)

// ErrInvalidCard is matched (errors.Is) by every error of ParseCard.
var ErrInvalidCard = errors.New("invalid ID card payload")

// Card is what the QR code of a chip-based citizen ID card carries
// (Circular 06/2021/TT-BCA): the ID, the old 9-digit ID when printed, the
// full name, date of birth, sex, permanent residence and issue date.
type Card struct {
	ID          CitizenID `json:"id"`
	OldID       string    `json:"old_id"`
	Name        string    `json:"name"`
	DateOfBirth Date      `json:"date_of_birth"`
	Sex         Sex       `json:"sex"`
	Address     string    `json:"address"`
	IssueDate   Date      `json:"issue_date"`
	// Raw is the payload as read (less a BOM and the line ending), with any
	// fields newer cards add.
	Raw string `json:"raw"`
}

// maxCardPayload bounds a payload; real ones are about 200 bytes.
const maxCardPayload = 4096

// maxAddressRunes bounds the permanent residence on a card: real ones run
// to about 150 characters (house, hamlet, ward, district, province).
const maxAddressRunes = 300

// chipCardsFrom is the day the first chip-based cards, the first with a QR
// code, were issued: no card carries an earlier issue date.
var chipCardsFrom = Date{2021, 1, 1}

var bom = []byte("\ufeff")

// The card's fields, as errors name them.
var (
	fieldID      = i18n.T("Số định danh", "citizen ID")
	fieldOldID   = i18n.T("Số CMND cũ", "old ID")
	fieldName    = i18n.T("Họ tên", "name")
	fieldDOB     = i18n.T("Ngày sinh", "date of birth")
	fieldSex     = i18n.T("Giới tính", "sex")
	fieldAddress = i18n.T("Nơi thường trú", "permanent residence")
	fieldIssue   = i18n.T("Ngày cấp", "issue date")
)

// ParseCard reads an ID card's QR payload: fields separated by '|', in
// UTF-8. It accepts the 7-field layout (ID | old ID | name | date of birth
// ddMMyyyy | sex | residence | issue date), the 6-field one without the old
// ID, and either with extra fields after them, which it keeps in Raw only.
// It drops a UTF-8 BOM and surrounding white space, refuses bytes that are
// not UTF-8, normalizes the name and address to NFC, and checks the ID
// against the date of birth and sex: an inconsistent card is an error the
// staff must see, never a silent fill.
//
// Each field is accepted only in the form cards print, and anything else is
// a garbled or forged payload: the ID exactly 12 ASCII digits; the old ID
// empty or exactly 9; the name in the Latin script, single spaces between
// words each beginning with a capital, no space around it; dates exactly 8
// digits, no date of birth or issue after today (in Vietnam) and no issue
// before 2021, when chip-based cards began; the sex "Nam" or "Nữ" (or in
// capitals); a residence of at most 300 characters. No field may hold a
// control character, an invisible formatting character (such as a
// right-to-left override) or U+FFFD. Dates are checked against the future
// only while the clock reads 2021 or later, so that a kiosk whose clock was
// reset does not refuse every card.
func ParseCard(payload []byte) (Card, error) {
	return parseCard(payload, Today(time.Now()))
}

// parseCard is ParseCard on the given day.
func parseCard(payload []byte, today Date) (Card, error) {
	p := bytes.TrimPrefix(payload, bom)
	p = bytes.TrimSpace(p)
	if len(p) == 0 {
		return Card{}, cardErr("empty", "Không đọc được dữ liệu từ thẻ (dữ liệu rỗng)", "the payload is empty")
	}
	if len(p) > maxCardPayload {
		return Card{}, cardErr("too_long", "Dữ liệu thẻ quá dài (%d byte)", "the payload is too long (%d bytes)", len(p))
	}
	if !utf8.Valid(p) {
		at := 0
		for at < len(p) {
			r, n := utf8.DecodeRune(p[at:])
			if r == utf8.RuneError && n <= 1 {
				break
			}
			at += n
		}
		return Card{}, cardErr("not_utf8", "Dữ liệu thẻ không phải UTF-8 (byte 0x%02x ở vị trí %d): đầu đọc có thể đang ở chế độ bàn phím",
			"the payload is not UTF-8 (byte 0x%02x at offset %d): the reader may be in keyboard mode", p[at], at)
	}
	raw := string(p)
	f := strings.Split(raw, "|")
	var c Card
	c.Raw = raw
	// labels names the fields in the order of the layout; fields past
	// them are the extras of newer cards.
	var labels []i18n.Text
	switch {
	case len(f) >= 7 && isCardDate(f[3]), len(f) >= 7 && !isCardDate(f[2]) && looksLikeOldID(f[1]):
		labels = []i18n.Text{fieldID, fieldOldID, fieldName, fieldDOB, fieldSex, fieldAddress, fieldIssue}
	case len(f) >= 6 && isCardDate(f[2]), len(f) == 6:
		labels = []i18n.Text{fieldID, fieldName, fieldDOB, fieldSex, fieldAddress, fieldIssue}
	default:
		return Card{}, cardErr("layout", "Dữ liệu thẻ không đúng định dạng: %d trường, ngày sinh không ở vị trí mong đợi",
			"the payload does not have the ID card layout: %d fields, no date of birth where expected", len(f))
	}
	for i, v := range f {
		label := i18n.Tf("trường thứ %d", "field %d", i+1)
		if i < len(labels) {
			label = labels[i]
		}
		if err := checkChars(label, v); err != nil {
			return Card{}, err
		}
	}
	var id, old, name, dob, sex, addr, issue string
	if len(labels) == 7 {
		id, old, name, dob, sex, addr, issue = f[0], f[1], f[2], f[3], f[4], f[5], f[6]
	} else {
		id, name, dob, sex, addr, issue = f[0], f[1], f[2], f[3], f[4], f[5]
	}
	var err error
	if c.ID, err = cardID(id); err != nil {
		return Card{}, err
	}
	if c.OldID, err = cardOldID(old); err != nil {
		return Card{}, err
	}
	if c.Name, err = cardName(name); err != nil {
		return Card{}, err
	}
	// A clock before chip cards began is wrong: nothing can be said of the
	// future.
	clockOK := !today.Before(chipCardsFrom)
	if c.DateOfBirth, err = cardDate(fieldDOB, dob); err != nil {
		return Card{}, err
	}
	if clockOK && c.DateOfBirth.After(today) {
		return Card{}, fieldErr(ErrInvalidDate, fieldDOB, "future", "%s là ngày trong tương lai (hôm nay là %s: đồng hồ của máy có đúng không?)",
			"%s is in the future (today is %s: is the kiosk's clock right?)", c.DateOfBirth, today)
	}
	if c.Sex, err = cardSex(sex); err != nil {
		return Card{}, err
	}
	if c.Address, err = cardAddress(addr); err != nil {
		return Card{}, err
	}
	if c.IssueDate, err = cardDate(fieldIssue, issue); err != nil {
		return Card{}, err
	}
	switch {
	case c.IssueDate.Before(chipCardsFrom):
		return Card{}, fieldErr(ErrInvalidCard, fieldIssue, "too_early", "%s trước %s, ngày thẻ gắn chip có mã QR bắt đầu được cấp",
			"%s is before %s, when chip-based cards with a QR code were first issued", c.IssueDate, chipCardsFrom)
	case clockOK && c.IssueDate.After(today):
		return Card{}, fieldErr(ErrInvalidCard, fieldIssue, "future", "%s là ngày trong tương lai (hôm nay là %s: đồng hồ của máy có đúng không?)",
			"%s is in the future (today is %s: is the kiosk's clock right?)", c.IssueDate, today)
	case c.IssueDate.Before(c.DateOfBirth):
		return Card{}, fieldErr(ErrInvalidCard, fieldIssue, "before_birth", "%s trước ngày sinh %s", "%s is before the date of birth %s",
			c.IssueDate, c.DateOfBirth)
	}
	if err := CheckID(c.ID, c.DateOfBirth, c.Sex); err != nil {
		return Card{}, wrapCard(i18n.Text{}, err)
	}
	return c, nil
}

// isCardDate reports whether s has the form of a card's date: 8 ASCII
// digits.
func isCardDate(s string) bool {
	_, ok := digits(s)
	return ok && len(s) == 8
}

// looksLikeOldID reports whether s can be meant as the old ID, and so the
// payload as the 7-field layout: empty, or beginning with a digit.
func looksLikeOldID(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return s == "" || unicode.IsDigit(r)
}

// checkChars refuses what no field of a card holds: control characters
// (C0, DEL, C1), invisible formatting characters (Unicode Cf, such as a
// zero-width joiner or a right-to-left override, and the line and paragraph
// separators) and U+FFFD, which a decoder puts for bytes it could not read.
func checkChars(field i18n.Text, s string) error {
	pos := 0
	for _, r := range s {
		pos++
		switch {
		case r == utf8.RuneError:
			return fieldErr(ErrInvalidCard, field, "garbled", "có ký tự U+FFFD (ký tự không giải mã được) ở vị trí %d: dữ liệu đã bị hỏng",
				"has U+FFFD (a character that could not be decoded) at position %d: the payload is garbled", pos)
		case unicode.IsControl(r):
			return fieldErr(ErrInvalidCard, field, "control", "có ký tự điều khiển %U ở vị trí %d",
				"has the control character %U at position %d", r, pos)
		case unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp):
			return fieldErr(ErrInvalidCard, field, "invisible", "có ký tự ẩn %U ở vị trí %d",
				"has the invisible character %U at position %d", r, pos)
		}
	}
	return nil
}

// cardID checks the ID as cards print it: exactly 12 ASCII digits, with no
// spaces or dots between groups, from a known province.
func cardID(s string) (CitizenID, error) {
	if _, ok := digits(s); !ok || len(s) != 12 {
		return "", fieldErr(ErrInvalidID, fieldID, "citizen_id", "%q phải gồm đúng 12 chữ số, không có ký tự nào khác",
			"%q must be exactly 12 digits, with nothing else", s)
	}
	id, err := ParseCitizenID(s)
	if err != nil {
		return "", wrapCard(fieldID, err)
	}
	return id, nil
}

// cardOldID checks the old ID (CMND) as cards print it: empty, or exactly 9
// ASCII digits.
func cardOldID(s string) (string, error) {
	if _, ok := digits(s); s != "" && (!ok || len(s) != 9) {
		return "", fieldErr(ErrInvalidID, fieldOldID, "old_id", "%q phải để trống hoặc gồm đúng 9 chữ số",
			"%q must be empty or exactly 9 digits", s)
	}
	return s, nil
}

// cardName checks the name as cards print it and returns it in NFC: Latin
// letters (Vietnamese and the Latin scripts of Vietnam's other languages),
// words separated by one plain space with none around them, each word
// beginning with a capital as names are written (Decree 30/2020/ND-CP,
// appendix II), within NormalizeName's length and characters.
func cardName(s string) (string, error) {
	n := norm.NFC.String(s)
	if n == "" {
		return "", fieldErr(ErrInvalidName, fieldName, "name_empty", "đang trống", "is empty")
	}
	pos, prev := 0, rune(0)
	for _, r := range n {
		pos++
		switch {
		case r == ' ' && pos == 1:
			return "", fieldErr(ErrInvalidName, fieldName, "name_space", "bắt đầu bằng dấu cách", "begins with a space")
		case r == ' ' && prev == ' ':
			return "", fieldErr(ErrInvalidName, fieldName, "name_space", "có hai dấu cách liền nhau ở vị trí %d",
				"has a double space at position %d", pos-1)
		case r != ' ' && unicode.IsSpace(r):
			return "", fieldErr(ErrInvalidName, fieldName, "name_space", "có khoảng trắng %U ở vị trí %d thay cho dấu cách thường",
				"has the space %U at position %d where cards put a plain space", r, pos)
		case unicode.IsLetter(r) && !unicode.Is(unicode.Latin, r):
			return "", fieldErr(ErrInvalidName, fieldName, "name_script", "có chữ %q (%U) ở vị trí %d, không thuộc bảng chữ cái Latinh",
				"has the letter %q (%U) at position %d, which is not in the Latin script names are written in", string(r), r, pos)
		}
		prev = r
	}
	if prev == ' ' {
		return "", fieldErr(ErrInvalidName, fieldName, "name_space", "kết thúc bằng dấu cách", "ends with a space")
	}
	if _, err := NormalizeName(n); err != nil {
		return "", wrapCard(fieldName, err)
	}
	for w := range strings.SplitSeq(n, " ") {
		if r, _ := utf8.DecodeRuneInString(w); !unicode.IsUpper(r) {
			return "", fieldErr(ErrInvalidName, fieldName, "name_case", "có từ %q không viết hoa chữ cái đầu (chữ thường)",
				"has the word %q in lower case: cards print each word with a capital first letter", w)
		}
	}
	return n, nil
}

// cardDate checks a date as cards print it: exactly 8 ASCII digits,
// ddMMyyyy, a day of the calendar.
func cardDate(field i18n.Text, s string) (Date, error) {
	if !isCardDate(s) {
		return Date{}, fieldErr(ErrInvalidDate, field, "date", "%q không đúng dạng ddMMyyyy (8 chữ số)",
			"%q is not in the form ddMMyyyy (8 digits)", s)
	}
	d, err := ParseCardDate(s)
	if err != nil {
		return Date{}, wrapCard(field, err)
	}
	return d, nil
}

// cardSex checks the sex as cards print it: "Nam" or "Nữ", in NFC or NFD,
// or in capitals like a name may be.
func cardSex(s string) (Sex, error) {
	switch norm.NFC.String(s) {
	case "Nam", "NAM":
		return Male, nil
	case "Nữ", "NỮ":
		return Female, nil
	}
	return "", fieldErr(ErrInvalidSex, fieldSex, "sex", "%q không phải cách thẻ ghi: Nam hoặc Nữ",
		"%q is not what cards print: Nam (male) or Nữ (female)", s)
}

// cardAddress returns the permanent residence in NFC with its white space
// normalized, refusing an empty or absurdly long one.
func cardAddress(s string) (string, error) {
	a := NormalizeText(s)
	if a == "" {
		return "", fieldErr(ErrInvalidCard, fieldAddress, "address", "đang trống (thẻ không có nơi thường trú)",
			"is empty (no permanent residence)")
	}
	if n := utf8.RuneCountInString(a); n > maxAddressRunes {
		return "", fieldErr(ErrInvalidCard, fieldAddress, "address_long", "quá dài: %d ký tự, tối đa %d",
			"is too long: %d characters, at most %d", n, maxAddressRunes)
	}
	return a, nil
}

// ParseOldID validates the old ID number (CMND): empty, or 9 or 12 digits.
func ParseOldID(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	if _, ok := digits(s); !ok || (len(s) != 9 && len(s) != 12) {
		return "", newErr(ErrInvalidID, "invalid_old_id", "Số CMND cũ %q phải có 9 hoặc 12 chữ số",
			"the old ID %q must have 9 or 12 digits", s)
	}
	return s, nil
}

// RenewalAge returns the age (14, 25, 40 or 60) at which the card should
// have been renewed if that age was reached after the card was issued and
// by today, or 0 when the card is current. Cards are not renewed after 60.
func (c Card) RenewalAge(today Date) int {
	for _, age := range []int{60, 40, 25, 14} {
		if c.DateOfBirth.AgeOn(today) >= age && c.DateOfBirth.AgeOn(c.IssueDate) < age {
			return age
		}
	}
	return 0
}

func cardErr(code, vi, en string, args ...any) error {
	return &Error{Sentinel: ErrInvalidCard, Msg: i18n.Errorf("card_"+code, vi, en, args...)}
}

// fieldErr is an error in one field of the card, matching sentinel and
// ErrInvalidCard: "the card's <field> <what is wrong>".
func fieldErr(sentinel error, field i18n.Text, code, vi, en string, args ...any) error {
	inner := newErr(sentinel, "card_"+code, vi, en, args...)
	msg := i18n.Errorf("card_"+code, "%s trên thẻ %s", "the card's %s %s", field, i18n.Tf(vi, en, args...))
	return cardError{msg: msg, err: inner}
}

// wrapCard makes err, an error of this package, an error in the card's
// field: "the card's <field>: <err>", or err's own message when field is
// empty.
func wrapCard(field i18n.Text, err error) error {
	var ie *i18n.Error
	if !errors.As(err, &ie) {
		ie = &i18n.Error{Code: "card_invalid", Msg: i18n.T(err.Error(), err.Error())}
	}
	msg := ie
	if !field.IsZero() {
		msg = i18n.Errorf(ie.Code, "%s trên thẻ: %s", "the card's %s: %s", field, ie.Msg)
	}
	return cardError{msg: msg, err: err}
}

// cardError marks a field's error as a card error too. Its message names
// the field, when there is one, before what is wrong.
type cardError struct {
	msg *i18n.Error
	err error
}

func (e cardError) Error() string   { return e.msg.Error() }
func (e cardError) Unwrap() []error { return []error{ErrInvalidCard, e.msg, e.err} }
