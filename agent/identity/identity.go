// Package identity is citizen identity from the ID card (CCCD) and its
// validation: the 12-digit citizen ID number, names in Unicode NFC, sex, and
// calendar dates.
package identity

import (
	"errors"

	"github.com/motcua/motcua/agent/i18n"
)

// Sentinel errors; every error of this package matches one with errors.Is and
// carries a bilingual *i18n.Error reachable with errors.As.
var (
	ErrInvalidID   = errors.New("invalid citizen ID")
	ErrIDMismatch  = errors.New("citizen ID does not match the date of birth or sex")
	ErrInvalidDate = errors.New("invalid date")
	ErrInvalidName = errors.New("invalid name")
	ErrInvalidSex  = errors.New("invalid sex")
)

// Error is an identity error: a sentinel for errors.Is and a bilingual
// message for screens.
type Error struct {
	Sentinel error
	Msg      *i18n.Error
}

func (e *Error) Error() string { return e.Msg.Error() }

// Unwrap returns the sentinel and the bilingual message.
func (e *Error) Unwrap() []error { return []error{e.Sentinel, e.Msg} }

func newErr(sentinel error, code, vi, en string, args ...any) error {
	return &Error{Sentinel: sentinel, Msg: i18n.Errorf(code, vi, en, args...)}
}
