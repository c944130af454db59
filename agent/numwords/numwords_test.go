package numwords

import "testing"

func TestWords(t *testing.T) {
	tests := []struct {
		n    uint64
		d    Dialect
		want string
	}{
		{0, North, "không"},
		{5, North, "năm"},
		{15, North, "mười lăm"},
		{21, North, "hai mươi mốt"},
		{24, North, "hai mươi tư"},
		{105, North, "một trăm linh năm"},
		{105, South, "một trăm lẻ năm"},
		{2024, North, "hai nghìn không trăm hai mươi tư"},
		{2024, South, "hai ngàn không trăm hai mươi tư"},
		{1948, North, "một nghìn chín trăm bốn mươi tám"},
		{21_000, North, "hai mươi mốt nghìn"},
		{50_000, South, "năm mươi ngàn"},
		{1_000_000, North, "một triệu"},
		{1_000_050, North, "một triệu không trăm năm mươi"},
		{1_250_000, North, "một triệu hai trăm năm mươi nghìn"},
		{1_000_000_000_000, North, "một nghìn tỷ"},
		{2_500_000_000_001, North, "hai nghìn năm trăm tỷ không trăm linh một"},
	}
	for _, tt := range tests {
		if got := Words(tt.n, tt.d); got != tt.want {
			t.Errorf("Words(%d, %v) = %q, want %q", tt.n, tt.d, got, tt.want)
		}
	}
}

func TestDigit(t *testing.T) {
	for d, want := range []string{"không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín"} {
		if got := Digit(d); got != want {
			t.Errorf("Digit(%d) = %q, want %q", d, got, want)
		}
	}
}
