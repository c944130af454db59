package speech

import "strings"

// dialect holds the words that differ between regions when reading
// numbers.
type dialect struct {
	odd      string // "linh" or "lẻ": the zero tens of 105
	thousand string // "nghìn" or "ngàn"
}

var digitWords = [...]string{"không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín"}

// below100 reads 0 < n < 100: "mười lăm", "hai mươi mốt", "ba mươi tư".
func below100(n int) string {
	tens, u := n/10, n%10
	switch {
	case tens == 0:
		return digitWords[u]
	case tens == 1:
		switch u {
		case 0:
			return "mười"
		case 5:
			return "mười lăm"
		}
		return "mười " + digitWords[u]
	}
	s := digitWords[tens] + " mươi"
	switch u {
	case 0:
		return s
	case 1:
		return s + " mốt"
	case 4:
		return s + " tư"
	case 5:
		return s + " lăm"
	}
	return s + " " + digitWords[u]
}

// below1000 reads 0 < n < 1000; full says whether zero hundreds are read
// ("không trăm"), as in a group after a larger one: 1.005 is "một nghìn
// không trăm linh năm".
func below1000(n int, full bool, d dialect) string {
	h, rest := n/100, n%100
	var parts []string
	if h > 0 || full {
		parts = append(parts, digitWords[h]+" trăm")
	}
	switch {
	case rest == 0:
	case rest < 10 && len(parts) > 0:
		parts = append(parts, d.odd+" "+digitWords[rest])
	default:
		parts = append(parts, below100(rest))
	}
	return strings.Join(parts, " ")
}

// numberWords reads n in Vietnamese words: 1250000 is "một triệu hai trăm
// năm mươi nghìn". Groups of zeros are skipped; a group after a larger one
// reads its zero hundreds.
func numberWords(n uint64, d dialect) string {
	if n == 0 {
		return "không"
	}
	const billion = 1_000_000_000
	if n >= 1000*billion {
		s := numberWords(n/billion, d) + " tỷ"
		if rest := n % billion; rest > 0 {
			s += " " + belowBillion(rest, true, d)
		}
		return s
	}
	return belowBillion(n, false, d)
}

// belowBillion reads 0 < n < 10^12; full as for below1000.
func belowBillion(n uint64, full bool, d dialect) string {
	scales := [...]string{"", d.thousand, "triệu", "tỷ"}
	var groups [4]int
	for i := range groups {
		groups[i] = int(n % 1000)
		n /= 1000
	}
	var parts []string
	for i := len(groups) - 1; i >= 0; i-- {
		if groups[i] == 0 {
			continue
		}
		p := below1000(groups[i], full || len(parts) > 0, d)
		if scales[i] != "" {
			p += " " + scales[i]
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, " ")
}

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
			words[j] = digitWords[g[j]-'0']
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
