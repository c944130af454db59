package widgets

import (
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/motcua/motcua/agent/i18n"
	"github.com/motcua/motcua/agent/identity"
	"github.com/motcua/motcua/agent/procedure"
)

var today = identity.Date{Year: 2026, Month: 11, Day: 30}

// TestFieldWidgetPerType builds the widget of each field type, gives it a
// value the way a citizen does (typing, a tap), and checks what it reports.
func TestFieldWidgetPerType(t *testing.T) {
	test.NewTempApp(t)
	sex := []procedure.Choice{{Value: "male", Label: i18n.T("Nam", "Male")}, {Value: "female", Label: i18n.T("Nữ", "Female")}}
	for _, tc := range []struct {
		field procedure.Field
		do    func(t *testing.T, f *Field)
		want  any
	}{
		{procedure.Field{Type: procedure.TypeText}, typeIn("Kinh"), "Kinh"},
		{procedure.Field{Type: procedure.TypeName}, typeIn("Lê An"), "Lê An"},
		{procedure.Field{Type: procedure.TypeCitizenID}, typeIn("001095012345"), "001095012345"},
		{procedure.Field{Type: procedure.TypePhone}, typeIn("0912345678"), "0912345678"},
		{procedure.Field{Type: procedure.TypeEmail}, typeIn("a@b.vn"), "a@b.vn"},
		{procedure.Field{Type: procedure.TypeAddress}, typeIn("12 Lê Lợi"), "12 Lê Lợi"},
		{procedure.Field{Type: procedure.TypeYear}, typeIn("1990"), "1990"},
		{procedure.Field{Type: procedure.TypeChoice, Choices: sex}, func(t *testing.T, f *Field) {
			test.Tap(f.ChoicesOf().Tile("female"))
		}, "female"},
		{procedure.Field{Type: procedure.TypeChoice, Choices: sex}, func(t *testing.T, f *Field) {
			f.ChoicesOf().Tile("male").TypedKey(&fyne.KeyEvent{Name: "2"}) // the digit picks the second
		}, "female"},
		{procedure.Field{Type: procedure.TypeDate, DateRule: procedure.PastOnly}, func(t *testing.T, f *Field) {
			d := f.DateOf()
			if !d.Day(31).Hidden {
				t.Error("November shows a 31st")
			}
			if d.Day(30).Disabled() || d.Day(29).Disabled() {
				t.Error("a past-only date: today and before must be enabled")
			}
			test.Tap(d.Day(20))
		}, "2026-11-20"},
		{procedure.Field{Type: procedure.TypeDate, DateRule: procedure.FutureOnly}, func(t *testing.T, f *Field) {
			d := f.DateOf()
			if !d.Day(29).Disabled() {
				t.Error("a future-only date lets the 29th, yesterday, be picked")
			}
			test.Tap(d.Day(29))  // disabled: reports nothing
			test.Tap(d.steps[3]) // the month after
			test.Tap(d.Day(3))
		}, "2026-12-03"},
		{procedure.Field{Type: procedure.TypePerson, PersonParts: []string{procedure.PartCitizenID, procedure.PartSex}}, func(t *testing.T, f *Field) {
			p := f.editor.(*personEditor)
			test.Type(p.name, "Lê An")
			test.Type(p.id, "001095012345")
			test.Tap(p.sex.Tile("male"))
		}, procedure.PersonValue{FullName: "Lê An", CitizenID: "001095012345", Sex: "male"}},
	} {
		t.Run(string(tc.field.Type), func(t *testing.T) {
			tc.field.Key, tc.field.Label = "k", i18n.T("Nhãn", "Label")
			var got any
			f := NewField(Config{Field: &tc.field, Lang: "vi", Today: today, OnChange: func(v any) { got = v }})
			w := test.NewTempWindow(t, f)
			w.Resize(fyne.NewSize(800, 900))
			tc.do(t, f)
			if got != tc.want {
				t.Errorf("reported %#v, want %#v", got, tc.want)
			}
		})
	}
}

func typeIn(s string) func(*testing.T, *Field) {
	return func(t *testing.T, f *Field) {
		e, ok := f.Focusable().(*Entry)
		if !ok {
			t.Fatalf("focusable %T, want an entry", f.Focusable())
		}
		test.Type(e, s)
	}
}

// TestDateYearTyped types a year in a date picker: its months show, and
// a day tapped there is the date.
func TestDateYearTyped(t *testing.T) {
	test.NewTempApp(t)
	var got any
	f := NewField(Config{Field: &procedure.Field{Key: "d", Type: procedure.TypeDate, DateRule: procedure.PastOnly}, Today: today,
		OnChange: func(v any) { got = v }})
	test.NewTempWindow(t, f)
	d := f.DateOf()
	d.year.SetText("")
	test.Type(d.year, "1962")
	test.Tap(d.steps[2]) // the month before: October
	test.Tap(d.Day(31))
	if got != "1962-10-31" {
		t.Errorf("date %v, want 1962-10-31", got)
	}
}

// TestYearSteps steps a year up and down from the one typed.
func TestYearSteps(t *testing.T) {
	test.NewTempApp(t)
	var got any
	f := NewField(Config{Field: &procedure.Field{Key: "y", Type: procedure.TypeYear}, Today: today, OnChange: func(v any) { got = v }})
	test.NewTempWindow(t, f)
	ye := f.editor.(*yearEditor)
	test.Type(ye.entry, "1990")
	box := ye.box.Objects
	var minus, plus *Tile
	for _, o := range box {
		if tl, ok := o.(*Tile); ok && tl.Text == "−" {
			minus = tl
		} else if ok && tl.Text == "+" {
			plus = tl
		}
	}
	test.Tap(plus)
	test.Tap(plus)
	test.Tap(minus)
	if got != "1991" {
		t.Errorf("year %v after +, +, −: want 1991", got)
	}
}

// TestSuggestionPrefixLeavesTheCursorToFinish: a family name chip starts
// the text and the citizen types the rest.
func TestSuggestionPrefixLeavesTheCursorToFinish(t *testing.T) {
	test.NewTempApp(t)
	var got any
	f := NewField(Config{Field: &procedure.Field{Key: "n", Type: procedure.TypeName}, Today: today,
		Suggestions: []Suggestion{{Label: "Họ Phạm …", Value: "Phạm", Prefix: true}}, OnChange: func(v any) { got = v }})
	w := test.NewTempWindow(t, f)
	test.Tap(f.Suggestion("Họ Phạm …"))
	if w.Canvas().Focused() != f.Focusable() {
		t.Fatal("the entry does not have the focus after the chip")
	}
	for _, r := range "Minh An" {
		w.Canvas().Focused().TypedRune(r)
	}
	if got != "Phạm Minh An" {
		t.Errorf("name %q, want Phạm Minh An", got)
	}
}
