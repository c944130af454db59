package ui

import (
	"context"
	"fmt"
	"strconv"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/motcua/motcua/agent/application"
	roster "github.com/motcua/motcua/agent/staff"
	"github.com/motcua/motcua/ui/widgets"
)

// queueRows is how many applications the queue screen lists, newest first.
const queueRows = 30

// showQueue lists the applications with their state, file code and last
// error: a quarantined one can be queued again once staff have fixed the
// cause, and any receipt printed again. Escape goes back to capture.
func (c *Counter) showQueue() {
	ids := map[string]fyne.CanvasObject{}
	list, err := c.desk.Queue(context.Background())
	if err != nil {
		c.say(c.u.problemText(err).VI, true)
		return
	}
	body := container.NewVBox()
	var first fyne.Focusable
	shown := 0
	for i := len(list) - 1; i >= 0 && shown < queueRows; i-- {
		a := list[i]
		shown++
		text := fmt.Sprintf("Số %d · %s · %s", a.ID, a.State.Label().VI, a.CreatedAt.Local().Format("15:04 02/01"))
		if a.FileCode != "" {
			text += " · mã hồ sơ " + a.FileCode
		}
		if a.LastError != "" {
			text += "\nLỗi: " + a.LastError
		}
		row := wrapped(text)
		if a.State == application.Quarantined {
			row.Importance = widget.DangerImportance
		}
		id := a.ID
		buttons := container.NewHBox()
		if a.State == application.Quarantined && !c.desk.Member().Can(roster.Requeue) {
			row.SetText(text + "\nChỉ giám sát viên hoặc quản trị viên được gửi lại hồ sơ này.")
		}
		if a.State == application.Quarantined && c.desk.Member().Can(roster.Requeue) {
			rq := widgets.NewPrimaryTile("Gửi lại", func() { c.requeue(id) })
			rq.OnKey = c.key
			ids["requeue:"+strconv.FormatInt(id, 10)] = rq
			buttons.Add(rq)
			if first == nil {
				first = rq
			}
		}
		pr := widgets.NewTile("In lại", func() { c.reprint(id) })
		pr.OnKey = c.key
		ids["reprint:"+strconv.FormatInt(id, 10)] = pr
		buttons.Add(pr)
		if first == nil {
			first = pr
		}
		body.Add(container.NewBorder(nil, nil, nil, buttons, row))
		body.Add(widget.NewSeparator())
	}
	if len(list) == 0 {
		body.Add(wrapped("Chưa có hồ sơ nào."))
	}
	back := func() {
		if c.ss != nil && c.ss.Procedure() != nil {
			c.showSection(0)
			return
		}
		c.showProcedures("")
	}
	c.back, c.enter, c.scan, c.print = back, nil, nil, nil
	title := fmt.Sprintf("Hàng đợi gửi: %d hồ sơ", len(list))
	c.show("counter:queue", title, body, nil, first, ids)
}

// requeue sends quarantined application id back to the queue.
func (c *Counter) requeue(id int64) {
	if err := c.desk.Requeue(context.Background(), id); err != nil {
		c.say(c.u.problemText(err).VI, true)
		return
	}
	c.say(fmt.Sprintf("Hồ sơ số %d đã được đưa lại vào hàng đợi gửi.", id), false)
	c.showQueue()
}
