// Package widgets holds the kiosk's custom widgets: the ones that render
// domain objects (a form field of each procedure.FieldType, a person block, a
// date picked without typing) and the large keyboard-operable buttons every
// citizen screen is built from. They hold no rules: a field widget shows a
// value and reports the citizen's changes through a callback; the caller
// checks them with the kiosk session.
package widgets

import (
	"image/color"
	"strings"
	"unicode/utf8"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/motcua/motcua/agent/telex"
)

// KeyFunc receives the keys a focused widget does not use itself (Escape,
// digits on a tile), so a screen can handle them wherever the focus is.
type KeyFunc func(*fyne.KeyEvent)

// FocusFunc is told which widget took the keyboard focus, so the screen
// can scroll it into view.
type FocusFunc func(fyne.CanvasObject)

// Tile is a large button that Enter, Return and Space all press. Keys it
// does not use go to OnKey. With Wrap, its text wraps onto more lines
// where a line would not fit, so nothing is cut off at the largest text
// size.
type Tile struct {
	widget.Button
	OnKey   KeyFunc
	OnFocus FocusFunc
	// Wrap lets a long text take more lines, for a tile given the
	// width of its container (a column of tiles, a grid); a tile laid
	// out at its own width (a chip, a button beside an entry) keeps one
	// line.
	Wrap bool
	// Live marks a tile whose text carries the citizen's data (a name
	// from the card, a suggestion) or a count: it is spoken as it is,
	// never kept in the kiosk's prompt cache. Other tiles' texts are
	// fixed prompts, rendered ahead.
	Live bool

	focused, hovered bool
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
	t.focused = true
	t.Button.FocusGained()
	if t.OnFocus != nil {
		t.OnFocus(t)
	}
}

// FocusLost draws the tile without the focus.
func (t *Tile) FocusLost() {
	t.focused = false
	t.Button.FocusLost()
}

// MouseIn draws the tile hovered.
func (t *Tile) MouseIn(ev *desktop.MouseEvent) {
	t.hovered = true
	t.Button.MouseIn(ev)
}

// MouseOut draws the tile no longer hovered.
func (t *Tile) MouseOut() {
	t.hovered = false
	t.Button.MouseOut()
}

// MinSize is the wrapped text's and its padding.
func (t *Tile) MinSize() fyne.Size {
	t.ExtendBaseWidget(t)
	return t.BaseWidget.MinSize()
}

// CreateRenderer draws the tile as a button whose text wraps.
func (t *Tile) CreateRenderer() fyne.WidgetRenderer {
	t.ExtendBaseWidget(t)
	seg := &widget.TextSegment{Style: widget.RichTextStyleStrong}
	r := &tileRenderer{t: t, bg: canvas.NewRectangle(color.Transparent), seg: seg, label: widget.NewRichText(seg)}
	r.Refresh()
	return r
}

type tileRenderer struct {
	t     *Tile
	bg    *canvas.Rectangle
	seg   *widget.TextSegment
	label *widget.RichText
}

func (r *tileRenderer) Destroy() {}

func (r *tileRenderer) Objects() []fyne.CanvasObject { return []fyne.CanvasObject{r.bg, r.label} }

func (r *tileRenderer) Layout(size fyne.Size) {
	r.bg.Resize(size)
	r.label.Resize(fyne.NewSize(size.Width, r.label.MinSize().Height))
	h := r.label.MinSize().Height
	r.label.Resize(fyne.NewSize(size.Width, h))
	r.label.Move(fyne.NewPos(0, (size.Height-h)/2))
}

// MinSize is as high as the text's lines need, and as wide as its one
// line, or with Wrap its longest word, and the padding; never narrower
// than a line is high, so a "+" is a tap target too.
func (r *tileRenderer) MinSize() fyne.Size {
	th := r.t.Theme()
	size, pad := th.Size(theme.SizeNameText), th.Size(theme.SizeNameInnerPadding)
	style := fyne.TextStyle{Bold: true}
	w := fyne.MeasureText(r.t.Text, size, style).Width
	if r.t.Wrap {
		w = 0
		for _, word := range strings.Fields(r.t.Text) {
			w = max(w, fyne.MeasureText(word, size, style).Width)
		}
	}
	h := r.label.MinSize().Height
	return fyne.NewSize(max(w+2*pad, min(h, size*1.3+2*pad)), h) // at least square
}

func (r *tileRenderer) Refresh() {
	t := r.t
	th := t.Theme()
	v := fyne.CurrentApp().Settings().ThemeVariant()
	fg, bg, blend := t.colorNames()
	fill := color.Color(color.Transparent)
	if bg != "" {
		fill = th.Color(bg, v)
	}
	if blend != "" {
		fill = over(th.Color(blend, v), fill)
	}
	r.bg.FillColor = fill
	r.bg.CornerRadius = th.Size(theme.SizeNameInputRadius)
	r.seg.Text = t.Text
	r.seg.Style.ColorName = fg
	if t.Wrap {
		r.label.Wrapping = fyne.TextWrapWord
	} else {
		r.label.Wrapping = fyne.TextWrapOff
	}
	switch t.Alignment {
	case widget.ButtonAlignLeading:
		r.seg.Style.Alignment = fyne.TextAlignLeading
	case widget.ButtonAlignTrailing:
		r.seg.Style.Alignment = fyne.TextAlignTrailing
	default:
		r.seg.Style.Alignment = fyne.TextAlignCenter
	}
	r.bg.Refresh()
	r.label.Refresh()
	r.Layout(t.Size())
	canvas.Refresh(t)
}

// colorNames are the tile's text, background and overlay colours, as a
// Fyne button's.
func (t *Tile) colorNames() (fg, bg, blend fyne.ThemeColorName) {
	fg = theme.ColorNameForeground
	if t.Disabled() {
		fg = theme.ColorNameDisabled
		if t.Importance != widget.LowImportance {
			bg = theme.ColorNameDisabledButton
		}
		return fg, bg, ""
	}
	if t.focused {
		blend = theme.ColorNameFocus
	} else if t.hovered {
		blend = theme.ColorNameHover
	}
	switch t.Importance {
	case widget.DangerImportance:
		return theme.ColorNameForegroundOnError, theme.ColorNameError, blend
	case widget.HighImportance:
		return theme.ColorNameForegroundOnPrimary, theme.ColorNamePrimary, blend
	case widget.SuccessImportance:
		return theme.ColorNameForegroundOnSuccess, theme.ColorNameSuccess, blend
	case widget.WarningImportance:
		return theme.ColorNameForegroundOnWarning, theme.ColorNameWarning, blend
	case widget.LowImportance:
		if blend != "" {
			bg = theme.ColorNameButton
		}
		return fg, bg, blend
	}
	return fg, theme.ColorNameButton, blend
}

// over is the colour of top drawn over under.
func over(top, under color.Color) color.Color {
	tr, tg, tb, ta := top.RGBA()
	ur, ug, ub, ua := under.RGBA()
	a := float64(ta) / 0xffff
	m := func(x, y uint32) uint8 { return uint8((float64(x) + float64(y)*(1-a)) / 0x101) }
	return color.RGBA{R: m(tr, ur), G: m(tg, ug), B: m(tb, ub), A: m(ta, ua)} // premultiplied, as RGBA gives them
}

// Entry is a single-line text entry that passes Escape, and Enter when
// no OnSubmitted is set, to OnKey. With Telex set it composes Vietnamese
// from Telex keys (Nguyeenx types Nguyễn), from the physical keyboard and
// the on-screen one alike.
type Entry struct {
	widget.Entry
	OnKey   KeyFunc
	OnFocus FocusFunc
	// Kind says what the entry holds, so the on-screen keyboard opens on
	// the right page and capitalizes names.
	Kind EntryKind
	// telex composes the text when it is set (names, addresses, free
	// text; never a phone number, an ID or an e-mail address).
	telex *telex.Composer
}

// EntryKind is what an entry holds, for the on-screen keyboard.
type EntryKind int

const (
	// KindText is free text: letters page, no capitals added.
	KindText EntryKind = iota
	// KindName is a name or an address: letters page, each word
	// starting with a capital.
	KindName
	// KindDigits is a number (a phone, an ID, a year): digits page.
	KindDigits
)

// UseTelex makes the entry compose Vietnamese from Telex keys in style.
func (e *Entry) UseTelex(style telex.Style) { e.telex = telex.NewComposer(style) }

// Telex reports whether the entry composes Telex.
func (e *Entry) Telex() bool { return e.telex != nil }

// atEnd reports whether keys go to the Composer: the cursor at the end
// of the text and nothing selected. Elsewhere the entry edits as usual.
func (e *Entry) atEnd() bool {
	return e.telex != nil && e.CursorRow == 0 && e.CursorColumn == utf8.RuneCountInString(e.Text) && e.SelectedText() == ""
}

// compose shows the Composer's text with the cursor at its end.
func (e *Entry) compose(text string) {
	e.SetText(text)
	e.CursorRow, e.CursorColumn = 0, utf8.RuneCountInString(text)
	e.Refresh()
}

// TypedRune types r: through the Composer when Telex is set and the
// cursor is at the end.
func (e *Entry) TypedRune(r rune) {
	if e.Disabled() || !e.atEnd() {
		e.Entry.TypedRune(r)
		return
	}
	if e.telex.Text() != e.Text {
		// Changed by other means: a suggestion, the card, a paste.
		e.telex.SetText(e.Text)
	}
	e.compose(e.telex.Key(r))
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

// TypedShortcut passes the window's shortcuts on to its canvas and
// handles the others as an entry does. The driver gives every shortcut to
// the focused entry, which kept them all: Ctrl+Alt+Q, with which staff
// quit a fullscreen kiosk, did nothing while a field had the focus. An
// entry's own shortcuts never hold Control and Alt together, so those are
// the window's.
func (e *Entry) TypedShortcut(s fyne.Shortcut) {
	if cs, ok := s.(*desktop.CustomShortcut); ok && windowShortcut(cs) {
		if c, ok := fyne.CurrentApp().Driver().CanvasForObject(e).(fyne.Shortcutable); ok {
			c.TypedShortcut(s)
		}
		return
	}
	e.Entry.TypedShortcut(s)
}

// windowShortcut reports whether s is one the window handles, not an
// entry: Control and Alt held together.
func windowShortcut(s *desktop.CustomShortcut) bool {
	both := fyne.KeyModifierControl | fyne.KeyModifierAlt
	return s.Modifier&both == both
}

// TypedKey handles the key as an entry does, but gives Escape, and Enter
// when nothing else takes it, to OnKey.
func (e *Entry) TypedKey(ev *fyne.KeyEvent) {
	enter := ev.Name == fyne.KeyReturn || ev.Name == fyne.KeyEnter
	if e.OnKey != nil && (ev.Name == fyne.KeyEscape || ev.Name == fyne.KeyF1 || enter && e.OnSubmitted == nil) {
		e.OnKey(ev)
		return
	}
	if ev.Name == fyne.KeyBackspace && !e.Disabled() && e.atEnd() && e.Text != "" {
		if e.telex.Text() != e.Text {
			e.telex.SetText(e.Text)
		}
		// The tone goes with the letter that carried it.
		e.compose(e.telex.Backspace())
		return
	}
	e.Entry.TypedKey(ev)
}
