package portalapi

import (
	"strings"
	"testing"
	"time"
)

func TestFileCode(t *testing.T) {
	day := time.Date(2024, 1, 15, 0, 0, 0, 0, time.FixedZone("ICT", 7*3600))
	code := FormatFileCode("000.00.01.H29", day, 1)
	if code != "000.00.01.H29-240115-0001" {
		t.Fatalf("FormatFileCode = %s", code)
	}
	agency, d, seq, err := ParseFileCode(code)
	if err != nil || agency != "000.00.01.H29" || d.Format("060102") != "240115" || seq != 1 {
		t.Fatalf("ParseFileCode = %s %v %d %v", agency, d, seq, err)
	}
	for _, bad := range []string{"", "000.00.01.H29-240115", "000.00.01.H29-241315-0001", "000.00.01.H29-240115-0000",
		"x-240115-01", "000.00.01.H29-240115--001", "000.00.01.H29-240115-00001", "000.00.01.H29-240115-10000000",
		"000.00.01.H29-240115-001"} {
		if _, _, _, err := ParseFileCode(bad); err == nil {
			t.Errorf("ParseFileCode(%q) accepted", bad)
		}
	}
}

// A day's sequence has room for far more than any agency files: it grows
// past four digits, and both sides agree on every code up to the bound.
func TestFileCodeSequenceGrowsPastFourDigits(t *testing.T) {
	day := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		seq  int
		want string
	}{
		{9999, "-9999"}, {10000, "-10000"}, {123456, "-123456"}, {MaxDailySequence, "-9999999"},
	} {
		code := FormatFileCode("000.00.01.H29", day, tt.seq)
		if !strings.HasSuffix(code, "-261123"+tt.want) {
			t.Errorf("FormatFileCode(%d) = %s", tt.seq, code)
		}
		if _, _, seq, err := ParseFileCode(code); err != nil || seq != tt.seq {
			t.Errorf("ParseFileCode(%s) = %d, %v", code, seq, err)
		}
	}
}
