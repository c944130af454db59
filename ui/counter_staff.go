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

// showStaff lists the staff for a supervisor (who may unlock a member
// locked out by failed PINs) or an admin (who may also disable one).
// Members are added and PINs reset with `motcua staff` on the machine,
// where the new PIN is typed by its owner, not on a shared screen.
func (c *Counter) showStaff() {
	me := c.desk.Member()
	if !me.Can(roster.Unlock) && !me.Can(roster.Manage) {
		c.say(c.u.problemText(me.Check(roster.Unlock)).VI, true)
		return
	}
	list, err := c.opts.Staff.List(context.Background())
	if err != nil {
		c.say(c.u.problemText(err).VI, true)
		return
	}
	ids := map[string]fyne.CanvasObject{}
	body := container.NewVBox()
	var first fyne.Focusable
	now := c.u.opts.Now()
	for _, m := range list {
		state := "đang dùng"
		locked := now.Before(m.LockedUntil)
		switch {
		case m.Disabled:
			state = "đã khoá bởi quản trị viên"
		case locked:
			state = "bị khoá do nhập sai PIN đến " + m.LockedUntil.Local().Format("15:04")
		}
		row := wrapped(fmt.Sprintf("%s · %s · %s · %s", m.Name, m.Login, m.Role.Label(), state))
		buttons := container.NewHBox()
		login := m.Login
		if locked && !m.Disabled && me.Can(roster.Unlock) {
			t := widgets.NewPrimaryTile("Mở khoá", func() {
				c.staffAction("Đã mở khoá "+login+".", func(ctx context.Context) error {
					return c.opts.Staff.Unlock(ctx, me, login)
				})
			})
			t.OnKey = c.key
			ids["unlock:"+login] = t
			buttons.Add(t)
			if first == nil {
				first = t
			}
		}
		if !m.Disabled && m.Login != me.Login && me.Can(roster.Manage) {
			t := widgets.NewTile("Khoá tài khoản", func() {
				c.staffAction("Đã khoá tài khoản "+login+".", func(ctx context.Context) error {
					return c.opts.Staff.DisableAs(ctx, me, login)
				})
			})
			t.OnKey = c.key
			ids["disable:"+login] = t
			buttons.Add(t)
			if first == nil {
				first = t
			}
		}
		body.Add(container.NewBorder(nil, nil, nil, buttons, row))
		body.Add(widget.NewSeparator())
	}
	body.Add(wrapped("Thêm cán bộ hoặc đặt lại mã PIN trên chính máy này: motcua staff add --login TÊN --name \"Họ và tên\" [--role supervisor|admin], motcua staff reset-pin TÊN."))
	c.back, c.enter, c.scan, c.print = c.newApplication, nil, nil, nil
	c.show("counter:staff", fmt.Sprintf("Cán bộ: %d tài khoản", len(list)), body, nil, first, ids)
}

// staffAction runs a change to the staff and shows the list again.
func (c *Counter) staffAction(done string, f func(ctx context.Context) error) {
	if err := f(context.Background()); err != nil {
		c.say(c.u.problemText(err).VI, true)
		return
	}
	c.showStaff()
	c.say(done, false)
}
