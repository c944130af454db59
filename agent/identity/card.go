package identity

import (
	"bytes"
	"errors"
	"strings"
	"unicode/utf8"

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

var bom = []byte("\ufeff")

// ParseCard reads an ID card's QR payload: fields separated by '|', in
// UTF-8. It accepts the 7-field layout (ID | old ID | name | date of birth
// ddMMyyyy | sex | residence | issue date), the 6-field one without the old
// ID, and either with extra fields after them, which it keeps in Raw only.
// It drops a UTF-8 BOM and surrounding white space, refuses bytes that are
// not UTF-8, normalizes the name and address to NFC, and checks the ID
// against the date of birth and sex: an inconsistent card is an error the
// staff must see, never a silent fill.
func ParseCard(payload []byte) (Card, error) {
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
	var id, old, name, dob, sex, addr, issue string
	switch {
	case len(f) >= 7 && isCardDate(f[3]):
		id, old, name, dob, sex, addr, issue = f[0], f[1], f[2], f[3], f[4], f[5], f[6]
	case len(f) >= 6 && isCardDate(f[2]):
		id, name, dob, sex, addr, issue = f[0], f[1], f[2], f[3], f[4], f[5]
	default:
		return Card{}, cardErr("layout", "Dữ liệu thẻ không đúng định dạng: %d trường, ngày sinh không ở vị trí mong đợi",
			"the payload does not have the ID card layout: %d fields, no date of birth where expected", len(f))
	}
	var err error
	if c.ID, err = ParseCitizenID(id); err != nil {
		return Card{}, wrapCard(err)
	}
	if c.OldID, err = ParseOldID(strings.TrimSpace(old)); err != nil {
		return Card{}, wrapCard(err)
	}
	if c.Name, err = NormalizeName(name); err != nil {
		return Card{}, wrapCard(err)
	}
	if c.DateOfBirth, err = ParseCardDate(strings.TrimSpace(dob)); err != nil {
		return Card{}, wrapCard(err)
	}
	if c.Sex, err = ParseSex(sex); err != nil {
		return Card{}, wrapCard(err)
	}
	if c.Address = NormalizeText(addr); c.Address == "" {
		return Card{}, cardErr("address", "Thẻ không có nơi thường trú", "the card has no permanent residence")
	}
	if c.IssueDate, err = ParseCardDate(strings.TrimSpace(issue)); err != nil {
		return Card{}, wrapCard(err)
	}
	if c.IssueDate.Before(c.DateOfBirth) {
		return Card{}, cardErr("issue_date", "Ngày cấp %s trước ngày sinh %s", "the issue date %s is before the date of birth %s",
			c.IssueDate, c.DateOfBirth)
	}
	if err := CheckID(c.ID, c.DateOfBirth, c.Sex); err != nil {
		return Card{}, wrapCard(err)
	}
	return c, nil
}

func isCardDate(s string) bool {
	s = strings.TrimSpace(s)
	_, ok := digits(s)
	return ok && len(s) == 8
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

// cardError marks a field's error as a card error too, keeping its message.
type cardError struct{ err error }

func (e cardError) Error() string   { return e.err.Error() }
func (e cardError) Unwrap() []error { return []error{ErrInvalidCard, e.err} }

func wrapCard(err error) error { return cardError{err} }
