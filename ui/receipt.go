package ui

import (
	"context"
	"strconv"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
	qrcode "github.com/skip2/go-qrcode"

	"github.com/motcua/motcua/agent/device"
)

// showReceipt shows the receipt of the application just submitted (the
// portal's file code once known, else the kiosk's number, and a QR code),
// prints it, and offers the linked procedures.
func (u *UI) showReceipt() {
	sub := u.submitted
	r := sub.Receipt
	ids := map[string]fyne.CanvasObject{}
	body := container.NewVBox()
	num := widget.NewLabel(u.receiptNumber(r))
	num.TextStyle.Bold = true
	num.SizeName = theme.SizeNameSubHeadingText
	ids["number"] = num
	body.Add(num)
	body.Add(wrapped(r.Procedure))
	if r.Applicant != "" {
		body.Add(wrapped(u.t("Người nộp: ", "Applicant: ") + r.Applicant))
	}
	body.Add(wrapped(u.t("Thời gian: ", "Time: ") + r.At.In(vietnam).Format("15:04 02/01/2006")))
	qr := container.NewCenter()
	if img := qrImage(qrContent(r.TrackURL, r.FileCode, r.LocalID)); img != nil {
		qr.Add(img)
	}
	body.Add(qr)
	u.shownReceipt = func(r device.Receipt) {
		num.SetText(u.receiptNumber(r))
		qr.RemoveAll()
		if img := qrImage(qrContent(r.TrackURL, r.FileCode, r.LocalID)); img != nil {
			qr.Add(img)
		}
		u.relayout()
	}
	for _, s := range r.NextSteps {
		body.Add(wrapped(s))
	}
	printLine := widget.NewLabel(u.t("Đang in biên nhận…", "Printing the receipt…"))
	printLine.Wrapping = fyne.TextWrapWord
	ids["print-status"] = printLine
	body.Add(printLine)
	reprint := u.tile(ids, "reprint", tileReprint.In(u.lang), false, nil)
	reprint.Hide()
	body.Add(reprint)
	print := func() {
		reprint.Hide()
		u.relayout()
		printLine.Importance = widget.MediumImportance
		printLine.SetText(u.t("Đang in biên nhận…", "Printing the receipt…"))
		id := sub.App.ID
		u.work(func(ctx context.Context) error { return u.svc.Print(ctx, id) }, func(err error) {
			if u.submitted != sub {
				return
			}
			if err != nil {
				printLine.Importance = widget.DangerImportance
				printLine.SetText(u.problemText(err).In(u.lang) + "\n" + u.t(
					"Hồ sơ của bạn đã được lưu. Hãy chụp ảnh màn hình này hoặc ghi lại số biên nhận.",
					"Your application is saved. Take a photo of this screen or write the number down."))
				reprint.Show()
				u.relayout()
				return
			}
			printLine.Importance = widget.SuccessImportance
			printLine.SetText(u.t("Đã in biên nhận. Vui lòng nhận biên nhận ở khe máy in.",
				"The receipt is printed. Please take it from the printer."))
		})
	}
	reprint.OnTapped = func() { u.touch(); print() }
	linked := u.ss.Linked()
	if len(linked) > 0 {
		l := widget.NewLabel(u.t("Bạn có muốn làm tiếp các thủ tục liên quan?", "Would you like to continue with a related service?"))
		l.TextStyle.Bold = true
		l.Wrapping = fyne.TextWrapWord
		body.Add(l)
	}
	for _, p := range linked {
		body.Add(u.tile(ids, "linked:"+p.ID, p.Name.In(u.lang), false, func() {
			next, err := u.ss.StartLinked(p.ID)
			if err != nil {
				u.flash(u.problemText(err))
				return
			}
			u.ss.Wipe()
			u.ss, u.submitted, u.fromReview = next, nil, false
			u.ev = evidenceState{}
			u.showSection(0)
		}))
	}
	done := u.tile(ids, "done", tileDone.In(u.lang), true, u.reset)
	u.show(screen{
		name:    "receipt",
		title:   titleReceipt.In(u.lang),
		body:    body,
		actions: []fyne.CanvasObject{done},
		back:    u.reset,
		focus:   done,
	}, ids)
	print()
}

// receiptNumber is the number the citizen keeps: the portal's file code
// once the file is delivered, else the kiosk's number.
func (u *UI) receiptNumber(r device.Receipt) string {
	if r.FileCode != "" {
		return u.t("Mã hồ sơ: ", "File code: ") + r.FileCode
	}
	return u.t("Số biên nhận: ", "Receipt number: ") + strconv.FormatInt(r.LocalID, 10)
}

// deliveredNews looks, after news from the uplink, whether the application
// on the receipt shown now has its file code, and shows it.
func (u *UI) deliveredNews() {
	sub := u.submitted
	if u.name != "receipt" || sub == nil || sub.Receipt.FileCode != "" || u.shownReceipt == nil {
		return
	}
	var r device.Receipt
	u.work(func(ctx context.Context) error {
		var err error
		r, err = u.svc.Receipt(ctx, sub.App.ID)
		return err
	}, func(err error) {
		if err != nil || u.submitted != sub || u.name != "receipt" || r.FileCode == "" {
			return
		}
		sub.Receipt = r
		u.shownReceipt(r)
	})
}

// qrContent is what the receipt's QR code holds: the tracking link, else
// the file code, else the kiosk's number (which Track my file accepts).
func qrContent(url, fileCode string, localID int64) string {
	switch {
	case url != "":
		return url
	case fileCode != "":
		return fileCode
	}
	return strconv.FormatInt(localID, 10)
}

// qrImage draws s as a QR code, nil when it cannot.
func qrImage(s string) *canvas.Image {
	png, err := qrcode.Encode(s, qrcode.Medium, 256)
	if err != nil {
		return nil
	}
	img := canvas.NewImageFromResource(fyne.NewStaticResource("receipt-qr.png", png))
	img.FillMode = canvas.ImageFillContain
	img.SetMinSize(fyne.NewSize(220, 220))
	return img
}
