package device

import "testing"

func TestShortInstance(t *testing.T) {
	tests := []struct{ id, want string }{
		{"p-f30efbb012a2d4aab2516dca98aee459", "f30efbb0"},
		{"p-abc", "abc"},
		{"instance-without-prefix", "instance"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := ShortInstance(tt.id); got != tt.want {
			t.Errorf("ShortInstance(%q) = %q, want %q", tt.id, got, tt.want)
		}
	}
}
