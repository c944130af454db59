package ui

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/motcua/motcua/agent/i18n"
	"github.com/motcua/motcua/agent/procedure"
	"github.com/motcua/motcua/ui/widgets"
)

// SpeakerControls are what a Speaker may do besides Speak; the UI uses
// them when its Speaker has them, so a test's Speaker may be a plain one.
// Like Speak, each must return at once.
type SpeakerControls interface {
	// Stop cuts off the prompt being said (a video starts).
	Stop()
	// Mute stops the prompt being said and says nothing more until
	// unmuted; the citizen's mute button.
	Mute(muted bool)
	// Reset forgets the session: what was said, the mute, and any
	// setting the citizen changed; called when the session ends.
	Reset()
}

// IntroAgain is how long the attract screen stays silent before its
// introduction is said again.
const IntroAgain = 15 * time.Second

// The fixed texts of the citizen screens that are spoken: each screen's
// title (or what is said in its place) and the shell's buttons.
var (
	titleAttract = i18n.T("Dịch vụ công một cửa / Public services", "Dịch vụ công một cửa / Public services")
	// introAttract is said on the attract screen in place of its title,
	// again every IntroAgain while nobody comes.
	introAttract = i18n.T(
		"Dịch vụ công một cửa. Đặt thẻ căn cước vào đầu đọc để bắt đầu, hoặc chọn Bắt đầu không cần thẻ.",
		"Public services. Place your ID card on the reader to begin, or choose Start without a card.")
	titleLanguage = i18n.T("Chọn ngôn ngữ / Choose a language", "Chọn ngôn ngữ / Choose a language")
	// introLanguage is said on the language screen in place of its title.
	introLanguage   = i18n.T("Chọn ngôn ngữ. Số 1: tiếng Việt. Số 2: tiếng Anh.", "Choose a language. 1: Vietnamese. 2: English.")
	titleCardAsk    = i18n.T("Đặt thẻ căn cước lên đầu đọc", "Place your ID card on the reader")
	titleCardShown  = i18n.T("Thông tin trên thẻ của bạn", "Your card's details")
	titleProcedures = i18n.T("Bạn cần làm thủ tục gì?", "Which service do you need?")
	titleEvidence   = i18n.T("Giấy tờ kèm theo", "Documents")
	titleReview     = i18n.T("Kiểm tra lại thông tin", "Check your answers")
	titleReceipt    = i18n.T("Đã nhận hồ sơ của bạn", "Your application is received")
	titleTrack      = i18n.T("Tra cứu hồ sơ", "Track my file")

	labelBack     = i18n.T("Quay lại", "Back")
	labelContinue = i18n.T("Tiếp tục", "Continue")
	labelReplay   = i18n.T("Nghe lại", "Listen again")
	labelMute     = i18n.T("Tắt tiếng", "Mute")
	labelUnmute   = i18n.T("Bật tiếng", "Sound on")
	labelVideo    = i18n.T("Xem video hướng dẫn", "Watch the how-to video")
)

// The fixed texts of the citizen screens' tiles, spoken as a tile takes
// the focus. The attract screen's are bilingual, in one text.
var (
	tileStart       = i18n.T("Bắt đầu không cần thẻ / Start without a card", "Bắt đầu không cần thẻ / Start without a card")
	tileTrack       = i18n.T("Tra cứu hồ sơ / Track my file", "Tra cứu hồ sơ / Track my file")
	tileSize        = i18n.T("A", "A")
	tileContrast    = i18n.T("Tương phản cao / High contrast", "Tương phản cao / High contrast")
	tileVoice       = i18n.T("Đọc to / Read aloud", "Đọc to / Read aloud")
	tileVietnamese  = i18n.T("1. Tiếng Việt", "1. Tiếng Việt")
	tileEnglish     = i18n.T("2. English", "2. English")
	tileCardSkip    = i18n.T("Tiếp tục không dùng thẻ", "Continue without a card")
	tileCardConfirm = i18n.T("Đúng, tiếp tục", "Correct, continue")
	tileCardReject  = i18n.T("Không đúng, đọc lại thẻ", "Not right, read again")
	tileRemove      = i18n.T("Bỏ bản này", "Remove this one")
	tileScan        = i18n.T("Quét giấy tờ này", "Scan this document")
	tileScanning    = i18n.T("Đang quét…", "Scanning…")
	tileRetake      = i18n.T("Quét lại", "Retake")
	tileScanAgain   = i18n.T("Quét lại từ đầu", "Scan again from the start")
	tileScanMore    = i18n.T("Quét thêm trang", "Scan more pages")
	tileChange      = i18n.T("Sửa", "Change") // the review's, and a person field's (ui/widgets)
	tileSubmit      = i18n.T("Gửi hồ sơ", "Submit")
	tileReprint     = i18n.T("In lại biên nhận", "Print the receipt again")
	tileDone        = i18n.T("Xong", "Finish")
	tileLookUp      = i18n.T("Tra cứu", "Look up")
)

// ticked is a setting's tile text once the setting is on.
func ticked(t i18n.Text) i18n.Text { return i18n.T("✓ "+t.VI, "✓ "+t.EN) }

// numbered is a tile's text with its digit key, as the procedures and
// the choices show the first nine.
func numbered(n int, t i18n.Text) i18n.Text {
	return i18n.T(fmt.Sprintf("%d. %s", n, t.VI), fmt.Sprintf("%d. %s", n, t.EN))
}

// dateTiles are the date and year pickers' tiles (ui/widgets): the steps
// and the days of a month.
func dateTiles() []i18n.Text {
	out := []i18n.Text{i18n.T("−", "−"), i18n.T("+", "+")}
	for d := 1; d <= 31; d++ {
		out = append(out, i18n.T(strconv.Itoa(d), strconv.Itoa(d)))
	}
	return out
}

// FixedPrompts lists every fixed text the citizen screens speak, in both
// languages: the screens' titles and introductions, each section's title
// and each procedure's name from the catalog, the choices' labels, the
// shell's buttons and the idle question. A kiosk renders them ahead
// (speech.Guide.Prerender) so that they play at once; a tile whose text
// is not among them (a suggestion, a name from the card) is spoken as the
// citizen's own data, never cached.
func (u *UI) FixedPrompts() []i18n.Text {
	// The attract and language screens' bilingual titles are shown,
	// not said: their introductions are.
	out := []i18n.Text{introAttract, introLanguage, titleCardAsk, titleCardShown,
		titleProcedures, titleEvidence, titleReview, titleReceipt, titleTrack,
		labelBack, labelContinue, labelReplay, labelMute, labelUnmute, labelVideo,
		u.idleQuestion(u.opts.IdleCountdown),
		tileStart, tileTrack, tileSize, tileContrast, ticked(tileContrast), tileVoice, ticked(tileVoice),
		tileVietnamese, tileEnglish, tileCardSkip, tileCardConfirm, tileCardReject, tileRemove, tileScan,
		tileScanning, tileRetake, tileScanAgain, tileScanMore, tileChange, tileSubmit, tileReprint, tileDone,
		tileLookUp}
	out = append(out, dateTiles()...)
	if cat := u.svc.Catalog(); cat != nil {
		for _, p := range cat.Procedures {
			out = append(out, p.Name)
			// The list is ordered by use and filtered by the search, so
			// a procedure may show under any of the nine digits.
			for n := 1; n <= 9 && n <= len(cat.Procedures); n++ {
				out = append(out, numbered(n, p.Name))
			}
			if p.Video != nil {
				out = append(out, p.Video.Title)
			}
			for _, s := range p.Sections {
				out = append(out, s.Title)
				for _, f := range s.Fields {
					for i, c := range f.Choices {
						out = append(out, c.Label)
						if i < 9 {
							out = append(out, numbered(i+1, c.Label))
						}
					}
				}
			}
		}
	}
	slices.SortFunc(out, func(a, b i18n.Text) int {
		if a.VI != b.VI {
			return compare(a.VI, b.VI)
		}
		return compare(a.EN, b.EN)
	})
	return slices.Compact(out)
}

func compare(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// idleQuestion is what is said when the idle question shows, left
// seconds before the session ends.
func (u *UI) idleQuestion(left time.Duration) i18n.Text {
	text := i18n.Tf("Phiên làm việc sẽ kết thúc sau %d giây và những gì bạn đã nhập sẽ bị xoá.",
		"The session ends in %d seconds and what you entered is erased.", int(left/time.Second))
	return i18n.T("Bạn còn đó không? "+text.VI, "Are you still there? "+text.EN)
}

// fixed reports whether s is one of the fixed prompts in either language.
func (u *UI) fixed(s string) bool {
	if u.fixedTexts == nil {
		u.fixedTexts = map[string]bool{}
		for _, t := range u.FixedPrompts() {
			u.fixedTexts[t.VI], u.fixedTexts[t.EN] = true, true
		}
	}
	return u.fixedTexts[s]
}

// voiceBar is the row of voice buttons beside each screen's title: read
// the screen again (as F1 does) and mute. Nil when the kiosk cannot
// speak.
func (u *UI) voiceBar(ids map[string]fyne.CanvasObject) fyne.CanvasObject {
	if u.opts.Speaker == nil {
		return nil
	}
	replay := u.tile(ids, "voice:replay", labelReplay.In(u.lang), false, u.readScreen)
	muteText := labelMute
	if u.muted {
		muteText = labelUnmute
	}
	mute := u.tile(ids, "voice:mute", muteText.In(u.lang), u.muted, u.toggleMute)
	for _, t := range []*widgets.Tile{replay, mute} {
		t.Wrap, t.OnFocus = false, u.sayFocused // one line each, beside the title
	}
	return container.NewHBox(replay, mute)
}

// readScreen says the screen's prompt again: the "Nghe lại" button and
// the F1 key. A citizen who asks to hear the screen gets the voice on and
// the sound back.
func (u *UI) readScreen() {
	if u.opts.Speaker == nil {
		return
	}
	if u.muted {
		u.setMuted(false)
	}
	u.set.Voice = true
	u.say(u.prompt, false)
}

// toggleMute is the mute button: it stops the prompt being said and says
// nothing more until pressed again.
func (u *UI) toggleMute() { u.setMuted(!u.muted) }

func (u *UI) setMuted(m bool) {
	u.muted = m
	if c, ok := u.opts.Speaker.(SpeakerControls); ok {
		c.Mute(m)
	}
	if t, ok := u.ids["voice:mute"].(*widgets.Tile); ok {
		text := labelMute
		if m {
			text = labelUnmute
		}
		t.SetText(text.In(u.lang))
		t.Importance = widget.MediumImportance
		if m {
			t.Importance = widget.HighImportance
		}
		t.Refresh()
	}
}

// stopSpeaking cuts off the prompt being said, if the Speaker can.
func (u *UI) stopSpeaking() {
	if c, ok := u.opts.Speaker.(SpeakerControls); ok {
		c.Stop()
	}
}

// endSpeech tells the Speaker the session is over.
func (u *UI) endSpeech() {
	u.muted = false
	if c, ok := u.opts.Speaker.(SpeakerControls); ok {
		c.Reset()
	}
}

// videoTile is the button that plays procedure p's instructional video
// (its title is the procedure's video title), on the form's first screen (section i == 0) when the procedure has one
// and the kiosk's player has its file; nil otherwise.
func (u *UI) videoTile(ids map[string]fyne.CanvasObject, p *procedure.Procedure, i int) *widgets.Tile {
	if i != 0 || p == nil || p.Video == nil || u.opts.Video == nil || !u.opts.Video.Available(p.Video.File) {
		return nil
	}
	var t *widgets.Tile
	t = u.tile(ids, "video", labelVideo.In(u.lang), false, func() {
		u.playVideo(p.Video.File, t)
	})
	t.Icon = theme.MediaPlayIcon()
	if u.playing {
		t.Disable()
	}
	return t
}

// playVideo plays the video named file over the window, off the Fyne
// goroutine; the screen underneath stays as it is, answers and all, and
// when the video ends the citizen is back on it, its prompt said again.
// The idle timeout does not count the time the video plays.
func (u *UI) playVideo(file string, t *widgets.Tile) {
	if u.playing {
		return
	}
	u.stopSpeaking()
	u.playing = true
	t.Disable()
	gen := u.gen
	u.log.Info("video playing", "file", file, "screen", u.name)
	u.work(func(ctx context.Context) error {
		end, err := u.opts.Video.Play(ctx, file)
		u.log.Info("video ended", "file", file, "reason", end.Reason, "played", end.Played.Round(100*time.Millisecond), "err", err)
		return err
	}, func(err error) {
		u.playing = false
		u.touch()
		t.Enable()
		if u.gen != gen {
			return
		}
		if err != nil {
			u.flash(i18n.T("Không phát được video hướng dẫn. Bạn vẫn có thể tiếp tục điền.",
				"The how-to video could not play. You can go on filling in the form."))
			return
		}
		u.win.Canvas().Focus(t)
		u.say(u.prompt, false)
		if u.opts.OnScreen != nil {
			u.opts.OnScreen(u.name)
		}
	})
}
