package identity

import (
	"strings"

	"golang.org/x/text/unicode/norm"
)

// Sex is a citizen's sex as the ID card records it.
type Sex string

// The two values the card carries.
const (
	Male   Sex = "male"
	Female Sex = "female"
)

// ParseSex accepts "Nam" or "Nữ" (as printed on the card, in NFC or NFD, any
// case) and "male" or "female".
func ParseSex(s string) (Sex, error) {
	switch strings.ToLower(norm.NFC.String(strings.TrimSpace(s))) {
	case "nam", "male":
		return Male, nil
	case "nữ", "nu", "female":
		return Female, nil
	}
	return "", newErr(ErrInvalidSex, "invalid_sex",
		"Giới tính %q không hợp lệ: chọn Nam hoặc Nữ", "sex %q is not valid: expected Nam (male) or Nữ (female)", s)
}

// Vietnamese returns "Nam" or "Nữ".
func (s Sex) Vietnamese() string {
	switch s {
	case Male:
		return "Nam"
	case Female:
		return "Nữ"
	}
	return string(s)
}
