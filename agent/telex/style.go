package telex

import (
	"errors"
	"fmt"
)

// Style is where the tone goes in the vowel pairs "oa", "oe" and "uy"
// when no consonant follows them.
type Style uint8

const (
	// StyleClassic puts the tone on the first vowel: hòa, khỏe, thủy.
	// It is the zero value and the default.
	StyleClassic Style = iota
	// StyleModern puts it on the second: hoà, khoẻ, thuỷ.
	StyleModern
)

// ErrUnknownStyle is returned for a style name other than "classic" and
// "modern".
var ErrUnknownStyle = errors.New("unknown Telex tone style")

// String names the style as in a configuration file.
func (s Style) String() string {
	if s == StyleModern {
		return "modern"
	}
	return "classic"
}

// ParseStyle reads a style name: "classic" (hòa) or "modern" (hoà).
func ParseStyle(name string) (Style, error) {
	switch name {
	case "classic":
		return StyleClassic, nil
	case "modern":
		return StyleModern, nil
	}
	return StyleClassic, fmt.Errorf("%w %q: want \"classic\" (hòa, thủy) or \"modern\" (hoà, thuỷ)", ErrUnknownStyle, name)
}

// MarshalText writes the style's name, so a configuration file can hold it.
func (s Style) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a style's name, as ParseStyle does.
func (s *Style) UnmarshalText(b []byte) error {
	st, err := ParseStyle(string(b))
	if err != nil {
		return err
	}
	*s = st
	return nil
}
