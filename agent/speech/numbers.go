package speech

import (
	"strings"

	"github.com/motcua/motcua/agent/numwords"
)

// digitGroups splits a string of digits into the groups a person reads
// them in: threes, with a first group of four where threes would leave
// one alone (a 10-digit phone number is 4-3-3, a 12-digit ID 3-3-3-3).
func digitGroups(digits string) []string {
	first := len(digits) % 3
	switch {
	case len(digits) <= 4:
		first = len(digits)
	case first == 1:
		first = 4
	}
	var groups []string
	if first > 0 {
		groups = append(groups, digits[:first])
	}
	for i := first; i < len(digits); i += 3 {
		groups = append(groups, digits[i:i+3])
	}
	return groups
}

// spellDigits reads digits one by one in Vietnamese, a short pause (a
// comma) between groups: "không chín một hai, ba bốn năm, sáu bảy tám".
func spellDigits(digits string) string {
	groups := digitGroups(digits)
	for i, g := range groups {
		words := make([]string, len(g))
		for j := range len(g) {
			words[j] = numwords.Digit(int(g[j] - '0'))
		}
		groups[i] = strings.Join(words, " ")
	}
	return strings.Join(groups, ", ")
}

// spaceDigits writes digits spaced one by one, for an engine reading
// English: "0 9 1 2, 3 4 5, 6 7 8".
func spaceDigits(digits string) string {
	groups := digitGroups(digits)
	for i, g := range groups {
		groups[i] = strings.Join(strings.Split(g, ""), " ")
	}
	return strings.Join(groups, ", ")
}
