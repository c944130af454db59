// Package ui is the kiosk's Fyne user interface: the citizen screens that
// render an agent/kiosk Session (attract, language, ID card, procedure,
// the form a section per screen, evidence, review, receipt, tracking) and
// the counter screens. The screens hold no rules: every check is the
// session's, every device and delivery state comes from agent/status
// events, and goroutines touch widgets only through fyne.Do.
package ui

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/motcua/motcua/agent/device"
	"github.com/motcua/motcua/agent/i18n"
	"github.com/motcua/motcua/agent/identity"
	"github.com/motcua/motcua/agent/kiosk"
	"github.com/motcua/motcua/agent/status"
	"github.com/motcua/motcua/agent/telex"
	"github.com/motcua/motcua/ui/widgets"
)

// DefaultIdleTimeout is how long a citizen screen waits for a touch or a
// key before it asks whether the citizen is still there.
const DefaultIdleTimeout = 2 * time.Minute

// DefaultIdleCountdown is how long the question waits, counting down on
// the screen, before the session is wiped.
const DefaultIdleCountdown = 45 * time.Second

// ReceiptTimeout is how long the receipt stays after the last touch
// before the kiosk goes back to the attract screen by itself.
const ReceiptTimeout = 30 * time.Second

// Speaker says the screens' prompts aloud, for citizens who cannot read
// them. Speak must return at once: it cuts off the prompt being said and
// starts p (devices/espeak through agent/speech, on its own goroutine).
type Speaker interface {
	Speak(p Prompt)
}

// Prompt is one thing to say: the screen's title when it is shown, the
// control that took the focus, a key of the on-screen keyboard, the idle
// warning.
type Prompt struct {
	Text i18n.Text
	Lang string // the citizen's language: "vi" or "en"
	// Live marks the citizen's own data (a value typed, a name from the
	// card): never to be kept, e.g. in a cache of rendered speech.
	Live bool
	// Again, when not zero, asks for the prompt to be said again after
	// this long of silence, until another prompt comes (the attract
	// screen's introduction, every IntroAgain).
	Again time.Duration
}

// vietnam is the kiosk's time zone, for the times citizens read.
var vietnam = time.FixedZone("ICT", 7*3600)

// Options configure the UI. Every field may be left zero.
type Options struct {
	// Cards delivers the card reader's frames (devices/cardreader's Run
	// events). A frame that is a receipt's tracking link, or a file code,
	// opens Track my file; a card goes to the citizen's session.
	Cards <-chan device.CardEvent
	// Now is the clock the idle timeout and the date pickers use; nil:
	// time.Now.
	Now func() time.Time
	// IdleTimeout is how long without a touch or a key before the
	// screen asks whether the citizen is still there; 0:
	// DefaultIdleTimeout.
	IdleTimeout time.Duration
	// IdleCountdown is how long the question counts down before the
	// session is wiped; 0: DefaultIdleCountdown.
	IdleCountdown time.Duration
	// Tick is when the idle timeout is checked; nil: every second.
	Tick <-chan time.Time
	// Tokens are the theme's colours and padding; nil: DefaultTokens().
	// The text size and the contrast are the citizen's Settings.
	Tokens *Tokens
	// Defaults are the settings each citizen starts with: the zero value
	// is the smallest text, the usual contrast and no voice.
	Defaults Settings
	// Speaker says the prompts while the citizen's Settings.Voice is on;
	// nil: silent, and the attract screen offers no voice.
	Speaker Speaker
	// Video plays a procedure's instructional video; nil: the form offers
	// none.
	Video device.VideoPlayer
	// OnScreen, when set, is told the name of each screen shown, and
	// again when the citizen is back on a screen from its video (for
	// traces and scripts, with Where).
	OnScreen func(name string)
	// Telex is where names, addresses and free text put the tone in
	// "oa", "oe" and "uy"; the zero value is classic (hòa).
	Telex  telex.Style
	Logger *slog.Logger

	// post runs f on the Fyne goroutine; nil: fyne.Do. Tests queue the
	// calls and run them on the test's goroutine, since the test driver's
	// fyne.Do runs f at once on the caller's.
	post func(f func())
}

// UI is the kiosk's window and the screen shown in it.
type UI struct {
	app  fyne.App
	win  fyne.Window
	svc  *kiosk.Service
	hub  *status.Hub
	opts Options
	log  *slog.Logger

	lang string   // "vi" or "en"
	set  Settings // the citizen's choices on the attract screen
	base Tokens   // the colours and padding the settings apply to
	ss   *kiosk.Session
	// card is the requester's card read before a procedure was chosen;
	// it goes to the session with ApplyCard as soon as one is.
	card *identity.Card

	name      string                       // the screen shown, e.g. "attract"
	ids       map[string]fyne.CanvasObject // the screen's actionable widgets by id
	back      func()                       // Escape: nil on the attract screen
	onCard    func(device.CardEvent) bool  // the screen's own use of a card frame
	lastInput time.Time
	onTick    func()               // the counter's idle check instead of the citizen's; nil: none
	banner    *widget.Label        // a device or delivery problem, in plain words
	scanLine  *widget.Label        // the scan's progress on the evidence screen
	problems  map[string]i18n.Text // what the banner says, by source
	idle      *idleWarning         // the question shown, nil when none
	keyboard  *widgets.Keyboard    // the on-screen keyboard of the screen shown, nil when it has none
	prompt    i18n.Text            // what the screen shown says: its title or introduction
	again     time.Duration        // said again after this long of silence (the attract screen)
	muted     bool                 // the citizen muted the voice for the session
	playing   bool                 // a procedure's video is playing over the window
	// fixedTexts are FixedPrompts in both languages, made when first
	// needed.
	fixedTexts map[string]bool

	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup    // the goroutines New starts
	pending sync.WaitGroup    // slow work: scans, printing, tracking
	digits  []func()          // digit keys 1-9 press these on the screen shown
	scroll  *container.Scroll // the screen's body
	gen     int               // counts the screens shown, so late work finds its screen gone

	fromReview bool             // the form and evidence screens return to the review
	ev         evidenceState    // the evidence screen's scans
	submitted  *kiosk.Submitted // the application just submitted, on the receipt
	// shownReceipt redraws the receipt's number and QR code.
	shownReceipt func(device.Receipt)
}

// New makes the kiosk window (not shown yet) with the theme, starts
// following hub's events and opts.Cards, and returns the UI. svc is
// required; hub may be nil.
func New(a fyne.App, svc *kiosk.Service, hub *status.Hub, opts Options) *UI {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.post == nil {
		opts.post = fyne.Do
	}
	if opts.IdleTimeout <= 0 {
		opts.IdleTimeout = DefaultIdleTimeout
	}
	if opts.IdleCountdown <= 0 {
		opts.IdleCountdown = DefaultIdleCountdown
	}
	base := DefaultTokens()
	if opts.Tokens != nil {
		base = *opts.Tokens
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	u := &UI{app: a, svc: svc, hub: hub, opts: opts, log: log, lang: "vi", problems: map[string]i18n.Text{},
		base: base, set: opts.Defaults}
	a.Settings().SetTheme(NewTheme(TokensFor(base, u.set)))
	u.ctx, u.cancel = context.WithCancel(context.Background())
	u.win = a.NewWindow("Một cửa")
	u.win.Resize(fyne.NewSize(1280, 800))
	u.win.Canvas().SetOnTypedKey(u.key)
	u.banner = widget.NewLabel("")
	u.banner.Importance = widget.DangerImportance
	u.banner.Wrapping = fyne.TextWrapWord
	u.banner.Hide()
	u.scanLine = widget.NewLabel("")
	u.lastInput = opts.Now()
	if hub != nil {
		events, stop := hub.Subscribe()
		u.goBackground(func(ctx context.Context) {
			defer stop()
			for {
				select {
				case <-ctx.Done():
					return
				case ev, ok := <-events:
					if !ok {
						return
					}
					opts.post(func() { u.status(ev) })
				}
			}
		})
	}
	if opts.Cards != nil {
		u.goBackground(func(ctx context.Context) {
			for {
				select {
				case <-ctx.Done():
					return
				case ev, ok := <-opts.Cards:
					if !ok {
						return
					}
					opts.post(func() { u.Frame(ev) })
				}
			}
		})
	}
	u.goBackground(func(ctx context.Context) {
		tick := opts.Tick
		if tick == nil {
			t := time.NewTicker(time.Second)
			defer t.Stop()
			tick = t.C
		}
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick:
				opts.post(u.checkIdle)
			}
		}
	})
	return u
}

// Window is the kiosk's window.
func (u *UI) Window() fyne.Window { return u.win }

// ShowCitizen shows the citizen attract screen, wiping any session.
func (u *UI) ShowCitizen() { u.reset() }

// Content replaces the window's content, for screens outside the citizen
// flow (the counter's).
func (u *UI) Content(c fyne.CanvasObject) {
	u.name, u.ids, u.back, u.onCard, u.digits = "", map[string]fyne.CanvasObject{}, nil, nil, nil
	u.scroll = nil
	u.gen++ // focus and work of the citizen screen shown before stay undone
	u.win.SetContent(c)
}

// Close stops the goroutines New started and waits for background work.
func (u *UI) Close() {
	u.cancel()
	u.wg.Wait()
	u.pending.Wait()
}

// Screen is the name of the screen shown ("attract", "language", "card",
// "procedures", "form:<section>", "evidence", "review", "receipt",
// "track"), for tests and logs.
func (u *UI) Screen() string { return u.name }

// Object returns the actionable widget with the given id on the screen
// shown (e.g. "next", "lang:vi", "proc:birth-registration",
// "field:child_sex"), nil when there is none.
func (u *UI) Object(id string) fyne.CanvasObject { return u.ids[id] }

// IDs lists the ids of the screen's actionable widgets (see Object),
// sorted.
func (u *UI) IDs() []string {
	ids := slices.Sorted(maps.Keys(u.ids))
	return ids
}

// Where is the centre of the widget with the given id on the screen
// shown, in the window's coordinates, once it is laid out; "key:ID" is
// the on-screen keyboard's key ID (a letter, "space"). ok is false when
// there is no such widget. Call it on the Fyne goroutine.
func (u *UI) Where(id string) (pos fyne.Position, ok bool) {
	var o fyne.CanvasObject
	if k, isKey := strings.CutPrefix(id, "key:"); isKey && u.keyboard != nil {
		if key := u.keyboard.Key(k); key != nil {
			o = key
		}
	} else if obj, found := u.ids[id]; found {
		o = obj
	}
	if o == nil || !o.Visible() {
		return fyne.Position{}, false
	}
	p := u.app.Driver().AbsolutePositionForObject(o)
	s := o.Size()
	return fyne.NewPos(p.X+s.Width/2, p.Y+s.Height/2), true
}

// Keyboard is the on-screen keyboard of the screen shown, nil when it
// has none.
func (u *UI) Keyboard() *widgets.Keyboard { return u.keyboard }

// Frame handles one card reader frame: a tracking link or file code opens
// Track my file, a card goes to the session. Call it on the Fyne goroutine.
func (u *UI) Frame(ev device.CardEvent) {
	raw := strings.TrimSpace(string(ev.Raw))
	if ev.Err != nil && looksLikeTrack(raw) {
		u.touch()
		u.showTrack(raw)
		return
	}
	if u.onCard != nil && u.onCard(ev) {
		u.touch()
		return
	}
	if ev.Err != nil {
		// Never a silent fill: say what is wrong with the card, when
		// the reader says, and what to do.
		msg := i18n.T("Không đọc được thẻ", "The card could not be read")
		var ie *i18n.Error
		if errors.As(ev.Err, &ie) {
			msg = ie.Msg
		}
		u.flash(i18n.Tf("%s. Vui lòng đặt lại thẻ căn cước lên đầu đọc, mặt có mã QR hướng lên, hoặc nhờ cán bộ hỗ trợ.",
			"%s. Please place the ID card on the reader again, QR code facing up, or ask a staff member.", msg))
		u.log.Warn("card frame refused", "err", ev.Err)
		return
	}
	u.touch()
	card := ev.Card
	switch u.name {
	case "receipt", "track":
		// The last citizen is done: this card is the next one's.
		u.reset()
		fallthrough
	case "attract":
		u.card = &card
		u.showLanguage()
		return
	}
	u.takeCard(card)
}

// looksLikeTrack reports whether a frame that is not a card is a receipt's
// QR code: a tracking link, or, on a receipt printed without one, the file
// code or the kiosk's number. A card's payload always has '|' between its
// fields.
func looksLikeTrack(raw string) bool {
	if strings.HasPrefix(raw, "http://") || strings.HasPrefix(raw, "https://") || strings.Contains(raw, "/track/") {
		return true
	}
	return raw != "" && len(raw) <= 64 && !strings.ContainsAny(raw, "| \t")
}

// takeCard gives the requester's card to the session, or keeps it until a
// procedure is chosen, and shows it for confirmation.
func (u *UI) takeCard(c identity.Card) {
	u.card = &c
	if u.ss != nil && u.ss.Procedure() != nil {
		if _, err := u.ss.ApplyCard(c, ""); err != nil {
			u.flash(u.problemText(err))
			return
		}
	}
	u.showCard()
}

// touch records input, for the idle timeout, and takes the idle question
// away.
func (u *UI) touch() {
	u.lastInput = u.opts.Now()
	if u.idle != nil {
		u.idle.pop.Hide()
		u.idle = nil
		delete(u.ids, "idle:here")
	}
}

// idleWarning is the question whether the citizen is still there.
type idleWarning struct {
	pop  *widget.PopUp
	line *widget.Label // the countdown
	box  *fyne.Container
}

// fit sizes the question to most of the window's width and as high as
// its wrapped lines need: a wrapped label knows its height only once it
// has its width.
func (w *idleWarning) fit(cv fyne.Canvas) {
	width := cv.Size().Width * 0.8
	for range 2 {
		w.box.Resize(fyne.NewSize(width, w.box.MinSize().Height))
	}
	w.pop.Resize(fyne.NewSize(width, w.box.MinSize().Height))
}

// checkIdle asks whether the citizen is still there after the idle
// timeout, counts down, then wipes the session and goes back to the
// attract screen. The receipt goes back by itself after ReceiptTimeout.
func (u *UI) checkIdle() {
	if u.onTick != nil {
		u.onTick()
		return
	}
	if u.name == "attract" || u.name == "" {
		return
	}
	if u.playing {
		// Watching the video is not being away.
		u.lastInput = u.opts.Now()
		return
	}
	idle := u.opts.Now().Sub(u.lastInput)
	switch {
	case u.name == "receipt" && idle >= ReceiptTimeout:
		u.log.Info("receipt timeout: back to the attract screen")
		u.reset()
	case idle >= u.opts.IdleTimeout+u.opts.IdleCountdown:
		u.log.Info("idle timeout: session wiped", "screen", u.name)
		u.reset()
	case idle >= u.opts.IdleTimeout:
		left := int((u.opts.IdleTimeout + u.opts.IdleCountdown - idle + time.Second - 1) / time.Second)
		text := i18n.Tf("Phiên làm việc sẽ kết thúc sau %d giây và những gì bạn đã nhập sẽ bị xoá.",
			"The session ends in %d seconds and what you entered is erased.", left)
		if u.idle == nil {
			u.showIdleWarning()
			u.say(u.idleQuestion(time.Duration(left)*time.Second), false)
		}
		u.idle.line.SetText(text.In(u.lang))
		u.idle.fit(u.win.Canvas())
	}
}

// showIdleWarning puts the question over the screen, with a large
// button that keeps the session.
func (u *UI) showIdleWarning() {
	ask := widget.NewLabel(u.t("Bạn còn đó không?", "Are you still there?"))
	ask.TextStyle.Bold = true
	ask.SizeName = theme.SizeNameHeadingText
	ask.Alignment = fyne.TextAlignCenter
	ask.Wrapping = fyne.TextWrapWord
	line := widget.NewLabel("")
	line.Alignment = fyne.TextAlignCenter
	line.Wrapping = fyne.TextWrapWord
	here := widgets.NewPrimaryTile(u.t("Tôi vẫn ở đây", "I am still here"), u.touch)
	here.OnKey, here.Wrap = u.key, true
	box := container.NewVBox(ask, line, here)
	pop := widget.NewModalPopUp(box, u.win.Canvas())
	u.idle = &idleWarning{pop: pop, line: line, box: box}
	u.ids["idle:here"] = here
	pop.Show()
	u.win.Canvas().Focus(here)
}

// reset wipes the session, puts the settings back to the defaults for the
// next citizen, and shows the attract screen: every widget that showed
// the citizen's data is dropped and built anew.
func (u *UI) reset() {
	if u.ss != nil {
		u.ss.Wipe()
	}
	u.touch()
	u.ss, u.card, u.submitted, u.fromReview, u.shownReceipt = nil, nil, nil, false, nil
	delete(u.problems, "flash") // a device's or the uplink's problem stays
	u.ev = evidenceState{}
	u.scanLine.SetText("")
	u.keyboard = nil
	u.win.Canvas().Unfocus()
	u.endSpeech()
	u.lang = "vi"
	if u.set != u.opts.Defaults {
		u.set = u.opts.Defaults
		u.applySettings()
	}
	u.showAttract()
}

// applySettings draws every screen with the citizen's text size and
// contrast.
func (u *UI) applySettings() {
	u.app.Settings().SetTheme(NewTheme(TokensFor(u.base, u.set)))
}

// say speaks t in the citizen's language, when the citizen wants voice.
func (u *UI) say(t i18n.Text, live bool) { u.sayAgain(t, live, 0) }

// sayAgain is say, with the prompt said again after again of silence.
// Nothing is said while the citizen has muted the voice.
func (u *UI) sayAgain(t i18n.Text, live bool, again time.Duration) {
	if u.opts.Speaker != nil && u.set.Voice && !u.muted && !t.IsZero() {
		u.opts.Speaker.Speak(Prompt{Text: t, Lang: u.lang, Live: live, Again: again})
	}
}

// key handles the keys no focused widget used.
func (u *UI) key(ev *fyne.KeyEvent) {
	u.touch()
	switch ev.Name {
	case fyne.KeyEscape:
		if u.back != nil {
			u.back()
		}
	case fyne.KeyF1:
		u.readScreen()
	case fyne.KeyTab, fyne.KeyReturn, fyne.KeyEnter:
		// Enter in a field goes on to the next one, as Tab does; on a
		// button, Enter presses it (Tile).
		u.win.Canvas().FocusNext()
	default:
		if len(ev.Name) == 1 {
			if n := int(ev.Name[0]) - '0'; n >= 1 && n <= len(u.digits) {
				u.digits[n-1]()
			}
		}
	}
}

// t picks the text in the citizen's language.
func (u *UI) t(vi, en string) string {
	if u.lang == "en" {
		return en
	}
	return vi
}

// problemText is what a citizen reads for err: its own plain message when
// it is an *i18n.Error (a jam, no paper), otherwise a general sentence
// with what to do. The error itself goes to the log, never to the screen.
func (u *UI) problemText(err error) i18n.Text {
	var ie *i18n.Error
	if errors.As(err, &ie) {
		return ie.Msg
	}
	u.log.Error("citizen screen: unexpected error", "screen", u.name, "err", err)
	return i18n.T("Có lỗi xảy ra. Thông tin bạn đã nhập vẫn được giữ. Vui lòng thử lại hoặc nhờ cán bộ hỗ trợ.",
		"Something went wrong. What you entered is kept. Please try again or ask a staff member for help.")
}

// flash shows a message in the banner until the next screen.
func (u *UI) flash(t i18n.Text) {
	u.problems["flash"] = t
	u.paintBanner()
}

// status shows a device or delivery event.
func (u *UI) status(ev status.Event) {
	switch e := ev.(type) {
	case status.Device:
		u.problems["device:"+e.Kind.String()+":"+e.Name] = e.Problem
	case status.Uplink:
		// The hub's sentence says plainly that nothing is lost.
		u.problems["uplink"] = e.Problem
		u.deliveredNews()
	case status.ScanProgress:
		switch {
		case !e.Problem.IsZero():
			u.scanLine.SetText(e.Problem.In(u.lang))
		case e.Done:
			u.scanLine.SetText(i18n.Tf("Đã quét xong %d trang.", "Scanned %d page(s).", e.Page).In(u.lang))
		default:
			u.scanLine.SetText(i18n.Tf("Đang quét… %d trang", "Scanning… %d page(s)", e.Page).In(u.lang))
		}
	}
	u.paintBanner()
}

func (u *UI) paintBanner() {
	var lines []string
	for _, k := range []string{"flash", "uplink"} {
		if t := u.problems[k]; !t.IsZero() {
			lines = append(lines, t.In(u.lang))
		}
	}
	var devices []string
	for k, t := range u.problems {
		if strings.HasPrefix(k, "device:") && !t.IsZero() {
			devices = append(devices, t.In(u.lang))
		}
	}
	slices.Sort(devices)
	lines = append(lines, devices...)
	u.banner.SetText(strings.Join(lines, "\n"))
	// Show and Hide, not the Hidden field: the screen's layout must make
	// room for the banner.
	if len(lines) == 0 {
		u.banner.Hide()
	} else {
		u.banner.Show()
	}
	u.relayout()
}

// focusLater gives f the focus once the input event being handled is
// done, if the screen is still the one shown. A key that moves on (a
// digit, Space) is followed by its character: moved at once, the focus
// would take that character into the next screen's field.
func (u *UI) focusLater(f fyne.Focusable) {
	gen := u.gen
	u.pending.Add(1)
	go func() {
		defer u.pending.Done()
		u.opts.post(func() {
			if u.gen == gen {
				u.win.Canvas().Focus(f)
			}
		})
	}()
}

// relayout lays the window out again after something appeared or went.
func (u *UI) relayout() {
	if c := u.win.Content(); c != nil {
		c.Refresh()
	}
}

// goBackground runs f on a goroutine New's context governs.
func (u *UI) goBackground(f func(ctx context.Context)) {
	u.wg.Add(1)
	go func() {
		defer u.wg.Done()
		f(u.ctx)
	}()
}

// work runs slow work (a scan, printing, a portal call) off the Fyne
// goroutine and then done on it.
func (u *UI) work(slow func(ctx context.Context) error, done func(error)) {
	u.pending.Add(1)
	go func() {
		defer u.pending.Done()
		err := slow(u.ctx)
		u.opts.post(func() { done(err) })
	}()
}

// screen is what every citizen screen is drawn in: a title, the banner of
// problems, the body (scrolled), and a row of actions at the bottom.
type screen struct {
	name  string
	title string
	// prompt is said when the screen shows, and again on F1; zero: the
	// title. again repeats it after that long of silence.
	prompt  i18n.Text
	again   time.Duration
	body    fyne.CanvasObject
	actions []fyne.CanvasObject
	back    func()
	focus   fyne.Focusable
	onCard  func(device.CardEvent) bool
	digits  []func()
}

// show draws s in the window and makes it the current screen. A screen
// with a text entry gets the on-screen keyboard under its body, typing
// into the entry that has (or last had) the focus.
func (u *UI) show(s screen, ids map[string]fyne.CanvasObject) {
	u.name, u.ids, u.back, u.onCard, u.digits = s.name, ids, s.back, s.onCard, s.digits
	delete(u.problems, "flash")
	u.paintBanner()
	title := widget.NewLabel(s.title)
	title.TextStyle.Bold = true
	title.SizeName = theme.SizeNameHeadingText
	title.Wrapping = fyne.TextWrapWord
	var head fyne.CanvasObject = title
	if bar := u.voiceBar(ids); bar != nil {
		head = container.NewBorder(nil, nil, nil, bar, title)
	}
	top := container.NewVBox(head, u.banner)
	for _, a := range s.actions {
		if t, ok := a.(*widgets.Tile); ok {
			t.OnFocus = u.sayFocused // always in view, below the body: nothing to scroll
		}
	}
	var below []fyne.CanvasObject
	u.keyboard = nil
	if entries := entriesIn(s.body); len(entries) > 0 {
		kb := widgets.NewKeyboard(u.lang)
		kb.OnPress = func(name i18n.Text, live bool) { u.touch(); u.say(name, live) }
		target := entries[0]
		if e, ok := s.focus.(*widgets.Entry); ok {
			target = e
		}
		kb.SetTarget(target)
		u.keyboard = kb
		below = append(below, kb)
	}
	if len(s.actions) > 0 {
		below = append(below, container.NewGridWithColumns(len(s.actions), s.actions...))
	}
	var bottom fyne.CanvasObject
	if len(below) > 0 {
		bottom = container.NewVBox(below...)
	}
	u.scroll = container.NewVScroll(container.NewPadded(s.body))
	u.win.SetContent(container.NewBorder(top, bottom, nil, nil, u.scroll))
	u.gen++
	if s.focus != nil {
		u.focusLater(s.focus)
	}
	// A wrapped label's height is known once it has its width: lay the
	// screen out again with it.
	u.relayout()
	u.prompt, u.again = s.prompt, s.again
	if u.prompt.IsZero() {
		u.prompt = i18n.T(s.title, s.title)
	}
	u.sayAgain(u.prompt, false, u.again)
	if u.opts.OnScreen != nil {
		u.opts.OnScreen(u.name)
	}
}

// entriesIn are the text entries in o, in the order drawn.
func entriesIn(o fyne.CanvasObject) []*widgets.Entry {
	var out []*widgets.Entry
	var walk func(o fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		switch w := o.(type) {
		case *widgets.Entry:
			out = append(out, w)
			return
		case *fyne.Container:
			for _, c := range w.Objects {
				walk(c)
			}
			return
		case *widgets.Field:
			out = append(out, w.Entries()...)
		case *container.Scroll:
			walk(w.Content)
		}
	}
	walk(o)
	return out
}

// focused is told which widget took the focus: the screen scrolls it
// into view, the keyboard types into it if it is an entry, and a tile's
// text is spoken.
func (u *UI) focused(o fyne.CanvasObject) {
	u.reveal(o)
	switch w := o.(type) {
	case *widgets.Entry:
		if u.keyboard != nil && u.keyboard.Target() != w {
			u.keyboard.SetTarget(w)
		}
		if u.keyboard != nil && u.keyboard.Collapsed() {
			u.keyboard.Expand() // an entry tapped: the citizen means to type
		}
		if w.Text != "" {
			u.say(i18n.T(w.Text, w.Text), true)
		}
	case *widgets.Tile:
		u.sayFocused(w)
	}
}

// sayFocused says the text of a tile that took the focus. A tile may
// carry the citizen's data (a suggestion, a name from the card; marked
// Live): only the fixed texts may be kept.
func (u *UI) sayFocused(o fyne.CanvasObject) {
	if w, ok := o.(*widgets.Tile); ok {
		u.say(i18n.T(w.Text, w.Text), w.Live || !u.fixed(w.Text))
	}
}

// reveal scrolls the screen's body so that o, which took the focus or
// has a problem to show, is in view.
func (u *UI) reveal(o fyne.CanvasObject) { u.scrollTo(o, false) }

// scrollTo scrolls the screen's body to show o: its top when top is set,
// else as little as brings it into view.
func (u *UI) scrollTo(o fyne.CanvasObject, top bool) {
	if u.scroll == nil || u.scroll.Content == nil {
		return
	}
	d := fyne.CurrentApp().Driver()
	y := d.AbsolutePositionForObject(o).Y - d.AbsolutePositionForObject(u.scroll.Content).Y
	bottom := y + o.Size().Height
	view := u.scroll.Size().Height
	off := u.scroll.Offset.Y
	switch {
	case top || bottom-y > view || y < off:
		off = y
	case bottom > off+view:
		off = bottom - view
	default:
		return
	}
	u.scroll.ScrollToOffset(fyne.NewPos(0, max(off, 0)))
}

// tile makes a large button that records input and runs f, registered as
// id on the screen being built.
func (u *UI) tile(ids map[string]fyne.CanvasObject, id, text string, primary bool, f func()) *widgets.Tile {
	var t *widgets.Tile
	run := func() { u.touch(); f() }
	if primary {
		t = widgets.NewPrimaryTile(text, run)
	} else {
		t = widgets.NewTile(text, run)
	}
	t.OnKey, t.OnFocus = u.key, u.focused
	t.Wrap = true // the screens lay tiles out in columns and grids
	if id != "" {
		ids[id] = t
	}
	return t
}
