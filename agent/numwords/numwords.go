// Package numwords reads numbers in Vietnamese words, as a birth
// certificate writes a date and as the kiosk's voice says an amount: the
// rules for "mốt", "tư", "lăm" and "linh" (or "lẻ") are kept here once.
package numwords

import "strings"

// Dialect holds the words that differ between regions when reading
// numbers.
type Dialect struct {
	Odd      string // "linh" or "lẻ": the zero tens of 105
	Thousand string // "nghìn" or "ngàn"
}

// The dialects: the south says "lẻ" and "ngàn" where the north and the
// centre say "linh" and "nghìn".
var (
	North = Dialect{Odd: "linh", Thousand: "nghìn"}
	South = Dialect{Odd: "lẻ", Thousand: "ngàn"}
)

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
func below1000(n int, full bool, d Dialect) string {
	h, rest := n/100, n%100
	var parts []string
	if h > 0 || full {
		parts = append(parts, digitWords[h]+" trăm")
	}
	switch {
	case rest == 0:
	case rest < 10 && len(parts) > 0:
		parts = append(parts, d.Odd+" "+digitWords[rest])
	default:
		parts = append(parts, below100(rest))
	}
	return strings.Join(parts, " ")
}

// Words reads n in Vietnamese words: 1250000 is "một triệu hai trăm năm
// mươi nghìn", 2024 "hai nghìn không trăm hai mươi tư". Groups of zeros
// are skipped; a group after a larger one reads its zero hundreds.
func Words(n uint64, d Dialect) string {
	if n == 0 {
		return "không"
	}
	const billion = 1_000_000_000
	if n >= 1000*billion {
		s := Words(n/billion, d) + " tỷ"
		if rest := n % billion; rest > 0 {
			s += " " + belowBillion(rest, true, d)
		}
		return s
	}
	return belowBillion(n, false, d)
}

// belowBillion reads 0 < n < 10^12; full as for below1000.
func belowBillion(n uint64, full bool, d Dialect) string {
	scales := [...]string{"", d.Thousand, "triệu", "tỷ"}
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

// Digit returns the word for the digit d (0 to 9): "không" to "chín".
func Digit(d int) string { return digitWords[d] }
