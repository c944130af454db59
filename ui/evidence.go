package ui

import (
	"context"
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/motcua/motcua/agent/i18n"
	"github.com/motcua/motcua/agent/kiosk"
	"github.com/motcua/motcua/ui/widgets"
)

// evidenceState is what the evidence screen remembers between scans: the
// document being scanned, and the pages a jam left, not yet kept.
type evidenceState struct {
	scanning string               // the evidence key being scanned, "" when none
	stopped  map[string]kiosk.Doc // pages scanned before a jam, by evidence key
	problem  map[string]i18n.Text // what stopped the last scan, by evidence key
}

// showEvidence lists the procedure's documents: scan each required one
// (every page previewed), retake it, keep the pages a jam left, or skip
// what is optional or waived.
func (u *UI) showEvidence() {
	if u.ev.stopped == nil {
		u.ev.stopped, u.ev.problem = map[string]kiosk.Doc{}, map[string]i18n.Text{}
	}
	ids := map[string]fyne.CanvasObject{}
	busy := u.ev.scanning != ""
	body := container.NewVBox()
	items := u.ss.Evidence()
	for _, it := range items {
		key := it.Evidence.Key
		title := widget.NewLabel(it.Evidence.Label.In(u.lang))
		title.TextStyle.Bold = true
		title.Wrapping = fyne.TextWrapWord
		var tag *widget.Label
		switch {
		case it.Waived:
			tag = widget.NewLabel(u.t("Không cần nộp: thông tin đã có trong tờ khai", "Not needed: the form already has it"))
			tag.Importance = widget.SuccessImportance
		case len(it.Docs) > 0:
			tag = widget.NewLabel(u.t("✓ Đã quét", "✓ Scanned"))
			tag.Importance = widget.SuccessImportance
		case it.Evidence.Required:
			tag = widget.NewLabel(u.t("Bắt buộc", "Required"))
			tag.Importance = widget.WarningImportance
		default:
			tag = widget.NewLabel(u.t("Không bắt buộc: bỏ qua nếu không có", "Optional: skip it if you do not have it"))
			tag.Importance = widget.LowImportance
		}
		tag.Wrapping = fyne.TextWrapWord
		box := container.NewVBox(title, tag)
		if n := it.Evidence.Note.In(u.lang); n != "" {
			box.Add(wrapped(n))
		}
		for i, d := range it.Docs {
			box.Add(widgets.NewDocPreview(d.Content, d.Pages, u.lang))
			remove := u.tile(ids, fmt.Sprintf("remove:%s:%d", key, i), tileRemove.In(u.lang), false, func() {
				if err := u.ss.Detach(key, i); err != nil {
					u.flash(u.problemText(err))
				}
				u.showEvidence()
			})
			remove.Disable()
			if !busy {
				remove.Enable()
			}
			box.Add(remove)
		}
		if d, ok := u.ev.stopped[key]; ok {
			msg := widget.NewLabel(u.ev.problem[key].In(u.lang) + "\n" + fmt.Sprintf(u.t(
				"Đã quét được %d trang trước khi dừng.", "%d page(s) were scanned before it stopped."), d.Pages))
			msg.Importance = widget.DangerImportance
			msg.Wrapping = fyne.TextWrapWord
			keep := u.tile(ids, "keep:"+key, fmt.Sprintf(u.t("Giữ %d trang này", "Keep these %d page(s)"), d.Pages), false, func() {
				if err := u.ss.Attach(key, d); err != nil {
					u.flash(u.problemText(err))
					return
				}
				delete(u.ev.stopped, key)
				delete(u.ev.problem, key)
				u.showEvidence()
			})
			box.Add(msg)
			box.Add(widgets.NewDocPreview(d.Content, d.Pages, u.lang))
			keep.Live = true // a count
			box.Add(keep)
		} else if p, ok := u.ev.problem[key]; ok {
			msg := widget.NewLabel(p.In(u.lang))
			msg.Importance = widget.DangerImportance
			msg.Wrapping = fyne.TextWrapWord
			box.Add(msg)
		}
		if !it.Waived {
			text := tileScan.In(u.lang)
			switch {
			case u.ev.scanning == key:
				text = tileScanning.In(u.lang)
			case len(it.Docs) > 0:
				text = tileRetake.In(u.lang)
			case u.ev.stopped[key].Pages > 0 || u.ev.problem[key] != (i18n.Text{}):
				text = tileScanAgain.In(u.lang)
			}
			scan := u.tile(ids, "scan:"+key, text, it.Evidence.Required && len(it.Docs) == 0, func() { u.scan(key, len(it.Docs) > 0) })
			if busy {
				scan.Disable()
			}
			if len(it.Docs) > 0 {
				// The rest of a document a jam cut short, or a second
				// one: added to what is kept.
				more := u.tile(ids, "scan-more:"+key, tileScanMore.In(u.lang), false, func() { u.scan(key, false) })
				if busy {
					more.Disable()
				}
				box.Add(more)
			}
			box.Add(scan)
		}
		if u.ev.scanning == key {
			box.Add(u.scanLine)
		}
		body.Add(box)
		body.Add(widget.NewSeparator())
	}
	if len(items) == 0 {
		body.Add(wrapped(u.t("Thủ tục này không cần nộp giấy tờ.", "This service needs no documents.")))
	}
	steps := len(u.ss.Steps())
	back := func() {
		if u.fromReview {
			u.showReview()
			return
		}
		u.showSection(steps - 1)
	}
	backT := u.tile(ids, "back", labelBack.In(u.lang), false, back)
	next := u.tile(ids, "next", labelContinue.In(u.lang), true, u.showReview)
	if busy {
		backT.Disable()
		next.Disable()
	}
	var focus fyne.Focusable = next
	for _, it := range items {
		if t, ok := ids["scan:"+it.Evidence.Key].(*widgets.Tile); ok && it.Evidence.Required && len(it.Docs) == 0 && !it.Waived && !busy {
			focus = t
			break
		}
	}
	u.show(screen{
		name:    "evidence",
		title:   titleEvidence.In(u.lang),
		body:    body,
		actions: []fyne.CanvasObject{backT, next},
		back:    back,
		focus:   focus,
	}, ids)
}

// scan scans a document for key off the Fyne goroutine; the screen shows
// the progress and, on a jam, keeps the answers and the pages so far.
// retake replaces the documents already attached for key.
func (u *UI) scan(key string, retake bool) {
	delete(u.ev.stopped, key)
	delete(u.ev.problem, key)
	u.ev.scanning = key
	u.scanLine.SetText(u.t("Đặt giấy tờ vào máy quét, mặt cần quét úp xuống. Đang quét…",
		"Put the document in the scanner, face down. Scanning…"))
	var before int
	for _, it := range u.ss.Evidence() {
		if it.Evidence.Key == key {
			before = len(it.Docs)
		}
	}
	u.showEvidence()
	ss := u.ss
	var doc kiosk.Doc
	u.work(func(ctx context.Context) error {
		var err error
		doc, err = ss.Scan(ctx, key)
		return err
	}, func(err error) {
		u.ev.scanning = ""
		if ss != u.ss {
			return // the session was wiped meanwhile
		}
		if err == nil && retake {
			// The new scan is attached after the old ones: drop those.
			for i := before - 1; i >= 0; i-- {
				if derr := u.ss.Detach(key, i); derr != nil {
					u.log.Warn("retake: detach", "evidence", key, "err", derr)
				}
			}
		}
		if err != nil {
			u.ev.problem[key] = u.problemText(err)
			if doc.Pages > 0 {
				u.ev.stopped[key] = doc
			}
		}
		u.showEvidence()
	})
}
