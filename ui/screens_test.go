package ui

import (
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/motcua/motcua/agent/kiosk"
	"github.com/motcua/motcua/ui/widgets"
)

// TestScreensRender pins each main citizen screen's rendering as a markup
// master in testdata/citizen (and the most used as images), so a change to
// a screen shows up in review. When a screen differs, Fyne writes what it
// drew to testdata/failed: copy it over the master once the change is
// intended.
func TestScreensRender(t *testing.T) {
	// The receipt's QR code holds the session's random key: draw a fixed
	// link instead, for the image master.
	r := newRig(t, func(cfg *kiosk.Config) {
		cfg.TrackURL = func(string, string) string { return "https://portal.example.vn/track/dev-1/0123456789abcdef" }
	})
	c := &citizen{t: t, r: r, u: r.u}
	cv := r.u.Window().Canvas()
	master := func(name string, image bool) {
		t.Helper()
		test.AssertRendersToMarkup(t, "citizen/"+name+".xml", cv)
		if image {
			test.AssertRendersToImage(t, "citizen/"+name+".png", cv)
		}
		keyboardReaches(t, r.u)
	}
	master("attract", true)
	r.frame(cardEvent(t, cardDung))
	master("language", false)
	c.tap("lang:vi")
	master("card", true)
	c.tap("card:confirm")
	master("procedures", true)
	c.tap("proc:birth-registration")
	master("form-requester", false)
	c.tap("next") // nothing chosen yet: the problems show next to the fields
	master("form-requester-errors", true)
	c.choose("requester_relationship", "mother")
	c.typeInto("requester_phone", "0912345678")
	c.tap("next")
	master("form-child", true)
	c.chip("child_full_name", "Họ Phạm …")
	c.typeInto("child_full_name", "Minh An")
	c.day("child_date_of_birth", 20)
	c.choose("child_sex", "female")
	c.chip("child_place_of_birth", "Giống: Nơi cư trú của người yêu cầu")
	c.chip("child_hometown", "Cần Thơ")
	c.tap("next")
	c.tap("same:mother")
	master("form-mother", false)
	c.tap("next")
	c.tap("next")
	master("evidence", false)
	c.tap("scan:birth_certificate")
	master("evidence-scanned", true)
	c.tap("next")
	master("review", true)
	c.tap("submit")
	master("receipt", true)
	c.tap("done")
	c.tap("track")
	master("track", false)
}

// TestScreensRenderInEnglish pins a form section in English.
func TestScreensRenderInEnglish(t *testing.T) {
	r := newRig(t)
	c := &citizen{t: t, r: r, u: r.u}
	r.frame(cardEvent(t, cardDung))
	c.tap("lang:en")
	c.tap("card:confirm")
	c.tap("proc:birth-registration")
	c.tap("next")
	test.AssertRendersToMarkup(t, "citizen/form-requester-errors-en.xml", r.u.Window().Canvas())
}

// keyboardReaches checks that the screen shown starts with the focus on
// something and that Tab reaches every enabled, visible widget a citizen
// can act on, so the screen works with a keyboard alone.
func keyboardReaches(t *testing.T, u *UI) {
	t.Helper()
	cv := u.Window().Canvas()
	if cv.Focused() == nil {
		t.Errorf("screen %s: nothing has the focus", u.Screen())
		return
	}
	want := map[fyne.Focusable]string{}
	for id, o := range u.ids {
		if fw, ok := o.(*widgets.Field); ok {
			// A field: its editor, each choice, each suggestion.
			want[fw.Focusable()] = id
			if ch := fw.ChoicesOf(); ch != nil {
				for _, v := range []string{"male", "female", "father", "mother"} {
					if tl := ch.Tile(v); tl != nil {
						want[tl] = id + "=" + v
					}
				}
			}
			for _, l := range fw.Suggestions() {
				want[fw.Suggestion(l)] = id + " chip " + l
			}
			continue
		}
		f, ok := o.(fyne.Focusable)
		if !ok || !o.Visible() {
			continue
		}
		if d, ok := o.(fyne.Disableable); ok && d.Disabled() {
			continue
		}
		want[f] = id
	}
	start := cv.Focused()
	var offset fyne.Position
	if u.scroll != nil {
		offset = u.scroll.Offset
	}
	for range 400 {
		delete(want, cv.Focused())
		test.FocusNext(cv)
		if cv.Focused() == start {
			break
		}
	}
	for _, id := range want {
		t.Errorf("screen %s: Tab never reaches %s", u.Screen(), id)
	}
	cv.Focus(start)
	if u.scroll != nil {
		u.scroll.ScrollToOffset(offset)
	}
}
