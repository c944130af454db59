package widgets

import (
	"fmt"
	"unicode/utf8"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"
)

// Choices is a set of large buttons of which one is selected: the
// selected one is drawn as primary. Digits 1 to 9 pick a choice by its
// number when one of the buttons has the focus.
type Choices struct {
	widget.BaseWidget
	values   []string
	tiles    []*Tile
	selected string
	grid     *fyne.Container
	onChange func(string)
}

// NewChoices returns the buttons for the given values and labels.
func NewChoices(values, labels []string, selected string, onKey KeyFunc, onFocus FocusFunc, onChange func(string)) *Choices {
	c := &Choices{values: values, selected: selected, onChange: onChange}
	c.ExtendBaseWidget(c)
	// Two or three short choices a row; long ones one a row, as a
	// button does not wrap its text.
	cols := 2
	if len(values) > 4 {
		cols = 3
	}
	for _, l := range labels {
		if utf8.RuneCountInString(l) > 14 {
			cols = 1
		}
	}
	c.grid = container.NewGridWithColumns(cols)
	for i, v := range values {
		label := labels[i]
		if i < 9 {
			label = fmt.Sprintf("%d. %s", i+1, labels[i])
		}
		t := NewTile(label, func() { c.Select(v) })
		t.OnFocus = onFocus
		t.OnKey = func(ev *fyne.KeyEvent) {
			if n := digit(ev.Name); n >= 1 && n <= len(c.values) {
				c.Select(c.values[n-1])
				return
			}
			if onKey != nil {
				onKey(ev)
			}
		}
		c.tiles = append(c.tiles, t)
		c.grid.Add(t)
	}
	c.paint()
	return c
}

// CreateRenderer draws the buttons.
func (c *Choices) CreateRenderer() fyne.WidgetRenderer { return widget.NewSimpleRenderer(c.grid) }

// Selected is the selected value, "" when none.
func (c *Choices) Selected() string { return c.selected }

// Tile returns the button of value v, nil when there is none.
func (c *Choices) Tile(v string) *Tile {
	for i, x := range c.values {
		if x == v {
			return c.tiles[i]
		}
	}
	return nil
}

// Select selects v and reports it.
func (c *Choices) Select(v string) {
	c.set(v)
	if c.onChange != nil {
		c.onChange(v)
	}
}

func (c *Choices) set(v string) {
	c.selected = v
	c.paint()
}

func (c *Choices) paint() {
	for i, t := range c.tiles {
		imp := widget.MediumImportance
		if c.values[i] == c.selected {
			imp = widget.HighImportance
		}
		if t.Importance != imp {
			t.Importance = imp
			t.Refresh()
		}
	}
}

func digit(k fyne.KeyName) int {
	if len(k) == 1 && k[0] >= '0' && k[0] <= '9' {
		return int(k[0] - '0')
	}
	return -1
}

// choiceEditor edits a Choice field.
type choiceEditor struct{ c *Choices }

func newChoiceEditor(cfg Config, change func(any)) *choiceEditor {
	var values, labels []string
	for _, ch := range cfg.Field.Choices {
		values = append(values, ch.Value)
		labels = append(labels, ch.Label.In(cfg.Lang))
	}
	sel, _ := cfg.Value.(string)
	return &choiceEditor{c: NewChoices(values, labels, sel, cfg.OnKey, cfg.OnFocus, func(v string) { change(v) })}
}

func (e *choiceEditor) object() fyne.CanvasObject { return e.c }
func (e *choiceEditor) focusable() fyne.Focusable {
	if len(e.c.tiles) == 0 {
		return nil
	}
	return e.c.tiles[0]
}
func (e *choiceEditor) setValue(v any)                  { s, _ := v.(string); e.c.set(s) }
func (e *choiceEditor) setPartErrors(map[string]string) {}

// ChoicesOf returns the buttons of a Choice field's widget, nil for other
// fields.
func (f *Field) ChoicesOf() *Choices {
	if e, ok := f.editor.(*choiceEditor); ok {
		return e.c
	}
	return nil
}
