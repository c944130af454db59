// Package langenv gives Fyne a language it can parse when the process runs
// in the C locale. Fyne reads the user's language while its packages are
// initialized, and under LANG or LC_ALL=C.UTF-8 (the Makefile's, CI's) it
// logs "Fyne error: Error parsing user locale C" on every command, window
// or not. Imported for its side effect by a program that links Fyne, this
// package sets LANGUAGE=en in that case: Fyne reads LANGUAGE before the
// locale name, and gettext ignores it in the C locale, so other programs
// the process starts are not changed.
//
// It works because its init runs before Fyne's lang package's: Go
// initializes, at each step, the first package by import path whose
// imports are initialized, and this one imports only os and strings,
// while fyne.io/fyne/v2/lang waits for golang.org/x/text, which sorts
// after it. cmd/motcua's TestNoFyneLocaleErrorInTheCLocale pins it.
package langenv

import (
	"os"
	"strings"
)

func init() {
	if os.Getenv("LANGUAGE") == "" && inCLocale(os.Getenv) {
		os.Setenv("LANGUAGE", "en")
	}
}

// inCLocale reports whether the locale the environment names for messages
// is C or POSIX under another name (C.UTF-8, C.utf8), which Fyne cannot
// parse as a language.
func inCLocale(getenv func(string) string) bool {
	for _, v := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		if l := getenv(v); l != "" {
			name, _, _ := strings.Cut(l, ".")
			return (name == "C" || name == "POSIX") && l != name
		}
	}
	return false
}
