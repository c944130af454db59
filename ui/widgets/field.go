package widgets

import (
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/motcua/motcua/agent/identity"
	"github.com/motcua/motcua/agent/procedure"
	"github.com/motcua/motcua/agent/telex"
)

// Suggestion is a value the citizen can take with one tap instead of typing
// it: the requester's residence for another address, a parent's family name
// for the child's name, the usual nationality.
type Suggestion struct {
	Label string // what the chip says
	Value any    // a string, or a procedure.PersonValue for a person block
	// Prefix puts a string value at the start of the text with the cursor
	// after it, for the citizen to finish (a family name).
	Prefix bool
}

// Config says what a field widget shows and where its changes go.
type Config struct {
	Field    *procedure.Field
	Lang     string // "vi" or "en"
	Today    identity.Date
	Value    any  // the current value: a string, or a procedure.PersonValue
	FromCard bool // the value came from the ID card
	// Suggestions are offered as chips next to the field.
	Suggestions []Suggestion
	// OnChange receives every change the citizen makes: a string ("" to
	// clear), or a procedure.PersonValue.
	OnChange func(v any)
	// OnKey receives the keys the field's widgets do not use.
	OnKey KeyFunc
	// OnFocus is told when one of the field's widgets takes the focus.
	OnFocus FocusFunc
	// Telex is the tone placement of the entries that compose Telex
	// (names, addresses, free text); the zero value is classic.
	Telex telex.Style
}

// Field is the widget for one form field: its label, help and error
// around an editor fitting its type.
type Field struct {
	widget.BaseWidget
	cfg     Config
	content *fyne.Container
	errs    *widget.Label
	card    *widget.Label
	editor  editor
	chips   []*Tile
}

// editor is the part of a field that holds the value.
type editor interface {
	object() fyne.CanvasObject
	focusable() fyne.Focusable
	setValue(v any)
	setPartErrors(map[string]string) // person blocks show errors by part
}

// NewField returns the widget for cfg.Field, chosen by its type.
func NewField(cfg Config) *Field {
	f := &Field{cfg: cfg}
	f.ExtendBaseWidget(f)
	label := widget.NewLabel(cfg.Field.Label.In(cfg.Lang) + requiredMark(cfg.Field))
	label.TextStyle.Bold = true
	label.Wrapping = fyne.TextWrapWord
	f.card = widget.NewLabel("✓ " + tr(cfg.Lang, "Lấy từ thẻ căn cước", "From the ID card"))
	f.card.Importance = widget.SuccessImportance
	f.card.Hidden = !cfg.FromCard
	f.errs = widget.NewLabel("")
	f.errs.Importance = widget.DangerImportance
	f.errs.Wrapping = fyne.TextWrapWord
	f.errs.Hidden = true
	change := func(v any) {
		f.card.Hide()
		if cfg.OnChange != nil {
			cfg.OnChange(v)
		}
	}
	switch cfg.Field.Type {
	case procedure.TypeChoice:
		f.editor = newChoiceEditor(cfg, change)
	case procedure.TypeDate:
		f.editor = newDateEditor(cfg, change)
	case procedure.TypePerson:
		f.editor = newPersonEditor(cfg, change)
	case procedure.TypeYear:
		f.editor = newYearEditor(cfg, change)
	default:
		f.editor = newTextEditor(cfg, change)
	}
	objs := []fyne.CanvasObject{container.NewBorder(nil, nil, nil, f.card, label)}
	if h := cfg.Field.Help.In(cfg.Lang); h != "" {
		help := widget.NewLabel(h)
		help.Wrapping = fyne.TextWrapWord
		help.Importance = widget.LowImportance
		objs = append(objs, help)
	}
	// The problem goes above the editor, so it is read first and shows
	// with the field's label when the screen scrolls to it.
	objs = append(objs, f.errs, f.editor.object())
	if cfg.Field.Type != procedure.TypePerson && len(cfg.Suggestions) > 0 {
		box, chips := suggestionChips(cfg, func(s Suggestion) {
			f.applySuggestion(s)
		})
		f.chips = chips
		objs = append(objs, box)
	}
	f.content = container.NewVBox(objs...)
	return f
}

// CreateRenderer draws the field.
func (f *Field) CreateRenderer() fyne.WidgetRenderer { return widget.NewSimpleRenderer(f.content) }

// Key is the field's key.
func (f *Field) Key() string { return f.cfg.Field.Key }

// Focusable is the widget the keyboard focus goes to first in this field.
func (f *Field) Focusable() fyne.Focusable { return f.editor.focusable() }

// SetValue shows v, set by the screen (a suggestion taken for a whole
// section); fromCard marks it as read from the ID card.
func (f *Field) SetValue(v any, fromCard bool) {
	f.editor.setValue(v)
	setVisible(f.card, fromCard)
	relayout(f)
}

// SetErrors shows the field's problems: byPart[""] for the whole field and,
// for a person block, byPart["full_name"] and so on next to each part.
// Empty clears them.
func (f *Field) SetErrors(byPart map[string]string) {
	f.errs.SetText(byPart[""])
	setVisible(f.errs, byPart[""] != "")
	f.editor.setPartErrors(byPart)
	relayout(f)
}

// ErrorText is the problem shown with the field, for tests and speech.
func (f *Field) ErrorText() string { return f.errs.Text }

func (f *Field) applySuggestion(s Suggestion) {
	v := s.Value
	if str, ok := v.(string); ok && s.Prefix {
		v = strings.TrimSpace(str) + " "
	}
	f.editor.setValue(v)
	f.card.Hide()
	if f.cfg.OnChange != nil {
		f.cfg.OnChange(v)
	}
	if te, ok := f.editor.(*textEditor); ok {
		te.entry.CursorColumn = len([]rune(te.entry.Text))
		if c := fyne.CurrentApp().Driver().CanvasForObject(te.entry); c != nil {
			c.Focus(te.entry)
		}
	}
}

// setVisible shows or hides o.
func setVisible(o fyne.CanvasObject, on bool) {
	if on {
		o.Show()
	} else {
		o.Hide()
	}
}

// relayout lays out again the window o is in, after something in it
// appeared or went: a container does not grow for a child that appears.
func relayout(o fyne.CanvasObject) {
	if c := fyne.CurrentApp().Driver().CanvasForObject(o); c != nil && c.Content() != nil {
		c.Content().Refresh()
	}
}

func requiredMark(f *procedure.Field) string {
	if f.Required {
		return " *"
	}
	return ""
}

func tr(lang, vi, en string) string {
	if lang == "en" {
		return en
	}
	return vi
}

func suggestionChips(cfg Config, take func(Suggestion)) (fyne.CanvasObject, []*Tile) {
	box := container.NewHBox()
	var chips []*Tile
	for _, s := range cfg.Suggestions {
		chip := NewTile(s.Label, func() { take(s) })
		chip.OnKey, chip.OnFocus = cfg.OnKey, cfg.OnFocus
		chip.Live = true // a suggestion may be the citizen's own data
		box.Add(chip)
		chips = append(chips, chip)
	}
	return container.NewHScroll(box), chips
}

// Suggestion returns the chip offering the suggestion with the given
// label, nil when there is none.
func (f *Field) Suggestion(label string) *Tile {
	for _, c := range f.chips {
		if c.Text == label {
			return c
		}
	}
	return nil
}

// Suggestions are the labels of the chips offered.
func (f *Field) Suggestions() []string {
	var out []string
	for _, c := range f.chips {
		out = append(out, c.Text)
	}
	return out
}

// Entries are the field's text entries, for the on-screen keyboard.
func (f *Field) Entries() []*Entry {
	switch e := f.editor.(type) {
	case *textEditor:
		return []*Entry{e.entry}
	case *yearEditor:
		return []*Entry{e.entry}
	case *dateEditor:
		return []*Entry{e.d.year}
	case *personEditor:
		var out []*Entry
		for _, x := range []*Entry{e.name, e.id} {
			if x != nil {
				out = append(out, x)
			}
		}
		if e.dob != nil {
			out = append(out, e.dob.year)
		}
		return out
	}
	return nil
}

// Text is the field's text, for the fields typed as text; "" for others.
func (f *Field) Text() string {
	switch e := f.editor.(type) {
	case *textEditor:
		return e.entry.Text
	case *yearEditor:
		return e.entry.Text
	}
	return ""
}

// textEditor edits the field types typed as text.
type textEditor struct {
	entry *Entry
}

func newTextEditor(cfg Config, change func(any)) *textEditor {
	e := NewEntry()
	e.OnKey, e.OnFocus = cfg.OnKey, cfg.OnFocus
	switch cfg.Field.Type {
	case procedure.TypePhone:
		e.SetPlaceHolder("09xx xxx xxx")
		e.Kind = KindDigits
	case procedure.TypeCitizenID:
		e.SetPlaceHolder(tr(cfg.Lang, "12 chữ số", "12 digits"))
		e.Kind = KindDigits
	case procedure.TypeEmail:
		e.SetPlaceHolder("ten@example.com")
	case procedure.TypeYear:
		e.Kind = KindDigits
	case procedure.TypeName, procedure.TypeAddress:
		e.Kind = KindName
		e.UseTelex(cfg.Telex)
	case procedure.TypeText:
		e.UseTelex(cfg.Telex)
	}
	if s, ok := cfg.Value.(string); ok {
		e.SetText(s)
	}
	e.OnChanged = func(s string) { change(s) }
	return &textEditor{entry: e}
}

func (t *textEditor) object() fyne.CanvasObject       { return t.entry }
func (t *textEditor) focusable() fyne.Focusable       { return t.entry }
func (t *textEditor) setPartErrors(map[string]string) {}
func (t *textEditor) setValue(v any) {
	s, _ := v.(string)
	onChanged := t.entry.OnChanged
	t.entry.OnChanged = nil
	t.entry.SetText(s)
	t.entry.OnChanged = onChanged
}

// yearEditor edits a year: typed, or stepped with − and +.
type yearEditor struct {
	*textEditor
	box *fyne.Container
}

func newYearEditor(cfg Config, change func(any)) *yearEditor {
	te := newTextEditor(cfg, change)
	te.entry.SetPlaceHolder(tr(cfg.Lang, "năm, ví dụ 1990", "year, e.g. 1990"))
	y := &yearEditor{textEditor: te}
	step := func(d int) {
		n, err := strconv.Atoi(strings.TrimSpace(te.entry.Text))
		if err != nil {
			n = cfg.Today.Year - 30
		} else {
			n += d
		}
		te.entry.SetText(strconv.Itoa(n)) // OnChanged reports it
	}
	minus := NewTile("−", func() { step(-1) })
	plus := NewTile("+", func() { step(1) })
	minus.OnKey, plus.OnKey = cfg.OnKey, cfg.OnKey
	minus.OnFocus, plus.OnFocus = cfg.OnFocus, cfg.OnFocus
	y.box = container.NewBorder(nil, nil, minus, plus, te.entry)
	return y
}

func (y *yearEditor) object() fyne.CanvasObject { return y.box }
