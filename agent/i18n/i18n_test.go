package i18n

import "testing"

func TestTfSubstitutesTextArguments(t *testing.T) {
	label := T("Họ tên", "Full name")
	got := Tf("Chưa điền: %s (%d)", "required: %s (%d)", label, 3)
	want := Text{VI: "Chưa điền: Họ tên (3)", EN: "required: Full name (3)"}
	if got != want {
		t.Fatalf("Tf = %+v, want %+v", got, want)
	}
}

func TestIn(t *testing.T) {
	tests := []struct {
		t          Text
		lang, want string
	}{
		{T("Có", "Yes"), "vi", "Có"},
		{T("Có", "Yes"), "en", "Yes"},
		{T("Có", ""), "en", "Có"},
		{T("", "Yes"), "vi", "Yes"},
	}
	for _, tt := range tests {
		if got := tt.t.In(tt.lang); got != tt.want {
			t.Errorf("%+v.In(%s) = %q, want %q", tt.t, tt.lang, got, tt.want)
		}
	}
}
