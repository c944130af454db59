package ui

import (
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/motcua/motcua/agent/device"
	"github.com/motcua/motcua/agent/identity"
)

// showCard asks for the ID card or, once one is read, shows what it holds
// for the citizen to confirm.
func (u *UI) showCard() {
	ids := map[string]fyne.CanvasObject{}
	s := screen{
		name: "card",
		back: u.showLanguage,
		onCard: func(ev device.CardEvent) bool {
			if ev.Err != nil {
				return false
			}
			u.takeCard(ev.Card)
			return true
		},
	}
	next := func() {
		if u.ss != nil && u.ss.Procedure() != nil {
			u.showSection(0)
			return
		}
		u.showProcedures()
	}
	if u.card == nil {
		s.title = titleCardAsk.In(u.lang)
		hint := widget.NewLabel(u.t(
			"Mặt có mã QR hướng về phía đầu đọc. Thông tin trên thẻ sẽ được điền sẵn cho bạn.",
			"QR code facing the reader. The card's details will be filled in for you."))
		hint.Wrapping = fyne.TextWrapWord
		skip := u.tile(ids, "card:skip", tileCardSkip.In(u.lang), false, next)
		s.body = container.NewVBox(hint)
		s.actions = []fyne.CanvasObject{u.tile(ids, "back", labelBack.In(u.lang), false, u.showLanguage), skip}
		s.focus = skip
		u.show(s, ids)
		return
	}
	c := u.card
	s.title = titleCardShown.In(u.lang)
	form := widget.NewForm(
		widget.NewFormItem(u.t("Họ và tên", "Full name"), bold(c.Name)),
		widget.NewFormItem(u.t("Số định danh", "Citizen ID"), bold(string(c.ID))),
		widget.NewFormItem(u.t("Ngày sinh", "Date of birth"), bold(dmy(c.DateOfBirth))),
		widget.NewFormItem(u.t("Giới tính", "Sex"), bold(sexLabel(u, string(c.Sex)))),
		widget.NewFormItem(u.t("Nơi thường trú", "Permanent residence"), wrapped(c.Address)),
	)
	confirm := u.tile(ids, "card:confirm", tileCardConfirm.In(u.lang), true, next)
	notMe := u.tile(ids, "card:reject", tileCardReject.In(u.lang), false, func() {
		u.card = nil
		u.showCard()
	})
	s.body = form
	s.actions = []fyne.CanvasObject{notMe, confirm}
	s.focus = confirm
	u.show(s, ids)
}

func bold(s string) *widget.Label {
	l := widget.NewLabel(s)
	l.TextStyle.Bold = true
	l.Wrapping = fyne.TextWrapWord
	return l
}

func wrapped(s string) *widget.Label {
	l := widget.NewLabel(s)
	l.Wrapping = fyne.TextWrapWord
	return l
}

func dmy(d identity.Date) string {
	if d.IsZero() {
		return ""
	}
	return fmt.Sprintf("%02d/%02d/%d", d.Day, d.Month, d.Year)
}

func sexLabel(u *UI, s string) string {
	switch s {
	case "male":
		return u.t("Nam", "Male")
	case "female":
		return u.t("Nữ", "Female")
	}
	return s
}
