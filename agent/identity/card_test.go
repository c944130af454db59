package identity

import (
	"errors"
	"strings"
	"testing"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"github.com/motcua/motcua/agent/i18n"
)

// The synthetic payloads of DOMAIN.md.
const (
	cardAn   = "001095012345|012345678|Nguyễn Văn An|15081995|Nam|Số 12 ngõ 34 Láng Hạ, Phường Thành Công, Quận Ba Đình, Hà Nội|20042021"
	cardBinh = "079304000123||Trần Thị Bình|02112004|Nữ|123 Lê Lợi, Phường Bến Thành, Quận 1, TP Hồ Chí Minh|10072022"
)

func TestParseCard(t *testing.T) {
	tests := []struct {
		name    string
		payload string
		want    Card
	}{
		{"seven fields", cardAn, Card{ID: "001095012345", OldID: "012345678", Name: "Nguyễn Văn An",
			DateOfBirth: Date{1995, 8, 15}, Sex: Male, Address: "Số 12 ngõ 34 Láng Hạ, Phường Thành Công, Quận Ba Đình, Hà Nội",
			IssueDate: Date{2021, 4, 20}}},
		{"empty old ID", cardBinh, Card{ID: "079304000123", Name: "Trần Thị Bình", DateOfBirth: Date{2004, 11, 2}, Sex: Female,
			Address: "123 Lê Lợi, Phường Bến Thành, Quận 1, TP Hồ Chí Minh", IssueDate: Date{2022, 7, 10}}},
		{"six fields", "079304000123|Trần Thị Bình|02112004|Nữ|123 Lê Lợi, Quận 1|10072022", Card{ID: "079304000123",
			Name: "Trần Thị Bình", DateOfBirth: Date{2004, 11, 2}, Sex: Female, Address: "123 Lê Lợi, Quận 1", IssueDate: Date{2022, 7, 10}}},
		{"extra fields of newer cards", cardBinh + "|Trần Văn Cường|Lê Thị Dung|", Card{ID: "079304000123", Name: "Trần Thị Bình",
			DateOfBirth: Date{2004, 11, 2}, Sex: Female, Address: "123 Lê Lợi, Phường Bến Thành, Quận 1, TP Hồ Chí Minh", IssueDate: Date{2022, 7, 10}}},
		{"six fields and extras", "079304000123|Trần Thị Bình|02112004|Nữ|123 Lê Lợi|10072022|chủ hộ", Card{ID: "079304000123",
			Name: "Trần Thị Bình", DateOfBirth: Date{2004, 11, 2}, Sex: Female, Address: "123 Lê Lợi", IssueDate: Date{2022, 7, 10}}},
		{"BOM and CRLF", "\ufeff" + cardBinh + "\r\n", Card{ID: "079304000123", Name: "Trần Thị Bình", DateOfBirth: Date{2004, 11, 2},
			Sex: Female, Address: "123 Lê Lợi, Phường Bến Thành, Quận 1, TP Hồ Chí Minh", IssueDate: Date{2022, 7, 10}}},
		{"NFD text", norm.NFD.String(cardBinh), Card{ID: "079304000123", Name: "Trần Thị Bình", DateOfBirth: Date{2004, 11, 2},
			Sex: Female, Address: "123 Lê Lợi, Phường Bến Thành, Quận 1, TP Hồ Chí Minh", IssueDate: Date{2022, 7, 10}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseCard([]byte(tt.payload))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(got.Raw, norm.NFD.String("079304000123")) && !strings.HasPrefix(got.Raw, "001") {
				t.Errorf("raw %q", got.Raw)
			}
			got.Raw = ""
			if got != tt.want {
				t.Fatalf("ParseCard =\n %+v\nwant\n %+v", got, tt.want)
			}
			if !norm.NFC.IsNormalString(got.Name) || !norm.NFC.IsNormalString(got.Address) {
				t.Error("name or address not NFC")
			}
		})
	}
	full, _ := ParseCard([]byte(cardBinh + "|extra"))
	if !strings.HasSuffix(full.Raw, "|extra") {
		t.Errorf("extra fields not kept in Raw: %q", full.Raw)
	}
}

func TestParseCardRefuses(t *testing.T) {
	tests := []struct {
		name, payload, want string
		sentinel            error
	}{
		{"empty", "  \r\n", "empty", ErrInvalidCard},
		{"not UTF-8", "079304000123||Tr\xe1n Thị Bình|02112004|Nữ|123 Lê Lợi|10072022", "offset 16", ErrInvalidCard},
		{"too few fields", "079304000123|Trần Thị Bình|02112004", "3 fields", ErrInvalidCard},
		{"junk", "~~~~garbage~~~~", "1 fields", ErrInvalidCard},
		{"ID disagrees with sex", strings.Replace(cardBinh, "|Nữ|", "|Nam|", 1), "encodes sex female", ErrIDMismatch},
		{"ID disagrees with birth year", strings.Replace(cardBinh, "02112004", "02112005", 1), "birth year 2004", ErrIDMismatch},
		{"bad ID", strings.Replace(cardBinh, "079304000123", "07930400012X", 1), "12 digits", ErrInvalidID},
		{"bad old ID", strings.Replace(cardAn, "012345678", "12345", 1), "9 digits", ErrInvalidID},
		{"impossible date", strings.Replace(cardBinh, "02112004", "31022004", 1), "has no day 31", ErrInvalidDate},
		{"bad sex", strings.Replace(cardBinh, "|Nữ|", "|X|", 1), "Nam (male) or Nữ", ErrInvalidSex},
		{"name with digits", strings.Replace(cardBinh, "Trần Thị Bình", "Tr4n Thị Bình", 1), "invalid character", ErrInvalidName},
		{"no address", strings.Replace(cardBinh, "123 Lê Lợi, Phường Bến Thành, Quận 1, TP Hồ Chí Minh", " ", 1), "no permanent residence", ErrInvalidCard},
		{"issued before birth", "079322000123||Trần Thị Bình|02112022|Nữ|123 Lê Lợi|10072021", "before the date of birth", ErrInvalidCard},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseCard([]byte(tt.payload))
			if !errors.Is(err, ErrInvalidCard) || !errors.Is(err, tt.sentinel) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("ParseCard = %v; want %v and ErrInvalidCard mentioning %q", err, tt.sentinel, tt.want)
			}
			var ie *i18n.Error
			if !errors.As(err, &ie) || ie.Msg.VI == "" {
				t.Errorf("no Vietnamese message for staff: %v", err)
			}
		})
	}
}

func TestRenewalAge(t *testing.T) {
	c, _ := ParseCard([]byte(cardAn)) // born 1995-08-15, issued 2021-04-20 at 25
	for _, tt := range []struct {
		today Date
		want  int
	}{
		{Date{2026, 11, 22}, 0},
		{Date{2035, 8, 14}, 0},
		{Date{2035, 8, 15}, 40},
	} {
		if got := c.RenewalAge(tt.today); got != tt.want {
			t.Errorf("RenewalAge(%s) = %d, want %d", tt.today, got, tt.want)
		}
	}
}

func FuzzParseCard(f *testing.F) {
	for _, s := range []string{cardAn, cardBinh, "\ufeff" + cardBinh, "079304000123|Trần Thị Bình|02112004|Nữ|x|10072022", "||||||", "\xff\xfe"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		c, err := ParseCard(payload)
		if err != nil {
			if !errors.Is(err, ErrInvalidCard) {
				t.Fatalf("error %v does not match ErrInvalidCard", err)
			}
			return
		}
		if err := CheckID(c.ID, c.DateOfBirth, c.Sex); err != nil {
			t.Fatalf("accepted an inconsistent card: %v", err)
		}
		if !norm.NFC.IsNormalString(c.Name) || !norm.NFC.IsNormalString(c.Address) || c.Address == "" {
			t.Fatalf("accepted a card with name %q address %q", c.Name, c.Address)
		}
		if _, ok := digits(string(c.ID)); !ok || len(c.ID) != 12 || (c.OldID != "" && len(c.OldID) != 9) {
			t.Fatalf("accepted a card with ID %q old ID %q", c.ID, c.OldID)
		}
		if strings.Contains(c.Name, "  ") || c.Name != strings.TrimSpace(c.Name) || strings.ContainsFunc(c.Name+c.Address, unicode.IsControl) {
			t.Fatalf("accepted a card with name %q address %q", c.Name, c.Address)
		}
		again, err := ParseCard([]byte(c.Raw))
		if err != nil || again != c {
			t.Fatalf("Raw does not parse back to the same card: %v", err)
		}
	})
}
