package ui

import (
	"context"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/motcua/motcua/agent/device"
	"github.com/motcua/motcua/agent/kiosk"
	"github.com/motcua/motcua/ui/widgets"
)

// showTrack is Track my file: type the file code or the receipt's number,
// or show the receipt's QR code to the reader. query, when not empty, is
// looked up at once.
func (u *UI) showTrack(query string) {
	ids := map[string]fyne.CanvasObject{}
	code := widgets.NewEntry()
	code.OnKey, code.OnFocus = u.key, u.focused
	code.SetPlaceHolder(u.t("Mã hồ sơ hoặc số biên nhận", "File code or receipt number"))
	ids["track:code"] = code
	code.OnChanged = func(string) { u.touch() }
	result := widget.NewLabel("")
	result.Wrapping = fyne.TextWrapWord
	ids["track:result"] = result
	find := func() {
		q := code.Text
		result.Importance = widget.MediumImportance
		result.SetText(u.t("Đang tra cứu…", "Looking it up…"))
		var res kiosk.TrackResult
		u.work(func(ctx context.Context) error {
			var err error
			res, err = u.svc.Track(ctx, q)
			return err
		}, func(err error) {
			if u.name != "track" {
				return
			}
			if err != nil {
				result.Importance = widget.DangerImportance
				result.SetText(u.problemText(err).In(u.lang))
				return
			}
			result.Importance = widget.MediumImportance
			result.SetText(u.describeTrack(res))
		})
	}
	code.OnSubmitted = func(string) { u.touch(); find() }
	findT := u.tile(ids, "track:find", tileLookUp.In(u.lang), true, find)
	hint := wrapped(u.t("Nhập mã hồ sơ, hoặc đưa mã QR trên biên nhận vào đầu đọc.",
		"Type the file code, or show the receipt's QR code to the reader."))
	back := u.tile(ids, "back", labelBack.In(u.lang), false, u.reset)
	u.show(screen{
		name:    "track",
		title:   titleTrack.In(u.lang),
		body:    container.NewVBox(hint, code, findT, result),
		actions: []fyne.CanvasObject{back},
		back:    u.reset,
		focus:   code,
		onCard: func(ev device.CardEvent) bool {
			raw := string(ev.Raw)
			if ev.Err == nil || raw == "" {
				return false
			}
			code.SetText(raw)
			find()
			return true
		},
	}, ids)
	if query != "" {
		code.SetText(query)
		find()
	}
}

// describeTrack says where a file stands, and how fresh that is.
func (u *UI) describeTrack(res kiosk.TrackResult) string {
	a := res.App
	s := ""
	if a.FileCode != "" {
		s += u.t("Mã hồ sơ: ", "File code: ") + a.FileCode + "\n"
	}
	if p, err := u.svc.Catalog().Lookup(a.ProcedureID); err == nil {
		s += p.Name.In(u.lang) + "\n"
	}
	s += u.t("Tình trạng: ", "Status: ") + a.State.Label().In(u.lang) + "\n"
	when := res.At.In(vietnam).Format("15:04 02/01/2006")
	if res.Fresh {
		s += u.t("Cập nhật lúc ", "As of ") + when
	} else {
		s += u.t("Theo thông tin máy có lúc ", "As last known at ") + when + u.t(" (chưa kết nối được cổng dịch vụ công)", " (the portal could not be reached)")
	}
	return s
}
