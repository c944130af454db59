package ui

import (
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/motcua/motcua/agent/device"
	"github.com/motcua/motcua/agent/i18n"
	"github.com/motcua/motcua/agent/identity"
	"github.com/motcua/motcua/agent/kiosk"
	"github.com/motcua/motcua/agent/procedure"
	"github.com/motcua/motcua/agent/status"
)

// published publishes e on the rig's hub and runs what the UI posts for
// it.
func (r *kioskRig) published(t *testing.T, e status.Event) {
	t.Helper()
	select {
	case <-r.queue.posted: // drop an earlier signal
	default:
	}
	r.hub.Publish(e)
	select {
	case <-r.queue.posted:
	case <-time.After(10 * time.Second):
		t.Fatalf("the UI took no notice of %T", e)
	}
	r.settle()
}

// TestNoScannerSaysWhatToDo: a kiosk without a scanner says so in plain
// Vietnamese, with what to do, and keeps the answers.
func TestNoScannerSaysWhatToDo(t *testing.T) {
	r := newRig(t, func(cfg *kiosk.Config) { cfg.Scanner = nil })
	c := &citizen{t: t, r: r, u: r.u}
	registerBirth(t, r, c)
	c.tap("scan:birth_certificate")
	c.at("evidence")
	screen := test.RenderObjectToMarkup(r.u.Window().Content())
	if !strings.Contains(screen, "không có máy quét") || !strings.Contains(screen, "nhờ cán bộ hỗ trợ") {
		t.Errorf("no plain sentence about the missing scanner:\n%s", screen)
	}
	if strings.Contains(screen, "no scanner") || strings.Contains(screen, "scan birth_certificate") {
		t.Error("the screen shows the error's English log text")
	}
	if v, _ := r.u.ss.Value("child_full_name"); v != "Phạm Minh An" {
		t.Errorf("child_full_name %v after the scanner error, want it kept", v)
	}
}

// TestDeviceAndPortalProblemsShowInPlainWords publishes a lost scanner, a
// printer out of paper and an unreachable portal: each shows on the
// screen as its sentence, in the citizen's language, and goes when the
// device is back; the answers stay.
func TestDeviceAndPortalProblemsShowInPlainWords(t *testing.T) {
	r := newRig(t)
	c := &citizen{t: t, r: r, u: r.u}
	r.frame(cardEvent(t, cardDung))
	c.tap("lang:vi")
	c.tap("card:confirm")
	c.tap("proc:birth-registration")
	c.typeInto("requester_phone", "0912345678")

	lost := i18n.T("Mất kết nối với máy quét. Kiểm tra dây cáp hoặc nhờ cán bộ hỗ trợ.", "The scanner is disconnected. Check its cable or ask a staff member.")
	paper := i18n.T("Máy in hết giấy. Vui lòng báo cán bộ thay cuộn giấy.", "The printer is out of paper. Please ask a staff member.")
	portal := i18n.T("Không kết nối được cổng dịch vụ công. Hồ sơ vẫn được lưu trên máy và sẽ tự gửi khi có mạng.",
		"The portal cannot be reached. Applications are kept here and sent when the link is back.")
	r.published(t, status.Device{Kind: status.Scanner, Name: "test:0", Problem: lost})
	r.published(t, status.Device{Kind: status.Printer, Name: "/dev/ttyUSB0", Connected: true, Problem: paper})
	r.published(t, status.Uplink{Problem: portal})
	for _, want := range []i18n.Text{lost, paper, portal} {
		if !strings.Contains(r.u.banner.Text, want.VI) || r.u.banner.Hidden {
			t.Errorf("banner %q (hidden %v), want %q", r.u.banner.Text, r.u.banner.Hidden, want.VI)
		}
	}
	r.published(t, status.Device{Kind: status.Scanner, Name: "test:0", Connected: true})
	if strings.Contains(r.u.banner.Text, lost.VI) {
		t.Errorf("banner %q still shows the scanner's problem after it came back", r.u.banner.Text)
	}
	c.at("form:requester")
	if v, _ := r.u.ss.Value("requester_phone"); v != "0912345678" {
		t.Errorf("phone %v after the device events, want it kept", v)
	}
}

// TestSecondCardFillsTheFather: on the father's section, a second card is
// the father's: it fills that section, not the requester's.
func TestSecondCardFillsTheFather(t *testing.T) {
	r := newRig(t)
	c := &citizen{t: t, r: r, u: r.u}
	registerBirth(t, r, c)
	c.tap("back")
	c.at("form:father")
	r.frame(cardEvent(t, "001095012345|012345678|Nguyễn Văn An|15081995|Nam|Số 12 ngõ 34 Láng Hạ, Phường Thành Công, Quận Ba Đình, Hà Nội|20042021"))
	c.at("form:father")
	for k, want := range map[string]string{"father_full_name": "Nguyễn Văn An", "father_birth_year": "1995", "father_citizen_id": "001095012345"} {
		if got := c.field(k).Text(); got != want {
			t.Errorf("%s shows %q, want %q", k, got, want)
		}
	}
	if got := r.u.ss.Card().Name; got != "Phạm Thị Dung" {
		t.Errorf("requester's card is now %s's", got)
	}
}

// TestLinkedProcedureStartsPrefilled: after the receipt, a linked
// procedure starts with the requester's card and answers.
func TestLinkedProcedureStartsPrefilled(t *testing.T) {
	r := newRig(t)
	c := &citizen{t: t, r: r, u: r.u}
	registerBirth(t, r, c)
	c.tap("scan:birth_certificate")
	c.tap("next")
	c.tap("submit")
	c.tap("linked:permanent-residence")
	c.at("form:applicant")
	if !r.u.ss.FromCard("applicant") {
		t.Error("the linked procedure's applicant is not filled from the card")
	}
	if got := c.field("applicant_phone").Text(); got != "0912345678" {
		t.Errorf("applicant_phone shows %q, want the phone given for the birth", got)
	}
}

// TestBannerFollowsTheLanguage: a problem published before the citizen
// chose English reads in English once they have.
func TestBannerFollowsTheLanguage(t *testing.T) {
	r := newRig(t)
	c := &citizen{t: t, r: r, u: r.u}
	lost := i18n.T("Mất kết nối với máy quét.", "The scanner is disconnected.")
	r.published(t, status.Device{Kind: status.Scanner, Name: "test:0", Problem: lost})
	if !strings.Contains(r.u.banner.Text, lost.VI) {
		t.Fatalf("banner %q on the attract screen, want %q", r.u.banner.Text, lost.VI)
	}
	c.tap("start")
	c.tap("lang:en")
	if r.u.banner.Text != lost.EN {
		t.Errorf("banner %q in English, want %q", r.u.banner.Text, lost.EN)
	}
}

// TestCardOnTheReceiptStartsTheNextCitizen: the next citizen's card, put
// on the reader while the last receipt is still shown, starts a new
// session with it instead of changing the one just submitted.
func TestCardOnTheReceiptStartsTheNextCitizen(t *testing.T) {
	r := newRig(t)
	c := &citizen{t: t, r: r, u: r.u}
	registerBirth(t, r, c)
	c.tap("scan:birth_certificate")
	c.tap("next")
	c.tap("submit")
	c.at("receipt")
	first := r.u.ss
	r.frame(cardEvent(t, "001095012345|012345678|Nguyễn Văn An|15081995|Nam|Số 12 ngõ 34 Láng Hạ, Phường Thành Công, Quận Ba Đình, Hà Nội|20042021"))
	c.at("language")
	if r.u.ss != nil || r.u.card == nil || r.u.card.Name != "Nguyễn Văn An" {
		t.Errorf("after the next card: session %v, card %v; want no session yet and An's card", r.u.ss, r.u.card)
	}
	if first.Procedure() != nil {
		t.Error("the previous citizen's session was not wiped")
	}
}

// TestBadCardSaysWhatIsWrong shows a card whose ID disagrees with its
// date of birth, and a garbled frame: each is said on the screen with
// what to do, and nothing is filled.
func TestBadCardSaysWhatIsWrong(t *testing.T) {
	for _, tc := range []struct{ name, payload, want string }{
		{"inconsistent", "092190005678||Phạm Thị Dung|09071991|Nữ|Ấp Thới Bình, Cần Thơ|12082021", "Số định danh"},
		{"garbled", "092190005678 Phạm Thị Dung", "không đúng định dạng"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t)
			c := &citizen{t: t, r: r, u: r.u}
			c.tap("start")
			c.tap("lang:vi")
			c.at("card")
			_, err := identity.ParseCard([]byte(tc.payload))
			if err == nil {
				t.Fatal("the bad payload parses")
			}
			r.frame(device.CardEvent{Raw: []byte(tc.payload), Err: err, At: now})
			c.at("card")
			if r.u.card != nil {
				t.Error("a bad card was taken")
			}
			if b := r.u.banner.Text; !strings.Contains(b, tc.want) || !strings.Contains(b, "nhờ cán bộ hỗ trợ") {
				t.Errorf("banner %q, want what is wrong (%q) and what to do", b, tc.want)
			}
		})
	}
}

// TestCardOnAnotherPersonsSectionFillsThatPerson: in a marriage
// registration the bride's card fills her block; the groom's card, shown
// on his section, fills his block and leaves the bride's alone.
func TestCardOnAnotherPersonsSectionFillsThatPerson(t *testing.T) {
	r := newRig(t)
	c := &citizen{t: t, r: r, u: r.u}
	r.frame(cardEvent(t, cardDung))
	c.tap("lang:vi")
	c.tap("card:confirm")
	c.tap("proc:marriage-registration")
	c.at("form:party_one")
	c.tap("next")
	c.at("form:party_two")
	r.frame(cardEvent(t, "001095012345|012345678|Nguyễn Văn An|15081995|Nam|Số 12 ngõ 34 Láng Hạ, Phường Thành Công, Quận Ba Đình, Hà Nội|20042021"))
	c.at("form:party_two")
	groom, _ := r.u.ss.Value("groom")
	bride, _ := r.u.ss.Value("bride")
	if g, _ := groom.(procedure.PersonValue); g.CitizenID != "001095012345" {
		t.Errorf("groom %+v, want An from the second card", groom)
	}
	if b, _ := bride.(procedure.PersonValue); b.CitizenID != "092190005678" {
		t.Errorf("bride %+v, want Dung still", bride)
	}
	if r.u.ss.Card().Name != "Phạm Thị Dung" {
		t.Errorf("the requester's card is now %s's", r.u.ss.Card().Name)
	}
}
