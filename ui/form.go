package ui

import (
	"fmt"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/motcua/motcua/agent/device"
	"github.com/motcua/motcua/agent/i18n"
	"github.com/motcua/motcua/agent/identity"
	"github.com/motcua/motcua/agent/procedure"
	"github.com/motcua/motcua/ui/widgets"
)

// showSection shows section i of the chosen procedure's form, generated
// from the catalog: a widget per field by its type, the card's values shown
// as filled, and one-tap suggestions where a value is often the same as one
// already given.
func (u *UI) showSection(i int) {
	steps := u.ss.Steps()
	if i < 0 || i >= len(steps) {
		u.showEvidence()
		return
	}
	sec := steps[i]
	ids := map[string]fyne.CanvasObject{}
	p := u.ss.Procedure()
	today := identity.Today(u.opts.Now())
	body := container.NewVBox()
	progress := widget.NewLabel(fmt.Sprintf("%s · %s %d/%d", p.Name.In(u.lang), u.t("Bước", "Step"), i+1, len(steps)))
	progress.Importance = widget.LowImportance
	progress.Wrapping = fyne.TextWrapWord
	body.Add(progress)
	requester := i == requesterSection(steps)
	// target is what a card shown on this section fills: "" for the
	// requester, else the other person the section is about (a groom, the
	// deceased, a parent).
	target := ""
	if !requester {
		if k := personField(sec); k != "" {
			target = k
		} else if describesAdult(sec) {
			target = sec.Key
		}
	}
	if target != "" {
		hint := widget.NewLabel(u.t("Có thẻ căn cước của người này? Đặt thẻ lên đầu đọc để điền tự động.",
			"Have this person's ID card? Put it on the reader to fill this in."))
		hint.Wrapping = fyne.TextWrapWord
		body.Add(hint)
	}
	if c := u.ss.Card(); c != nil && !requester && describesAdult(sec) {
		same := u.tile(ids, "same:"+sec.Key, u.t("Là người yêu cầu: điền từ thẻ của "+c.Name,
			"Same as the requester: fill in from "+c.Name+"'s card"), false, func() {
			if _, err := u.ss.ApplyCard(*c, sec.Key); err != nil {
				u.flash(u.problemText(err))
				return
			}
			u.showSection(i)
		})
		same.Live = true // the card's name
		body.Add(same)
	}
	var fields []*widgets.Field
	for fi := range sec.Fields {
		f := &sec.Fields[fi]
		u.applyDefault(f)
		v, _ := u.ss.Value(f.Key)
		var fw *widgets.Field
		fw = widgets.NewField(widgets.Config{
			Field:       f,
			Lang:        u.lang,
			Today:       today,
			Value:       v,
			FromCard:    u.ss.FromCard(f.Key),
			Suggestions: u.suggestions(f),
			OnKey:       u.key,
			OnFocus:     u.focused,
			Telex:       u.opts.Telex,
			OnChange: func(v any) {
				u.touch()
				if err := u.ss.Set(f.Key, v); err != nil {
					fw.SetErrors(map[string]string{"": u.problemText(err).In(u.lang)})
					return
				}
				if f.Type == procedure.TypeChoice || f.Type == procedure.TypeDate {
					// A tap answered it: go on to the next field to type.
					u.focusAfter(fields, f.Key)
				}
			},
		})
		ids["field:"+f.Key] = fw
		fields = append(fields, fw)
		body.Add(fw)
		body.Add(widget.NewSeparator())
	}
	prev := func() {
		if u.fromReview {
			u.showReview()
			return
		}
		if i == 0 {
			u.showProcedures()
			return
		}
		u.showSection(i - 1)
	}
	next := func() {
		errs := u.ss.ValidateStep(sec.Key)
		if len(errs) > 0 {
			u.showErrors(fields, errs)
			return
		}
		if u.fromReview {
			u.showReview()
			return
		}
		if i+1 < len(steps) {
			u.showSection(i + 1)
			return
		}
		u.showEvidence()
	}
	backT := u.tile(ids, "back", labelBack.In(u.lang), false, prev)
	nextT := u.tile(ids, "next", labelContinue.In(u.lang), true, next)
	if u.fromReview {
		nextT.SetText(u.t("Xong, về trang xem lại", "Done, back to review"))
	}
	actions := []fyne.CanvasObject{backT, nextT}
	// The how-to video, among the actions so that it shows whatever
	// the body's scroll.
	if t := u.videoTile(ids, p, i); t != nil {
		actions = []fyne.CanvasObject{backT, t, nextT}
	}
	u.show(screen{
		name:    "form:" + sec.Key,
		title:   sec.Title.In(u.lang),
		body:    body,
		actions: actions,
		back:    prev,
		focus:   firstEmpty(u, fields, nextT),
		onCard: func(ev device.CardEvent) bool {
			if ev.Err != nil {
				return false
			}
			// A card on a section about another person fills that
			// person; anywhere else it is the requester's.
			if target == "" {
				u.card = &ev.Card
			}
			if _, err := u.ss.ApplyCard(ev.Card, target); err != nil {
				u.flash(u.problemText(err))
				return true
			}
			u.showSection(i)
			return true
		},
	}, ids)
}

// showErrors puts each problem next to its field, in the citizen's
// language, and moves the focus to the first field with one.
func (u *UI) showErrors(fields []*widgets.Field, errs procedure.Errors) {
	byField := map[string]map[string]string{}
	var other []string
	for _, e := range errs {
		key, part, _ := strings.Cut(e.Field, ".")
		if byField[key] == nil {
			byField[key] = map[string]string{}
		}
		msg := e.Message.In(u.lang)
		if prev := byField[key][part]; prev != "" {
			msg = prev + "\n" + msg
		}
		byField[key][part] = msg
		if !slices.ContainsFunc(fields, func(f *widgets.Field) bool { return f.Key() == key }) {
			other = append(other, e.Message.In(u.lang))
		}
	}
	var first *widgets.Field
	for _, f := range fields {
		f.SetErrors(byField[f.Key()])
		if first == nil && byField[f.Key()] != nil {
			first = f
		}
	}
	if len(other) > 0 {
		u.flash(i18n.T(strings.Join(other, "\n"), strings.Join(other, "\n")))
	}
	if first != nil && first.Focusable() != nil {
		u.win.Canvas().Focus(first.Focusable())
		u.scrollTo(first, true)
	}
}

// firstEmpty is where the focus starts on a section: the first field
// still to fill, else the Continue button.
func firstEmpty(u *UI, fields []*widgets.Field, next fyne.Focusable) fyne.Focusable {
	for _, f := range fields {
		if v, ok := u.ss.Value(f.Key()); (!ok || v == nil || v == "") && f.Focusable() != nil {
			if _, isEntry := f.Focusable().(*widgets.Entry); isEntry {
				return f.Focusable()
			}
		}
	}
	return next
}

// focusAfter moves the focus to the first empty text field after key,
// if there is one, so a citizen who tapped an answer can type the next.
func (u *UI) focusAfter(fields []*widgets.Field, key string) {
	after := false
	for _, f := range fields {
		if f.Key() == key {
			after = true
			continue
		}
		if !after {
			continue
		}
		if e, ok := f.Focusable().(*widgets.Entry); ok && e.Text == "" {
			u.focusLater(e)
			return
		}
	}
}

// requesterSection is the index of the section the requester's card fills
// (the first with a card_fill field), -1 when none.
func requesterSection(steps []procedure.Section) int {
	for i, s := range steps {
		if slices.ContainsFunc(s.Fields, func(f procedure.Field) bool { return f.CardFill != procedure.CardNone }) {
			return i
		}
	}
	return -1
}

// personField is the key of the section's person block, "" when it has
// none.
func personField(s procedure.Section) string {
	for _, f := range s.Fields {
		if f.Type == procedure.TypePerson {
			return f.Key
		}
	}
	return ""
}

// describesAdult reports whether a section is about one adult a card can
// describe: it asks for a name and a citizen ID (a parent, a household
// head), so "same as the requester" can fill it.
func describesAdult(s procedure.Section) bool {
	hasName := slices.ContainsFunc(s.Fields, func(f procedure.Field) bool { return f.Type == procedure.TypeName })
	hasID := slices.ContainsFunc(s.Fields, func(f procedure.Field) bool { return f.Type == procedure.TypeCitizenID })
	return hasName && hasID
}
