package datasize

import "testing"

func TestParse(t *testing.T) {
	for in, want := range map[string]int64{"500000": 500000, "800KB": 800000, "50MB": 50000000, "1 GB": 1e9, "12b": 12} {
		if got, err := Parse(in); err != nil || got != want {
			t.Errorf("Parse(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "MB", "-5MB", "ten"} {
		if _, err := Parse(in); err == nil {
			t.Errorf("Parse(%q) accepted", in)
		}
	}
}
