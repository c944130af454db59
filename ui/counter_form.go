package ui

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/widget"

	"github.com/motcua/motcua/agent/identity"
	"github.com/motcua/motcua/agent/procedure"
	"github.com/motcua/motcua/ui/widgets"
)

// newApplication wipes the application being captured and shows the
// choice of a procedure.
func (c *Counter) newApplication() {
	if c.ss != nil {
		c.ss.Wipe()
	}
	c.ss, c.card = nil, nil
	c.showProcedures("")
}

// showProcedures lets staff pick a procedure by typing part of its name
// (accents optional) and Enter, or by Tab and Enter on it.
func (c *Counter) showProcedures(query string) {
	ids := map[string]fyne.CanvasObject{}
	search := widgets.NewEntry()
	search.SetPlaceHolder("Tìm thủ tục: gõ vài chữ, ví dụ \"khai sinh\", rồi Enter")
	search.OnKey = c.key
	ids["search"] = search
	list := container.NewVBox()
	var shown []*procedure.Procedure
	fill := func(q string) {
		list.Objects = nil
		if strings.TrimSpace(q) == "" {
			var err error
			if shown, err = c.u.svc.Procedures(context.Background()); err != nil {
				c.say(c.u.problemText(err).VI, true)
			}
		} else {
			shown = c.u.svc.Search(q)
		}
		for i, p := range shown {
			label := p.Name.VI
			if p.Code != "" {
				label += "  ·  " + p.Code
			}
			t := widgets.NewTile(label, func() { c.choose(p.ID) })
			t.OnKey = c.key
			if i == 0 {
				t.Importance = widget.HighImportance
			}
			ids["proc:"+p.ID] = t
			list.Add(t)
		}
		list.Refresh()
	}
	search.OnChanged = fill
	search.OnSubmitted = func(string) {
		if len(shown) > 0 {
			c.choose(shown[0].ID)
		}
	}
	search.SetText(query)
	fill(query)
	c.back, c.enter, c.scan, c.print = nil, nil, nil, nil
	hint := widget.NewLabel("Enter: chọn thủ tục đầu tiên · Tab: đi qua danh sách · Ctrl+L: hàng đợi gửi · Ctrl+N: hồ sơ mới")
	hint.Importance = widget.LowImportance
	hint.Wrapping = fyne.TextWrapWord
	body := container.NewVBox(search, hint, list)
	if c.card != nil {
		body.Objects = append([]fyne.CanvasObject{wrapped("Thẻ đã đọc: " + c.card.Name + " (" + c.card.ID.Masked() + ")")}, body.Objects...)
	}
	c.show("counter:procedures", "Tiếp nhận hồ sơ: chọn thủ tục", body, nil, search, ids)
}

// choose starts capturing procedure id, with the card read before, if any.
func (c *Counter) choose(id string) {
	ss, err := c.desk.Start(context.Background())
	if err != nil {
		c.say(c.u.problemText(err).VI, true)
		return
	}
	if err := ss.Choose(id); err != nil {
		c.say(c.u.problemText(err).VI, true)
		return
	}
	if c.card != nil {
		if _, err := ss.ApplyCard(*c.card, ""); err != nil {
			c.say(c.u.problemText(err).VI, true)
		}
	}
	c.ss = ss
	c.say("", false)
	c.showSection(0)
}

// sectionShown is the form section on the screen, if one is.
func (c *Counter) sectionShown() (procedure.Section, bool) {
	if c.ss == nil || !strings.HasPrefix(c.name, "counter:form:") {
		return procedure.Section{}, false
	}
	i, ok := c.sectionIndex(strings.TrimPrefix(c.name, "counter:form:"))
	if !ok {
		return procedure.Section{}, false
	}
	return c.ss.Steps()[i], true
}

func (c *Counter) sectionIndex(key string) (int, bool) {
	for i, s := range c.ss.Steps() {
		if s.Key == key {
			return i, true
		}
	}
	return 0, false
}

// showSection shows every field of section i on one screen, in two
// columns. Tab goes from field to field, Enter in a text field goes to
// the next one and, after the last, on to the next section once this one
// is valid; Escape goes back.
func (c *Counter) showSection(i int) {
	steps := c.ss.Steps()
	if i >= len(steps) {
		c.showEvidence()
		return
	}
	sec := steps[i]
	p := c.ss.Procedure()
	ids := map[string]fyne.CanvasObject{}
	today := identity.Today(c.u.opts.Now())
	var fields []*widgets.Field
	var focusables []fyne.Focusable
	grid := container.NewVBox()
	// pending is a narrow field waiting for a second one beside it.
	var pending fyne.CanvasObject
	place := func(obj fyne.CanvasObject, last bool) {
		narrow := obj.MinSize().Width <= counterColumn
		switch {
		case narrow && pending == nil && !last:
			pending = obj
			return
		case narrow && pending != nil:
			grid.Add(container.NewGridWithColumns(2, pending, obj))
			pending = nil
			return
		}
		if pending != nil {
			grid.Add(container.NewGridWithColumns(2, pending, layout.NewSpacer()))
			pending = nil
		}
		grid.Add(obj)
	}
	next := func() {
		if errs := c.ss.ValidateStep(sec.Key); len(errs) > 0 {
			c.showFieldErrors(fields, errs)
			return
		}
		c.say("", false)
		c.showSection(i + 1)
	}
	// after moves the focus to the field after field n, or goes on.
	after := func(n int) {
		if n+1 < len(focusables) {
			c.u.win.Canvas().Focus(focusables[n+1])
			return
		}
		next()
	}
	var nextT *widgets.Tile
	// answered moves the focus on after a choice was picked (a digit),
	// to the next field or the Next button.
	answered := func(n int) {
		to := fyne.Focusable(nextT)
		if n+1 < len(focusables) {
			to = focusables[n+1]
		}
		c.afterEvent(func() { c.u.win.Canvas().Focus(to) })
	}
	for fi := range sec.Fields {
		f := &sec.Fields[fi]
		c.applyDefault(f)
		v, _ := c.ss.Value(f.Key)
		n := len(focusables)
		var obj fyne.CanvasObject
		var focus fyne.Focusable
		if f.Type == procedure.TypeDate {
			d := c.dateField(f, v, func() { after(n) })
			obj, focus = d, d.entry
		} else {
			var fw *widgets.Field
			fw = widgets.NewField(widgets.Config{
				Field: f, Lang: "vi", Today: today, Value: v, FromCard: c.ss.FromCard(f.Key), OnKey: c.key,
				OnChange: func(v any) {
					if err := c.ss.Set(f.Key, v); err != nil {
						fw.SetErrors(map[string]string{"": c.u.problemText(err).VI})
						return
					}
					if f.Type == procedure.TypeChoice {
						answered(n)
					}
				},
			})
			fields = append(fields, fw)
			obj, focus = fw, fw.Focusable()
			if e, ok := focus.(*widgets.Entry); ok {
				e.OnSubmitted = func(string) { after(n) }
			}
		}
		ids["field:"+f.Key] = obj
		focusables = append(focusables, focus)
		place(obj, fi == len(sec.Fields)-1)
	}
	c.back = func() {
		if i == 0 {
			c.showProcedures("")
			return
		}
		c.showSection(i - 1)
	}
	c.enter, c.scan, c.print = next, c.scanNext, nil
	backT := widgets.NewTile("← Quay lại (Esc)", c.back)
	nextT = widgets.NewPrimaryTile("Tiếp (Enter)", next)
	backT.OnKey, nextT.OnKey = c.key, c.key
	ids["back"], ids["next"] = backT, nextT
	head := fmt.Sprintf("%s · bước %d/%d", p.Name.VI, i+1, len(steps))
	if card := c.ss.Card(); card != nil {
		head += " · thẻ: " + card.Name
	}
	body := container.NewVBox(lowLabel(head), grid)
	var focus fyne.Focusable = nextT
	for n, f := range focusables {
		if v, ok := c.ss.Value(sec.Fields[n].Key); (!ok || v == nil || v == "") && f != nil {
			focus = f
			break
		}
	}
	c.show("counter:form:"+sec.Key, sec.Title.VI, body, []fyne.CanvasObject{backT, nextT}, focus, ids)
}

// counterColumn is the widest field put beside another on a form screen:
// half the window's width at 1280 pixels.
const counterColumn = 600

// showFieldErrors puts each problem next to its field and focuses the
// first field with one.
func (c *Counter) showFieldErrors(fields []*widgets.Field, errs procedure.Errors) {
	byField := map[string]map[string]string{}
	var msgs []string
	for _, e := range errs {
		key, part, _ := strings.Cut(e.Field, ".")
		if byField[key] == nil {
			byField[key] = map[string]string{}
		}
		byField[key][part] = strings.TrimSpace(byField[key][part] + "\n" + e.Message.VI)
		msgs = append(msgs, e.Message.VI)
	}
	var first fyne.Focusable
	for _, f := range fields {
		f.SetErrors(byField[f.Key()])
		if first == nil && byField[f.Key()] != nil {
			first = f.Focusable()
		}
	}
	for key, parts := range byField {
		if d, ok := c.ids["field:"+key].(*counterDate); ok {
			d.errs.SetText(parts[""])
			d.errs.Show()
			if first == nil {
				first = d.entry
			}
		}
	}
	c.say(strings.Join(msgs, "\n"), true)
	if first != nil {
		c.u.win.Canvas().Focus(first)
	}
}

// applyDefault sets a required text field's usual value when it is empty
// (the citizen screens' defaults: Việt Nam, Kinh).
func (c *Counter) applyDefault(f *procedure.Field) {
	if f.Type != procedure.TypeText || !f.Required {
		return
	}
	if v, ok := c.ss.Value(f.Key); ok && v != "" && v != nil {
		return
	}
	for _, d := range textDefaults {
		if strings.HasSuffix(f.Key, d.suffix) {
			if err := c.ss.Set(f.Key, d.value); err != nil {
				c.u.log.Warn("default value refused", "field", f.Key, "err", err)
			}
			return
		}
	}
}

// counterDate is a date typed as dd/mm/yyyy: staff type faster than they
// pick from a calendar.
type counterDate struct {
	widget.BaseWidget
	entry *widgets.Entry
	errs  *widget.Label
	box   *fyne.Container
}

func (d *counterDate) CreateRenderer() fyne.WidgetRenderer { return widget.NewSimpleRenderer(d.box) }

// dateField makes the typed date editor of f, submitted calls on Enter.
func (c *Counter) dateField(f *procedure.Field, v any, submitted func()) *counterDate {
	d := &counterDate{entry: widgets.NewEntry()}
	d.ExtendBaseWidget(d)
	d.entry.OnKey = c.key
	d.entry.SetPlaceHolder("ngày/tháng/năm, ví dụ 15/11/2026")
	if s, ok := v.(string); ok {
		if dt, err := identity.ParseDate(s); err == nil {
			d.entry.SetText(fmt.Sprintf("%02d/%02d/%04d", dt.Day, dt.Month, dt.Year))
		}
	}
	d.entry.OnChanged = func(s string) {
		if err := c.ss.Set(f.Key, typedDate(s)); err != nil {
			d.errs.SetText(c.u.problemText(err).VI)
			d.errs.Show()
		}
	}
	d.entry.OnSubmitted = func(string) { submitted() }
	label := widget.NewLabel(f.Label.VI + requiredMark(f))
	label.TextStyle.Bold = true
	d.errs = widget.NewLabel("")
	d.errs.Importance = widget.DangerImportance
	d.errs.Wrapping = fyne.TextWrapWord
	d.errs.Hide()
	d.box = container.NewVBox(label, d.entry, d.errs)
	return d
}

func requiredMark(f *procedure.Field) string {
	if f.Required {
		return " *"
	}
	return ""
}

// typedDate turns d/m/yyyy into the form's YYYY-MM-DD; anything else is
// kept as typed, for the session to say what is wrong with it.
func typedDate(s string) string {
	parts := strings.FieldsFunc(strings.TrimSpace(s), func(r rune) bool { return r == '/' || r == '.' || r == '-' })
	if len(parts) != 3 || len(parts[2]) != 4 {
		return strings.TrimSpace(s)
	}
	var n [3]int
	for i, p := range parts {
		v, err := strconv.Atoi(p)
		if err != nil {
			return strings.TrimSpace(s)
		}
		n[i] = v
	}
	return fmt.Sprintf("%04d-%02d-%02d", n[2], n[1], n[0])
}

// showEvidence lists the evidence: Ctrl+S scans the next one missing,
// Enter goes on to the review.
func (c *Counter) showEvidence() {
	ids := map[string]fyne.CanvasObject{}
	body := container.NewVBox()
	for _, it := range c.ss.Evidence() {
		state := "không bắt buộc"
		switch {
		case it.Waived:
			state = "không cần (đã có số giấy tờ)"
		case len(it.Docs) > 0:
			pages := 0
			for _, d := range it.Docs {
				pages += d.Pages
			}
			state = fmt.Sprintf("đã quét %d trang", pages)
		case it.Evidence.Required:
			state = "CHƯA CÓ: bắt buộc"
		}
		key := it.Evidence.Key
		scan := widgets.NewTile("Quét", func() { c.scanEvidence(key) })
		scan.OnKey = c.key
		ids["scan:"+key] = scan
		body.Add(container.NewBorder(nil, nil, nil, scan, wrapped(it.Evidence.Label.VI+": "+state)))
	}
	steps := c.ss.Steps()
	c.back = func() { c.showSection(len(steps) - 1) }
	c.enter, c.scan, c.print = c.showReview, c.scanNext, nil
	backT := widgets.NewTile("← Quay lại (Esc)", c.back)
	nextT := widgets.NewPrimaryTile("Xem lại (Enter)", c.showReview)
	backT.OnKey, nextT.OnKey = c.key, c.key
	ids["back"], ids["next"] = backT, nextT
	body.Add(lowLabel("Ctrl+S: quét giấy tờ còn thiếu"))
	c.show("counter:evidence", "Giấy tờ kèm theo", body, []fyne.CanvasObject{backT, nextT}, nextT, ids)
}

// scanNext scans the first required evidence still missing (Ctrl+S).
func (c *Counter) scanNext() {
	if c.ss == nil {
		return
	}
	for _, it := range c.ss.Evidence() {
		if it.Evidence.Required && !it.Waived && len(it.Docs) == 0 {
			c.scanEvidence(it.Evidence.Key)
			return
		}
	}
	c.say("Không còn giấy tờ bắt buộc nào phải quét.", false)
}

// scanEvidence scans one document for key; a jam keeps the pages scanned.
func (c *Counter) scanEvidence(key string) {
	ss := c.ss
	c.say("Đang quét…", false)
	c.u.work(func(ctx context.Context) error {
		doc, err := ss.Scan(ctx, key)
		if err != nil && doc.Pages > 0 {
			if aerr := ss.Attach(key, doc); aerr != nil {
				return errors.Join(err, aerr)
			}
		}
		return err
	}, func(err error) {
		if c.ss != ss {
			return
		}
		if err != nil {
			c.say(c.u.problemText(err).VI, true)
		} else {
			c.say("Đã quét xong.", false)
		}
		if c.name == "counter:evidence" {
			c.showEvidence()
		}
	})
}

// showReview shows every answer and problem; Enter submits.
func (c *Counter) showReview() {
	ids := map[string]fyne.CanvasObject{}
	r := c.ss.Review()
	body := container.NewVBox()
	for _, rs := range r.Sections {
		t := widget.NewLabel(rs.Section.Title.VI)
		t.TextStyle.Bold = true
		form := widget.NewForm()
		for _, row := range rs.Rows {
			if row.Value != "" {
				v := row.Value
				if row.FromCard {
					v += "  ✓ thẻ"
				}
				form.Append(row.Label.VI, wrapped(v))
			}
		}
		body.Add(t)
		body.Add(form)
	}
	for _, p := range r.Problems {
		l := wrapped("• " + p.Message.VI)
		l.Importance = widget.DangerImportance
		body.Add(l)
	}
	c.back = c.showEvidence
	c.enter, c.scan, c.print = c.submit, c.scanNext, nil
	backT := widgets.NewTile("← Quay lại (Esc)", c.back)
	submit := widgets.NewPrimaryTile("Nộp hồ sơ (Enter)", c.submit)
	backT.OnKey, submit.OnKey = c.key, c.key
	ids["back"], ids["submit"] = backT, submit
	c.show("counter:review", "Xem lại và nộp: "+c.ss.Procedure().Name.VI, body, []fyne.CanvasObject{backT, submit}, submit, ids)
}

// submit stores the application queued and prints its receipt.
func (c *Counter) submit() {
	sub, err := c.ss.Submit(context.Background())
	if err != nil {
		var errs procedure.Errors
		if errors.As(err, &errs) {
			msgs := make([]string, len(errs))
			for i, e := range errs {
				msgs[i] = e.Message.VI
			}
			c.say(strings.Join(msgs, "\n"), true)
			return
		}
		c.say(c.u.problemText(err).VI, true)
		return
	}
	c.lastApp = sub.App.ID
	ids := map[string]fyne.CanvasObject{}
	number := widget.NewLabel(fmt.Sprintf("Số biên nhận: %d", sub.App.ID))
	number.TextStyle.Bold = true
	ids["number"] = number
	body := container.NewVBox(number, wrapped(sub.Receipt.Procedure), wrapped("Người nộp: "+sub.Receipt.Applicant),
		wrapped("Trạng thái: "+sub.App.State.Label().VI+". Hồ sơ tự gửi lên cổng dịch vụ công khi có mạng."))
	c.back, c.scan = nil, nil
	c.enter = c.newApplication
	c.print = func() { c.reprint(sub.App.ID) }
	again := widgets.NewTile("In lại biên nhận (Ctrl+P)", c.print)
	next := widgets.NewPrimaryTile("Hồ sơ mới (Enter)", c.newApplication)
	again.OnKey, next.OnKey = c.key, c.key
	ids["reprint"], ids["new"] = again, next
	c.show("counter:done", "Đã nhận hồ sơ", body, []fyne.CanvasObject{again, next}, next, ids)
	c.printReceipt(sub.App.ID, false)
}

func lowLabel(s string) *widget.Label {
	l := widget.NewLabel(s)
	l.Importance = widget.LowImportance
	l.Wrapping = fyne.TextWrapWord
	return l
}
