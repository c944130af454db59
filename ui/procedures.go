package ui

import (
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/motcua/motcua/agent/procedure"
	"github.com/motcua/motcua/ui/widgets"
)

// showProcedures lists the procedures as large tiles, the most used at
// this kiosk first, with a search box (accents and case do not matter).
func (u *UI) showProcedures() {
	ids := map[string]fyne.CanvasObject{}
	procs, err := u.svc.Procedures(u.ctx)
	if err != nil {
		u.flash(u.problemText(err))
	}
	list := container.NewVBox()
	var digits []func()
	fill := func(ps []*procedure.Procedure) {
		list.RemoveAll()
		digits = digits[:0]
		for k := range ids {
			if len(k) > 5 && k[:5] == "proc:" {
				delete(ids, k)
			}
		}
		for i, p := range ps {
			choose := func() { u.choose(p.ID) }
			text := p.Name.In(u.lang)
			if i < 9 {
				text = fmt.Sprintf("%d. %s", i+1, text)
				digits = append(digits, choose)
			}
			t := u.tile(ids, "proc:"+p.ID, text, false, choose)
			t.Alignment = widget.ButtonAlignLeading
			sum := widget.NewLabel(p.Summary.In(u.lang))
			sum.Wrapping = fyne.TextWrapWord
			sum.Importance = widget.LowImportance
			list.Add(container.NewVBox(t, sum))
		}
		if len(ps) == 0 {
			list.Add(wrapped(u.t("Không tìm thấy thủ tục nào. Hãy thử từ khác, ví dụ \"khai sinh\".",
				"No procedure found. Try another word, e.g. \"birth\".")))
		}
		u.digits = digits
		list.Refresh()
	}
	search := widgets.NewEntry()
	search.OnKey, search.OnFocus = u.key, u.focused
	search.SetPlaceHolder(u.t("Tìm thủ tục, ví dụ: khai sinh", "Search, e.g. birth"))
	search.OnChanged = func(q string) {
		u.touch()
		if q == "" {
			fill(procs)
			return
		}
		fill(u.svc.Search(q))
	}
	ids["search"] = search
	fill(procs)
	back := u.tile(ids, "back", labelBack.In(u.lang), false, u.showCard)
	first := fyne.Focusable(search)
	if len(procs) > 0 {
		first = ids["proc:"+procs[0].ID].(fyne.Focusable)
	}
	u.show(screen{
		name:    "procedures",
		title:   titleProcedures.In(u.lang),
		body:    container.NewVBox(search, list),
		actions: []fyne.CanvasObject{back},
		back:    u.showCard,
		focus:   first,
		digits:  digits,
	}, ids)
	u.digits = digits
}

// choose starts the session for procedure id, fills it from the card read
// earlier, and shows its first section.
func (u *UI) choose(id string) {
	if u.ss == nil {
		u.ss = u.svc.Start()
	}
	if err := u.ss.Choose(id); err != nil {
		u.flash(u.problemText(err))
		return
	}
	if u.card != nil {
		if _, err := u.ss.ApplyCard(*u.card, ""); err != nil {
			u.flash(u.problemText(err))
		}
	}
	u.fromReview = false
	u.showSection(0)
}
