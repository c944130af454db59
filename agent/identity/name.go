package identity

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/language"
	"golang.org/x/text/unicode/norm"
)

// maxNameRunes bounds a person's full name.
const maxNameRunes = 100

// NormalizeText returns s in Unicode NFC, trimmed, with each run of white
// space folded to one space. It is for addresses and free text.
func NormalizeText(s string) string {
	return strings.Join(strings.Fields(norm.NFC.String(s)), " ")
}

// NormalizeName returns a person's full name in NFC with white space
// normalized, keeping its case. It refuses an empty name, one over 100
// characters, and any character but letters (with their diacritics), spaces,
// apostrophes, hyphens and periods; the error names the character and its
// position.
func NormalizeName(s string) (string, error) {
	n := NormalizeText(s)
	if n == "" {
		return "", newErr(ErrInvalidName, "invalid_name", "Chưa có họ tên", "the name is empty")
	}
	if c := utf8.RuneCountInString(n); c > maxNameRunes {
		return "", newErr(ErrInvalidName, "invalid_name",
			"Họ tên quá dài: %d ký tự, tối đa %d", "the name is too long: %d characters, at most %d", c, maxNameRunes)
	}
	pos := 0
	for _, r := range n {
		pos++
		switch {
		case unicode.IsLetter(r), unicode.Is(unicode.Mn, r), r == ' ', r == '\'', r == '-', r == '.', r == '’':
			continue
		}
		return "", newErr(ErrInvalidName, "invalid_name",
			"Họ tên chứa ký tự không hợp lệ %q ở vị trí %d", "the name contains an invalid character %q at position %d",
			string(r), pos)
	}
	return n, nil
}

var titleCaser = cases.Title(language.Vietnamese)

// TitleName returns the name with each word capitalized, as displayed:
// "NGUYỄN VĂN AN" and "nguyễn văn an" become "Nguyễn Văn An".
func TitleName(s string) string {
	return norm.NFC.String(titleCaser.String(NormalizeText(s)))
}
