package ui

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/motcua/motcua/agent/device"
	"github.com/motcua/motcua/ui/widgets"
)

// screenSpeaker is a Speaker with SpeakerControls that keeps, with each
// prompt, the screen shown when it was asked for, and counts the
// controls' calls.
type screenSpeaker struct {
	u *UI

	mu      sync.Mutex
	prompts []Prompt
	screens []string
	stops   int
	mutes   []bool
	resets  int
}

func (s *screenSpeaker) Speak(p Prompt) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.prompts = append(s.prompts, p)
	s.screens = append(s.screens, s.u.Screen())
}

func (s *screenSpeaker) Stop() { s.mu.Lock(); s.stops++; s.mu.Unlock() }

func (s *screenSpeaker) Mute(m bool) { s.mu.Lock(); s.mutes = append(s.mutes, m); s.mu.Unlock() }

func (s *screenSpeaker) Reset() { s.mu.Lock(); s.resets++; s.mu.Unlock() }

// last is the last prompt asked for, and how many there were.
func (s *screenSpeaker) last() (Prompt, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.prompts) == 0 {
		return Prompt{}, 0
	}
	return s.prompts[len(s.prompts)-1], len(s.prompts)
}

func newVoiceRig(t *testing.T) (*kioskRig, *screenSpeaker, *citizen) {
	t.Helper()
	r := newRig(t)
	spk := &screenSpeaker{u: r.u}
	r.u.opts.Speaker = spk
	r.u.opts.Defaults.Voice = true
	r.u.set.Voice = true
	r.u.ShowCitizen()
	r.settle()
	return r, spk, &citizen{t: t, r: r, u: r.u}
}

// TestEachScreenSpeaksAFixedPrompt walks every citizen screen with the
// voice on: each says, as it shows, its title (or its introduction) as a
// fixed prompt, and every one of those is in FixedPrompts, so a kiosk
// renders them all ahead. The attract screen's introduction asks to be
// said again after IntroAgain.
func TestEachScreenSpeaksAFixedPrompt(t *testing.T) {
	r, spk, c := newVoiceRig(t)
	fixed := map[string]bool{}
	for _, p := range r.u.FixedPrompts() {
		fixed[p.VI], fixed[p.EN] = true, true
	}
	c.tap("track")
	c.tap("back")
	registerBirthOnScreen(t, r, c)
	c.tap("scan:birth_certificate")
	c.tap("next")
	c.at("review")
	c.tap("submit")
	c.at("receipt")

	want := []string{"attract", "track", "language", "card", "procedures", "form:requester", "form:child",
		"form:mother", "form:father", "evidence", "review", "receipt"}
	spk.mu.Lock()
	defer spk.mu.Unlock()
	first := map[string]Prompt{}
	for i, p := range spk.prompts {
		if _, ok := first[spk.screens[i]]; !ok {
			first[spk.screens[i]] = p
		}
	}
	for _, name := range want {
		p, ok := first[name]
		switch {
		case !ok:
			t.Errorf("screen %s said nothing", name)
		case p.Live:
			t.Errorf("screen %s's first prompt %q is marked live", name, p.Text.In(p.Lang))
		case !fixed[p.Text.In(p.Lang)]:
			t.Errorf("screen %s says %q, which FixedPrompts lacks", name, p.Text.In(p.Lang))
		}
	}
	if p := first["attract"]; p.Again != IntroAgain || p.Text != introAttract {
		t.Errorf("the attract screen said %+v, want its introduction again every %v", p, IntroAgain)
	}
	for i, p := range spk.prompts {
		if p.Again != 0 && spk.screens[i] != "attract" {
			t.Errorf("screen %s repeats %q", spk.screens[i], p.Text.In(p.Lang))
		}
	}
}

// TestTileWithTheCitizensDataIsSpokenLive: the tile that fills the
// mother from the requester's card carries her name; spoken as a fixed
// prompt, it would be kept in the kiosk's prompt cache.
func TestTileWithTheCitizensDataIsSpokenLive(t *testing.T) {
	r, spk, c := newVoiceRig(t)
	r.frame(cardEvent(t, cardDung))
	c.tap("lang:vi")
	c.tap("card:confirm")
	c.tap("proc:birth-registration")
	c.choose("requester_relationship", "mother")
	c.typeInto("requester_phone", "0912345678")
	c.tap("next")
	c.tap("next") // the child's section is incomplete: it stays
	r.u.showSection(2)
	r.settle()
	same := c.object("same:mother").(*widgets.Tile)
	r.u.Window().Canvas().Focus(same)
	p, _ := spk.last()
	if !strings.Contains(p.Text.VI, "Phạm Thị Dung") || !p.Live {
		t.Errorf("the tile with the card's name was spoken as %+v, want live", p)
	}
	r.u.Window().Canvas().Focus(c.object("next").(fyne.Focusable))
	if p, _ := spk.last(); p.Text.VI != "Tiếp tục" || p.Live {
		t.Errorf("the Continue tile was spoken as %+v, want a fixed prompt", p)
	}
}

// TestMuteAndReadTheScreenAgain: every citizen screen has the voice
// buttons; mute stops the prompt and says nothing more, on any screen,
// until "Nghe lại" (or F1) reads the screen again with the sound back.
// The end of the session resets the speaker.
func TestMuteAndReadTheScreenAgain(t *testing.T) {
	r, spk, c := newVoiceRig(t)
	for _, id := range []string{"voice:replay", "voice:mute"} {
		if r.u.Object(id) == nil {
			t.Fatalf("the attract screen has no %s", id)
		}
	}
	c.tap("start")
	c.at("language")
	c.tap("voice:mute")
	if len(spk.mutes) != 1 || !spk.mutes[0] {
		t.Fatalf("mute told the speaker %v, want [true]", spk.mutes)
	}
	if got := c.object("voice:mute").(*widgets.Tile).Text; got != "Bật tiếng" {
		t.Errorf("the mute button reads %q once muted, want Bật tiếng", got)
	}
	_, n := spk.last()
	c.tap("lang:vi")
	c.at("card")
	if _, m := spk.last(); m != n {
		t.Errorf("%d prompts asked for while muted", m-n)
	}
	if got := c.object("voice:mute").(*widgets.Tile).Text; got != "Bật tiếng" {
		t.Errorf("the next screen's mute button reads %q, want Bật tiếng", got)
	}
	c.tap("voice:replay")
	if len(spk.mutes) != 2 || spk.mutes[1] {
		t.Errorf("Nghe lại told the speaker %v, want the sound back", spk.mutes)
	}
	if p, m := spk.last(); m != n+1 || p.Text.In(p.Lang) != titleCardAsk.VI {
		t.Errorf("Nghe lại said %+v, want the card screen's title", p)
	}
	test.FocusNext(r.u.Window().Canvas()) // a tile is spoken as it takes the focus
	r.u.key(&fyne.KeyEvent{Name: fyne.KeyF1})
	if p, _ := spk.last(); p.Text.In(p.Lang) != titleCardAsk.VI {
		t.Errorf("F1 said %+v, want the card screen's title", p)
	}
	resets := spk.resets
	r.u.reset()
	if spk.resets != resets+1 {
		t.Error("the end of the session did not reset the speaker")
	}
}

// fakeVideo is a device.VideoPlayer that has the files named in have and
// keeps what it was asked to play; Play waits for release when it is
// set.
type fakeVideo struct {
	have    map[string]bool
	mu      sync.Mutex
	played  []string
	release chan struct{}
	err     error
}

func (v *fakeVideo) Available(file string) bool { return v.have[file] }

func (v *fakeVideo) Play(ctx context.Context, file string) (device.VideoEnd, error) {
	v.mu.Lock()
	v.played = append(v.played, file)
	v.mu.Unlock()
	if v.release != nil {
		<-v.release
	}
	return device.VideoEnd{Reason: device.VideoTapped}, v.err
}

func (v *fakeVideo) Stop(context.Context) error { return nil }

// TestVideoOfferedOnlyWithAVideoAndAPlayer: the form's first screen
// offers the procedure's video only when the procedure names one, the
// kiosk has a player, and the player has the file.
func TestVideoOfferedOnlyWithAVideoAndAPlayer(t *testing.T) {
	for _, tt := range []struct {
		name   string
		player device.VideoPlayer
		proc   string
		want   bool
	}{
		{"no player", nil, "birth-registration", false},
		{"file missing", &fakeVideo{}, "birth-registration", false},
		{"procedure without a video", &fakeVideo{have: map[string]bool{"birth-registration.mp4": true}}, "temporary-residence", false},
		{"offered", &fakeVideo{have: map[string]bool{"birth-registration.mp4": true}}, "birth-registration", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t)
			r.u.opts.Video = tt.player
			c := &citizen{t: t, r: r, u: r.u}
			c.tap("start")
			c.tap("lang:vi")
			c.tap("card:skip")
			c.tap("proc:" + tt.proc)
			if got := r.u.Object("video") != nil; got != tt.want {
				t.Fatalf("video offered: %v, want %v", got, tt.want)
			}
			if tt.want {
				r.u.showSection(1)
				r.settle()
				if r.u.Object("video") != nil {
					t.Error("the video is offered on the second section too")
				}
			}
		})
	}
}

// TestVideoPlaysAndReturnsToTheSameStep: the video plays off the Fyne
// goroutine (the screen's work goes on meanwhile, the prompt being said
// is cut off, the idle timeout does not count it), and when it ends the
// citizen is on the same step with the answers given, its title said
// again.
func TestVideoPlaysAndReturnsToTheSameStep(t *testing.T) {
	r, spk, c := newVoiceRig(t)
	v := &fakeVideo{have: map[string]bool{"birth-registration.mp4": true}, release: make(chan struct{})}
	r.u.opts.Video = v
	r.frame(cardEvent(t, cardDung))
	c.tap("lang:vi")
	c.tap("card:confirm")
	c.tap("proc:birth-registration")
	c.choose("requester_relationship", "mother")
	c.typeInto("requester_phone", "0912345678")
	stops := spk.stops
	tile := c.object("video").(*widgets.Tile)
	test.Tap(tile)
	if spk.stops != stops+1 {
		t.Error("the prompt being said was not cut off for the video")
	}
	if !tile.Disabled() {
		t.Error("the video button can be pressed again while the video plays")
	}
	*r.clock = r.clock.Add(DefaultIdleTimeout + DefaultIdleCountdown)
	r.tick <- *r.clock
	r.tick <- *r.clock
	r.queue.run()
	c.at("form:requester")
	if r.u.ss == nil || r.u.idle != nil {
		t.Fatal("the idle timeout ran while the video played")
	}
	_, n := spk.last()
	close(v.release)
	r.settle()
	c.at("form:requester")
	if !slices.Equal(v.played, []string{"birth-registration.mp4"}) {
		t.Errorf("played %v", v.played)
	}
	for key, want := range map[string]any{"requester_relationship": "mother", "requester_phone": "0912345678"} {
		if got, _ := r.u.ss.Value(key); got != want {
			t.Errorf("%s = %v after the video, want %v", key, got, want)
		}
	}
	if p, m := spk.last(); m <= n || p.Text.VI != r.u.prompt.VI {
		t.Errorf("after the video said %+v, want the screen's title", p)
	}
	if tile.Disabled() || r.u.Window().Canvas().Focused() != tile {
		t.Error("the video button is not back, with the focus")
	}

	// A video that cannot play says so; the answers stay.
	v.release, v.err = nil, errors.New("mpv failed")
	test.Tap(tile)
	r.settle()
	c.at("form:requester")
	if !strings.Contains(r.u.banner.Text, "Không phát được video") {
		t.Errorf("banner %q after a failed video", r.u.banner.Text)
	}
}

// TestEveryTileSpokenIsFixedOrLive walks the citizen screens with the
// voice on and focuses, on each, every widget in turn, as Tab does: each
// tile says its text, which is either among FixedPrompts (rendered ahead,
// so it plays at once) or on a tile marked Live, one that carries the
// citizen's data or a count, never cached. Fixed tiles such as "Bắt đầu
// không cần thẻ" were spoken live, rendered anew each time.
func TestEveryTileSpokenIsFixedOrLive(t *testing.T) {
	r, spk, c := newVoiceRig(t)
	fixed := map[string]bool{}
	for _, p := range r.u.FixedPrompts() {
		fixed[p.VI], fixed[p.EN] = true, true
	}
	spoken := 0
	sweep := func() {
		t.Helper()
		canvas := r.u.Window().Canvas()
		seen := map[fyne.Focusable]bool{}
		for range 1000 {
			test.FocusNext(canvas)
			f := canvas.Focused()
			if f == nil || seen[f] {
				break
			}
			seen[f] = true
			tile, ok := f.(*widgets.Tile)
			if !ok {
				continue
			}
			p, _ := spk.last()
			if p.Text.In(p.Lang) != tile.Text {
				t.Errorf("screen %s: the tile %q said %q as it took the focus", r.u.Screen(), tile.Text, p.Text.In(p.Lang))
				continue
			}
			spoken++
			switch {
			case tile.Live && !p.Live:
				t.Errorf("screen %s: the tile %q is marked Live but was spoken as a fixed prompt", r.u.Screen(), tile.Text)
			case !tile.Live && (p.Live || !fixed[tile.Text]):
				t.Errorf("screen %s: the tile %q is fixed text but not in FixedPrompts (spoken live: %v)", r.u.Screen(), tile.Text, p.Live)
			}
		}
	}
	for _, lang := range []string{"vi", "en"} {
		r.u.reset()
		r.settle()
		c.at("attract")
		sweep()
		c.tap("contrast") // the ticked texts
		c.tap("voice")
		c.tap("voice")
		sweep()
		c.tap("track")
		sweep()
		c.tap("back")
		c.tap("start")
		c.at("language")
		sweep()
		c.tap("lang:" + lang)
		c.at("card")
		sweep()
		r.frame(cardEvent(t, cardDung))
		sweep()
		c.tap("card:confirm")
		c.at("procedures")
		sweep()
		c.tap("proc:birth-registration")
		c.at("form:requester")
		sweep()
		c.choose("requester_relationship", "mother")
		c.keys("requester_phone", "0912345678")
		c.tap("next")
		c.at("form:child")
		sweep()
		c.chip("child_full_name", map[string]string{"vi": "Họ Phạm …", "en": "Surname Phạm …"}[lang])
		c.keys("child_full_name", "minh an")
		c.day("child_date_of_birth", 20)
		c.choose("child_sex", "female")
		c.tap("next")
		c.tap("next") // incomplete: stays
		r.u.showSection(2)
		r.settle()
		sweep()
		r.u.showSection(3)
		r.settle()
		sweep()
		r.u.showEvidence()
		r.settle()
		c.at("evidence")
		sweep()
		c.tap("scan:birth_certificate")
		sweep()
	}
	// A complete application: its review and its receipt.
	r.u.reset()
	r.settle()
	registerBirthOnScreen(t, r, c)
	c.tap("scan:birth_certificate")
	c.tap("next")
	c.at("review")
	sweep()
	c.tap("submit")
	c.at("receipt")
	sweep()
	if spoken < 100 {
		t.Errorf("only %d tiles spoken: the walk missed the screens", spoken)
	}
}
