package portalurl

import (
	"errors"
	"testing"
)

func TestCheck(t *testing.T) {
	tests := []struct {
		url      string
		insecure bool
		ok       bool
	}{
		{"https://portal.example.vn", false, true},
		{"http://127.0.0.1:8787", false, true},
		{"http://localhost:8787", false, true},
		{"http://[::1]:8787", false, true},
		{"http://portal.example.vn", false, false},
		{"http://10.0.0.5:8787", false, false},
		{"http://10.0.0.5:8787", true, true},
		{"ftp://portal.example.vn", true, false},
		{"portal.example.vn", false, false},
		{"", false, false},
	}
	for _, tt := range tests {
		_, err := Check(tt.url, tt.insecure)
		if (err == nil) != tt.ok {
			t.Errorf("Check(%q, %v) = %v", tt.url, tt.insecure, err)
		}
		if err != nil && !errors.Is(err, ErrBad) {
			t.Errorf("Check(%q): %v is not ErrBad", tt.url, err)
		}
	}
}
