package ui

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"

	"github.com/motcua/motcua/agent/application"
	"github.com/motcua/motcua/agent/device"
	"github.com/motcua/motcua/agent/status"
	"github.com/motcua/motcua/agent/store"
	_ "github.com/motcua/motcua/internal/langenv" // no Fyne locale error under LANG=C.UTF-8
)

// staff drives the counter with the keyboard only, as the window's
// driver delivers keys: a key goes to the focused widget, else to the
// canvas; Tab moves the focus; a shortcut goes to the window's menu
// first.
type staff struct {
	t    *testing.T
	r    *kioskRig
	c    *Counter
	keys int // keys pressed, typed characters included
}

func (s *staff) canvas() fyne.Canvas { return s.c.u.Window().Canvas() }

func (s *staff) at(name string) {
	s.t.Helper()
	if got := s.c.Screen(); got != name {
		s.t.Fatalf("on counter screen %q, want %q (message: %q)", got, name, s.c.Message())
	}
}

func (s *staff) press(name fyne.KeyName) {
	s.t.Helper()
	s.keys++
	ev := &fyne.KeyEvent{Name: name}
	if name == fyne.KeyTab {
		s.canvas().FocusNext()
		return
	}
	if f := s.canvas().Focused(); f != nil {
		f.TypedKey(ev)
	} else if h := s.canvas().OnTypedKey(); h != nil {
		h(ev)
	}
	// A key that is a character reaches the focused widget as that
	// character too, right after the key, as the desktop driver sends it.
	if r := []rune(string(name)); len(r) == 1 && r[0] >= '0' && r[0] <= '9' {
		if f := s.canvas().Focused(); f != nil {
			f.TypedRune(r[0])
		}
	}
	s.r.settle()
}

func (s *staff) typeText(text string) {
	s.t.Helper()
	f := s.canvas().Focused()
	if f == nil {
		s.t.Fatalf("counter screen %q: nothing has the focus to type %q into", s.c.Screen(), text)
	}
	for _, r := range text {
		s.keys++
		f.TypedRune(r)
	}
}

// shortcut presses a Ctrl shortcut: the window's menu item that carries
// it, as the desktop driver does before any focused widget sees it.
func (s *staff) shortcut(sc *desktop.CustomShortcut) {
	s.t.Helper()
	s.keys++
	menu := s.c.u.Window().MainMenu()
	if menu == nil {
		s.t.Fatal("the counter has no menu")
	}
	for _, m := range menu.Items {
		for _, it := range m.Items {
			if it.Shortcut != nil && it.Shortcut.ShortcutName() == sc.ShortcutName() {
				it.Action()
				s.r.settle()
				return
			}
		}
	}
	s.t.Fatalf("no menu item for %s", sc.ShortcutName())
}

// focusedIs fails unless the widget with id on the screen has the focus.
func (s *staff) focusedIs(id string) {
	s.t.Helper()
	o := s.c.Object(id)
	if o == nil {
		s.t.Fatalf("counter screen %q has no %q", s.c.Screen(), id)
	}
	if f := s.canvas().Focused(); f == nil || !contains(o, f) {
		s.t.Fatalf("counter screen %q: the focus is on %T, not in %q", s.c.Screen(), f, id)
	}
}

// contains reports whether the focusable f is drawn inside o.
func contains(o fyne.CanvasObject, f fyne.Focusable) bool {
	found := false
	walk(o, func(x fyne.CanvasObject) {
		if fo, ok := f.(fyne.CanvasObject); ok && x == fo {
			found = true
		}
	})
	return found
}

func walk(o fyne.CanvasObject, f func(fyne.CanvasObject)) {
	f(o)
	switch x := o.(type) {
	case *fyne.Container:
		for _, c := range x.Objects {
			walk(c, f)
		}
	case fyne.Widget:
		for _, c := range test.WidgetRenderer(x).Objects() {
			walk(c, f)
		}
	}
}

func newCounterRig(t *testing.T) (*kioskRig, *staff) {
	t.Helper()
	r := newRig(t)
	r.u.Window().Resize(fyne.NewSize(1280, 800))
	c := r.u.ShowCounter(CounterOptions{})
	return r, &staff{t: t, r: r, c: c}
}

// A clerk captures a birth registration at the counter with the keyboard
// only: the mother's card read while the screens show (once for the
// requester, once on the mother's section), the rest typed, Tab, digits
// for choices and Enter to go on; it ends queued in the real store with
// what was typed, and its receipt printed.
func TestCounterKeyboardOnlyBirthRegistration(t *testing.T) {
	r, s := newCounterRig(t)
	s.at("counter:procedures")
	r.u.Frame(cardEvent(t, cardDung))
	s.typeText("khai sinh")
	s.press(fyne.KeyReturn)

	s.at("counter:form:requester")
	ss := s.c.Session()
	if !ss.FromCard("requester") || !ss.FromCard("requester_residence") {
		t.Fatal("the requester's block and residence are not filled from the card read before the procedure")
	}
	s.focusedIs("field:requester_relationship")
	s.press("2") // Mẹ
	s.focusedIs("field:requester_phone")
	s.typeText("0912345678")
	s.press(fyne.KeyReturn)

	s.at("counter:form:child")
	s.focusedIs("field:child_full_name")
	s.typeText("Phạm Minh An")
	s.press(fyne.KeyReturn)
	s.focusedIs("field:child_date_of_birth")
	s.typeText("20/11/2026")
	s.press(fyne.KeyReturn)
	s.press("2") // Nữ
	s.focusedIs("field:child_ethnicity")
	s.press(fyne.KeyReturn) // Kinh, the default
	s.press(fyne.KeyReturn) // Việt Nam, the default
	s.focusedIs("field:child_place_of_birth")
	s.typeText("Bệnh viện Đa khoa Trung ương Cần Thơ")
	s.press(fyne.KeyReturn)
	s.typeText("Cần Thơ")
	s.press(fyne.KeyReturn)
	s.focusedIs("field:birth_certificate_code")
	s.typeText("GCS-2026-0457")
	s.press(fyne.KeyReturn)

	s.at("counter:form:mother")
	r.u.Frame(cardEvent(t, cardDung))
	s.at("counter:form:mother")
	if v, _ := ss.Value("mother_full_name"); v != "Phạm Thị Dung" {
		t.Fatalf("the card read on the mother's section did not fill it: %v (message %q)", v, s.c.Message())
	}
	s.focusedIs("next")
	s.press(fyne.KeyReturn)

	s.at("counter:form:father")
	for range 6 { // every field of the father's is optional: Enter through them
		s.press(fyne.KeyReturn)
	}

	s.at("counter:evidence")
	s.press(fyne.KeyReturn)
	s.at("counter:review")
	s.press(fyne.KeyReturn)
	s.at("counter:done")

	list, err := r.st.List(context.Background(), store.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].State != application.Queued {
		t.Fatalf("stored %+v, want one queued application", list)
	}
	a, err := r.st.Get(context.Background(), list[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	var form map[string]any
	if err := json.Unmarshal(a.Form, &form); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{
		"child_full_name": "Phạm Minh An", "child_date_of_birth": "2026-11-20", "child_sex": "female",
		"requester_relationship": "mother", "requester_phone": "0912345678", "child_hometown": "Cần Thơ",
		"mother_full_name": "Phạm Thị Dung", "birth_certificate_code": "GCS-2026-0457",
	} {
		if form[k] != want {
			t.Errorf("stored %s = %v, want %q", k, form[k], want)
		}
	}
	if len(r.printer.printed) != 1 || r.printer.printed[0].LocalID != a.ID {
		t.Errorf("printed %+v, want the receipt of %d", r.printer.printed, a.ID)
	}
	// Ctrl+P prints it again, wherever the focus is.
	s.shortcut(ShortcutPrint)
	if len(r.printer.printed) != 2 {
		t.Errorf("Ctrl+P printed %d receipts in all, want 2", len(r.printer.printed))
	}
	t.Logf("birth registration at the counter: %d keys (typed characters included), no pointer", s.keys)
}

// A problem stays on the section: Enter on the last field of an invalid
// section shows the error beside the field and keeps the focus there.
func TestCounterEnterOnInvalidSectionStays(t *testing.T) {
	r, s := newCounterRig(t)
	r.u.Frame(cardEvent(t, cardDung))
	s.typeText("khai sinh")
	s.press(fyne.KeyReturn)
	s.at("counter:form:requester")
	s.press("2")
	s.typeText("12345")
	s.press(fyne.KeyReturn)
	s.at("counter:form:requester")
	s.focusedIs("field:requester_phone")
	if !strings.Contains(s.c.Message(), "điện thoại") {
		t.Errorf("the message does not name the phone number: %q", s.c.Message())
	}
	s.press(fyne.KeyEscape)
	s.at("counter:procedures")
}

// Staff open the queue (Ctrl+L), see a quarantined application with the
// portal's reason, and queue it again with Enter: it is queued in the
// store, and the audit log says who did it.
func TestCounterRequeuesQuarantined(t *testing.T) {
	r, s := newCounterRig(t)
	ctx := context.Background()
	id := submitBirth(t, r)
	for _, st := range []application.State{application.Sending, application.Quarantined} {
		if err := r.st.Transition(ctx, id, st, store.Change{Actor: "uplink", Detail: "portal refused: 422 child_full_name too long",
			LastError: "portal refused: 422 child_full_name too long"}); err != nil {
			t.Fatal(err)
		}
	}
	s.shortcut(ShortcutQueue)
	s.at("counter:queue")
	s.focusedIs("requeue:" + strconv.FormatInt(id, 10))
	if got := s.c.Object("requeue:" + strconv.FormatInt(id, 10)); got == nil {
		t.Fatal("no requeue button for the quarantined application")
	}
	s.press(fyne.KeyReturn)
	a, err := r.st.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if a.State != application.Queued {
		t.Fatalf("after requeue the application is %s, want queued (message %q)", a.State, s.c.Message())
	}
	if !strings.Contains(s.c.Message(), "đưa lại vào hàng đợi") {
		t.Errorf("message %q", s.c.Message())
	}
	if s.c.Object("requeue:"+strconv.FormatInt(id, 10)) != nil {
		t.Error("the queue still offers to requeue an application that is queued")
	}
	// Reprint from the queue.
	s.focusedIs("reprint:" + strconv.FormatInt(id, 10))
	s.press(fyne.KeyReturn)
	if n := len(r.printer.printed); n == 0 || r.printer.printed[n-1].LocalID != id {
		t.Errorf("reprint from the queue printed %+v", r.printer.printed)
	}
	s.press(fyne.KeyEscape)
	s.at("counter:procedures")
}

// The status line shows delivery and each device from the hub.
func TestCounterStatusLine(t *testing.T) {
	r, s := newCounterRig(t)
	r.hub.Publish(status.Uplink{Online: false, Waiting: 3, WaitingBytes: 3 << 20})
	r.hub.Publish(status.Device{Kind: status.Printer, Name: "/dev/ttyUSB0", Connected: true, PaperLow: true})
	// Both the citizen screens and the counter follow the hub; run what
	// they post until the counter has both events.
	deadline := time.After(10 * time.Second)
	for !strings.Contains(s.c.StatusLine(), "sắp hết giấy") || !strings.Contains(s.c.StatusLine(), "chờ gửi 3") {
		r.settle()
		select {
		case <-r.queue.posted:
		case <-deadline:
			t.Fatalf("the counter took no notice of the events: %q", s.c.StatusLine())
		}
	}
	line := s.c.StatusLine()
	for _, want := range []string{"mất kết nối", "chờ gửi 3 hồ sơ (3.0 MB)", "Máy in biên nhận: ✓, sắp hết giấy"} {
		if !strings.Contains(line, want) {
			t.Errorf("status line %q lacks %q", line, want)
		}
	}
}

// submitBirth stores a birth registration through the service, as the
// kiosk would, and returns its id.
func submitBirth(t *testing.T, r *kioskRig) int64 {
	t.Helper()
	ss := r.svc.Start()
	if err := ss.Choose("birth-registration"); err != nil {
		t.Fatal(err)
	}
	if _, err := ss.ApplyCard(cardEvent(t, cardDung).Card, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := ss.ApplyCard(cardEvent(t, cardDung).Card, "mother"); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{"requester_relationship": "mother", "requester_phone": "0912345678",
		"child_full_name": "Phạm Minh An", "child_date_of_birth": "2026-11-20", "child_sex": "female",
		"child_ethnicity": "Kinh", "child_nationality": "Việt Nam", "child_place_of_birth": "Bệnh viện Đa khoa Trung ương Cần Thơ",
		"child_hometown": "Cần Thơ", "birth_certificate_code": "GCS-2026-0457", "mother_ethnicity": "Kinh", "mother_nationality": "Việt Nam"} {
		if err := ss.Set(k, v); err != nil {
			t.Fatal(k, err)
		}
	}
	sub, err := ss.Submit(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return sub.App.ID
}

// A receipt's QR code read at the counter shows that application in the
// queue, its receipt button focused, instead of the citizen's Track my
// file screen.
func TestCounterReceiptQRShowsTheApplication(t *testing.T) {
	r, s := newCounterRig(t)
	id := submitBirth(t, r)
	rc, err := r.svc.Receipt(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	s.c.Frame(device.CardEvent{Raw: []byte(rc.TrackURL), Err: errors.New("not an ID card payload")})
	s.r.settle()
	s.at("counter:queue")
	if want := "Biên nhận số " + strconv.FormatInt(id, 10) + ": Chờ gửi"; !strings.Contains(s.c.Message(), want) {
		t.Errorf("message %q, want %q", s.c.Message(), want)
	}
	s.focusedIs("reprint:" + strconv.FormatInt(id, 10))
}
