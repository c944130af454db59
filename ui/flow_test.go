package ui

import (
	"testing"

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
