// Package i18n holds the bilingual texts that citizen screens and the CLI
// show: Vietnamese first, English second.
package i18n

import "fmt"

// Text is one message in Vietnamese and English.
type Text struct {
	VI string `json:"vi"`
	EN string `json:"en"`
}

// T builds a Text from its Vietnamese and English forms.
func T(vi, en string) Text { return Text{VI: vi, EN: en} }

// Tf builds a Text by formatting both forms with the same arguments. An
// argument that is itself a Text is replaced by its form in each language, so
// a field's label can be put in a message: Tf("Chưa điền: %s", "required:
// %s", label). Both forms take the same arguments: pass each once, and
// where the languages order them differently use explicit indexes (%[2]s).
func Tf(vi, en string, args ...any) Text {
	viArgs := make([]any, len(args))
	enArgs := make([]any, len(args))
	for i, a := range args {
		viArgs[i], enArgs[i] = a, a
		if t, ok := a.(Text); ok {
			viArgs[i], enArgs[i] = t.In("vi"), t.In("en")
		}
	}
	return Text{VI: fmt.Sprintf(vi, viArgs...), EN: fmt.Sprintf(en, enArgs...)}
}

// In returns the text in the given language ("vi" or "en"), falling back to
// the other language when the requested one is empty.
func (t Text) In(lang string) string {
	if lang == "en" {
		if t.EN != "" {
			return t.EN
		}
		return t.VI
	}
	if t.VI != "" {
		return t.VI
	}
	return t.EN
}

// IsZero reports whether both forms are empty.
func (t Text) IsZero() bool { return t.VI == "" && t.EN == "" }

// String returns "VI / EN", for logs and debugging.
func (t Text) String() string {
	switch {
	case t.VI == "":
		return t.EN
	case t.EN == "":
		return t.VI
	}
	return t.VI + " / " + t.EN
}

// Error is an error that carries a stable code and a bilingual message. Its
// Error method returns the English form, for logs and the CLI; screens show
// Msg.VI.
type Error struct {
	Code string // stable, machine-readable, e.g. "id_mismatch"
	Msg  Text
	// Err is the error this one explains, if any: errors.Is and errors.As
	// look through it, though the message does not repeat it.
	Err error
}

func (e *Error) Error() string { return e.Msg.In("en") }

// Unwrap returns the error e explains, or nil.
func (e *Error) Unwrap() error { return e.Err }

// Errorf builds an *Error with formatted bilingual messages.
func Errorf(code, vi, en string, args ...any) *Error {
	return &Error{Code: code, Msg: Tf(vi, en, args...)}
}
