package identity

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/unicode/norm"

	"github.com/motcua/motcua/agent/i18n"
)

func TestParseCitizenID(t *testing.T) {
	tests := []struct {
		in   string
		want CitizenID
		msg  string // part of the English error, "" if valid
	}{
		{"001095012345", "001095012345", ""},
		{" 079304000123 ", "079304000123", ""},
		{"001 095 012 345", "001095012345", ""},
		{"001.095.012.345", "001095012345", ""},
		{"00109501234", "", "exactly 12 digits (got 11)"},
		{"0010950123456", "", "exactly 12 digits (got 13)"},
		{"", "", "exactly 12 digits (got 0)"},
		{"00109501234a", "", `"a" at position 12`},
		{"００１０９５０１２３４５", "", "digits only"}, // full-width digits
		{"003095012345", "", "003, which is no province code"},
		{"999095012345", "", "no province code"},
	}
	for _, tt := range tests {
		got, err := ParseCitizenID(tt.in)
		if tt.msg == "" {
			if err != nil || got != tt.want {
				t.Errorf("ParseCitizenID(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
			continue
		}
		if !errors.Is(err, ErrInvalidID) || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("ParseCitizenID(%q) = %v; want ErrInvalidID mentioning %q", tt.in, err, tt.msg)
		}
	}
}

func TestCitizenIDParts(t *testing.T) {
	tests := []struct {
		id       CitizenID
		province string
		sex      Sex
		year     int
	}{
		{"001095012345", "Hà Nội", Male, 1995},
		{"079304000123", "TP Hồ Chí Minh", Female, 2004},
		{"048199000001", "Đà Nẵng", Female, 1999},
		{"031220000001", "Hải Phòng", Male, 2020},
		{"092400000001", "Cần Thơ", Male, 2100},
		{"092501000001", "Cần Thơ", Female, 2101},
	}
	for _, tt := range tests {
		if got := tt.id.ProvinceName(); got != tt.province {
			t.Errorf("%s province %q, want %q", tt.id, got, tt.province)
		}
		if got := tt.id.Sex(); got != tt.sex {
			t.Errorf("%s sex %s, want %s", tt.id, got, tt.sex)
		}
		if got := tt.id.BirthYear(); got != tt.year {
			t.Errorf("%s birth year %d, want %d", tt.id, got, tt.year)
		}
	}
	id := CitizenID("001095012345")
	if got := id.Spoken(); got != "0 0 1, 0 9 5, 0 1 2, 3 4 5" {
		t.Errorf("Spoken = %q", got)
	}
	if got := id.Masked(); got != "001******345" {
		t.Errorf("Masked = %q", got)
	}
}

func TestCheckID(t *testing.T) {
	d := func(s string) Date {
		v, err := ParseDate(s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		id   CitizenID
		dob  string
		sex  Sex
		want []string // parts of the English error; nil if consistent
	}{
		{"001095012345", "1995-08-15", Male, nil},
		{"001095012345", "1995-08-15", "", nil},
		{"079304000123", "2004-11-02", Female, nil},
		{"001095012345", "1996-08-15", Male, []string{"birth year 1995", "1996-08-15"}},
		{"001095012345", "1995-08-15", Female, []string{"sex male", "declared sex is female"}},
		{"001095012345", "1994-01-01", Female, []string{"birth year 1995", "and encodes sex male"}},
		// Right year digits, wrong century: 1 means born in the 1900s.
		{"079104000123", "2004-11-02", Female, []string{"birth year 1904"}},
	}
	for _, tt := range tests {
		err := CheckID(tt.id, d(tt.dob), tt.sex)
		if tt.want == nil {
			if err != nil {
				t.Errorf("CheckID(%s, %s, %s) = %v", tt.id, tt.dob, tt.sex, err)
			}
			continue
		}
		if !errors.Is(err, ErrIDMismatch) {
			t.Errorf("CheckID(%s, %s, %s) = %v, want ErrIDMismatch", tt.id, tt.dob, tt.sex, err)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("CheckID(%s, %s, %s) = %q, want it to mention %q", tt.id, tt.dob, tt.sex, err, w)
			}
		}
		var ie *i18n.Error
		if !errors.As(err, &ie) || ie.Code != "id_mismatch" || !strings.Contains(ie.Msg.VI, "Số định danh") {
			t.Errorf("no Vietnamese message: %#v", ie)
		}
	}
}

func TestDates(t *testing.T) {
	valid := []struct {
		parse func(string) (Date, error)
		in    string
		want  string
	}{
		{ParseDate, "2024-02-29", "2024-02-29"},
		{ParseDate, "2000-02-29", "2000-02-29"},
		{ParseCardDate, "15081995", "1995-08-15"},
		{ParseCardDate, "02112004", "2004-11-02"},
		{ParseDMY, "2/11/2004", "2004-11-02"},
		{ParseDMY, "02-11-2004", "2004-11-02"},
		{ParseDMY, " 15.08.1995 ", "1995-08-15"},
	}
	for _, tt := range valid {
		got, err := tt.parse(tt.in)
		if err != nil || got.String() != tt.want {
			t.Errorf("parse %q = %v, %v; want %s", tt.in, got, err, tt.want)
		}
	}
	invalid := []struct {
		parse func(string) (Date, error)
		in    string
	}{
		{ParseDate, "2023-02-29"},
		{ParseDate, "1900-02-29"},
		{ParseDate, "2021-04-31"},
		{ParseDate, "2021-4-1"},
		{ParseDate, "2021-13-01"},
		{ParseDate, "2021-00-10"},
		{ParseDate, "15/08/1995"},
		{ParseDate, "1700-01-01"},
		{ParseDate, "２０２１-01-01"},
		{ParseCardDate, "1508199"},
		{ParseCardDate, "32081995"},
		{ParseCardDate, "1508199x"},
		{ParseDMY, "2004-11-02"},
		{ParseDMY, "31/2/2004"},
		{ParseDMY, "1/1/04"},
	}
	for _, tt := range invalid {
		if _, err := tt.parse(tt.in); !errors.Is(err, ErrInvalidDate) {
			t.Errorf("parse %q = %v, want ErrInvalidDate", tt.in, err)
		}
	}
}

func TestDateOrderAndAge(t *testing.T) {
	born := Date{2000, 2, 29}
	tests := []struct {
		on   Date
		want int
	}{
		{Date{2001, 2, 28}, 0},
		{Date{2001, 3, 1}, 1},
		{Date{2004, 2, 29}, 4},
		{Date{2014, 2, 28}, 13},
		{Date{2014, 3, 1}, 14},
	}
	for _, tt := range tests {
		if got := born.AgeOn(tt.on); got != tt.want {
			t.Errorf("AgeOn(%s) = %d, want %d", tt.on, got, tt.want)
		}
	}
	a, b := Date{2026, 11, 22}, Date{2026, 12, 1}
	if !a.Before(b) || a.After(b) || !b.After(a) || a.Equal(b) || !a.Equal(Date{2026, 11, 22}) {
		t.Error("date ordering is wrong")
	}
}

func TestToday(t *testing.T) {
	// 18:00 UTC is 01:00 the next day in Vietnam.
	if got := Today(time.Date(2026, 11, 22, 18, 0, 0, 0, time.UTC)); got.String() != "2026-11-23" {
		t.Errorf("Today = %s, want 2026-11-23", got)
	}
	if got := Today(time.Date(2026, 11, 22, 16, 59, 0, 0, time.UTC)); got.String() != "2026-11-22" {
		t.Errorf("Today = %s, want 2026-11-22", got)
	}
}

func TestDateJSON(t *testing.T) {
	type rec struct {
		DOB   Date `json:"dob"`
		Issue Date `json:"issue"`
	}
	in := rec{DOB: Date{1995, 8, 15}}
	b, err := json.Marshal(in)
	if err != nil || string(b) != `{"dob":"1995-08-15","issue":""}` {
		t.Fatalf("Marshal = %s, %v", b, err)
	}
	var out rec
	if err := json.Unmarshal(b, &out); err != nil || out != in {
		t.Fatalf("round trip = %+v, %v", out, err)
	}
	for _, bad := range []string{`{"dob":"1995-02-30"}`, `{"dob":19950815}`, `{"dob":"15/08/1995"}`} {
		if err := json.Unmarshal([]byte(bad), &out); !errors.Is(err, ErrInvalidDate) {
			t.Errorf("Unmarshal(%s) = %v, want ErrInvalidDate", bad, err)
		}
	}
}

func TestWords(t *testing.T) {
	tests := []struct {
		d    Date
		want string
	}{
		{Date{2024, 1, 15}, "Ngày mười lăm, tháng một, năm hai nghìn không trăm hai mươi tư"},
		{Date{1995, 4, 21}, "Ngày hai mươi mốt, tháng tư, năm một nghìn chín trăm chín mươi lăm"},
		{Date{2004, 11, 24}, "Ngày hai mươi tư, tháng mười một, năm hai nghìn không trăm linh bốn"},
		{Date{2010, 10, 10}, "Ngày mười, tháng mười, năm hai nghìn không trăm mười"},
		{Date{2015, 12, 25}, "Ngày hai mươi lăm, tháng mười hai, năm hai nghìn không trăm mười lăm"},
		{Date{2021, 5, 14}, "Ngày mười bốn, tháng năm, năm hai nghìn không trăm hai mươi mốt"},
		{Date{2000, 3, 1}, "Ngày một, tháng ba, năm hai nghìn"},
		{Date{1908, 6, 30}, "Ngày ba mươi, tháng sáu, năm một nghìn chín trăm linh tám"},
		{Date{2100, 7, 11}, "Ngày mười một, tháng bảy, năm hai nghìn một trăm"},
	}
	for _, tt := range tests {
		if got := tt.d.Words(); got != tt.want {
			t.Errorf("%s.Words() =\n %q, want\n %q", tt.d, got, tt.want)
		}
	}
}

func TestParseSex(t *testing.T) {
	for in, want := range map[string]Sex{
		"Nam": Male, "NAM": Male, "male": Male, "Nữ": Female, "NỮ": Female, "female": Female,
		norm.NFD.String("Nữ"): Female,
	} {
		if got, err := ParseSex(in); err != nil || got != want {
			t.Errorf("ParseSex(%q) = %q, %v; want %s", in, got, err, want)
		}
	}
	for _, in := range []string{"", "M", "Khác", "femal"} {
		if _, err := ParseSex(in); !errors.Is(err, ErrInvalidSex) {
			t.Errorf("ParseSex(%q) = %v, want ErrInvalidSex", in, err)
		}
	}
	if Female.Vietnamese() != "Nữ" || Male.Vietnamese() != "Nam" {
		t.Error("Vietnamese sex names")
	}
}

func TestNormalizeName(t *testing.T) {
	nfd := norm.NFD.String("Nguyễn Thị Hoa")
	got, err := NormalizeName("  " + nfd + "  ")
	if err != nil || got != "Nguyễn Thị Hoa" || !norm.NFC.IsNormalString(got) {
		t.Fatalf("NormalizeName(NFD) = %q (% x), %v", got, got, err)
	}
	for in, want := range map[string]string{
		"NGUYỄN   VĂN AN":  "NGUYỄN VĂN AN",
		"H'Hen Niê":        "H'Hen Niê",
		"Lê Thị Ngọc-Anh":  "Lê Thị Ngọc-Anh",
		"Đặng\tThị\nThu":   "Đặng Thị Thu",
		"Nguyễn Văn A.":    "Nguyễn Văn A.",
		"Trần  Thị  Bình ": "Trần Thị Bình",
	} {
		if got, err := NormalizeName(in); err != nil || got != want {
			t.Errorf("NormalizeName(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	bad := map[string]string{
		"":                       "empty",
		"   ":                    "empty",
		"Nguyễn Văn 3":           `"3" at position 12`,
		"Nguyễn@Văn":             `"@" at position 7`,
		"An\x00":                 "invalid character",
		strings.Repeat("a", 101): "too long",
	}
	for in, want := range bad {
		_, err := NormalizeName(in)
		if !errors.Is(err, ErrInvalidName) || !strings.Contains(err.Error(), want) {
			t.Errorf("NormalizeName(%q) = %v, want ErrInvalidName mentioning %q", in, err, want)
		}
	}
	if got := TitleName("NGUYỄN VĂN AN"); got != "Nguyễn Văn An" {
		t.Errorf("TitleName = %q", got)
	}
	if got := TitleName("đặng thị thu"); got != "Đặng Thị Thu" {
		t.Errorf("TitleName = %q", got)
	}
}

func TestErrorsCarrySentinelAndMessage(t *testing.T) {
	_, err := ParseCitizenID("123")
	var ie *i18n.Error
	if !errors.Is(err, ErrInvalidID) || !errors.As(err, &ie) || ie.Code != "invalid_citizen_id" ||
		!strings.Contains(ie.Msg.VI, "12 chữ số") || !strings.Contains(ie.Msg.EN, "12 digits") {
		t.Fatalf("err = %#v", err)
	}
	wrapped := errorsJoin(err)
	if !errors.Is(wrapped, ErrInvalidID) || !errors.As(wrapped, &ie) {
		t.Fatal("wrapping loses the sentinel or the message")
	}
}

func errorsJoin(err error) error { return errors.Join(errors.New("context"), err) }

func FuzzParseCitizenID(f *testing.F) {
	for _, s := range []string{"001095012345", "079304000123", "00109501234", "001 095 012 345", "", "abc", "003095012345"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, err := ParseCitizenID(s)
		if err != nil {
			return
		}
		again, err := ParseCitizenID(string(id))
		if err != nil || again != id {
			t.Fatalf("accepted %q as %q, which does not round-trip: %v", s, id, err)
		}
		dob, err := NewDate(id.BirthYear(), 6, 15)
		if err != nil {
			if id.BirthYear() > maxYear {
				return
			}
			t.Fatalf("%s: birth year %d: %v", id, id.BirthYear(), err)
		}
		if err := CheckID(id, dob, id.Sex()); err != nil {
			t.Fatalf("%s is inconsistent with its own year and sex: %v", id, err)
		}
	})
}

func FuzzNormalizeName(f *testing.F) {
	for _, s := range []string{"Nguyễn Văn An", norm.NFD.String("Trần Thị Bình"), "H'Hen Niê", "a  b", "x1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := NormalizeName(s)
		if err != nil {
			return
		}
		if !norm.NFC.IsNormalString(n) {
			t.Fatalf("NormalizeName(%q) = %q is not NFC", s, n)
		}
		again, err := NormalizeName(n)
		if err != nil || again != n {
			t.Fatalf("NormalizeName is not idempotent on %q: %q, %v", n, again, err)
		}
	})
}
