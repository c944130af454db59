package identity

import (
	"errors"
	"strings"
	"testing"

	"golang.org/x/text/unicode/norm"

	"github.com/motcua/motcua/agent/i18n"
)

// TestParseCardRefusesPayloadsNoCardProduces pins that every field is
// accepted only in the form real cards print (DOMAIN.md: 12-digit ID,
// 9-digit old ID or empty, the name as printed, ddMMyyyy dates, Nam or Nữ):
// any other form is a garbled or forged frame, and the error names the
// field and what is wrong with it.
func TestParseCardRefusesPayloadsNoCardProduces(t *testing.T) {
	const (
		an   = "Nguyễn Văn An"
		addr = "Số 12 ngõ 34 Láng Hạ, Phường Thành Công, Quận Ba Đình, Hà Nội"
	)
	// field replaces the i-th field (0-based) of cardAn.
	field := func(i int, v string) string {
		f := strings.Split(cardAn, "|")
		f[i] = v
		return strings.Join(f, "|")
	}
	tests := []struct {
		name, payload string
		field, what   string // in the English message
	}{
		{"ID with spaces", field(0, "001 095 012 345"), "citizen ID", "12 digits"},
		{"ID with dots", field(0, "001.095.012.345"), "citizen ID", "12 digits"},
		{"ID with a trailing space", field(0, "001095012345 "), "citizen ID", "12 digits"},
		{"ID in fullwidth digits", field(0, "００１０９５０１２３４５"), "citizen ID", "12 digits"},
		{"ID in Arabic-Indic digits", field(0, "٠٠١٠٩٥٠١٢٣٤٥"), "citizen ID", "12 digits"},
		{"ID empty", field(0, ""), "citizen ID", "12 digits"},
		{"old ID of 8 digits", field(1, "01234567"), "old ID", "9 digits"},
		{"old ID of 10 digits", field(1, "0123456789"), "old ID", "9 digits"},
		{"old ID of 12 digits", field(1, "012345678901"), "old ID", "9 digits"},
		{"old ID with a letter", field(1, "01234567X"), "old ID", "9 digits"},
		{"old ID with a leading space", field(1, " 012345678"), "old ID", "9 digits"},
		{"old ID in fullwidth digits", field(1, "０１２３４５６７８"), "old ID", "9 digits"},
		{"name with a leading space", field(2, " "+an), "name", "space"},
		{"name with a trailing space", field(2, an+" "), "name", "space"},
		{"name with a double space", field(2, "Nguyễn  Văn An"), "name", "space"},
		{"name with a no-break space", field(2, "Nguyễn\u00a0Văn An"), "name", "space"},
		{"name with a tab", field(2, "Nguyễn\tVăn An"), "name", "control character"},
		{"name with a line feed", field(2, "Nguyễn\nVăn An"), "name", "control character"},
		{"name with NUL", field(2, "Nguyễn\x00Văn An"), "name", "control character"},
		{"name with a zero-width joiner", field(2, "Nguyễn\u200dVăn An"), "name", "invisible"},
		{"name with a right-to-left override", field(2, "\u202eNguyễn Văn An"), "name", "invisible"},
		{"name in lower case", field(2, "nguyễn văn an"), "name", "lower case"},
		{"name with a word in lower case", field(2, "Nguyễn văn An"), "name", "lower case"},
		{"name with a Cyrillic letter", field(2, "Nguyễn Văn Аn"), "name", "Latin"},
		{"name in Han characters", field(2, "阮文安"), "name", "Latin"},
		{"name of absurd length", field(2, strings.Repeat("An ", 40)+"An"), "name", "too long"},
		{"name with a replacement character", field(2, "Nguy\ufffdn Văn An"), "name", "U+FFFD"},
		{"name empty", field(2, ""), "name", "empty"},
		{"date of birth dd/MM/yyyy", field(3, "15/08/1995"), "date of birth", "ddMMyyyy"},
		{"date of birth yyyy-MM-dd", field(3, "1995-08-15"), "date of birth", "ddMMyyyy"},
		{"date of birth of 7 digits", field(3, "1508995"), "date of birth", "ddMMyyyy"},
		{"date of birth with a leading space", field(3, " 15081995"), "date of birth", "ddMMyyyy"},
		{"date of birth in fullwidth digits", field(3, "１５０８１９９５"), "date of birth", "ddMMyyyy"},
		{"date of birth empty", field(3, ""), "date of birth", "ddMMyyyy"},
		{"date of birth in the future", "079599000123||Trần Thị Bình|02012199|Nữ|123 Lê Lợi|10072199", "date of birth", "future"},
		{"sex in English", field(4, "Male"), "sex", "Nam (male) or Nữ"},
		{"sex in English, lower case", field(4, "male"), "sex", "Nam (male) or Nữ"},
		{"sex in lower case", field(4, "nam"), "sex", "Nam (male) or Nữ"},
		{"sex Nu without its diacritic", strings.Replace(cardBinh, "|Nữ|", "|Nu|", 1), "sex", "Nam (male) or Nữ"},
		{"sex nữ in lower case", strings.Replace(cardBinh, "|Nữ|", "|nữ|", 1), "sex", "Nam (male) or Nữ"},
		{"sex abbreviated", field(4, "M"), "sex", "Nam (male) or Nữ"},
		{"sex with a space", field(4, " Nam"), "sex", "Nam (male) or Nữ"},
		{"sex empty", field(4, ""), "sex", "Nam (male) or Nữ"},
		{"address with a tab", field(5, "Số 12\tngõ 34 Láng Hạ, Hà Nội"), "permanent residence", "control character"},
		{"address with a line feed", field(5, "Số 12\nngõ 34 Láng Hạ, Hà Nội"), "permanent residence", "control character"},
		{"address with NUL", field(5, "Số 12\x00 ngõ 34 Láng Hạ, Hà Nội"), "permanent residence", "control character"},
		{"address with DEL", field(5, "Số 12\x7f ngõ 34 Láng Hạ, Hà Nội"), "permanent residence", "control character"},
		{"address with a right-to-left override", field(5, "Số 12 ngõ 34 \u202eLáng Hạ, Hà Nội"), "permanent residence", "invisible"},
		{"address with a replacement character", field(5, "S\ufffd 12 ngõ 34 Láng Hạ, Hà Nội"), "permanent residence", "U+FFFD"},
		{"address of absurd length", field(5, strings.Repeat(addr+", ", 6)+addr), "permanent residence", "too long"},
		{"address empty", field(5, ""), "permanent residence", "empty"},
		{"issue date dd/MM/yyyy", field(6, "20/04/2021"), "issue date", "ddMMyyyy"},
		{"issue date yyyy-MM-dd", field(6, "2021-04-20"), "issue date", "ddMMyyyy"},
		{"issue date of 7 digits", field(6, "2004202"), "issue date", "ddMMyyyy"},
		{"issue date with a leading space", field(6, " 20042021"), "issue date", "ddMMyyyy"},
		{"issue date in the future", field(6, "20042199"), "issue date", "future"},
		{"issue date before chip cards", field(6, "31122020"), "issue date", "2021-01-01"},
		{"issue date long before chip cards", field(6, "20042015"), "issue date", "2021-01-01"},
		{"extra field with a control character", cardBinh + "|chủ\x01hộ", "field 8", "control character"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseCard([]byte(tt.payload))
			if err == nil {
				t.Fatalf("ParseCard(%q) accepted a payload no card produces: %+v", tt.payload, c)
			}
			if !errors.Is(err, ErrInvalidCard) {
				t.Errorf("error %v does not match ErrInvalidCard", err)
			}
			msg := err.Error()
			if !strings.Contains(msg, "card's "+tt.field) || !strings.Contains(msg, tt.what) {
				t.Errorf("error %q; want it to name the card's %s and say %q", msg, tt.field, tt.what)
			}
			var ie *i18n.Error
			if !errors.As(err, &ie) || ie.Msg.VI == "" || ie.Msg.EN != msg {
				t.Errorf("no bilingual message for staff: %+v", ie)
			}
		})
	}
}

// TestParseCardAcceptsTheFormsCardsCarry: the stricter parser keeps every
// form a real card may print, where DOMAIN.md leaves it open (names in
// capitals or NFD, the names of Vietnam's other peoples).
func TestParseCardAcceptsTheFormsCardsCarry(t *testing.T) {
	for _, tt := range []struct{ name, payload, wantName string }{
		{"name in capitals", strings.Replace(cardBinh, "Trần Thị Bình|02112004|Nữ", "TRẦN THỊ BÌNH|02112004|NỮ", 1), "TRẦN THỊ BÌNH"},
		{"name in NFD", strings.Replace(cardBinh, "Trần Thị Bình", norm.NFD.String("Trần Thị Bình"), 1), "Trần Thị Bình"},
		{"Ê Đê name with an apostrophe", strings.Replace(cardBinh, "Trần Thị Bình", "H'Hen Niê", 1), "H'Hen Niê"},
		{"name with hyphenated syllables", strings.Replace(cardBinh, "Trần Thị Bình", "Y-Ngông Niê Kdăm", 1), "Y-Ngông Niê Kdăm"},
		{"address with double spaces", strings.Replace(cardBinh, "123 Lê Lợi,", "123  Lê Lợi,", 1), "Trần Thị Bình"},
		{"issued on the first day of chip cards", strings.Replace(cardAn, "20042021", "01012021", 1), "Nguyễn Văn An"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseCard([]byte(tt.payload))
			if err != nil {
				t.Fatal(err)
			}
			if c.Name != tt.wantName {
				t.Fatalf("name %q, want %q", c.Name, tt.wantName)
			}
		})
	}
}

// TestParseCardDatesAgainstToday: a date of birth or issue may be today,
// not tomorrow, in Vietnam's calendar; a clock that reads before chip cards
// existed is wrong and checks nothing against the future.
func TestParseCardDatesAgainstToday(t *testing.T) {
	// Born 2026-11-30, issued the same day (cards for children under 14
	// since the Law on Identification 2023).
	newborn := "079326000123||Trần Thị Bình|30112026|Nữ|123 Lê Lợi|30112026"
	issuedLater := strings.Replace(cardBinh, "10072022", "01122026", 1)
	for _, tt := range []struct {
		name    string
		payload string
		today   Date
		want    string // "" to accept
	}{
		{"born and issued today", newborn, Date{2026, 11, 30}, ""},
		{"born tomorrow", newborn, Date{2026, 11, 29}, "card's date of birth 2026-11-30 is in the future"},
		{"issued today", issuedLater, Date{2026, 12, 1}, ""},
		{"issued tomorrow", issuedLater, Date{2026, 11, 30}, "card's issue date 2026-12-01 is in the future"},
		{"clock reset to 2000", issuedLater, Date{2000, 1, 1}, ""},
		{"clock one day into chip cards", issuedLater, Date{2021, 1, 1}, "in the future"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseCard([]byte(tt.payload), tt.today)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want) || !errors.Is(err, ErrInvalidCard)):
				t.Fatalf("err %v, want ErrInvalidCard saying %q", err, tt.want)
			}
		})
	}
	if _, err := ParseCard([]byte(strings.Replace(cardBinh, "10072022", "10072199", 1))); err == nil {
		t.Fatal("ParseCard does not check against today's date")
	}
}
