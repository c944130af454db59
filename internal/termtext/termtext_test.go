package termtext

import "testing"

func TestEscape(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain ASCII", "000.00.01.H29-261123-0001", "000.00.01.H29-261123-0001"},
		{"Vietnamese with marks", "Nguyễn Minh Khang, Bổ sung giấy chứng sinh", "Nguyễn Minh Khang, Bổ sung giấy chứng sinh"},
		{"combining marks", "Nguye\u0302\u0303n", "Nguye\u0302\u0303n"},
		{"empty", "", ""},
		{"clear screen", "\x1b[2J\x1b[Hok", `\x1b[2J\x1b[Hok`},
		{"forged row", "note\r\n000.00.01.H29-261123-0002\tdone", `note\r\n000.00.01.H29-261123-0002\tdone`},
		{"NUL and BEL", "a\x00b\x07", `a\x00b\x07`},
		{"DEL", "a\x7fb", `a\x7fb`},
		{"C1 CSI", "a\u009b2Jb", `a\u009b2Jb`},
		{"C1 NEL", "a\u0085b", `a\u0085b`},
		{"right-to-left override", "file \u202egpj.exe", `file \u202egpj.exe`},
		{"isolates", "\u2066x\u2069", `\u2066x\u2069`},
		{"marks", "\u200ex\u200f\u061c", `\u200ex\u200f\u061c`},
		{"line separator", "a\u2028b\u2029", `a\u2028b\u2029`},
		{"invalid UTF-8", "a\xffb\xc3", `a\xffb\xc3`},
		{"backslash kept", `C:\data`, `C:\data`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Escape(tt.in); got != tt.want {
				t.Errorf("Escape(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func BenchmarkEscapeClean(b *testing.B) {
	s := "000.00.01.H29-261123-0001  birth-registration  Bổ sung giấy chứng sinh"
	for b.Loop() {
		Escape(s)
	}
}
