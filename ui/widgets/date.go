package widgets

import (
	"fmt"
	"strconv"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/motcua/motcua/agent/identity"
	"github.com/motcua/motcua/agent/procedure"
)

// DatePicker picks a date without typing: a year and a month, each stepped
// with − and +, and a grid of the month's days to tap. Days the field's date
// rule excludes are disabled. Arrow keys move between days.
type DatePicker struct {
	widget.BaseWidget
	lang     string
	rule     procedure.DateRule
	today    identity.Date
	shown    identity.Date // the month shown (day 1)
	value    identity.Date // zero: none
	year     *Entry        // the year shown: stepped, or typed
	month    *widget.Label
	picked   *widget.Label
	days     []*Tile
	steps    []*Tile // year −, year +, month −, month +
	grid     *fyne.Container
	content  *fyne.Container
	onKey    KeyFunc
	onChange func(string)
}

// NewDatePicker returns a picker showing value ("YYYY-MM-DD" or "") and
// reporting each pick as "YYYY-MM-DD".
func NewDatePicker(lang string, rule procedure.DateRule, today identity.Date, value string, onKey KeyFunc, onFocus FocusFunc, onChange func(string)) *DatePicker {
	d := &DatePicker{lang: lang, rule: rule, today: today, onKey: onKey, onChange: onChange}
	d.ExtendBaseWidget(d)
	d.year = NewEntry()
	d.year.OnKey, d.year.OnFocus = onKey, onFocus
	d.year.OnChanged = func(s string) {
		// Four digits typed show that year's month, for a date decades
		// back that − would take long to reach.
		if y, err := strconv.Atoi(s); err == nil && len(s) == 4 && y >= 1900 && y != d.shown.Year {
			d.shown.Year = y
			d.paint()
		}
	}
	d.month = widget.NewLabel("")
	d.month.Alignment = fyne.TextAlignCenter
	d.picked = widget.NewLabel("")
	d.picked.TextStyle.Bold = true
	step := func(years, months int) func() {
		return func() {
			t := time.Date(d.shown.Year, d.shown.Month, 1, 0, 0, 0, 0, time.UTC).AddDate(years, months, 0)
			d.shown = identity.Date{Year: t.Year(), Month: t.Month(), Day: 1}
			d.paint()
		}
	}
	tiles := []*Tile{
		NewTile("−", step(-1, 0)), NewTile("+", step(1, 0)),
		NewTile("−", step(0, -1)), NewTile("+", step(0, 1)),
	}
	for _, t := range tiles {
		t.OnKey, t.OnFocus = onKey, onFocus
	}
	d.steps = tiles
	d.grid = container.NewGridWithColumns(7)
	for day := 1; day <= 31; day++ {
		t := NewTile(strconv.Itoa(day), func() { d.Pick(day) })
		t.OnKey = func(ev *fyne.KeyEvent) { d.arrow(day, ev) }
		t.OnFocus = onFocus
		d.days = append(d.days, t)
		d.grid.Add(t)
	}
	d.setValue(value)
	d.content = container.NewVBox(
		container.NewGridWithColumns(2,
			container.NewBorder(nil, nil, tiles[0], tiles[1], d.year),
			container.NewBorder(nil, nil, tiles[2], tiles[3], d.month)),
		d.grid, d.picked)
	return d
}

// CreateRenderer draws the picker.
func (d *DatePicker) CreateRenderer() fyne.WidgetRenderer { return widget.NewSimpleRenderer(d.content) }

// Day returns the tile of the given day of the month shown.
func (d *DatePicker) Day(day int) *Tile { return d.days[day-1] }

// Shown is the month shown, as its first day.
func (d *DatePicker) Shown() identity.Date { return d.shown }

// Pick picks the given day of the month shown and reports it.
func (d *DatePicker) Pick(day int) {
	v, err := identity.NewDate(d.shown.Year, d.shown.Month, day)
	if err != nil || !d.allowed(v) {
		return
	}
	d.value = v
	d.paint()
	if d.onChange != nil {
		d.onChange(v.String())
	}
}

func (d *DatePicker) setValue(s string) {
	v, err := identity.ParseDate(s)
	if err != nil {
		v = identity.Date{}
	}
	d.value = v
	d.shown = identity.Date{Year: d.today.Year, Month: d.today.Month, Day: 1}
	if !v.IsZero() {
		d.shown = identity.Date{Year: v.Year, Month: v.Month, Day: 1}
	}
	d.paint()
}

func (d *DatePicker) allowed(v identity.Date) bool {
	switch d.rule {
	case procedure.PastOnly:
		return !v.After(d.today)
	case procedure.FutureOnly:
		return !v.Before(d.today)
	}
	return true
}

func (d *DatePicker) paint() {
	if d.year.Text != strconv.Itoa(d.shown.Year) {
		d.year.SetText(strconv.Itoa(d.shown.Year))
	}
	d.month.SetText(fmt.Sprintf("%s %d", tr(d.lang, "Tháng", "Month"), d.shown.Month))
	for i, t := range d.days {
		v, err := identity.NewDate(d.shown.Year, d.shown.Month, i+1)
		t.Hidden = err != nil
		if err == nil && d.allowed(v) {
			t.Enable()
		} else {
			t.Disable()
		}
		imp := widget.MediumImportance
		if err == nil && v == d.value {
			imp = widget.HighImportance
		}
		t.Importance = imp
		t.Refresh()
	}
	if d.value.IsZero() {
		d.picked.SetText(tr(d.lang, "Chưa chọn ngày", "No day picked yet"))
	} else {
		d.picked.SetText(fmt.Sprintf("%s %02d/%02d/%d", tr(d.lang, "Đã chọn:", "Picked:"), d.value.Day, d.value.Month, d.value.Year))
	}
}

// arrow moves the focus between days with the arrow keys.
func (d *DatePicker) arrow(day int, ev *fyne.KeyEvent) {
	delta := map[fyne.KeyName]int{fyne.KeyLeft: -1, fyne.KeyRight: 1, fyne.KeyUp: -7, fyne.KeyDown: 7}[ev.Name]
	if delta == 0 {
		if d.onKey != nil {
			d.onKey(ev)
		}
		return
	}
	next := day + delta
	if next < 1 || next > len(d.days) || d.days[next-1].Hidden {
		return
	}
	if c := fyne.CurrentApp().Driver().CanvasForObject(d); c != nil {
		c.Focus(d.days[next-1])
	}
}

// dateEditor edits a Date field.
type dateEditor struct{ d *DatePicker }

func newDateEditor(cfg Config, change func(any)) *dateEditor {
	s, _ := cfg.Value.(string)
	return &dateEditor{d: NewDatePicker(cfg.Lang, cfg.Field.DateRule, cfg.Today, s, cfg.OnKey, cfg.OnFocus, func(v string) { change(v) })}
}

func (e *dateEditor) object() fyne.CanvasObject { return e.d }
func (e *dateEditor) focusable() fyne.Focusable {
	day := e.d.value.Day
	if day == 0 {
		day = 1
	}
	return e.d.days[day-1]
}
func (e *dateEditor) setValue(v any)                  { s, _ := v.(string); e.d.setValue(s) }
func (e *dateEditor) setPartErrors(map[string]string) {}

// DateOf returns the picker of a Date field's widget, nil for other fields.
func (f *Field) DateOf() *DatePicker {
	if e, ok := f.editor.(*dateEditor); ok {
		return e.d
	}
	return nil
}
