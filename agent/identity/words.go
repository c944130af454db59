package identity

import "strings"

var units = [...]string{"không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín"}

// below100 reads 0 < n < 100 in Vietnamese.
func below100(n int) string {
	tens, u := n/10, n%10
	switch {
	case tens == 0:
		return units[u]
	case tens == 1:
		switch u {
		case 0:
			return "mười"
		case 5:
			return "mười lăm"
		}
		return "mười " + units[u]
	}
	s := units[tens] + " mươi"
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
	return s + " " + units[u]
}

// below1000 reads 0 <= n < 1000; full says whether hundreds must be read
// even when zero ("không trăm"), as after a thousand.
func below1000(n int, full bool) string {
	h, rest := n/100, n%100
	var parts []string
	if h > 0 || full {
		parts = append(parts, units[h]+" trăm")
	}
	switch {
	case rest == 0:
	case rest < 10 && len(parts) > 0:
		parts = append(parts, "linh "+units[rest])
	default:
		parts = append(parts, below100(rest))
	}
	if len(parts) == 0 {
		return "không"
	}
	return strings.Join(parts, " ")
}

// yearWords reads a year (1 to 9999) in Vietnamese.
func yearWords(y int) string {
	th, rest := y/1000, y%1000
	if th == 0 {
		return below1000(rest, false)
	}
	s := units[th] + " nghìn"
	if rest == 0 {
		return s
	}
	return s + " " + below1000(rest, true)
}

// Words returns the date in Vietnamese words, as a birth certificate writes
// a date of birth: "Ngày mười lăm, tháng một, năm hai nghìn không trăm hai
// mươi bốn".
func (d Date) Words() string {
	month := below100(int(d.Month))
	if d.Month == 4 {
		month = "tư"
	}
	return "Ngày " + below100(d.Day) + ", tháng " + month + ", năm " + yearWords(d.Year)
}
