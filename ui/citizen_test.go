package ui

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/color"
	"image/jpeg"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/motcua/motcua/agent/application"
	"github.com/motcua/motcua/agent/device"
	"github.com/motcua/motcua/agent/i18n"
	"github.com/motcua/motcua/agent/identity"
	"github.com/motcua/motcua/agent/kiosk"
	"github.com/motcua/motcua/agent/procedure"
	"github.com/motcua/motcua/agent/status"
	"github.com/motcua/motcua/agent/store"
	"github.com/motcua/motcua/devices/scanner"
	"github.com/motcua/motcua/ui/widgets"
)

// The input budget of a birth registration by a citizen with an ID card
// (issue 10): at most this many taps and typed characters.
const (
	maxTaps  = 25
	maxChars = 20
)

// now is the kiosk's clock in these tests: 30 November 2026, 09:00 in
// Vietnam.
var now = time.Date(2026, 11, 30, 2, 0, 0, 0, time.UTC)

// cardDung is a synthetic card (devices/sim's): a mother registering her
// child's birth.
const cardDung = "092190005678||Phạm Thị Dung|09071990|Nữ|Ấp Thới Bình, Xã Thới An, Quận Ô Môn, Cần Thơ|12082021"

// pagedScanner is a device.Scanner that scans pages real PDFs are made
// of (grey JPEG pages, through devices/scanner's PDF writer), then stops
// with jam when it is set.
type pagedScanner struct {
	t     testing.TB
	pages int
	jam   error
	calls int
}

func (s *pagedScanner) ScanDocument(ctx context.Context) (device.Document, error) {
	s.calls++
	var pages []scanner.Encoded
	for i := range s.pages {
		img := image.NewGray(image.Rect(0, 0, 120, 170))
		for y := range 170 {
			for x := range 120 {
				img.SetGray(x, y, color.Gray{Y: uint8(255 - (x+y+40*i)%90)})
			}
		}
		var b bytes.Buffer
		if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 60}); err != nil {
			s.t.Fatal(err)
		}
		pages = append(pages, scanner.Encoded{Width: 120, Height: 170, DPI: 20, Filter: "DCTDecode", BitsPerComponent: 8, Data: b.Bytes()})
	}
	var pdf bytes.Buffer
	if len(pages) > 0 {
		if err := scanner.WritePDF(&pdf, pages); err != nil {
			s.t.Fatal(err)
		}
	}
	doc := device.Document{PDF: pdf.Bytes(), Pages: s.pages}
	if s.jam != nil {
		return doc, &device.ScanStoppedError{Pages: s.pages, Err: s.jam}
	}
	return doc, nil
}

type paperPrinter struct {
	printed []device.Receipt
	err     error
}

func (p *paperPrinter) Print(ctx context.Context, r device.Receipt) error {
	if p.err != nil {
		return p.err
	}
	p.printed = append(p.printed, r)
	return nil
}

var errJam = &i18n.Error{Code: "scanner_jammed", Msg: i18n.T(
	"Kẹt giấy trong máy quét. Mở nắp máy quét, gỡ tờ giấy ra rồi thử lại.",
	"Paper jam in the scanner. Open the cover, remove the sheet and try again.")}

// kioskRig is a kiosk on a real SQLite store and the embedded catalog,
// with a fake scanner and printer, shown in a test window.
type kioskRig struct {
	u       *UI
	st      *store.Store
	svc     *kiosk.Service
	scanner *pagedScanner
	printer *paperPrinter
	hub     *status.Hub
	clock   *time.Time
	tick    chan time.Time
	queue   *uiQueue
}

// uiQueue holds what the UI's goroutines post for the Fyne goroutine, and
// runs it on the test's goroutine.
type uiQueue struct {
	mu     sync.Mutex
	fs     []func()
	posted chan struct{} // receives when something is posted
}

func (q *uiQueue) post(f func()) {
	q.mu.Lock()
	q.fs = append(q.fs, f)
	q.mu.Unlock()
	select {
	case q.posted <- struct{}{}:
	default:
	}
}

// run runs what was posted, and reports whether there was anything.
func (q *uiQueue) run() bool {
	q.mu.Lock()
	fs := q.fs
	q.fs = nil
	q.mu.Unlock()
	for _, f := range fs {
		f()
	}
	return len(fs) > 0
}

// settle waits for the UI's slow work (scans, printing, tracking) and runs
// what it posted.
func (r *kioskRig) settle() {
	for {
		r.u.pending.Wait()
		if !r.queue.run() {
			return
		}
	}
}

func newRig(t testing.TB, configure ...func(*kiosk.Config)) *kioskRig {
	t.Helper()
	ctx := context.Background()
	a := test.NewTempApp(t)
	clock := now
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), store.FileName), store.Options{Now: func() time.Time { return clock }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cat, err := procedure.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	r := &kioskRig{st: st, scanner: &pagedScanner{t: t, pages: 2}, printer: &paperPrinter{}, hub: status.NewHub(), clock: &clock, tick: make(chan time.Time), queue: &uiQueue{posted: make(chan struct{}, 1)}}
	cfg := kiosk.Config{Store: st, Catalog: cat, Scanner: r.scanner, Printer: r.printer, Status: r.hub,
		Now: func() time.Time { return clock }, Actor: "kiosk",
		TrackURL: func(fileCode, key string) string {
			if fileCode != "" {
				return "https://portal.example.vn/track/" + fileCode
			}
			return "https://portal.example.vn/track/dev-1/" + key
		}}
	for _, f := range configure {
		f(&cfg)
	}
	r.svc = kiosk.New(cfg)
	r.u = New(a, r.svc, r.hub, Options{Now: func() time.Time { return clock }, Tick: r.tick, post: r.queue.post})
	t.Cleanup(r.u.Close)
	r.u.Window().Resize(fyne.NewSize(1024, 768))
	r.u.ShowCitizen()
	r.settle()
	return r
}

// frame delivers a card reader frame as Options.Cards does, and runs what
// it posts.
func (r *kioskRig) frame(ev device.CardEvent) {
	r.u.Frame(ev)
	r.settle()
}

// citizen drives the screens as a citizen does, counting every tap and
// every typed character.
type citizen struct {
	t     testing.TB
	r     *kioskRig
	u     *UI
	taps  int
	chars int
}

// at fails unless the screen shown is name.
func (c *citizen) at(name string) {
	c.t.Helper()
	if got := c.u.Screen(); got != name {
		c.t.Fatalf("on screen %q, want %q (banner: %q)", got, name, c.u.banner.Text)
	}
}

func (c *citizen) object(id string) fyne.CanvasObject {
	c.t.Helper()
	o := c.u.Object(id)
	if o == nil {
		c.t.Fatalf("screen %q has no %q", c.u.Screen(), id)
	}
	return o
}

// tap taps the widget with the given id on the screen shown, and waits for
// the work it starts (a scan, printing).
func (c *citizen) tap(id string) {
	c.t.Helper()
	c.tapObj(c.object(id).(fyne.Tappable), id)
}

func (c *citizen) tapObj(o fyne.Tappable, what string) {
	c.t.Helper()
	if o == nil {
		c.t.Fatalf("screen %q: nothing to tap for %s", c.u.Screen(), what)
	}
	if d, ok := o.(fyne.Disableable); ok && d.Disabled() {
		c.t.Fatalf("screen %q: %s is disabled", c.u.Screen(), what)
	}
	c.taps++
	test.Tap(o)
	c.r.settle()
}

func (c *citizen) field(key string) *widgets.Field {
	c.t.Helper()
	return c.object("field:" + key).(*widgets.Field)
}

// typeInto types s into field key's entry: a tap first unless the entry
// already has the focus.
func (c *citizen) typeInto(key, s string) {
	c.t.Helper()
	e, ok := c.field(key).Focusable().(*widgets.Entry)
	if !ok {
		c.t.Fatalf("field %s has no entry", key)
	}
	canvas := c.u.Window().Canvas()
	if canvas.Focused() != e {
		c.taps++
		canvas.Focus(e)
	}
	for _, r := range s {
		canvas.Focused().TypedRune(r)
	}
	c.chars += utf8.RuneCountInString(s)
}

// chip taps field key's suggestion chip labelled label.
func (c *citizen) chip(key, label string) {
	c.t.Helper()
	f := c.field(key)
	chip := f.Suggestion(label)
	if chip == nil {
		c.t.Fatalf("field %s offers %q, not %q", key, f.Suggestions(), label)
	}
	c.tapObj(chip, key+" chip "+label)
}

func (c *citizen) choose(key, value string) {
	c.t.Helper()
	c.tapObj(c.field(key).ChoicesOf().Tile(value), key+"="+value)
}

func (c *citizen) day(key string, day int) {
	c.t.Helper()
	c.tapObj(c.field(key).DateOf().Day(day), key+" day")
}

func cardEvent(t testing.TB, payload string) device.CardEvent {
	t.Helper()
	c, err := identity.ParseCard([]byte(payload))
	if err != nil {
		t.Fatal(err)
	}
	return device.CardEvent{Card: c, Raw: []byte(payload), At: now}
}

// registerBirth fills a birth registration up to the evidence screen: the
// mother puts her card on the reader and registers her daughter.
func registerBirth(t testing.TB, r *kioskRig, c *citizen) {
	t.Helper()
	c.at("attract")
	r.frame(cardEvent(t, cardDung))
	c.at("language")
	c.tap("lang:vi")
	c.at("card")
	c.tap("card:confirm")
	c.at("procedures")
	c.tap("proc:birth-registration")

	c.at("form:requester")
	if !c.u.ss.FromCard("requester") || !c.u.ss.FromCard("requester_residence") {
		t.Fatal("the requester's block and residence are not filled from the card")
	}
	c.choose("requester_relationship", "mother")
	c.typeInto("requester_phone", "0912345678")
	c.tap("next")

	c.at("form:child")
	c.chip("child_full_name", "Họ Phạm …")
	c.typeInto("child_full_name", "Minh An")
	c.day("child_date_of_birth", 20)
	c.choose("child_sex", "female")
	c.chip("child_place_of_birth", "Giống: Nơi cư trú của người yêu cầu")
	c.chip("child_hometown", "Cần Thơ")
	c.tap("next")

	c.at("form:mother")
	c.tap("same:mother")
	c.tap("next")

	c.at("form:father")
	c.tap("next")
	c.at("evidence")
}

// finishBirth scans the birth certificate, submits, and finishes on the
// receipt.
func finishBirth(c *citizen) {
	c.tap("scan:birth_certificate")
	c.tap("next")
	c.tap("submit")
	c.at("receipt")
	c.tap("done")
	c.at("attract")
}

// BenchmarkCitizenBirthRegistration is the whole birth registration of
// TestCitizenRegistersABirthAlone: its time on the headless driver, and
// the citizen's taps and typed characters per registration.
func BenchmarkCitizenBirthRegistration(b *testing.B) {
	var taps, chars int
	for b.Loop() {
		b.StopTimer()
		r := newRig(b)
		c := &citizen{t: b, r: r, u: r.u}
		b.StartTimer()
		registerBirth(b, r, c)
		finishBirth(c)
		taps, chars = c.taps, c.chars
	}
	b.ReportMetric(float64(taps), "taps/op")
	b.ReportMetric(float64(chars), "chars/op")
}

// TestCitizenRegistersABirthAlone walks a whole birth registration
// through the kiosk screens with an ID card, a scanner and a printer, on a
// real SQLite store and the embedded catalog, and holds it to the input
// budget of issue 10.
func TestCitizenRegistersABirthAlone(t *testing.T) {
	ctx := context.Background()
	r := newRig(t)
	c := &citizen{t: t, r: r, u: r.u}
	registerBirth(t, r, c)

	c.tap("scan:birth_certificate")
	c.at("evidence")
	if items := r.u.ss.Evidence(); len(items[0].Docs) != 1 || items[0].Docs[0].Pages != 2 {
		t.Fatalf("birth certificate docs %+v, want one of 2 pages", items[0].Docs)
	}
	if imgs := widgets.PageImages(r.u.ss.Evidence()[0].Docs[0].Content); len(imgs) != 2 || imgs[0] == nil || imgs[1] == nil {
		t.Fatalf("preview decodes %d page(s) (%v), want both", len(imgs), imgs)
	}
	c.tap("next")
	c.at("review")
	c.tap("submit")
	c.at("receipt")

	list, err := r.st.List(ctx, store.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 {
		t.Fatalf("%d applications stored, want 1", len(list))
	}
	app, err := r.st.Get(ctx, list[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if app.State != application.Queued || app.ProcedureID != "birth-registration" {
		t.Errorf("stored %s in state %s, want birth-registration queued", app.ProcedureID, app.State)
	}
	var form map[string]any
	if err := json.Unmarshal(app.Form, &form); err != nil {
		t.Fatal(err)
	}
	req, _ := form["requester"].(map[string]any)
	for k, want := range map[string]any{
		"requester_residence":    "Ấp Thới Bình, Xã Thới An, Quận Ô Môn, Cần Thơ",
		"requester_relationship": "mother",
		"child_full_name":        "Phạm Minh An",
		"child_date_of_birth":    "2026-11-20",
		"child_sex":              "female",
		"child_ethnicity":        "Kinh",
		"child_nationality":      "Việt Nam",
		"child_hometown":         "Cần Thơ",
		"mother_full_name":       "Phạm Thị Dung",
		"mother_birth_year":      "1990",
		"mother_citizen_id":      "092190005678",
	} {
		if form[k] != want {
			t.Errorf("form %s = %v, want %v", k, form[k], want)
		}
	}
	if req["citizen_id"] != "092190005678" || req["full_name"] != "Phạm Thị Dung" {
		t.Errorf("requester %v, want the card's", req)
	}
	if len(app.Attachments) != 1 || app.Attachments[0].EvidenceKey != "birth_certificate" {
		t.Fatalf("attachments %+v, want the scanned birth certificate", app.Attachments)
	}
	content, err := r.st.AttachmentContent(ctx, app.Attachments[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(widgets.PageImages(content)); n != 2 {
		t.Errorf("stored attachment has %d page(s), want the 2 scanned", n)
	}
	if len(r.printer.printed) != 1 || r.printer.printed[0].LocalID != app.ID {
		t.Errorf("printed %+v, want the receipt of application %d", r.printer.printed, app.ID)
	}
	if got := c.object("number").(*widget.Label).Text; !strings.Contains(got, "Số biên nhận") {
		t.Errorf("receipt number %q", got)
	}
	if c.u.Object("linked:permanent-residence") == nil {
		t.Error("the linked procedures are not offered")
	}
	c.tap("done")
	c.at("attract")
	if r.u.ss != nil || r.u.card != nil {
		t.Error("the session was not wiped at the end")
	}

	t.Logf("birth registration with an ID card: %d taps, %d typed characters (budget %d taps, %d characters)",
		c.taps, c.chars, maxTaps, maxChars)
	if c.taps > maxTaps || c.chars > maxChars {
		t.Errorf("input budget exceeded: %d taps (max %d), %d characters (max %d)", c.taps, maxTaps, c.chars, maxChars)
	}
}

// TestPaperJamMidScanKeepsTheAnswers jams the scanner after one page: the
// screen says so in plain Vietnamese, every answer is still there, the
// page scanned can be kept, and the application goes through.
func TestPaperJamMidScanKeepsTheAnswers(t *testing.T) {
	ctx := context.Background()
	r := newRig(t)
	c := &citizen{t: t, r: r, u: r.u}
	registerBirth(t, r, c)

	r.scanner.pages, r.scanner.jam = 1, errJam
	c.tap("scan:birth_certificate")
	c.at("evidence")
	screen := test.RenderObjectToMarkup(r.u.Window().Content())
	if !strings.Contains(screen, "Kẹt giấy trong máy quét. Mở nắp máy quét") {
		t.Errorf("the jam is not said in plain words on the screen:\n%s", screen)
	}
	for _, bad := range []string{"goroutine", ".go:", "scan stopped", "panic"} {
		if strings.Contains(screen, bad) {
			t.Errorf("the screen shows %q", bad)
		}
	}
	for k, want := range map[string]any{"child_full_name": "Phạm Minh An", "requester_phone": "0912345678", "mother_full_name": "Phạm Thị Dung"} {
		if v, _ := r.u.ss.Value(k); v != want {
			t.Errorf("after the jam %s = %v, want %v", k, v, want)
		}
	}
	if len(r.u.ss.Evidence()[0].Docs) != 0 {
		t.Fatal("the jammed scan was attached before the citizen chose to keep it")
	}
	// The citizen keeps the page scanned and goes on.
	c.tap("keep:birth_certificate")
	if docs := r.u.ss.Evidence()[0].Docs; len(docs) != 1 || docs[0].Pages != 1 {
		t.Fatalf("docs after keeping %+v, want the 1 page", docs)
	}
	// The rest of the pages, cleared of the jam, are added to it.
	r.scanner.pages, r.scanner.jam = 2, nil
	c.tap("scan-more:birth_certificate")
	if docs := r.u.ss.Evidence()[0].Docs; len(docs) != 2 || docs[0].Pages != 1 || docs[1].Pages != 2 {
		t.Fatalf("docs after scanning more %+v, want the kept page and the 2 more", docs)
	}
	c.tap("next")
	c.tap("submit")
	c.at("receipt")
	list, err := r.st.List(ctx, store.ListOptions{})
	if err != nil || len(list) != 1 {
		t.Fatalf("stored %v, %v: want the application", list, err)
	}
	app, err := r.st.Get(ctx, list[0].ID)
	if err != nil || len(app.Attachments) != 2 {
		t.Fatalf("stored attachments %v (%v), want both parts of the birth certificate", app, err)
	}
}

// TestJamRetakeReplacesThePages retakes a jammed scan: the new scan
// replaces nothing kept and is attached alone.
func TestJamRetakeReplacesThePages(t *testing.T) {
	r := newRig(t)
	c := &citizen{t: t, r: r, u: r.u}
	registerBirth(t, r, c)
	r.scanner.pages, r.scanner.jam = 1, errJam
	c.tap("scan:birth_certificate")
	r.scanner.pages, r.scanner.jam = 3, nil
	c.tap("scan:birth_certificate")
	if docs := r.u.ss.Evidence()[0].Docs; len(docs) != 1 || docs[0].Pages != 3 {
		t.Fatalf("docs %+v, want the retake's 3 pages only", docs)
	}
	// Retake a good scan: the old one goes.
	r.scanner.pages = 2
	c.tap("scan:birth_certificate")
	if docs := r.u.ss.Evidence()[0].Docs; len(docs) != 1 || docs[0].Pages != 2 {
		t.Fatalf("docs %+v, want the second retake's 2 pages only", docs)
	}
}

// TestPrinterOutOfPaperSaysWhatToDo: the application is stored, the
// screen says the printer's problem and how to keep the number, and a
// reprint works once there is paper.
func TestPrinterOutOfPaperSaysWhatToDo(t *testing.T) {
	r := newRig(t)
	c := &citizen{t: t, r: r, u: r.u}
	registerBirth(t, r, c)
	c.tap("scan:birth_certificate")
	c.tap("next")
	r.printer.err = &i18n.Error{Code: "printer_no_paper", Msg: i18n.T("Máy in hết giấy. Vui lòng báo cán bộ thay cuộn giấy.",
		"The printer is out of paper. Please ask a staff member to load a new roll.")}
	c.tap("submit")
	c.at("receipt")
	line := c.object("print-status").(*widget.Label).Text
	if !strings.Contains(line, "Máy in hết giấy") || !strings.Contains(line, "đã được lưu") {
		t.Errorf("print status %q, want the printer's problem and that the application is saved", line)
	}
	r.printer.err = nil
	c.tap("reprint")
	if len(r.printer.printed) != 1 {
		t.Errorf("printed %d receipts after the reprint, want 1", len(r.printer.printed))
	}
}

// TestTrackMyFileFindsADeliveredFile tracks a file the portal has filed,
// by its typed file code and by the receipt's QR code shown to the reader.
func TestTrackMyFileFindsADeliveredFile(t *testing.T) {
	ctx := context.Background()
	r := newRig(t)
	c := &citizen{t: t, r: r, u: r.u}
	registerBirth(t, r, c)
	c.tap("scan:birth_certificate")
	c.tap("next")
	c.tap("submit")
	id := r.u.submitted.App.ID
	c.tap("done")
	for _, to := range []application.State{application.Sending, application.Received} {
		if err := r.st.Transition(ctx, id, to, store.Change{Actor: "uplink", FileCode: "H01.22-261130-0001"}); err != nil {
			t.Fatal(err)
		}
	}

	c.at("attract")
	c.tap("track")
	c.at("track")
	c.typeInto0("track:code", "H01.22-261130-0001")
	c.tap("track:find")
	got := c.object("track:result").(*widget.Label).Text
	if !strings.Contains(got, "H01.22-261130-0001") || !strings.Contains(got, "Đăng ký khai sinh") ||
		!strings.Contains(got, application.Received.Label().VI) {
		t.Errorf("track result %q, want the file code, the procedure and its state", got)
	}

	// The receipt's QR code shown to the card reader, from the attract
	// screen: not a card, a tracking link.
	c.tap("back")
	c.at("attract")
	link := "https://portal.example.vn/track/H01.22-261130-0001"
	_, perr := identity.ParseCard([]byte(link))
	r.frame(device.CardEvent{Raw: []byte(link), Err: perr, At: now})
	r.settle()
	c.at("track")
	if got := c.object("track:result").(*widget.Label).Text; !strings.Contains(got, application.Received.Label().VI) {
		t.Errorf("track by QR result %q", got)
	}

	// A receipt printed without a link holds the file code itself.
	c.tap("back")
	code := "H01.22-261130-0001"
	_, perr = identity.ParseCard([]byte(code))
	r.frame(device.CardEvent{Raw: []byte(code), Err: perr, At: now})
	c.at("track")
	if got := c.object("track:result").(*widget.Label).Text; !strings.Contains(got, application.Received.Label().VI) {
		t.Errorf("track by a file code QR: result %q", got)
	}

	c.typeInto0("track:code", "H99")
	c.tap("track:find")
	if got := c.object("track:result").(*widget.Label).Text; !strings.Contains(got, "Không tìm thấy hồ sơ") {
		t.Errorf("unknown code result %q, want a plain not found", got)
	}
}

// typeInto0 replaces the text of the entry with the given id.
func (c *citizen) typeInto0(id, s string) {
	c.t.Helper()
	e := c.object(id).(*widgets.Entry)
	e.SetText("")
	c.u.Window().Canvas().Focus(e)
	for _, r := range s {
		e.TypedRune(r)
	}
	c.chars += utf8.RuneCountInString(s)
}

// TestIdleTimeoutWipesTheSession leaves the kiosk mid-form: after the idle
// timeout (an injected clock) the answers are gone and the attract screen
// is back; before it, nothing happens.
func TestIdleTimeoutWipesTheSession(t *testing.T) {
	r := newRig(t)
	c := &citizen{t: t, r: r, u: r.u}
	r.frame(cardEvent(t, cardDung))
	c.tap("lang:vi")
	c.tap("card:confirm")
	c.tap("proc:birth-registration")
	c.typeInto("requester_phone", "0912")
	ss := r.u.ss

	// The idle check is posted on each tick: a second tick is taken only
	// once the first one's is posted.
	check := func() { r.tick <- *r.clock; r.tick <- *r.clock; r.settle() }
	*r.clock = r.clock.Add(DefaultIdleTimeout - time.Second)
	check()
	c.at("form:requester")
	if !strings.Contains(r.u.banner.Text, "Bạn còn đó không?") {
		t.Errorf("banner %q before the timeout, want the question whether the citizen is still there", r.u.banner.Text)
	}
	// A touch keeps the session a whole timeout more.
	c.choose("requester_relationship", "mother")
	if strings.Contains(r.u.banner.Text, "Bạn còn đó không?") {
		t.Errorf("banner %q after a touch, want the question gone", r.u.banner.Text)
	}
	*r.clock = r.clock.Add(DefaultIdleTimeout - time.Second)
	check()
	c.at("form:requester")

	*r.clock = r.clock.Add(2 * time.Second)
	check()
	c.at("attract")
	if r.u.ss != nil || r.u.card != nil {
		t.Fatal("the session is still held after the idle timeout")
	}
	if ss.Procedure() != nil || ss.Card() != nil {
		t.Error("the abandoned session was not wiped")
	}
}

// TestKeyboardAlone registers the first steps with the keyboard only:
// digits pick, Enter presses the focused button, Tab moves, Escape goes
// back.
func TestKeyboardAlone(t *testing.T) {
	r := newRig(t)
	c := &citizen{t: t, r: r, u: r.u}
	cv := r.u.Window().Canvas()
	// key presses k as the desktop driver does: the key to the focused
	// widget (or the window), then, for a character key, the character
	// to whatever has the focus by then; then the UI's posted work runs.
	key := func(k fyne.KeyName) {
		t.Helper()
		if f := cv.Focused(); f != nil {
			f.TypedKey(&fyne.KeyEvent{Name: k})
		} else {
			r.u.key(&fyne.KeyEvent{Name: k})
		}
		if rs := []rune(string(k)); len(rs) == 1 {
			if f := cv.Focused(); f != nil {
				f.TypedRune(rs[0])
			}
		}
		r.settle()
	}
	key(fyne.KeyReturn) // "start without a card" has the focus
	c.at("language")
	key("1")
	c.at("card")
	key(fyne.KeyEscape)
	c.at("language")
	key(fyne.KeyReturn)
	c.at("card")
	r.frame(cardEvent(t, cardDung))
	key(fyne.KeyReturn) // confirm
	c.at("procedures")
	key("1") // the first procedure: birth registration
	c.at("form:requester")
	if v, _ := r.u.ss.Value("requester_phone"); v != nil && v != "" {
		t.Errorf("the digit that chose the procedure was typed into the phone: %q", v)
	}
	// The phone entry has the focus; Escape goes back from it.
	if _, ok := cv.Focused().(*widgets.Entry); !ok {
		t.Fatalf("focus on %T, want the phone entry", cv.Focused())
	}
	for _, r := range "0912345678" {
		cv.Focused().TypedRune(r)
	}
	if v, _ := r.u.ss.Value("requester_phone"); v != "0912345678" {
		t.Errorf("phone %v", v)
	}
	phone := cv.Focused()
	key(fyne.KeyReturn)
	if cv.Focused() == phone || cv.Focused() == nil {
		t.Error("Enter in the phone field did not move on")
	}
	if err := r.u.ss.Set("requester_phone", ""); err != nil {
		t.Fatal(err)
	}
	c.field("requester_phone").SetValue("", false)
	cv.Focus(c.field("requester_relationship").Focusable())
	key("2") // the second choice: mother
	if v, _ := r.u.ss.Value("requester_relationship"); v != "mother" {
		t.Errorf("relationship %v after the digit 2, want mother", v)
	}
	if v, _ := r.u.ss.Value("requester_phone"); v != nil && v != "" {
		t.Errorf("the digit that chose the relationship was typed into the phone: %q", v)
	}
	if cv.Focused() != c.field("requester_phone").Focusable() {
		t.Errorf("focus on %T after the choice, want the phone, the next field to type", cv.Focused())
	}
	cv.Focus(c.field("requester_relationship").Focusable())
	key(fyne.KeyEscape)
	c.at("procedures")
}

// TestReceiptShowsTheFileCodeOnceDelivered: the receipt shows the kiosk's
// number, and the portal's file code as soon as the uplink has delivered
// the application while it is still on screen.
func TestReceiptShowsTheFileCodeOnceDelivered(t *testing.T) {
	ctx := context.Background()
	r := newRig(t)
	c := &citizen{t: t, r: r, u: r.u}
	registerBirth(t, r, c)
	finishBirthTo(c, "receipt")
	number := c.object("number").(*widget.Label)
	if !strings.HasPrefix(number.Text, "Số biên nhận: ") {
		t.Fatalf("receipt number %q before delivery", number.Text)
	}
	id := r.u.submitted.App.ID
	for _, to := range []application.State{application.Sending, application.Received} {
		if err := r.st.Transition(ctx, id, to, store.Change{Actor: "uplink", FileCode: "H01.22-261130-0007"}); err != nil {
			t.Fatal(err)
		}
	}
	r.published(t, status.Uplink{Online: true, LastContact: now})
	if number.Text != "Mã hồ sơ: H01.22-261130-0007" {
		t.Errorf("receipt number %q after delivery, want the file code", number.Text)
	}
}

// finishBirthTo scans, submits and stops on screen name ("receipt").
func finishBirthTo(c *citizen, name string) {
	c.t.Helper()
	c.tap("scan:birth_certificate")
	c.tap("next")
	c.tap("submit")
	c.at(name)
}
