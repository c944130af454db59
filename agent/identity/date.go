package identity

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Date is a calendar date with no time of day and no time zone.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// The years a Date may hold.
const (
	minYear = 1850
	maxYear = 2200
)

// vietnam is Vietnam's time zone, UTC+7 all year, fixed so that it needs no
// tzdata on the machine.
var vietnam = time.FixedZone("ICT", 7*3600)

// NewDate returns the date, which must exist in the calendar.
func NewDate(y int, m time.Month, d int) (Date, error) {
	if y < minYear || y > maxYear {
		return Date{}, newErr(ErrInvalidDate, "invalid_date",
			"Năm %d nằm ngoài khoảng %d–%d", "year %d is outside %d–%d", y, minYear, maxYear)
	}
	if m < 1 || m > 12 {
		return Date{}, newErr(ErrInvalidDate, "invalid_date",
			"Tháng %d không có (1–12)", "month %d does not exist (1–12)", int(m))
	}
	if last := daysIn(y, m); d < 1 || d > last {
		return Date{}, newErr(ErrInvalidDate, "invalid_date",
			"Tháng %d/%d không có ngày %d (chỉ có %d ngày)", "%04d-%02d has no day %d (it has %d days)",
			int(m), y, d, last)
	}
	return Date{Year: y, Month: m, Day: d}, nil
}

func daysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// ParseDate parses a date written strictly as YYYY-MM-DD.
func ParseDate(s string) (Date, error) {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return Date{}, badDate(s, "YYYY-MM-DD")
	}
	y, ok1 := digits(s[0:4])
	m, ok2 := digits(s[5:7])
	d, ok3 := digits(s[8:10])
	if !ok1 || !ok2 || !ok3 {
		return Date{}, badDate(s, "YYYY-MM-DD")
	}
	return NewDate(y, time.Month(m), d)
}

// ParseCardDate parses a date as the ID card's QR code prints it: ddMMyyyy.
func ParseCardDate(s string) (Date, error) {
	if len(s) != 8 {
		return Date{}, badDate(s, "ddMMyyyy")
	}
	d, ok1 := digits(s[0:2])
	m, ok2 := digits(s[2:4])
	y, ok3 := digits(s[4:8])
	if !ok1 || !ok2 || !ok3 {
		return Date{}, badDate(s, "ddMMyyyy")
	}
	return NewDate(y, time.Month(m), d)
}

// ParseDMY parses a date as people type it: d/M/yyyy, with '/', '-' or '.'
// between the parts.
func ParseDMY(s string) (Date, error) {
	t := strings.TrimSpace(s)
	parts := strings.FieldsFunc(t, func(r rune) bool { return r == '/' || r == '-' || r == '.' })
	if len(parts) != 3 || len(parts[0]) > 2 || len(parts[1]) > 2 || len(parts[2]) != 4 {
		return Date{}, badDate(s, "dd/MM/yyyy")
	}
	d, ok1 := digits(parts[0])
	m, ok2 := digits(parts[1])
	y, ok3 := digits(parts[2])
	if !ok1 || !ok2 || !ok3 {
		return Date{}, badDate(s, "dd/MM/yyyy")
	}
	return NewDate(y, time.Month(m), d)
}

func badDate(s, layout string) error {
	return newErr(ErrInvalidDate, "invalid_date",
		"Ngày %q không đúng dạng %s", "date %q is not in the form %s", s, layout)
}

// digits parses a non-empty string of ASCII digits.
func digits(s string) (int, bool) {
	if s == "" {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(s)
	return n, err == nil
}

// Today returns the current date in Vietnam.
func Today(now time.Time) Date {
	y, m, d := now.In(vietnam).Date()
	return Date{Year: y, Month: m, Day: d}
}

// String returns the date as YYYY-MM-DD, or "" for the zero Date.
func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day)
}

// IsZero reports whether d is the zero Date.
func (d Date) IsZero() bool { return d == Date{} }

func (d Date) ord() int { return d.Year*10000 + int(d.Month)*100 + d.Day }

// Before reports whether d is before o.
func (d Date) Before(o Date) bool { return d.ord() < o.ord() }

// After reports whether d is after o.
func (d Date) After(o Date) bool { return d.ord() > o.ord() }

// Equal reports whether d and o are the same day.
func (d Date) Equal(o Date) bool { return d == o }

// AgeOn returns the completed years from d to day. Someone born on 29
// February turns a year older on 1 March in common years.
func (d Date) AgeOn(day Date) int {
	age := day.Year - d.Year
	if day.Month < d.Month || (day.Month == d.Month && day.Day < d.Day) {
		age--
	}
	return age
}

// MarshalJSON encodes d as "YYYY-MM-DD" ("" for the zero Date).
func (d Date) MarshalJSON() ([]byte, error) {
	return []byte(`"` + d.String() + `"`), nil
}

// UnmarshalJSON decodes "YYYY-MM-DD", or "" as the zero Date.
func (d *Date) UnmarshalJSON(b []byte) error {
	s, err := strconv.Unquote(string(b))
	if err != nil {
		return newErr(ErrInvalidDate, "invalid_date", "Ngày phải là chuỗi \"YYYY-MM-DD\"", "a date must be a \"YYYY-MM-DD\" string")
	}
	if s == "" {
		*d = Date{}
		return nil
	}
	v, err := ParseDate(s)
	if err != nil {
		return err
	}
	*d = v
	return nil
}
