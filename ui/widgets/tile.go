// Package widgets holds the kiosk's custom widgets: the ones that render
// domain objects (a form field of each procedure.FieldType, a person block, a
// date picked without typing) and the large keyboard-operable buttons every
// citizen screen is built from. They hold no rules: a field widget shows a
// value and reports the citizen's changes through a callback; the caller
// checks them with the kiosk session.
package widgets

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"
)

// KeyFunc receives the keys a focused widget does not use itself (Escape,
// digits on a tile), so a screen can handle them wherever the focus is.
type KeyFunc func(*fyne.KeyEvent)

// FocusFunc is told which widget took the keyboard focus, so the screen
// can scroll it into view.
type FocusFunc func(fyne.CanvasObject)

// Tile is a large button that Enter, Return and Space all press. Keys it
// does not use go to OnKey.
type Tile struct {
	widget.Button
	OnKey   KeyFunc
	OnFocus FocusFunc
}

// NewTile returns a tile with the given text that calls tapped when pressed.
func NewTile(text string, tapped func()) *Tile {
	t := &Tile{}
	t.Text = text
	t.OnTapped = tapped
	t.ExtendBaseWidget(t)
	return t
}

// NewPrimaryTile returns a tile drawn as the screen's main action.
func NewPrimaryTile(text string, tapped func()) *Tile {
	t := NewTile(text, tapped)
	t.Importance = widget.HighImportance
	return t
}

// TypedKey presses the tile on Enter, Return or Space and passes other keys
// to OnKey.
func (t *Tile) TypedKey(ev *fyne.KeyEvent) {
	switch ev.Name {
	case fyne.KeyReturn, fyne.KeyEnter, fyne.KeySpace:
		if !t.Disabled() && t.OnTapped != nil {
			t.OnTapped()
		}
	default:
		if t.OnKey != nil {
			t.OnKey(ev)
		}
	}
}

// FocusGained draws the focus and tells OnFocus.
func (t *Tile) FocusGained() {
	t.Button.FocusGained()
	if t.OnFocus != nil {
		t.OnFocus(t)
	}
}

// Entry is a single-line text entry that passes Escape, and Enter when
// no OnSubmitted is set, to OnKey.
type Entry struct {
	widget.Entry
	OnKey   KeyFunc
	OnFocus FocusFunc
}

// FocusGained draws the focus and tells OnFocus.
func (e *Entry) FocusGained() {
	e.Entry.FocusGained()
	if e.OnFocus != nil {
		e.OnFocus(e)
	}
}

// NewEntry returns an empty single-line entry.
func NewEntry() *Entry {
	e := &Entry{}
	e.ExtendBaseWidget(e)
	return e
}

// TypedKey handles the key as an entry does, but gives Escape, and Enter
// when nothing else takes it, to OnKey.
func (e *Entry) TypedKey(ev *fyne.KeyEvent) {
	enter := ev.Name == fyne.KeyReturn || ev.Name == fyne.KeyEnter
	if e.OnKey != nil && (ev.Name == fyne.KeyEscape || enter && e.OnSubmitted == nil) {
		e.OnKey(ev)
		return
	}
	e.Entry.TypedKey(ev)
}
