package ui

import (
	"fmt"

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
	start := u.tile(ids, "start", tileStart.VI, true, u.showLanguage)
	track := u.tile(ids, "track", tileTrack.VI, false, func() { u.showTrack("") })
	u.show(screen{
		name:   "attract",
		title:  titleAttract.VI,
		prompt: introAttract,
		again:  IntroAgain,
		body:   container.NewVBox(prompt, start, track, widget.NewSeparator(), u.settingsRow(ids)),
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
	vi := u.tile(ids, "lang:vi", tileVietnamese.VI, true, pick("vi"))
	en := u.tile(ids, "lang:en", tileEnglish.VI, false, pick("en"))
	u.show(screen{
		name:   "language",
		title:  titleLanguage.VI,
		prompt: introLanguage,
		body:   container.NewVBox(vi, en),
		back:   u.reset,
		focus:  vi,
		digits: []func(){pick("vi"), pick("en")},
	}, ids)
}

// settingsRow is where a citizen chooses, for the session, the text size
// (four buttons, each an A in its size), the high-contrast theme and,
// when the kiosk can speak, the voice.
func (u *UI) settingsRow(ids map[string]fyne.CanvasObject) fyne.CanvasObject {
	label := widget.NewLabel("Cỡ chữ / Text size")
	label.Wrapping = fyne.TextWrapWord
	var sizes []fyne.CanvasObject
	for i := range TextSizes {
		t := u.tile(ids, fmt.Sprintf("size:%d", i), tileSize.VI, i == u.set.Size, func() {
			u.set.Size = i
			u.settingsChanged(fmt.Sprintf("size:%d", i))
		})
		// Each A in the size it chooses.
		sizes = append(sizes, container.NewThemeOverride(t, NewTheme(TokensFor(u.base, Settings{Size: i, HighContrast: u.set.HighContrast}))))
	}
	contrastText := tileContrast.VI
	if u.set.HighContrast {
		contrastText = "✓ " + contrastText
	}
	contrast := u.tile(ids, "contrast", contrastText, u.set.HighContrast, func() {
		u.set.HighContrast = !u.set.HighContrast
		u.settingsChanged("contrast")
	})
	row := container.NewVBox(label, container.NewGridWithColumns(len(sizes), sizes...), contrast)
	if u.opts.Speaker != nil {
		voiceText := tileVoice.VI
		if u.set.Voice {
			voiceText = "✓ " + voiceText
		}
		row.Add(u.tile(ids, "voice", voiceText, u.set.Voice, func() {
			u.set.Voice = !u.set.Voice
			u.settingsChanged("voice")
		}))
	}
	return row
}

// settingsChanged draws the attract screen again in the citizen's new
// settings, with the focus back on the button pressed.
func (u *UI) settingsChanged(id string) {
	u.applySettings()
	u.showAttract()
	if f, ok := u.ids[id].(fyne.Focusable); ok {
		u.focusLater(f)
	}
}
