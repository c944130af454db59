package speech

import (
	"github.com/motcua/motcua/agent/numwords"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Normalize rewrites text so that the engine reads it as a person would,
// in voice v's language and dialect. espeak-ng reads some forms wrongly:
// "12/05/2024" without its slashes, "50.000 đồng" as fifty thousand "không
// trăm", a 12-digit ID as a large number. In Vietnamese, Normalize writes
// dates ("ngày mười hai tháng năm năm hai nghìn không trăm hai mươi tư"),
// times ("chín giờ ba mươi phút"), amounts of money ("năm mươi nghìn
// đồng"), percentages, "thứ 4" and "tháng 4" ("thứ tư", "tháng tư") and
// plain numbers in words, and ID and phone numbers (nine digits or more,
// any number that starts with 0, +84 numbers) digit by digit.
// In English it writes dates as "12 May 2024", and spaces ID and phone
// numbers into digits, leaving the rest of the numbers to the engine.
// Whitespace runs become one space.
func Normalize(text string, v Voice) string {
	text = strings.Join(strings.Fields(text), " ")
	if v.Lang() == "en" {
		return normalizeEnglish(text)
	}
	d := v.dialect()
	num := func(s string) string { return numwords.Words(parseGrouped(s), d) }
	text = replace(reDMY, text, func(m []string, before string) string {
		if m[2] != m[4] {
			return m[0]
		}
		return dateVI(m[0], m[1], m[3], m[5], before, d)
	})
	text = replace(reYMD, text, func(m []string, before string) string {
		return dateVI(m[0], m[3], m[2], m[1], before, d)
	})
	text = replace(reTime, text, func(m []string, _ string) string {
		h, _ := strconv.Atoi(m[1])
		s := numwords.Words(uint64(h), d) + " giờ"
		if mm, _ := strconv.Atoi(m[2]); mm > 0 {
			s += " " + numwords.Words(uint64(mm), d) + " phút"
		}
		return s
	})
	text = replace(reHour, text, func(m []string, _ string) string {
		h, _ := strconv.Atoi(m[1])
		return numwords.Words(uint64(h), d) + " giờ"
	})
	text = replaceMoney(text, func(amount string) string { return num(amount) + " đồng" })
	text = replace(rePhoneIntl, text, func(m []string, _ string) string {
		return "cộng tám tư, " + spellDigits(onlyDigits(m[1]))
	})
	text = replace(rePhone, text, func(m []string, _ string) string {
		return spellDigits(onlyDigits(m[0]))
	})
	text = replace(rePercent, text, func(m []string, _ string) string {
		whole, frac, ok := strings.Cut(m[1], ",")
		if ok {
			return num(whole) + " phẩy " + fraction(frac, d) + " phần trăm"
		}
		return num(m[1]) + " phần trăm"
	})
	text = replace(reOrdinal, text, func(m []string, _ string) string {
		n, _ := strconv.Atoi(m[2])
		switch {
		case n == 4:
			return m[1] + " tư"
		case n == 1 && strings.EqualFold(m[1], "thứ"):
			return m[1] + " nhất"
		}
		return m[1] + " " + numwords.Words(uint64(n), d)
	})
	text = replace(reGrouped, text, func(m []string, _ string) string { return num(m[0]) })
	text = replace(reDecimal, text, func(m []string, _ string) string {
		return num(m[1]) + " phẩy " + fraction(m[2], d)
	})
	return replace(reDigits, text, func(m []string, _ string) string {
		if isCode(m[0]) {
			return spellDigits(m[0])
		}
		return num(m[0])
	})
}

func normalizeEnglish(text string) string {
	text = replace(reDMY, text, func(m []string, _ string) string {
		if m[2] != m[4] {
			return m[0]
		}
		return dateEN(m[0], m[1], m[3], m[5])
	})
	text = replace(reYMD, text, func(m []string, _ string) string { return dateEN(m[0], m[3], m[2], m[1]) })
	text = replace(reTime, text, func(m []string, _ string) string {
		h, _ := strconv.Atoi(m[1])
		if m[2] == "00" {
			return strconv.Itoa(h) + " o'clock"
		}
		return strconv.Itoa(h) + ":" + m[2]
	})
	text = replace(reHour, text, func(m []string, _ string) string {
		h, _ := strconv.Atoi(m[1])
		return strconv.Itoa(h) + " o'clock"
	})
	text = replaceMoney(text, func(amount string) string {
		return strconv.FormatUint(parseGrouped(amount), 10) + " dong"
	})
	text = replace(rePhoneIntl, text, func(m []string, _ string) string { return "plus 8 4, " + spaceDigits(onlyDigits(m[1])) })
	text = replace(rePhone, text, func(m []string, _ string) string { return spaceDigits(onlyDigits(m[0])) })
	return replace(reDigits, text, func(m []string, _ string) string {
		if isCode(m[0]) {
			return spaceDigits(m[0])
		}
		return m[0]
	})
}

var (
	// dd/mm/yyyy, d/m/yyyy, dd-mm-yyyy, dd.mm.yyyy
	reDMY = regexp.MustCompile(`\b(\d{1,2})([/.-])(\d{1,2})([/.-])(\d{4})\b`)
	// yyyy-mm-dd
	reYMD = regexp.MustCompile(`\b(\d{4})-(\d{2})-(\d{2})\b`)
	// 9:30, 09h30, 9g30 (giờ)
	reTime = regexp.MustCompile(`\b([01]?\d|2[0-3])[:hg]([0-5]\d)\b`)
	// 9h, 14h
	reHour = regexp.MustCompile(`\b([01]?\d|2[0-3])h\b`)
	// 50.000 đồng, 50000đ, 1.250.000 đ, 50,000 VND; the unit is checked
	// not to begin a longer word by replaceMoney.
	reMoney = regexp.MustCompile(`\b(\d{1,3}(?:[.,]\d{3})+|\d+) ?(đồng|Đồng|VNĐ|VND|vnđ|vnd|đ)`)
	// 0912 345 678, 0912.345.678
	rePhone = regexp.MustCompile(`\b0\d{2,3}[ .]\d{3}[ .]\d{3,4}\b`)
	// +84 912 345 678, +84912345678: Vietnam's country code.
	rePhoneIntl = regexp.MustCompile(`\+84[ .]?(\d{2,3}[ .]?\d{3}[ .]?\d{3,4})\b`)
	rePercent   = regexp.MustCompile(`\b(\d{1,3}(?:\.\d{3})+|\d+(?:,\d+)?) ?%`)
	// thứ 4 (Wednesday, the fourth) is "thứ tư", thứ 1 "thứ nhất"; tháng 4
	// (April) is "tháng tư".
	reOrdinal = regexp.MustCompile(`(thứ|Thứ|THỨ|tháng|Tháng|THÁNG) (\d{1,2})\b`)
	// 1.250.000: Vietnamese groups thousands with dots.
	reGrouped = regexp.MustCompile(`\b\d{1,3}(?:\.\d{3})+\b`)
	// 3,5: Vietnamese writes a decimal comma.
	reDecimal = regexp.MustCompile(`\b(\d+),(\d+)\b`)
	reDigits  = regexp.MustCompile(`\b\d+\b`)
)

// replace replaces each match of re in s with what f returns for its
// submatches (m[0] the whole match) and the text before it.
func replace(re *regexp.Regexp, s string, f func(m []string, before string) string) string {
	var b strings.Builder
	last := 0
	for _, idx := range re.FindAllStringSubmatchIndex(s, -1) {
		m := make([]string, len(idx)/2)
		for i := range m {
			if idx[2*i] >= 0 {
				m[i] = s[idx[2*i]:idx[2*i+1]]
			}
		}
		b.WriteString(s[last:idx[0]])
		b.WriteString(f(m, s[:idx[0]]))
		last = idx[1]
	}
	b.WriteString(s[last:])
	return b.String()
}

// replaceMoney replaces each amount of money with what f returns for its
// digits; a unit that begins a longer word ("đ" of "đi") is no unit.
func replaceMoney(s string, f func(amount string) string) string {
	var b strings.Builder
	last := 0
	for _, idx := range reMoney.FindAllStringSubmatchIndex(s, -1) {
		if r, _ := utf8.DecodeRuneInString(s[idx[1]:]); unicode.IsLetter(r) || unicode.IsDigit(r) {
			continue
		}
		b.WriteString(s[last:idx[0]])
		b.WriteString(f(s[idx[2]:idx[3]]))
		last = idx[1]
	}
	b.WriteString(s[last:])
	return b.String()
}

// dateVI reads a date in Vietnamese words, leaving out "ngày" when the
// text before already says it. A day or month out of range is no date,
// and is left for the number rules.
func dateVI(match, day, month, year string, before string, d numwords.Dialect) string {
	dd, mm, yy, ok := checkDate(day, month, year)
	if !ok {
		return match
	}
	monthWords := numwords.Words(uint64(mm), d)
	if mm == 4 {
		monthWords = "tư"
	}
	s := numwords.Words(uint64(dd), d) + " tháng " + monthWords + " năm " + numwords.Words(uint64(yy), d)
	words := strings.Fields(before)
	if len(words) > 0 && strings.EqualFold(words[len(words)-1], "ngày") {
		return s
	}
	return "ngày " + s
}

// dateEN writes a date as "12 May 2024".
func dateEN(match, day, month, year string) string {
	dd, mm, yy, ok := checkDate(day, month, year)
	if !ok {
		return match
	}
	return strconv.Itoa(dd) + " " + time.Month(mm).String() + " " + strconv.Itoa(yy)
}

// checkDate parses a date's parts and reports whether it exists.
func checkDate(day, month, year string) (dd, mm, yy int, ok bool) {
	dd, _ = strconv.Atoi(day)
	mm, _ = strconv.Atoi(month)
	yy, _ = strconv.Atoi(year)
	t := time.Date(yy, time.Month(mm), dd, 0, 0, 0, 0, time.UTC)
	return dd, mm, yy, t.Day() == dd && int(t.Month()) == mm && t.Year() == yy
}

// fraction reads the digits after a decimal comma: as a number when
// short and without a leading zero ("ba phẩy mười lăm"), else one by one.
func fraction(digits string, d numwords.Dialect) string {
	if len(digits) <= 2 && digits[0] != '0' {
		n, _ := strconv.Atoi(digits)
		return numwords.Words(uint64(n), d)
	}
	words := make([]string, len(digits))
	for i := range len(digits) {
		words[i] = numwords.Digit(int(digits[i] - '0'))
	}
	return strings.Join(words, " ")
}

// isCode reports whether a run of digits is an identifier read digit by
// digit (an ID, a phone number, a code with a leading zero) rather than a
// quantity.
func isCode(digits string) bool {
	return len(digits) >= 9 || (len(digits) >= 2 && digits[0] == '0')
}

// parseGrouped parses digits grouped with dots or commas. A number too
// large for uint64 is read as its largest value; no prompt has one.
func parseGrouped(s string) uint64 {
	n, err := strconv.ParseUint(onlyDigits(s), 10, 64)
	if err != nil {
		return ^uint64(0)
	}
	return n
}

func onlyDigits(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}
