package ui

import (
	"fmt"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/motcua/motcua/ui/widgets"
)

// minTarget is the smallest tap target, and minGap the least space
// between two, in pixels.
const (
	minTarget = 48
	minGap    = 4
)

// TestTouchTargetsAndNothingClipped walks the widget tree of every citizen
// screen at every text size, and at the largest in high contrast: every
// tappable thing is at least 48 px both ways with a gap to the next one,
// no widget is drawn smaller than it needs (clipped text), and nothing
// sticks out of the window's width.
func TestTouchTargetsAndNothingClipped(t *testing.T) {
	var settings []Settings
	for i := range TextSizes {
		settings = append(settings, Settings{Size: i})
	}
	settings = append(settings, Settings{Size: len(TextSizes) - 1, HighContrast: true})
	for _, set := range settings {
		t.Run(fmt.Sprintf("size%d-contrast%v", set.Size, set.HighContrast), func(t *testing.T) {
			r := newRig(t)
			r.u.opts.Defaults = set
			r.u.ShowCitizen()
			r.u.set = set
			r.u.applySettings()
			r.u.ShowCitizen()
			r.settle()
			c := &citizen{t: t, r: r, u: r.u}
			check := func() {
				t.Helper()
				r.settle()
				checkLayout(t, r.u)
			}
			check()
			walkBirth(t, r, c, check)
		})
	}
}

// walkBirth goes through every screen of a birth registration, Track my
// file and the idle question, calling check on each.
func walkBirth(t *testing.T, r *kioskRig, c *citizen, check func()) {
	t.Helper()
	r.frame(cardEvent(t, cardDung))
	check()
	c.tap("lang:vi")
	check()
	c.tap("card:confirm")
	check()
	c.tap("proc:birth-registration")
	check()
	c.tap("next") // the problems shown
	check()
	c.choose("requester_relationship", "mother")
	c.typeInto("requester_phone", "0912345678")
	c.tap("next")
	check()
	c.chip("child_full_name", "Họ Phạm …")
	c.typeInto("child_full_name", "Minh An")
	c.day("child_date_of_birth", 20)
	c.choose("child_sex", "female")
	c.chip("child_place_of_birth", "Giống: Nơi cư trú của người yêu cầu")
	c.chip("child_hometown", "Cần Thơ")
	c.tap("next")
	check()
	c.tap("same:mother")
	check()
	c.tap("next")
	check()
	c.tap("next")
	check()
	c.tap("scan:birth_certificate")
	check()
	c.tap("next")
	check()
	*r.clock = r.clock.Add(r.u.opts.IdleTimeout)
	r.checkIdle()
	check()
	c.tap("idle:here")
	c.tap("submit")
	check()
	c.tap("done")
	c.tap("track")
	check()
}

// box is a widget's place in the window, and the scroll it is drawn in.
type box struct {
	o      fyne.CanvasObject
	pos    fyne.Position
	size   fyne.Size
	scroll *container.Scroll // nil: the window itself
	hscrol bool              // in a horizontal scroll: may reach past the window
}

func checkLayout(t *testing.T, u *UI) {
	t.Helper()
	cv := u.Window().Canvas()
	// The rig's window, as a full-screen kiosk's: a canvas grows to what
	// its content asks for while a screen is built (a wrapped label asks
	// for its whole line until it has its width), and a full-screen
	// window does not. What is checked is the screen laid out in it.
	const width = 1024
	u.Window().Resize(fyne.NewSize(width, 768))
	u.relayout()
	if got := cv.Size(); got.Width > width {
		t.Errorf("screen %s: the window is %v: its content needs more than %v px", u.Screen(), got, width)
	}
	var taps, texts []box
	var walk func(o fyne.CanvasObject, at fyne.Position, sc *container.Scroll, hs bool)
	walk = func(o fyne.CanvasObject, at fyne.Position, sc *container.Scroll, hs bool) {
		if !o.Visible() {
			return
		}
		pos := at.Add(o.Position())
		b := box{o: o, pos: pos, size: o.Size(), scroll: sc, hscrol: hs}
		if _, ok := o.(fyne.Widget); ok {
			m := o.MinSize()
			if o.Size().Width+0.5 < m.Width || o.Size().Height+0.5 < m.Height {
				t.Errorf("screen %s: %s is %v, smaller than it needs (%v): clipped", u.Screen(), describe(o), o.Size(), m)
			}
		}
		if !hs && pos.X+o.Size().Width > width+0.5 {
			t.Errorf("screen %s: %s reaches x=%v, past the window's %v", u.Screen(), describe(o), pos.X+o.Size().Width, width)
		}
		switch w := o.(type) {
		case *widgets.Tile, *widgets.Key, *widgets.Entry, *widget.Button:
			taps = append(taps, b)
			return
		case *widget.Label:
			texts = append(texts, b)
			return
		case *fyne.Container:
			for _, c := range w.Objects {
				walk(c, pos, sc, hs)
			}
		case *container.Scroll:
			off := pos.Subtract(w.Offset)
			walk(w.Content, off, w, hs || w.Direction == container.ScrollHorizontalOnly || w.Direction == container.ScrollBoth)
		case fyne.Widget:
			for _, c := range test.WidgetRenderer(w).Objects() {
				walk(c, pos, sc, hs)
			}
		}
	}
	walk(cv.Content(), fyne.Position{}, nil, false)
	for _, o := range cv.Overlays().List() {
		walk(o, fyne.Position{}, nil, false)
	}
	for _, b := range taps {
		if b.size.Width < minTarget || b.size.Height < minTarget {
			t.Errorf("screen %s: %s is %v: a tap target must be %v px or more", u.Screen(), describe(b.o), b.size, minTarget)
		}
	}
	all := append(append([]box{}, taps...), texts...)
	for i, a := range all {
		for j := i + 1; j < len(all); j++ {
			b := all[j]
			if a.scroll != b.scroll {
				continue
			}
			gapX := max(b.pos.X-(a.pos.X+a.size.Width), a.pos.X-(b.pos.X+b.size.Width))
			gapY := max(b.pos.Y-(a.pos.Y+a.size.Height), a.pos.Y-(b.pos.Y+b.size.Height))
			gap := max(gapX, gapY)
			switch {
			case gap < 0:
				t.Errorf("screen %s: %s at %v and %s at %v overlap", u.Screen(), describe(a.o), a.pos, describe(b.o), b.pos)
			case i < len(taps) && j < len(taps) && gap < minGap:
				t.Errorf("screen %s: %s and %s are %v px apart: want a gap of %v px", u.Screen(), describe(a.o), describe(b.o), gap, minGap)
			}
		}
	}
}

func describe(o fyne.CanvasObject) string {
	switch w := o.(type) {
	case *widgets.Tile:
		return fmt.Sprintf("tile %q", w.Text)
	case *widgets.Key:
		return fmt.Sprintf("key %q", w.Text)
	case *widgets.Entry:
		return fmt.Sprintf("entry %q", w.Text)
	case *widget.Label:
		return fmt.Sprintf("label %q", w.Text)
	}
	return fmt.Sprintf("%T", o)
}
