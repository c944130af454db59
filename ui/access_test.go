package ui

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/motcua/motcua/agent/application"
	"github.com/motcua/motcua/agent/store"
	"github.com/motcua/motcua/ui/widgets"
)

// recordingSpeaker is a Speaker that keeps what it was asked to say.
type recordingSpeaker struct {
	mu      sync.Mutex
	prompts []Prompt
}

func (s *recordingSpeaker) Speak(p Prompt) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.prompts = append(s.prompts, p)
}

func (s *recordingSpeaker) said(text string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.prompts {
		if strings.Contains(p.Text.In(p.Lang), text) {
			return true
		}
	}
	return false
}

// checkIdle ticks the idle check twice: the check is posted on each
// tick, so the second tick is taken only once the first one's is posted.
func (r *kioskRig) checkIdle() { r.tick <- *r.clock; r.tick <- *r.clock; r.settle() }

// TestIdleTimeoutWipesTheSession leaves the kiosk mid-form, in English,
// at the largest text size, in high contrast, with the voice on: after 2
// minutes the question whether the citizen is still there shows, with
// its countdown and a large button, and is spoken; the button keeps the
// session. Left again, after the 45-second countdown the session ends:
// the draft is discarded, no string of the citizen's data remains in the
// widget tree, and the settings are the defaults again.
func TestIdleTimeoutWipesTheSession(t *testing.T) {
	r := newRig(t)
	spk := &recordingSpeaker{}
	r.u.opts.Speaker = spk
	r.u.ShowCitizen()
	r.settle()
	c := &citizen{t: t, r: r, u: r.u}
	c.tap("size:3")
	c.tap("contrast")
	c.tap("voice")
	r.frame(cardEvent(t, cardDung))
	c.tap("lang:en")
	c.tap("card:confirm")
	c.tap("proc:birth-registration")
	c.choose("requester_relationship", "mother")
	c.typeInto("requester_phone", "0912345678")
	ss := r.u.ss
	if !strings.Contains(strings.Join(canvasTexts(r.u.Window().Canvas()), "\n"), "0912345678") {
		t.Fatal("the walk of the widget tree does not find the phone typed")
	}

	*r.clock = r.clock.Add(DefaultIdleTimeout - time.Second)
	r.checkIdle()
	if r.u.Object("idle:here") != nil {
		t.Fatal("the idle question shows before 2 minutes")
	}
	*r.clock = r.clock.Add(time.Second)
	r.checkIdle()
	c.at("form:requester")
	here, ok := r.u.Object("idle:here").(*widgets.Tile)
	if !ok || here.Text != "I am still here" {
		t.Fatalf("after 2 minutes: the button %v, want I am still here", r.u.Object("idle:here"))
	}
	if got := r.u.idle.line.Text; !strings.Contains(got, "45 seconds") {
		t.Errorf("countdown %q, want 45 seconds", got)
	}
	if !spk.said("Are you still there?") {
		t.Errorf("the question was not spoken: %+v", spk.prompts)
	}
	if h := here.Size().Height; h < TokensFor(DefaultTokens(), Settings{Size: 3}).TapTarget-1 {
		t.Errorf("the button is %v high", h)
	}
	*r.clock = r.clock.Add(10 * time.Second)
	r.checkIdle()
	if got := r.u.idle.line.Text; !strings.Contains(got, "35 seconds") {
		t.Errorf("countdown %q 10 s later, want 35 seconds", got)
	}
	c.tap("idle:here")
	if r.u.idle != nil || r.u.ss != ss {
		t.Fatal("I am still here did not keep the session")
	}

	*r.clock = r.clock.Add(DefaultIdleTimeout + DefaultIdleCountdown - time.Second)
	r.checkIdle()
	c.at("form:requester")
	if r.u.Object("idle:here") == nil {
		t.Fatal("no question a second time")
	}
	*r.clock = r.clock.Add(time.Second)
	r.checkIdle()
	c.at("attract")
	if r.u.ss != nil || r.u.card != nil || r.u.submitted != nil || r.u.idle != nil {
		t.Fatal("the session is still held after the idle timeout")
	}
	if ss.Procedure() != nil || ss.Card() != nil {
		t.Error("the abandoned session was not wiped")
	}
	for _, data := range []string{"Dung", "092190005678", "0912345678", "Thới Bình", "1990"} {
		for _, s := range canvasTexts(r.u.Window().Canvas()) {
			if strings.Contains(s, data) {
				t.Errorf("after the wipe the screen still holds %q in %q", data, s)
			}
		}
	}
	if r.u.set != (Settings{}) || r.u.lang != "vi" {
		t.Errorf("settings %+v, language %s after the wipe: want the defaults", r.u.set, r.u.lang)
	}
	if got := fyne.CurrentApp().Settings().Theme().Size(theme.SizeNameText); got != TextSizes[0] {
		t.Errorf("text size %v after the wipe, want the default %v", got, TextSizes[0])
	}
	list, err := r.st.List(context.Background(), store.ListOptions{})
	if err != nil || len(list) != 0 {
		t.Errorf("stored %v, %v: the draft must be discarded", list, err)
	}
}

// TestReceiptReturnsToTheAttractScreen: the receipt goes back to the
// attract screen by itself 30 s after the last touch, and the submitted
// application stays queued.
func TestReceiptReturnsToTheAttractScreen(t *testing.T) {
	r := newRig(t)
	c := &citizen{t: t, r: r, u: r.u}
	registerBirth(t, r, c)
	c.tap("scan:birth_certificate")
	c.tap("next")
	c.tap("submit")
	c.at("receipt")
	*r.clock = r.clock.Add(ReceiptTimeout - time.Second)
	r.checkIdle()
	c.at("receipt")
	*r.clock = r.clock.Add(time.Second)
	r.checkIdle()
	c.at("attract")
	for _, s := range canvasTexts(r.u.Window().Canvas()) {
		if strings.Contains(s, "Phạm Minh An") || strings.Contains(s, "Số biên nhận") {
			t.Errorf("the attract screen still shows %q", s)
		}
	}
	list, err := r.st.List(context.Background(), store.ListOptions{})
	if err != nil || len(list) != 1 || list[0].State != application.Queued {
		t.Fatalf("stored %+v, %v: want the application queued", list, err)
	}
}

// canvasTexts are every text the canvas holds, shown or hidden: each
// canvas text, entry (with its placeholder), label, rich text and button,
// in the content and the overlays.
func canvasTexts(cv fyne.Canvas) []string {
	var out []string
	var walk func(o fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		switch w := o.(type) {
		case *canvas.Text:
			out = append(out, w.Text)
		case *widgets.Entry:
			out = append(out, w.Text, w.PlaceHolder)
		case *widget.Entry:
			out = append(out, w.Text, w.PlaceHolder)
		case *widget.Label:
			out = append(out, w.Text)
		case *widget.RichText:
			out = append(out, w.String())
		case *widgets.Tile:
			out = append(out, w.Text)
		case *widget.Button:
			out = append(out, w.Text)
		case *widgets.Key:
			out = append(out, w.Text)
		}
		switch w := o.(type) {
		case *fyne.Container:
			for _, c := range w.Objects {
				walk(c)
			}
		case *container.Scroll:
			walk(w.Content)
		case fyne.Widget:
			for _, c := range test.WidgetRenderer(w).Objects() {
				walk(c)
			}
		}
	}
	walk(cv.Content())
	for _, o := range cv.Overlays().List() {
		walk(o)
	}
	return out
}

// keys types s into field key's entry with the on-screen keyboard alone:
// a tap on the entry unless the keyboard already types into it, then a
// tap per key. A name's words take their capitals by themselves.
func (c *citizen) keys(key, s string) {
	c.t.Helper()
	e, ok := c.field(key).Focusable().(*widgets.Entry)
	if !ok {
		c.t.Fatalf("field %s has no entry", key)
	}
	kb := c.u.keyboard
	if kb == nil {
		c.t.Fatalf("screen %s has no on-screen keyboard", c.u.Screen())
	}
	if kb.Target() != e {
		c.tapObj(e, "field "+key)
	}
	for _, r := range s {
		id := strings.ToLower(string(r))
		if r == ' ' {
			id = "space"
		}
		k := kb.Key(id)
		if k == nil {
			c.t.Fatalf("the keyboard has no key %q", id)
		}
		c.tapObj(k, "key "+id)
	}
}

// registerBirthOnScreen is registerBirth with every character typed on
// the on-screen keyboard, after choosing the largest text size and the
// high-contrast theme on the attract screen.
func registerBirthOnScreen(t testing.TB, r *kioskRig, c *citizen) {
	t.Helper()
	c.at("attract")
	c.tap("size:3")
	c.tap("contrast")
	r.frame(cardEvent(t, cardDung))
	c.tap("lang:vi")
	c.tap("card:confirm")
	c.tap("proc:birth-registration")
	c.at("form:requester")
	c.choose("requester_relationship", "mother")
	c.keys("requester_phone", "0912345678")
	c.tap("next")
	c.at("form:child")
	c.chip("child_full_name", "Họ Phạm …")
	c.keys("child_full_name", "minh an")
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

// TestBirthRegistrationWithTheOnScreenKeyboardAlone drives the birth
// registration with the on-screen keyboard alone (no key of a physical
// keyboard), at the largest text size, in the high-contrast theme, and
// reports its taps.
func TestBirthRegistrationWithTheOnScreenKeyboardAlone(t *testing.T) {
	r := newRig(t)
	c := &citizen{t: t, r: r, u: r.u}
	registerBirthOnScreen(t, r, c)
	if got := fyne.CurrentApp().Settings().Theme().Size(theme.SizeNameText); got != TextSizes[3] || !r.u.set.HighContrast {
		t.Errorf("text size %v, high contrast %v during the session: want the largest, in high contrast", got, r.u.set.HighContrast)
	}
	for k, want := range map[string]any{"requester_phone": "0912345678", "child_full_name": "Phạm Minh An"} {
		if v, _ := r.u.ss.Value(k); v != want {
			t.Errorf("%s = %v, want %v", k, v, want)
		}
	}
	finishBirth(c)
	list, err := r.st.List(context.Background(), store.ListOptions{})
	if err != nil || len(list) != 1 || list[0].State != application.Queued {
		t.Fatalf("stored %+v, %v: want the application queued", list, err)
	}
	if c.chars != 0 {
		t.Errorf("%d characters typed on a physical keyboard, want none", c.chars)
	}
	t.Logf("birth registration with the on-screen keyboard alone, largest text, high contrast: %d taps, %d typed characters", c.taps, c.chars)
}

// TestOnScreenKeyboardComposesTelexInAForm taps n g u y e e n x on the
// on-screen keyboard into the child's name: the session holds Nguyễn.
// With the voice on, the screen's title and each key are spoken, the
// letters marked as the citizen's own data.
func TestOnScreenKeyboardComposesTelexInAForm(t *testing.T) {
	r := newRig(t)
	spk := &recordingSpeaker{}
	r.u.opts.Speaker = spk
	r.u.set.Voice = true
	c := &citizen{t: t, r: r, u: r.u}
	r.frame(cardEvent(t, cardDung))
	c.tap("lang:vi")
	c.tap("card:confirm")
	c.tap("proc:birth-registration")
	c.choose("requester_relationship", "mother")
	c.keys("requester_phone", "0912345678")
	if !r.u.keyboard.Digits() {
		t.Error("the keyboard shows letters for a phone number")
	}
	c.tap("next")
	c.keys("child_full_name", "nguyeenx thij")
	if v, _ := r.u.ss.Value("child_full_name"); v != "Nguyễn Thị" {
		t.Errorf("child_full_name %q, want Nguyễn Thị", v)
	}
	spk.mu.Lock()
	defer spk.mu.Unlock()
	var title, space, letter bool
	for _, p := range spk.prompts {
		switch {
		case p.Text.VI == "Thông tin của trẻ" && !p.Live:
			title = true
		case p.Text.VI == "dấu cách" && !p.Live:
			space = true
		case p.Text.VI == "x" && p.Live:
			letter = true
		}
	}
	if !title || !space || !letter {
		t.Errorf("spoken %+v: want the section's title, the space key, and the letter x as live data", spk.prompts)
	}
}

// BenchmarkCitizenBirthRegistrationOnScreenKeyboard is the birth
// registration of TestBirthRegistrationWithTheOnScreenKeyboardAlone: its
// time on the headless driver, and the citizen's taps per registration.
func BenchmarkCitizenBirthRegistrationOnScreenKeyboard(b *testing.B) {
	var taps, chars int
	for b.Loop() {
		b.StopTimer()
		r := newRig(b)
		c := &citizen{t: b, r: r, u: r.u}
		b.StartTimer()
		registerBirthOnScreen(b, r, c)
		finishBirth(c)
		taps, chars = c.taps, c.chars
	}
	b.ReportMetric(float64(taps), "taps/op")
	b.ReportMetric(float64(chars), "chars/op")
}
