package portalapi

import (
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
	for _, bad := range []string{"", "000.00.01.H29-240115", "000.00.01.H29-241315-0001", "000.00.01.H29-240115-0000", "x-240115-01"} {
		if _, _, _, err := ParseFileCode(bad); err == nil {
			t.Errorf("ParseFileCode(%q) accepted", bad)
		}
	}
}
