package ui

import (
	"context"
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	roster "github.com/motcua/motcua/agent/staff"
	"github.com/motcua/motcua/ui/widgets"
)

// firstRunText says, in both languages, how the first admin is made: on
// the machine itself, by whoever may run motcua there, never from the
// window, which anyone standing at the counter could use.
const firstRunText = `Chưa có tài khoản cán bộ nào trên máy này.
Người quản trị tạo tài khoản quản trị đầu tiên ngay trên máy này, trong cửa sổ dòng lệnh (lệnh hỏi mã PIN từ 6 đến 12 chữ số):

    motcua staff add --role admin --login TÊN_ĐĂNG_NHẬP --name "Họ và tên"

rồi bấm "Kiểm tra lại". Sau đó quản trị viên thêm các cán bộ khác bằng "motcua staff add".

No staff account exists on this machine yet.
An administrator creates the first admin on this machine itself, in a terminal (the command asks for a PIN of 6 to 12 digits):

    motcua staff add --role admin --login LOGIN --name "Full name"

then presses "Check again". The admin then adds the other staff with "motcua staff add".`

// guard runs f only while a member is logged in, and counts it as input
// for the shift's idle time: the menu and the shortcuts do nothing on the
// login screen.
func (c *Counter) guard(f func()) func() {
	return func() {
		if c.desk == nil {
			return
		}
		c.touch()
		f()
	}
}

// touch records input for the shift's idle time and takes the idle
// warning away.
func (c *Counter) touch() {
	if c.shift == nil {
		return
	}
	c.shift.Touch(c.u.opts.Now())
	c.hideIdle()
}

func (c *Counter) hideIdle() {
	if c.idle != nil {
		c.idle.Hide()
		c.idle = nil
		delete(c.ids, "idle:stay")
	}
}

// Member is the staff member logged in, and whether there is one.
func (c *Counter) Member() (roster.Member, bool) {
	if c.desk == nil {
		return roster.Member{}, false
	}
	return c.desk.Member(), true
}

// showLogin shows the login screen: the active members to pick from and
// the PIN, typed or tapped on the pad; with no member yet, the first-run
// screen. note, when not empty, is said under the screen.
func (c *Counter) showLogin(note string) {
	c.back, c.enter, c.scan, c.print = nil, nil, nil, nil
	var members []roster.Member
	if c.opts.Staff != nil {
		var err error
		if members, err = c.opts.Staff.Active(context.Background()); err != nil {
			c.u.log.Error("staff list", "err", err)
			c.say("Không đọc được danh sách cán bộ: "+err.Error(), true)
		}
	}
	if len(members) == 0 {
		c.showFirstRun()
		return
	}
	known := false
	for _, m := range members {
		known = known || m.Login == c.pick
	}
	if !known {
		c.pick = members[0].Login
	}
	ids := map[string]fyne.CanvasObject{}
	// A widgets.Entry passes the window's Ctrl+Alt+Q on (quit in
	// fullscreen).
	pin := widgets.NewEntry()
	pin.Password = true
	pin.SetPlaceHolder("Mã PIN")
	pin.OnSubmitted = func(string) { c.login(pin) }
	ids["pin"] = pin
	people := container.NewGridWithColumns(3)
	for _, m := range members {
		t := widgets.NewTile(m.Name+"\n"+m.Login+" · "+m.Role.Label(), func() {
			c.pick = m.Login
			c.showLogin("")
		})
		t.OnKey, t.Wrap = c.key, true
		if m.Login == c.pick {
			t.Importance = widget.HighImportance
		}
		ids["staff:"+m.Login] = t
		people.Add(t)
	}
	pad := container.NewGridWithColumns(3)
	for _, d := range []string{"1", "2", "3", "4", "5", "6", "7", "8", "9"} {
		pad.Add(c.padKey(ids, pin, d))
	}
	del := widgets.NewTile("Xoá", func() {
		if n := len(pin.Text); n > 0 {
			pin.SetText(pin.Text[:n-1])
		}
	})
	del.OnKey = c.key
	ids["pin:del"] = del
	ok := widgets.NewPrimaryTile("Đăng nhập", func() { c.login(pin) })
	ok.OnKey = c.key
	ids["login"] = ok
	pad.Add(del)
	pad.Add(c.padKey(ids, pin, "0"))
	pad.Add(ok)
	c.enter = func() { c.login(pin) }
	body := container.NewVBox(wrapped("Chọn tên của bạn, rồi nhập mã PIN (bàn phím số hoặc các phím bên dưới) và Enter."),
		people, widget.NewSeparator(), pin, pad)
	c.show("counter:login", "Đăng nhập quầy tiếp nhận", body, nil, pin, ids)
	if note != "" {
		c.say(note, false)
	}
}

// padKey is a digit of the PIN pad: it adds d to the PIN.
func (c *Counter) padKey(ids map[string]fyne.CanvasObject, pin *widgets.Entry, d string) *widgets.Tile {
	t := widgets.NewTile(d, func() { pin.SetText(pin.Text + d) })
	t.OnKey = c.key
	ids["pin:"+d] = t
	return t
}

// showFirstRun explains how to make the first admin.
func (c *Counter) showFirstRun() {
	check := widgets.NewPrimaryTile("Kiểm tra lại / Check again", func() { c.showLogin("") })
	check.OnKey = c.key
	c.enter = func() { c.showLogin("") }
	text := wrapped(firstRunText)
	c.show("counter:first-run", "Cài đặt lần đầu / First run", text, []fyne.CanvasObject{check}, check,
		map[string]fyne.CanvasObject{"check": check, "text": text})
}

// login checks the PIN of the member picked, off the Fyne goroutine (the
// hash takes a moment), and opens their shift.
func (c *Counter) login(pin *widgets.Entry) {
	if c.desk != nil || c.opts.Staff == nil || c.loggingIn {
		return
	}
	login, code := c.pick, pin.Text
	pin.SetText("")
	if code == "" {
		c.say("Nhập mã PIN.", true)
		return
	}
	c.loggingIn = true
	c.say("Đang kiểm tra mã PIN…", false)
	dir := c.opts.Staff
	var m roster.Member
	c.u.work(func(ctx context.Context) error {
		var err error
		m, err = dir.Login(ctx, login, code)
		return err
	}, func(err error) {
		c.loggingIn = false
		if err != nil {
			c.say(c.u.problemText(err).VI, true)
			return
		}
		c.desk = c.u.svc.For(m)
		c.shift = roster.NewShift(m, c.u.opts.Now())
		c.newApplication()
		c.say(fmt.Sprintf("Xin chào %s. Phiên làm việc kết thúc sau %d phút không thao tác; Ctrl+Shift+L: đăng xuất.",
			m.Name, int(roster.IdleEnd.Minutes())), false)
	})
}

// logout ends the shift at the member's request.
func (c *Counter) logout() { c.endShift("logout", "Đã đăng xuất.") }

// endShift wipes the application being captured, records the logout and
// shows the login screen.
func (c *Counter) endShift(why, note string) {
	if c.desk == nil {
		return
	}
	m := c.desk.Member()
	if c.ss != nil {
		c.ss.Wipe()
	}
	c.ss, c.card, c.lastApp = nil, nil, 0
	c.desk, c.shift = nil, nil
	c.hideIdle()
	if err := c.opts.Staff.Logout(context.Background(), m, why); err != nil {
		c.u.log.Error("staff logout not audited", "staff", m.ID, "err", err)
	}
	c.showLogin(note)
}

// checkIdle runs on each tick of the window's clock: a minute before
// the shift's idle end it warns, at the end it logs the member out.
func (c *Counter) checkIdle() {
	if c.shift == nil {
		return
	}
	phase, left := c.shift.Check(c.u.opts.Now())
	switch phase {
	case roster.Expired:
		c.endShift("idle", fmt.Sprintf("Đã đăng xuất sau %d phút không thao tác; hồ sơ đang nhập dở đã được xoá.",
			int(roster.IdleEnd.Minutes())))
	case roster.Warned:
		secs := int((left + 999_999_999) / 1_000_000_000)
		text := fmt.Sprintf("Phiên làm việc sẽ kết thúc sau %d giây vì không có thao tác.\nThe session ends in %d seconds for lack of activity.", secs, secs)
		if c.idle == nil {
			stay := widgets.NewPrimaryTile("Tiếp tục làm việc / Keep working", c.touch)
			stay.OnKey = func(*fyne.KeyEvent) { c.touch() }
			line := wrapped(text)
			box := container.NewVBox(line, stay)
			c.idle = widget.NewModalPopUp(box, c.u.win.Canvas())
			c.idleLine = line
			c.ids["idle:stay"] = stay
			c.idle.Show()
			c.idle.Resize(fyne.NewSize(c.u.win.Canvas().Size().Width*0.6, box.MinSize().Height))
			c.u.win.Canvas().Focus(stay)
		}
		c.idleLine.SetText(text)
	}
}

// IdleWarning is the idle warning's text, "" when none shows.
func (c *Counter) IdleWarning() string {
	if c.idle == nil {
		return ""
	}
	return c.idleLine.Text
}
