package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// showAttract shows the screen a kiosk waits on: put the ID card on the
// reader, or start without one, or track a file. It speaks both languages,
// as no one has chosen yet.
func (u *UI) showAttract() {
	ids := map[string]fyne.CanvasObject{}
	prompt := widget.NewLabel("Đặt thẻ căn cước vào đầu đọc để bắt đầu\nPlace your ID card on the reader to begin")
	prompt.Alignment = fyne.TextAlignCenter
	prompt.Wrapping = fyne.TextWrapWord
	prompt.SizeName = theme.SizeNameSubHeadingText
	start := u.tile(ids, "start", "Bắt đầu không cần thẻ / Start without a card", true, u.showLanguage)
	track := u.tile(ids, "track", "Tra cứu hồ sơ / Track my file", false, func() { u.showTrack("") })
	u.show(screen{
		name:   "attract",
		title:  "Dịch vụ công một cửa / Public services",
		body:   container.NewVBox(prompt, start, track),
		focus:  start,
		digits: []func(){u.showLanguage, func() { u.showTrack("") }},
	}, ids)
}

// showLanguage asks for the language: Vietnamese first.
func (u *UI) showLanguage() {
	ids := map[string]fyne.CanvasObject{}
	pick := func(lang string) func() {
		return func() {
			u.lang = lang
			u.showCard()
		}
	}
	vi := u.tile(ids, "lang:vi", "1. Tiếng Việt", true, pick("vi"))
	en := u.tile(ids, "lang:en", "2. English", false, pick("en"))
	u.show(screen{
		name:   "language",
		title:  "Chọn ngôn ngữ / Choose a language",
		body:   container.NewVBox(vi, en),
		back:   u.reset,
		focus:  vi,
		digits: []func(){pick("vi"), pick("en")},
	}, ids)
}
