package scantest

import (
	"strings"

	"golang.org/x/text/unicode/norm"
)

// Accuracy returns the character accuracy of got against ref, in [0, 1]:
// one minus the Levenshtein distance between them in runes, divided by the
// number of runes in ref, floored at 0. Both are first normalized to NFC
// with every run of whitespace turned into one space and the ends trimmed.
// An empty ref is matched only by an empty got.
func Accuracy(ref, got string) float64 {
	r, g := normalize(ref), normalize(got)
	if len(r) == 0 {
		if len(g) == 0 {
			return 1
		}
		return 0
	}
	return max(0, 1-float64(levenshtein(r, g))/float64(len(r)))
}

// normalize returns s in NFC, its whitespace runs collapsed to single
// spaces and trimmed, as runes.
func normalize(s string) []rune {
	return []rune(strings.Join(strings.Fields(norm.NFC.String(s)), " "))
}

// levenshtein returns the edit distance between a and b: the fewest rune
// insertions, deletions and substitutions that turn a into b.
func levenshtein(a, b []rune) int {
	if len(a) < len(b) {
		a, b = b, a // rows as short as possible
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i, ra := range a {
		cur[0] = i + 1
		for j, rb := range b {
			cost := prev[j]
			if ra != rb {
				cost++
			}
			cur[j+1] = min(cost, prev[j+1]+1, cur[j]+1)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
