package ui

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/motcua/motcua/agent/application"
	"github.com/motcua/motcua/agent/audit"
	"github.com/motcua/motcua/agent/device"
	roster "github.com/motcua/motcua/agent/staff"
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
	dir  *roster.Directory
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

// testPIN is the PIN of the counter tests' staff member.
const testPIN = "482913"

// newCounterRig shows the counter with a supervisor logged in through
// the login screen, as every counter test starts.
func newCounterRig(t *testing.T) (*kioskRig, *staff) {
	t.Helper()
	return newCounterRigAs(t, roster.RoleSupervisor)
}

// newCounterRigAs shows the counter on the rig's real store with one
// staff member, lan, of role, logged in with the PIN pad's entry. The
// PIN hashes with cheap argon2id parameters, to keep the tests quick.
func newCounterRigAs(t *testing.T, role roster.Role) (*kioskRig, *staff) {
	t.Helper()
	r, s := newCounterRigWith(t, func(dir *roster.Directory) {
		if _, err := dir.Add(context.Background(), "cli", "lan", "Nguyễn Thị Lan", role, testPIN); err != nil {
			t.Fatal(err)
		}
	})
	s.login("lan", testPIN)
	s.at("counter:procedures")
	s.keys = 0
	return r, s
}

// newCounterRigWith shows the counter, logged out, after setup has made
// its staff.
func newCounterRigWith(t *testing.T, setup func(*roster.Directory)) (*kioskRig, *staff) {
	t.Helper()
	r := newRig(t)
	r.u.Window().Resize(fyne.NewSize(1280, 800))
	dir := roster.New(r.st, roster.Options{Params: roster.Params{Time: 1, Memory: 64, Threads: 1},
		Now: func() time.Time { return *r.clock }})
	setup(dir)
	c := r.u.ShowCounter(CounterOptions{Staff: dir})
	r.settle()
	return r, &staff{t: t, r: r, c: c, dir: dir}
}

// login picks login on the login screen and types pin, then Enter.
func (s *staff) login(login, pin string) {
	s.t.Helper()
	s.at("counter:login")
	tile, ok := s.c.Object("staff:" + login).(fyne.Tappable)
	if !ok {
		s.t.Fatalf("the login screen offers no %q", login)
	}
	tile.Tapped(&fyne.PointEvent{})
	s.r.settle()
	s.focusedIs("pin")
	s.typeText(pin)
	s.press(fyne.KeyReturn)
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

// The shift warns after 29 minutes without input and, left alone, ends
// at 30: the member is logged out, the application being captured is
// wiped, and the logout is audited with the member's id. Input during the
// warning keeps the shift.
func TestCounterIdleWarnsAt29AndLogsOutAt30(t *testing.T) {
	r, s := newCounterRig(t)
	m, _ := s.c.Member()
	s.typeText("khai sinh")
	s.press(fyne.KeyReturn)
	s.at("counter:form:requester")

	*r.clock = r.clock.Add(28*time.Minute + 59*time.Second)
	r.checkIdle()
	if w := s.c.IdleWarning(); w != "" {
		t.Fatalf("a warning before 29 minutes: %q", w)
	}
	*r.clock = r.clock.Add(time.Second)
	r.checkIdle()
	if w := s.c.IdleWarning(); !strings.Contains(w, "60 giây") {
		t.Fatalf("at 29 minutes the warning is %q, want one saying 60 seconds", w)
	}
	// Keep working: the warning goes and the shift goes on.
	s.focusedIs("idle:stay")
	s.press(fyne.KeyReturn)
	if w := s.c.IdleWarning(); w != "" {
		t.Fatalf("the warning stays after input: %q", w)
	}
	*r.clock = r.clock.Add(29 * time.Minute)
	r.checkIdle()
	s.at("counter:form:requester")
	*r.clock = r.clock.Add(time.Minute)
	r.checkIdle()
	s.at("counter:login")
	if _, in := s.c.Member(); in || s.c.Session() != nil {
		t.Fatalf("after 30 minutes idle the member is still logged in (%v) or the session kept", in)
	}
	if !strings.Contains(s.c.Message(), "30 phút") {
		t.Errorf("message %q", s.c.Message())
	}
	// The menu does nothing while logged out.
	s.shortcut(ShortcutQueue)
	s.at("counter:login")
	evs, err := r.st.EventsBetween(context.Background(), now.Add(-time.Hour), r.clock.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, e := range evs {
		if e.Actor == m.Actor() {
			kinds = append(kinds, e.Kind)
		}
	}
	if want := []string{roster.KindLogin, roster.KindLogout}; !slices.Equal(kinds, want) {
		t.Errorf("audited by %s: %v, want %v", m.Actor(), kinds, want)
	}
	if !strings.Contains(evs[len(evs)-1].Detail, `"why":"idle"`) {
		t.Errorf("logout detail %q", evs[len(evs)-1].Detail)
	}
}

// A staff member (not a supervisor) sees a quarantined application in the
// queue without the button to send it again, and can still reprint it;
// the reprint is audited with their id.
func TestCounterStaffRoleCannotRequeue(t *testing.T) {
	r, s := newCounterRigAs(t, roster.RoleStaff)
	ctx := context.Background()
	id := submitBirth(t, r)
	for _, st := range []application.State{application.Sending, application.Quarantined} {
		if err := r.st.Transition(ctx, id, st, store.Change{Actor: "uplink", LastError: "portal refused"}); err != nil {
			t.Fatal(err)
		}
	}
	s.shortcut(ShortcutQueue)
	s.at("counter:queue")
	n := strconv.FormatInt(id, 10)
	if s.c.Object("requeue:"+n) != nil {
		t.Fatal("the queue offers a staff member to send a quarantined application again")
	}
	s.focusedIs("reprint:" + n)
	s.press(fyne.KeyReturn)
	if len(r.printer.printed) != 1 {
		t.Fatalf("printed %d receipts, want 1 (message %q)", len(r.printer.printed), s.c.Message())
	}
	m, _ := s.c.Member()
	evs, _ := r.st.Events(ctx, id)
	last := evs[len(evs)-1]
	if last.Kind != roster.KindReprint || last.Actor != m.Actor() {
		t.Errorf("last audit event %+v, want a reprint by %s", last, m.Actor())
	}
	if a, _ := r.st.Get(ctx, id); a.State != application.Quarantined {
		t.Errorf("the application is %s", a.State)
	}
}

// A supervisor's re-queue at the counter is audited with their id.
func TestCounterRequeueAuditedWithStaffID(t *testing.T) {
	r, s := newCounterRig(t)
	ctx := context.Background()
	id := submitBirth(t, r)
	for _, st := range []application.State{application.Sending, application.Quarantined} {
		if err := r.st.Transition(ctx, id, st, store.Change{Actor: "uplink", LastError: "portal refused"}); err != nil {
			t.Fatal(err)
		}
	}
	s.shortcut(ShortcutQueue)
	s.focusedIs("requeue:" + strconv.FormatInt(id, 10))
	s.press(fyne.KeyReturn)
	m, _ := s.c.Member()
	evs, _ := r.st.Events(ctx, id)
	last := evs[len(evs)-1]
	if last.To != string(application.Queued) || last.Actor != m.Actor() || m.Actor() != "staff:1" {
		t.Errorf("last audit event %+v, want the re-queue by %s", last, m.Actor())
	}
}

// Five wrong PINs at the login screen lock the member out: the right PIN
// is refused then, and the screen says why.
func TestCounterWrongPINsLockOut(t *testing.T) {
	_, s := newCounterRigWith(t, func(dir *roster.Directory) {
		if _, err := dir.Add(context.Background(), "cli", "lan", "Nguyễn Thị Lan", roster.RoleStaff, testPIN); err != nil {
			t.Fatal(err)
		}
	})
	for range roster.MaxFailures {
		s.login("lan", "000000")
	}
	s.login("lan", testPIN)
	s.at("counter:login")
	if _, in := s.c.Member(); in || !strings.Contains(s.c.Message(), "bị khoá") {
		t.Fatalf("logged in %v; message %q, want the lockout", in, s.c.Message())
	}
}

// With no staff yet, the counter shows how to add the first admin with
// motcua staff add, in both languages, and nothing else works; once one
// is added, "Check again" shows the login screen.
func TestCounterFirstRunExplainsStaffAdd(t *testing.T) {
	_, s := newCounterRigWith(t, func(*roster.Directory) {})
	s.at("counter:first-run")
	text := s.c.Object("text").(*widget.Label).Text
	for _, want := range []string{"motcua staff add --role admin", "Chưa có tài khoản cán bộ", "No staff account"} {
		if !strings.Contains(text, want) {
			t.Errorf("the first-run screen lacks %q", want)
		}
	}
	s.shortcut(ShortcutNew)
	s.at("counter:first-run")
	if _, err := s.dir.Add(context.Background(), "cli", "admin", "Quản trị", roster.RoleAdmin, testPIN); err != nil {
		t.Fatal(err)
	}
	s.press(fyne.KeyReturn)
	s.login("admin", testPIN)
	s.at("counter:procedures")
}

// A supervisor unlocks, from the counter's staff screen (Ctrl+U), a
// member locked out by wrong PINs, audited with the supervisor's id; a
// staff member is refused the screen; an admin may disable a member.
func TestCounterStaffScreenByRole(t *testing.T) {
	ctx := context.Background()
	r, s := newCounterRigWith(t, func(dir *roster.Directory) {
		for _, m := range []struct {
			login string
			role  roster.Role
		}{{"hung", roster.RoleSupervisor}, {"lan", roster.RoleStaff}, {"mai", roster.RoleAdmin}} {
			if _, err := dir.Add(ctx, "cli", m.login, "Cán bộ "+m.login, m.role, testPIN); err != nil {
				t.Fatal(err)
			}
		}
	})
	for range roster.MaxFailures {
		_, _ = s.dir.Login(ctx, "lan", "000000")
	}
	s.login("lan", testPIN)
	s.at("counter:login")

	s.login("hung", testPIN)
	s.at("counter:procedures")
	s.shortcut(ShortcutStaff)
	s.at("counter:staff")
	if s.c.Object("disable:lan") != nil {
		t.Error("a supervisor is offered to disable a member")
	}
	s.focusedIs("unlock:lan")
	s.press(fyne.KeyReturn)
	hung, _ := s.c.Member()
	if _, err := s.dir.Login(ctx, "lan", testPIN); err != nil {
		t.Fatalf("lan after the supervisor's unlock: %v (message %q)", err, s.c.Message())
	}
	evs, _ := r.st.EventsBetween(ctx, now.Add(-time.Hour), r.clock.Add(time.Hour))
	if !slices.ContainsFunc(evs, func(e audit.Event) bool {
		return e.Kind == roster.KindAdmin && e.Actor == hung.Actor() && strings.Contains(e.Detail, `"unlock"`)
	}) {
		t.Error("the unlock is not audited with the supervisor's id")
	}
	s.shortcut(ShortcutLogout)
	s.at("counter:login")

	s.login("lan", testPIN)
	s.shortcut(ShortcutStaff)
	s.at("counter:procedures")
	if !strings.Contains(s.c.Message(), "không được phép") {
		t.Errorf("a staff member's Ctrl+U: message %q", s.c.Message())
	}
	s.shortcut(ShortcutLogout)

	s.login("mai", testPIN)
	s.shortcut(ShortcutStaff)
	s.at("counter:staff")
	if s.c.Object("disable:mai") != nil {
		t.Error("an admin is offered to disable themselves")
	}
	tile, _ := s.c.Object("disable:lan").(fyne.Tappable)
	if tile == nil {
		t.Fatal("an admin is not offered to disable lan")
	}
	tile.Tapped(&fyne.PointEvent{})
	if _, err := s.dir.Login(ctx, "lan", testPIN); !errors.Is(err, roster.ErrDisabled) {
		t.Errorf("lan after the admin disabled them: %v", err)
	}
}
