package widgets

import (
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"

	"github.com/motcua/motcua/agent/i18n"
	"github.com/motcua/motcua/agent/procedure"
)

// TestKeyboardTypesThroughTelex taps the on-screen keyboard's keys into
// a name field: the letters compose Telex as the physical keyboard's do,
// each word of a name starts with a capital, the marks row types the same
// name without Telex, and a phone field opens the digits page without
// the marks. Every key is told to OnPress, to be spoken.
func TestKeyboardTypesThroughTelex(t *testing.T) {
	test.NewTempApp(t)
	var got any
	name := NewField(Config{Field: &procedure.Field{Key: "n", Type: procedure.TypeName}, Lang: "vi", Today: today,
		OnChange: func(v any) { got = v }})
	phone := NewField(Config{Field: &procedure.Field{Key: "p", Type: procedure.TypePhone}, Lang: "vi", Today: today})
	kb := NewKeyboard("vi")
	var spoken []string
	kb.OnPress = func(n i18n.Text, live bool) { spoken = append(spoken, n.VI) }
	w := test.NewTempWindow(t, container.NewVBox(name, phone, kb))
	w.Resize(fyne.NewSize(1024, 900))
	tap := func(ids ...string) {
		t.Helper()
		for _, id := range ids {
			k := kb.Key(id)
			if k == nil {
				t.Fatalf("no key %q shown", id)
			}
			test.Tap(k)
		}
	}
	letters := func(s string) []string {
		var ids []string
		for _, r := range s {
			if r == ' ' {
				ids = append(ids, "space")
				continue
			}
			ids = append(ids, string(r))
		}
		return ids
	}
	kb.SetTarget(name.Focusable().(*Entry))
	if kb.Key("n").Text != "N" {
		t.Errorf("the first key of a name shows %q, want a capital", kb.Key("n").Text)
	}
	tap(letters("nguyeenx thij")...)
	if got != "Nguyễn Thị" {
		t.Errorf("keys n g u y e e n x, space, t h i j: %v, want Nguyễn Thị", got)
	}
	if w.Canvas().Focused() != name.Focusable() {
		t.Error("the entry typed into does not have the focus")
	}
	if len(spoken) != 13 || spoken[0] != "n" || spoken[8] != "dấu cách" {
		t.Errorf("spoken %q, want each key", spoken)
	}
	tap("backspace", "backspace", "backspace", "backspace", "space")
	tap(letters("nguyen")...)
	tap("mark:circumflex", "mark:x", "space", "mark:dd")
	tap(letters("awt")...)
	if got != "Nguyễn Nguyễn Đăt" {
		t.Errorf("marks: %v, want Nguyễn Nguyễn Đăt", got)
	}
	tap("mark:j")
	if got != "Nguyễn Nguyễn Đặt" {
		t.Errorf("the dot below: %v, want Nguyễn Nguyễn Đặt", got)
	}

	kb.SetTarget(phone.Focusable().(*Entry))
	if !kb.Digits() || kb.Marks() {
		t.Fatalf("a phone: digits page %v, marks shown %v; want the digits without marks", kb.Digits(), kb.Marks())
	}
	tap("0", "9", "1", "2")
	if s := phone.Text(); s != "0912" {
		t.Errorf("phone %q, want 0912", s)
	}
}

// TestKeyboardFoldsAway hides the keyboard to one key, which opens it
// again on the page it was on.
func TestKeyboardFoldsAway(t *testing.T) {
	test.NewTempApp(t)
	phone := NewField(Config{Field: &procedure.Field{Key: "p", Type: procedure.TypePhone}, Lang: "vi", Today: today})
	kb := NewKeyboard("vi")
	w := test.NewTempWindow(t, container.NewVBox(phone, kb))
	w.Resize(fyne.NewSize(1024, 900))
	kb.SetTarget(phone.Focusable().(*Entry))
	full := kb.MinSize().Height
	test.Tap(kb.Key("hide"))
	if !kb.Collapsed() || kb.MinSize().Height >= full/3 {
		t.Fatalf("hidden: collapsed %v, %v high (open: %v)", kb.Collapsed(), kb.MinSize().Height, full)
	}
	test.Tap(kb.Key("show"))
	if kb.Collapsed() || !kb.Digits() || kb.MinSize().Height != full {
		t.Errorf("shown again: collapsed %v, digits %v, %v high; want the digits page, %v high", kb.Collapsed(), kb.Digits(), kb.MinSize().Height, full)
	}
}
