package ui

import (
	"context"
	"strings"
	"testing"

	"fyne.io/fyne/v2"

	"github.com/motcua/motcua/agent/store"
	"github.com/motcua/motcua/ui/widgets"
)

// TestSearchFindsAProcedureWithoutAccents types an unaccented search: the
// birth registration is found and chosen by its tile.
func TestSearchFindsAProcedureWithoutAccents(t *testing.T) {
	r := newRig(t)
	c := &citizen{t: t, r: r, u: r.u}
	c.tap("start")
	c.tap("lang:vi")
	c.tap("card:skip")
	c.at("procedures")
	search := c.object("search").(*widgets.Entry)
	r.u.Window().Canvas().Focus(search)
	for _, ch := range "khai tu" {
		search.TypedRune(ch)
	}
	if r.u.Object("proc:death-registration") == nil || r.u.Object("proc:birth-registration") != nil {
		t.Fatalf("searching %q: death registration shown %v, birth registration shown %v", search.Text,
			r.u.Object("proc:death-registration") != nil, r.u.Object("proc:birth-registration") != nil)
	}
	c.tap("proc:death-registration")
	c.at("form:declarant")
	if r.u.ss.Card() != nil {
		t.Error("a card is set though none was read")
	}
}

// TestWaivedEvidenceAndChangeFromReview gives the electronic birth
// certificate code, so the paper one needs no scan, then changes the
// child's name from the review and comes back to it.
func TestWaivedEvidenceAndChangeFromReview(t *testing.T) {
	r := newRig(t)
	c := &citizen{t: t, r: r, u: r.u}
	registerBirth(t, r, c)
	c.tap("back") // father
	c.tap("back") // mother
	c.tap("back") // child
	c.at("form:child")
	c.typeInto("birth_certificate_code", "GCS-01-2026-004512")
	c.tap("next")
	c.tap("next")
	c.tap("next")
	c.at("evidence")
	if r.u.Object("scan:birth_certificate") != nil {
		t.Error("the waived birth certificate still asks for a scan")
	}
	if !r.u.ss.Evidence()[0].Waived {
		t.Fatal("the birth certificate is not waived by the code")
	}
	c.tap("next")
	c.at("review")
	c.tap("edit:child")
	c.at("form:child")
	e := c.field("child_full_name").Focusable().(*widgets.Entry)
	e.SetText("Phạm Minh Anh")
	c.tap("next")
	c.at("review")
	if v, _ := r.u.ss.Value("child_full_name"); v != "Phạm Minh Anh" {
		t.Errorf("child_full_name %v after the change", v)
	}
	c.tap("submit")
	c.at("receipt")
	if r.scanner.calls != 0 {
		t.Errorf("%d scans for a waived document", r.scanner.calls)
	}
}

// TestFocusScrollsIntoView: a keyboard user who tabs to a field below the
// fold sees it, and a problem on a field below the fold is scrolled to.
func TestFocusScrollsIntoView(t *testing.T) {
	r := newRig(t)
	c := &citizen{t: t, r: r, u: r.u}
	r.frame(cardEvent(t, cardDung))
	c.tap("lang:vi")
	c.tap("card:confirm")
	c.tap("proc:birth-registration")
	c.tap("next") // the relationship and the phone are missing
	if r.u.scroll.Offset.Y == 0 {
		t.Error("the screen did not scroll to the first problem, below the fold")
	}
	c.choose("requester_relationship", "mother")
	c.typeInto("requester_phone", "0912345678")
	c.tap("next")
	c.at("form:child")
	if r.u.scroll.Offset.Y != 0 {
		t.Fatalf("a new section starts scrolled to %v", r.u.scroll.Offset.Y)
	}
	hometown := c.field("child_hometown").Focusable()
	r.u.Window().Canvas().Focus(hometown)
	top := fyne.CurrentApp().Driver().AbsolutePositionForObject(hometown.(fyne.CanvasObject)).Y -
		fyne.CurrentApp().Driver().AbsolutePositionForObject(r.u.scroll.Content).Y
	if off := r.u.scroll.Offset.Y; top < off || top > off+r.u.scroll.Size().Height {
		t.Errorf("hometown at %v, view %v..%v: the focused field is out of view", top, off, off+r.u.scroll.Size().Height)
	}
}

// TestSubmitWithoutRequiredEvidenceSaysWhatIsMissing skips the required
// birth certificate: the review lists it as missing, Submit stays on the
// review saying what is missing, and nothing is stored.
func TestSubmitWithoutRequiredEvidenceSaysWhatIsMissing(t *testing.T) {
	r := newRig(t)
	c := &citizen{t: t, r: r, u: r.u}
	registerBirth(t, r, c)
	c.tap("next")
	c.at("review")
	c.tap("submit")
	c.at("review")
	if b := r.u.banner.Text; !strings.Contains(b, "Hồ sơ chưa đầy đủ") || !strings.Contains(b, "Giấy chứng sinh") {
		t.Errorf("banner %q, want that the birth certificate is missing", b)
	}
	list, err := r.st.List(context.Background(), store.ListOptions{})
	if err != nil || len(list) != 0 {
		t.Errorf("stored %v, %v: want nothing", list, err)
	}
}

// TestScreensStartAtTheTop: a screen whose focus starts on a button below
// its body (Submit) shows the body from its top.
func TestScreensStartAtTheTop(t *testing.T) {
	r := newRig(t)
	c := &citizen{t: t, r: r, u: r.u}
	registerBirth(t, r, c)
	c.tap("scan:birth_certificate")
	c.tap("next")
	c.at("review")
	if off := r.u.scroll.Offset.Y; off != 0 {
		t.Errorf("the review starts scrolled to %v", off)
	}
}
