// Package termtext makes untrusted text safe to print on a terminal. A
// citizen's form, an officer's note or a portal's error message may carry
// control characters: an ESC sequence can clear the screen or move the
// cursor, a CR or LF can forge a row of a table, and a Unicode bidi override
// can make a line read differently than it is.
package termtext

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Escape returns s with every character that a terminal would act on
// instead of showing written as a visible escape: C0 controls (tab, CR and
// LF included) and DEL as \t, \r, \n or \xNN, C1 controls, the Unicode
// bidi controls and the line and paragraph separators as \uNNNN, and bytes
// that are not UTF-8 as \xNN. Everything else, Vietnamese letters with
// their marks included, is kept as is. Text without such characters comes
// back unchanged.
func Escape(s string) string {
	i := strings.IndexFunc(s, isControl)
	if i < 0 && utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for len(s) > 0 {
		r, n := utf8.DecodeRuneInString(s)
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[0])
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\n':
			b.WriteString(`\n`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case isControl(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[:n])
		}
		s = s[n:]
	}
	return b.String()
}

// isControl reports whether a terminal would act on r rather than show it.
func isControl(r rune) bool {
	switch {
	case r < 0x20, r == 0x7f, r >= 0x80 && r <= 0x9f:
		return true // C0, DEL, C1
	case r == 0x061c, r == 0x200e, r == 0x200f:
		return true // Arabic letter mark, left-to-right and right-to-left marks
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return true // bidi embeddings, overrides and isolates
	case r == 0x2028, r == 0x2029:
		return true // line and paragraph separators
	}
	return false
}
