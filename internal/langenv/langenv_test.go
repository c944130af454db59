package langenv

import "testing"

func TestInCLocale(t *testing.T) {
	for _, c := range []struct {
		env  map[string]string
		want bool
	}{
		{map[string]string{"LC_ALL": "C.UTF-8"}, true},
		{map[string]string{"LANG": "C.utf8"}, true},
		{map[string]string{"LANG": "POSIX.UTF-8"}, true},
		// Fyne reads plain C and POSIX as "no language", without an error.
		{map[string]string{"LANG": "C"}, false},
		{map[string]string{"LC_ALL": "vi_VN.UTF-8", "LANG": "C.UTF-8"}, false},
		{map[string]string{"LC_MESSAGES": "en_US.UTF-8", "LANG": "C.UTF-8"}, false},
		{map[string]string{}, false},
	} {
		if got := inCLocale(func(k string) string { return c.env[k] }); got != c.want {
			t.Errorf("inCLocale(%v) = %v, want %v", c.env, got, c.want)
		}
	}
}
