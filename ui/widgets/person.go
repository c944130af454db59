package widgets

import (
	"fmt"
	"slices"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/motcua/motcua/agent/identity"
	"github.com/motcua/motcua/agent/procedure"
)

// personEditor edits a Person block. A filled block (from the card) shows
// as a summary with a Change button; an empty one, or one being changed,
// shows an editor per part.
type personEditor struct {
	cfg     Config
	value   procedure.PersonValue
	summary *widget.Label
	change  *Tile
	name    *Entry
	dob     *DatePicker
	id      *Entry
	sex     *Choices
	errs    map[string]*widget.Label
	editors *fyne.Container
	box     *fyne.Container
	report  func(any)
}

func newPersonEditor(cfg Config, report func(any)) *personEditor {
	p := &personEditor{cfg: cfg, report: report, errs: map[string]*widget.Label{}}
	p.value, _ = cfg.Value.(procedure.PersonValue)
	parts := cfg.Field.PersonParts
	if len(parts) == 0 {
		parts = []string{procedure.PartDateOfBirth, procedure.PartCitizenID}
	}
	errLabel := func(part string) *widget.Label {
		l := widget.NewLabel("")
		l.Importance = widget.DangerImportance
		l.Wrapping = fyne.TextWrapWord
		l.Hidden = true
		p.errs[part] = l
		return l
	}
	sub := func(vi, en string) *widget.Label { return widget.NewLabel(tr(cfg.Lang, vi, en)) }
	p.name = NewEntry()
	p.name.OnKey, p.name.OnFocus = cfg.OnKey, cfg.OnFocus
	p.name.OnChanged = func(s string) { p.value.FullName = s; p.changed() }
	objs := []fyne.CanvasObject{sub("Họ và tên", "Full name"), p.name, errLabel(procedure.PartFullName)}
	if slices.Contains(parts, procedure.PartDateOfBirth) {
		p.dob = NewDatePicker(cfg.Lang, procedure.PastOnly, cfg.Today, "", cfg.OnKey, cfg.OnFocus, func(s string) { p.value.DateOfBirth = s; p.changed() })
		objs = append(objs, sub("Ngày sinh", "Date of birth"), p.dob, errLabel(procedure.PartDateOfBirth))
	}
	if slices.Contains(parts, procedure.PartCitizenID) {
		p.id = NewEntry()
		p.id.OnKey, p.id.OnFocus = cfg.OnKey, cfg.OnFocus
		p.id.SetPlaceHolder(tr(cfg.Lang, "12 chữ số", "12 digits"))
		p.id.OnChanged = func(s string) { p.value.CitizenID = s; p.changed() }
		objs = append(objs, sub("Số định danh", "Citizen ID"), p.id, errLabel(procedure.PartCitizenID))
	}
	if slices.Contains(parts, procedure.PartSex) {
		p.sex = NewChoices([]string{"male", "female"}, []string{tr(cfg.Lang, "Nam", "Male"), tr(cfg.Lang, "Nữ", "Female")},
			"", cfg.OnKey, cfg.OnFocus, func(s string) { p.value.Sex = s; p.changed() })
		objs = append(objs, sub("Giới tính", "Sex"), p.sex, errLabel(procedure.PartSex))
	}
	p.editors = container.NewVBox(objs...)
	p.summary = widget.NewLabel("")
	p.summary.Wrapping = fyne.TextWrapWord
	p.change = NewTile(tr(cfg.Lang, "Sửa", "Change"), func() { p.edit(true) })
	p.change.OnKey, p.change.OnFocus = cfg.OnKey, cfg.OnFocus
	var chips fyne.CanvasObject = container.NewHBox()
	if len(cfg.Suggestions) > 0 {
		chips, _ = suggestionChips(cfg, func(s Suggestion) {
			if v, ok := s.Value.(procedure.PersonValue); ok {
				p.setValue(v)
				p.report(v)
			}
		})
	}
	p.box = container.NewVBox(container.NewBorder(nil, nil, nil, p.change, p.summary), chips, p.editors)
	p.setValue(p.value)
	return p
}

func (p *personEditor) changed() {
	p.summary.SetText(p.describe())
	p.report(p.value)
}

// describe is the block in one line.
func (p *personEditor) describe() string {
	v := p.value
	s := v.FullName
	if v.DateOfBirth != "" {
		dob := v.DateOfBirth
		if d, err := identity.ParseDate(dob); err == nil {
			dob = fmt.Sprintf("%02d/%02d/%d", d.Day, d.Month, d.Year)
		}
		s += fmt.Sprintf(" · %s %s", tr(p.cfg.Lang, "sinh", "born"), dob)
	}
	if v.CitizenID != "" {
		s += " · " + v.CitizenID
	}
	if v.Sex != "" {
		s += " · " + map[string]string{"male": tr(p.cfg.Lang, "Nam", "Male"), "female": tr(p.cfg.Lang, "Nữ", "Female")}[v.Sex]
	}
	return s
}

func (p *personEditor) edit(on bool) {
	setVisible(p.editors, on)
	setVisible(p.change, !on && p.value.FullName != "")
	setVisible(p.summary, p.value.FullName != "")
	relayout(p.box)
	if on && p.name != nil {
		if c := fyne.CurrentApp().Driver().CanvasForObject(p.name); c != nil {
			c.Focus(p.name)
		}
	}
}

func (p *personEditor) object() fyne.CanvasObject { return p.box }

func (p *personEditor) focusable() fyne.Focusable {
	if p.editors.Hidden {
		return p.change
	}
	return p.name
}

func (p *personEditor) setValue(v any) {
	pv, _ := v.(procedure.PersonValue)
	p.value = pv
	setQuiet(p.name, pv.FullName)
	if p.dob != nil {
		p.dob.setValue(pv.DateOfBirth)
	}
	setQuiet(p.id, pv.CitizenID)
	if p.sex != nil {
		p.sex.set(pv.Sex)
	}
	p.summary.SetText(p.describe())
	p.edit(pv.FullName == "")
}

func (p *personEditor) setPartErrors(byPart map[string]string) {
	any := false
	for part, l := range p.errs {
		msg := byPart[part]
		l.SetText(msg)
		setVisible(l, msg != "")
		any = any || msg != ""
	}
	if any {
		p.edit(true)
	}
}

func setQuiet(e *Entry, s string) {
	if e == nil {
		return
	}
	f := e.OnChanged
	e.OnChanged = nil
	e.SetText(s)
	e.OnChanged = f
}
