package ui

import (
	"errors"
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/motcua/motcua/agent/i18n"
	"github.com/motcua/motcua/agent/procedure"
)

// showReview shows every answer and document on one screen; tapping a
// section goes back to change it, and Submit stores the application.
func (u *UI) showReview() {
	u.fromReview = true
	ids := map[string]fyne.CanvasObject{}
	r := u.ss.Review()
	body := container.NewVBox()
	for si, rs := range r.Sections {
		title := widget.NewLabel(rs.Section.Title.In(u.lang))
		title.TextStyle.Bold = true
		rows := widget.NewForm()
		for _, row := range rs.Rows {
			if row.Value == "" {
				continue
			}
			v := row.Value
			if row.FromCard {
				v += u.t("  ✓ từ thẻ", "  ✓ from the card")
			}
			rows.Append(row.Label.In(u.lang), wrapped(v))
		}
		edit := u.tile(ids, "edit:"+rs.Section.Key, tileChange.In(u.lang), false, func() { u.showSection(si) })
		body.Add(container.NewBorder(nil, nil, nil, edit, title))
		body.Add(rows)
		body.Add(widget.NewSeparator())
	}
	docs := container.NewVBox()
	for _, it := range r.Evidence {
		var state string
		switch {
		case it.Waived:
			state = u.t("không cần", "not needed")
		case len(it.Docs) > 0:
			pages := 0
			for _, d := range it.Docs {
				pages += d.Pages
			}
			state = fmt.Sprintf(u.t("%d trang", "%d page(s)"), pages)
		case it.Evidence.Required:
			state = u.t("CHƯA CÓ", "MISSING")
		default:
			continue
		}
		docs.Add(wrapped(it.Evidence.Label.In(u.lang) + ": " + state))
	}
	editDocs := u.tile(ids, "edit:evidence", tileChange.In(u.lang), false, u.showEvidence)
	docsTitle := widget.NewLabel(u.t("Giấy tờ kèm theo", "Documents"))
	docsTitle.TextStyle.Bold = true
	body.Add(container.NewBorder(nil, nil, nil, editDocs, docsTitle))
	body.Add(docs)
	problems := u.problemLines(r.Problems)
	if problems != "" {
		l := widget.NewLabel(problems)
		l.Importance = widget.DangerImportance
		l.Wrapping = fyne.TextWrapWord
		body.Add(l)
	}
	back := func() {
		u.fromReview = false
		u.showEvidence()
	}
	submit := u.tile(ids, "submit", tileSubmit.In(u.lang), true, u.submit)
	u.show(screen{
		name:    "review",
		title:   titleReview.In(u.lang),
		body:    body,
		actions: []fyne.CanvasObject{u.tile(ids, "back", labelBack.In(u.lang), false, back), submit},
		back:    back,
		focus:   submit,
	}, ids)
}

// problemLines is one line per problem, in the citizen's language.
func (u *UI) problemLines(errs procedure.Errors) string {
	var lines []string
	for _, e := range errs {
		msg := e.Message.In(u.lang)
		if l := e.Label.In(u.lang); l != "" && !strings.Contains(msg, l) {
			msg = l + ": " + msg
		}
		lines = append(lines, "• "+msg)
	}
	return strings.Join(lines, "\n")
}

// submit stores the application queued and shows the receipt. A second
// tap stores nothing new (the session's idempotency key).
func (u *UI) submit() {
	sub, err := u.ss.Submit(u.ctx)
	if err != nil {
		var errs procedure.Errors
		if errors.As(err, &errs) {
			u.showReview()
			msg := u.t("Hồ sơ chưa đầy đủ:\n", "The application is not complete:\n") + u.problemLines(errs)
			u.flash(i18n.T(msg, msg))
			return
		}
		u.flash(u.problemText(err))
		return
	}
	u.fromReview = false
	u.submitted = sub
	u.showReceipt()
}
