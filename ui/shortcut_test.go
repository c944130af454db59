package ui

import (
	"context"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"

	roster "github.com/motcua/motcua/agent/staff"
)

// A counter shown fullscreen ([window] fullscreen = true) is quit with
// Ctrl+Alt+Q, the window's shortcut; the login screen's PIN entry, which
// has the focus there, took the shortcut for itself.
func TestCounterPINEntryPassesCtrlAltQOnToTheWindow(t *testing.T) {
	r, s := newCounterRigWith(t, func(dir *roster.Directory) {
		if _, err := dir.Add(context.Background(), "cli", "lan", "Nguyễn Thị Lan", roster.RoleStaff, testPIN); err != nil {
			t.Fatal(err)
		}
	})
	quits := 0
	canvas := r.u.Window().Canvas()
	quit := &desktop.CustomShortcut{KeyName: fyne.KeyQ, Modifier: fyne.KeyModifierControl | fyne.KeyModifierAlt}
	canvas.AddShortcut(quit, func(fyne.Shortcut) { quits++ })
	s.at("counter:login")
	s.c.Object("staff:lan").(fyne.Tappable).Tapped(&fyne.PointEvent{})
	r.settle()
	s.focusedIs("pin")
	s.typeText("12")
	// As the desktop driver does: the focused widget gets the shortcut.
	canvas.Focused().(fyne.Shortcutable).TypedShortcut(quit)
	if quits != 1 {
		t.Fatalf("Ctrl+Alt+Q in the PIN entry called the window's quit handler %d times, want 1", quits)
	}
}
