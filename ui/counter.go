package ui

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/motcua/motcua/agent/device"
	"github.com/motcua/motcua/agent/i18n"
	"github.com/motcua/motcua/agent/identity"
	"github.com/motcua/motcua/agent/kiosk"
	roster "github.com/motcua/motcua/agent/staff"
	"github.com/motcua/motcua/agent/status"
)

// CounterOptions configure the counter (staff) screens.
type CounterOptions struct {
	// Quit closes the window and stops the agent; nil: the counter offers
	// no quit.
	Quit func()
	// SampleCard shows the simulated card reader its next card (Ctrl+D);
	// nil when the reader is real.
	SampleCard func()
	// Staff is who may log in. Nothing at the counter works before a
	// member has logged in with their PIN; nil (or no member yet) shows
	// the first-run screen, which says how to add the first admin.
	Staff *roster.Directory
}

// The counter's keyboard shortcuts. They work wherever the focus is: the
// window's menu carries them (a focused entry would keep them otherwise).
var (
	ShortcutNew    = &desktop.CustomShortcut{KeyName: fyne.KeyN, Modifier: fyne.KeyModifierControl}
	ShortcutScan   = &desktop.CustomShortcut{KeyName: fyne.KeyS, Modifier: fyne.KeyModifierControl}
	ShortcutPrint  = &desktop.CustomShortcut{KeyName: fyne.KeyP, Modifier: fyne.KeyModifierControl}
	ShortcutQueue  = &desktop.CustomShortcut{KeyName: fyne.KeyL, Modifier: fyne.KeyModifierControl}
	ShortcutSample = &desktop.CustomShortcut{KeyName: fyne.KeyD, Modifier: fyne.KeyModifierControl}
	ShortcutStaff  = &desktop.CustomShortcut{KeyName: fyne.KeyU, Modifier: fyne.KeyModifierControl}
	ShortcutLogout = &desktop.CustomShortcut{KeyName: fyne.KeyL, Modifier: fyne.KeyModifierControl | fyne.KeyModifierShift}
)

// Counter is the staff's screens at a desk: the same catalog-driven
// capture as the kiosk's, every field of a section on one screen and
// keyboard first, beside the device and delivery status; the queue with
// requeue and reprint. Staff log in first (counter_login.go): each action
// goes through the member's kiosk.Desk, which checks their role and
// audits it with their id, and the shift ends after 30 minutes idle.
type Counter struct {
	u    *UI
	opts CounterOptions

	desk      *kiosk.Desk   // the member logged in; nil: nobody
	shift     *roster.Shift // their shift's idle time; nil: nobody
	idle      *widget.PopUp // the idle warning; nil: none
	idleLine  *widget.Label
	pick      string // the login picked on the login screen
	loggingIn bool   // a PIN is being checked

	ss   *kiosk.Session
	card *identity.Card // the requester's card, read before a procedure was chosen

	name  string                       // the counter screen shown, e.g. "counter:form:child"
	ids   map[string]fyne.CanvasObject // its actionable widgets by id
	back  func()                       // Escape
	enter func()                       // Enter where no widget takes it
	scan  func()                       // Ctrl+S on this screen; nil: none
	print func()                       // Ctrl+P on this screen; nil: none

	main    *fyne.Container // the screen, under the status line
	message *widget.Label   // the last action's result or problem
	// strip is the status line at the top: delivery and each device.
	strip   *widget.Label
	uplink  string
	devices map[string]status.Device // by kind and name

	lastApp int64 // the application last submitted, for Ctrl+P
}

// ShowCounter replaces the citizen screens with the counter's and shows
// its first screen, the choice of a procedure.
func (u *UI) ShowCounter(opts CounterOptions) *Counter {
	c := &Counter{u: u, opts: opts, devices: map[string]status.Device{}, uplink: "Cổng dịch vụ công: chưa liên lạc"}
	c.message = widget.NewLabel("")
	c.message.Wrapping = fyne.TextWrapWord
	c.strip = widget.NewLabel("")
	c.strip.Wrapping = fyne.TextWrapWord
	c.paintStrip()
	c.main = container.NewStack()
	top := container.NewVBox(c.strip, widget.NewSeparator())
	u.Content(container.NewBorder(top, c.message, nil, nil, c.main))
	c.claim()
	u.win.SetMainMenu(c.menu())
	for _, s := range []struct {
		sc *desktop.CustomShortcut
		f  func()
	}{
		{ShortcutNew, c.newApplication}, {ShortcutScan, c.doScan}, {ShortcutPrint, c.doPrint},
		{ShortcutQueue, c.showQueue}, {ShortcutSample, c.sampleCard}, {ShortcutLogout, c.logout},
		{ShortcutStaff, c.showStaff},
	} {
		f := c.guard(s.f)
		u.win.Canvas().AddShortcut(s.sc, func(fyne.Shortcut) { f() })
	}
	if dc, ok := u.win.Canvas().(desktop.Canvas); ok {
		// Any key pressed, wherever the focus is, is input for the
		// shift's idle time.
		dc.SetOnKeyDown(func(*fyne.KeyEvent) { c.touch() })
	}
	u.onTick = c.checkIdle
	if u.hub != nil {
		events, stop := u.hub.Subscribe()
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
					c.u.opts.post(func() { c.status(ev) })
				}
			}
		})
	}
	c.showLogin("")
	return c
}

// claim makes the window's key and card handling the counter's: the
// citizen screens' own handlers are left unset while the counter shows.
func (c *Counter) claim() {
	c.u.back = c.escape
	c.u.onCard = c.takeCard
	c.u.win.Canvas().SetOnTypedKey(c.key)
}

// menu is the window's menu: every counter action with its shortcut.
func (c *Counter) menu() *fyne.MainMenu {
	item := func(label string, sc fyne.Shortcut, f func()) *fyne.MenuItem {
		it := fyne.NewMenuItem(label, f)
		it.Shortcut = sc
		return it
	}
	file := fyne.NewMenu("Hồ sơ",
		item("Hồ sơ mới", ShortcutNew, c.guard(c.newApplication)),
		item("Quét giấy tờ", ShortcutScan, c.guard(c.doScan)),
		item("In biên nhận", ShortcutPrint, c.guard(c.doPrint)),
		item("Hàng đợi gửi", ShortcutQueue, c.guard(c.showQueue)),
	)
	if c.opts.SampleCard != nil {
		file.Items = append(file.Items, fyne.NewMenuItemSeparator(), item("Thẻ mẫu (đầu đọc mô phỏng)", ShortcutSample, c.guard(c.sampleCard)))
	}
	file.Items = append(file.Items, fyne.NewMenuItemSeparator(), item("Cán bộ (giám sát, quản trị)", ShortcutStaff, c.guard(c.showStaff)),
		item("Đăng xuất", ShortcutLogout, c.guard(c.logout)))
	if c.opts.Quit != nil {
		q := fyne.NewMenuItem("Thoát", c.opts.Quit)
		q.IsQuit = true
		file.Items = append(file.Items, fyne.NewMenuItemSeparator(), q)
	}
	return fyne.NewMainMenu(file)
}

// Screen is the counter screen shown, for tests and logs.
func (c *Counter) Screen() string { return c.name }

// Object returns the actionable widget with the given id on the counter
// screen shown, nil when there is none.
func (c *Counter) Object(id string) fyne.CanvasObject { return c.ids[id] }

// Message is the last action's result or problem shown under the screen.
func (c *Counter) Message() string { return c.message.Text }

// Session is the application being captured, nil before a procedure is
// chosen.
func (c *Counter) Session() *kiosk.Session { return c.ss }

// show draws a counter screen: a title, the body (scrolled) and a row of
// actions, with focus on focus.
func (c *Counter) show(name, title string, body fyne.CanvasObject, actions []fyne.CanvasObject, focus fyne.Focusable, ids map[string]fyne.CanvasObject) {
	c.name, c.ids = name, ids
	c.touch()
	if c.desk != nil {
		m := c.desk.Member()
		title += "   ·   " + m.Name + " (" + m.Role.Label() + ")"
	}
	t := widget.NewLabel(title)
	t.TextStyle.Bold = true
	t.SizeName = theme.SizeNameSubHeadingText
	t.Wrapping = fyne.TextWrapWord
	var bottom fyne.CanvasObject
	if len(actions) > 0 {
		bottom = container.NewGridWithColumns(len(actions), actions...)
	}
	c.main.Objects = []fyne.CanvasObject{container.NewBorder(t, bottom, nil, nil, container.NewScroll(body))}
	c.main.Refresh()
	c.claim()
	if focus != nil {
		c.u.win.Canvas().Focus(focus)
	}
}

// afterEvent runs f on the Fyne goroutine once the input event being
// handled is done. A digit that picks a choice moves the focus this way:
// the driver delivers the key's character after the key, and moved at
// once, the focus would take the digit into the next field.
func (c *Counter) afterEvent(f func()) {
	c.u.pending.Add(1)
	go func() {
		defer c.u.pending.Done()
		c.u.opts.post(f)
	}()
}

// say shows the result of an action, or a problem, under the screen.
func (c *Counter) say(s string, problem bool) {
	c.message.Importance = widget.MediumImportance
	if problem {
		c.message.Importance = widget.DangerImportance
	}
	c.message.SetText(s)
}

// key handles the keys no focused widget used.
func (c *Counter) key(ev *fyne.KeyEvent) {
	c.touch()
	switch ev.Name {
	case fyne.KeyEscape:
		c.escape()
	case fyne.KeyReturn, fyne.KeyEnter:
		if c.enter != nil {
			c.enter()
		}
	case fyne.KeyTab:
		c.u.win.Canvas().FocusNext()
	}
}

func (c *Counter) escape() {
	if c.back != nil {
		c.back()
	}
}

func (c *Counter) doScan() {
	if c.scan != nil {
		c.scan()
	}
}

// doPrint prints the receipt of the application on the screen, else of
// the one last submitted.
func (c *Counter) doPrint() {
	if c.print != nil {
		c.print()
		return
	}
	if c.lastApp != 0 {
		c.reprint(c.lastApp)
		return
	}
	c.say("Chưa có hồ sơ nào để in biên nhận.", true)
}

func (c *Counter) sampleCard() {
	if c.opts.SampleCard != nil {
		go c.opts.SampleCard()
	}
}

// reprint prints application id's receipt again, off the Fyne goroutine:
// audited as a reprint by the member.
func (c *Counter) reprint(id int64) { c.printReceipt(id, true) }

// printReceipt prints application id's receipt, off the Fyne goroutine;
// the first print after capture is part of the capture, any other a
// reprint.
func (c *Counter) printReceipt(id int64, again bool) {
	c.say(fmt.Sprintf("Đang in biên nhận hồ sơ số %d…", id), false)
	print := c.desk.Reprint
	if !again {
		print = c.desk.Service().Print
	}
	c.u.work(func(ctx context.Context) error { return print(ctx, id) }, func(err error) {
		if err != nil {
			c.say(fmt.Sprintf("Không in được biên nhận hồ sơ số %d: %s", id, c.u.problemText(err).VI), true)
			return
		}
		c.say(fmt.Sprintf("Đã in biên nhận hồ sơ số %d.", id), false)
	})
}

// Frame handles one card reader frame at the counter: a receipt's QR code
// (or a file code) shows that application in the queue, a card goes to
// the application being captured. Call it on the Fyne goroutine; the
// window feeds the reader's frames here when the counter shows.
func (c *Counter) Frame(ev device.CardEvent) { c.takeCard(ev) }

// takeCard applies a card read at any time: to the section shown when it
// describes another adult (a parent), else to the requester.
func (c *Counter) takeCard(ev device.CardEvent) bool {
	if c.desk == nil {
		c.say("Đăng nhập trước khi đọc thẻ.", true)
		return true
	}
	c.touch()
	if raw := strings.TrimSpace(string(ev.Raw)); ev.Err != nil && looksLikeTrack(raw) {
		c.showTracked(raw)
		return true
	}
	if ev.Err != nil {
		msg := "Không đọc được thẻ"
		var ie *i18n.Error
		if errors.As(ev.Err, &ie) {
			msg = ie.Msg.VI
		}
		c.say(msg+". Đặt lại thẻ lên đầu đọc, mặt có mã QR hướng lên.", true)
		c.u.log.Warn("card frame refused at the counter", "err", ev.Err)
		return true
	}
	card := ev.Card
	if c.ss == nil || c.ss.Procedure() == nil {
		c.card = &card
		c.say("Đã đọc thẻ của "+card.Name+". Chọn thủ tục để điền.", false)
		return true
	}
	// On a section about another adult (a parent), the card read is that
	// person's, even when it is the requester's own: staff put the card
	// on the reader for the section on the screen.
	target := ""
	if sec, ok := c.sectionShown(); ok && describesAdult(sec) && sec.Key != c.ss.Steps()[max(requesterSection(c.ss.Steps()), 0)].Key {
		target = sec.Key
	}
	keys, err := c.ss.ApplyCard(card, target)
	if err != nil {
		c.say(c.u.problemText(err).VI, true)
		return true
	}
	c.say(fmt.Sprintf("Đã điền %d mục từ thẻ của %s.", len(keys), card.Name), false)
	c.redraw()
	return true
}

// showTracked shows the queue with what is known of the application a
// receipt's QR code names.
func (c *Counter) showTracked(raw string) {
	res, err := c.desk.Track(context.Background(), raw)
	c.showQueue()
	if err != nil {
		c.say("Không tìm thấy hồ sơ của biên nhận này: "+c.u.problemText(err).VI, true)
		return
	}
	a := res.App
	msg := fmt.Sprintf("Biên nhận số %d: %s", a.ID, a.State.Label().VI)
	if a.FileCode != "" {
		msg += ", mã hồ sơ " + a.FileCode
	}
	c.say(msg+".", false)
	if o, ok := c.Object("reprint:" + strconv.FormatInt(a.ID, 10)).(fyne.Focusable); ok {
		c.u.win.Canvas().Focus(o)
	}
}

// redraw draws the screen shown again, with the session's values.
func (c *Counter) redraw() {
	switch {
	case strings.HasPrefix(c.name, "counter:form:"):
		i, _ := c.sectionIndex(strings.TrimPrefix(c.name, "counter:form:"))
		c.showSection(i)
	case c.name == "counter:review":
		c.showReview()
	}
}

// status shows a device or delivery event in the status line.
func (c *Counter) status(ev status.Event) {
	switch e := ev.(type) {
	case status.Uplink:
		c.uplink = uplinkLine(e)
	case status.Device:
		c.devices[e.Kind.String()+":"+e.Name] = e
	default:
		return
	}
	c.paintStrip()
}

// StatusLine is the status line's text, for tests.
func (c *Counter) StatusLine() string { return c.strip.Text }

// paintStrip writes the status line: delivery, then each device by kind;
// it turns red when something needs staff.
func (c *Counter) paintStrip() {
	parts := []string{c.uplink}
	bad := strings.Contains(c.uplink, "mất kết nối")
	keys := make([]string, 0, len(c.devices))
	for k := range c.devices {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var problems []string
	for _, k := range keys {
		d := c.devices[k]
		parts = append(parts, deviceLine(d))
		if !d.Connected || !d.Problem.IsZero() || d.PaperLow {
			bad = true
		}
		if !d.Problem.IsZero() {
			problems = append(problems, d.Problem.VI)
		}
	}
	text := strings.Join(parts, "  ·  ")
	if len(problems) > 0 {
		text += "\n" + strings.Join(problems, "\n")
	}
	c.strip.Importance = widget.SuccessImportance
	if bad {
		c.strip.Importance = widget.DangerImportance
	}
	c.strip.SetText(text)
}

// uplinkLine says the state of delivery for staff.
func uplinkLine(e status.Uplink) string {
	var b strings.Builder
	if e.Online {
		b.WriteString("Cổng dịch vụ công: đã kết nối")
	} else {
		b.WriteString("Cổng dịch vụ công: mất kết nối")
	}
	if !e.LastContact.IsZero() {
		b.WriteString(" lúc " + e.LastContact.Local().Format("15:04"))
	}
	fmt.Fprintf(&b, ", chờ gửi %d hồ sơ (%s)", e.Waiting, humanBytes(e.WaitingBytes))
	if s := e.Sending; s != nil && s.Total > 0 {
		fmt.Fprintf(&b, ", đang gửi số %d: %d%%", s.ID, s.Sent*100/s.Total)
	}
	return b.String()
}

// deviceLine says one device's state for staff, in a few words.
func deviceLine(e status.Device) string {
	state := "✓"
	if !e.Connected {
		state = "chưa kết nối"
	}
	s := e.Kind.Label().VI + ": " + state
	if e.PaperLow {
		s += ", sắp hết giấy"
	}
	return s
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%d KB", n>>10)
	}
	return fmt.Sprintf("%d B", n)
}
