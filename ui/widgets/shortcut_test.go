package widgets

import (
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"
)

// typeShortcut delivers s the way the desktop driver does: to the focused
// widget when it takes shortcuts, else to the canvas.
func typeShortcut(c fyne.Canvas, s fyne.Shortcut) {
	if f, ok := c.Focused().(fyne.Shortcutable); ok {
		f.TypedShortcut(s)
		return
	}
	c.(fyne.Shortcutable).TypedShortcut(s)
}

// In a fullscreen kiosk staff quit with Ctrl+Alt+Q, a shortcut of the
// window's canvas. A focused entry took every shortcut for itself, so the
// window could not be quit while a field had the focus; the entry passes
// on the window's Ctrl+Alt shortcuts and keeps its own (select all).
func TestEntryPassesCtrlAltQOnToTheWindow(t *testing.T) {
	test.NewTempApp(t)
	e := NewEntry()
	w := test.NewWindow(e)
	defer w.Close()
	quits := 0
	w.Canvas().AddShortcut(&desktop.CustomShortcut{KeyName: fyne.KeyQ, Modifier: fyne.KeyModifierControl | fyne.KeyModifierAlt}, func(fyne.Shortcut) { quits++ })
	w.Canvas().Focus(e)
	test.Type(e, "Lê An")

	typeShortcut(w.Canvas(), &desktop.CustomShortcut{KeyName: fyne.KeyQ, Modifier: fyne.KeyModifierControl | fyne.KeyModifierAlt})
	if quits != 1 {
		t.Fatalf("Ctrl+Alt+Q in a focused entry called the window's quit handler %d times, want 1", quits)
	}
	typeShortcut(w.Canvas(), &fyne.ShortcutSelectAll{})
	if e.SelectedText() != "Lê An" {
		t.Errorf("the entry no longer takes its own shortcuts: Ctrl+A selected %q", e.SelectedText())
	}
	if quits != 1 || e.Text != "Lê An" {
		t.Errorf("after Ctrl+A: %d quits, text %q", quits, e.Text)
	}
}
