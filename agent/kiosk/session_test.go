package kiosk

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/motcua/motcua/agent/i18n"
	"github.com/motcua/motcua/agent/identity"
	"github.com/motcua/motcua/agent/procedure"
)

// Sample ID card payloads, as the card reader delivers them.
const (
	cardAn   = "001095012345|012345678|Nguyễn Văn An|15081995|Nam|Số 12 ngõ 34 Láng Hạ, Phường Thành Công, Quận Ba Đình, Hà Nội|20042021"
	cardBinh = "079304000123||Trần Thị Bình|02112004|Nữ|123 Lê Lợi, Phường Bến Thành, Quận 1, TP Hồ Chí Minh|10072022"
)

// today is the capture day of every test.
var today = time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)

func card(t *testing.T, payload string) identity.Card {
	t.Helper()
	c, err := identity.ParseCard([]byte(payload))
	if err != nil {
		t.Fatalf("ParseCard(%q): %v", payload, err)
	}
	return c
}

func catalog(t *testing.T) *procedure.Catalog {
	t.Helper()
	cat, err := procedure.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

// offline is a service with the real catalog and no store, for the
// session's logic.
func offline(t *testing.T) *Service {
	return New(Config{Catalog: catalog(t), Now: func() time.Time { return today }})
}

func chosen(t *testing.T, s *Service, id string) *Session {
	t.Helper()
	ss := s.Start()
	if err := ss.Choose(id); err != nil {
		t.Fatal(err)
	}
	return ss
}

func TestChoose(t *testing.T) {
	tests := []struct {
		idOrCode string
		want     string
		err      error
	}{
		{"birth-registration", "birth-registration", nil},
		{"1.001193", "birth-registration", nil},
		{"1.004222", "permanent-residence", nil},
		{"no-such-thing", "", ErrNoProcedure},
		{"", "", ErrNoProcedure},
	}
	for _, tt := range tests {
		ss := offline(t).Start()
		err := ss.Choose(tt.idOrCode)
		if !errors.Is(err, tt.err) {
			t.Errorf("Choose(%q) = %v, want %v", tt.idOrCode, err, tt.err)
		}
		got := ""
		if ss.Procedure() != nil {
			got = ss.Procedure().ID
		}
		if got != tt.want {
			t.Errorf("Choose(%q): procedure %q, want %q", tt.idOrCode, got, tt.want)
		}
	}
}

func TestCallsBeforeChooseSayNoProcedure(t *testing.T) {
	ss := offline(t).Start()
	if _, err := ss.ApplyCard(card(t, cardAn), ""); !errors.Is(err, ErrNoProcedure) {
		t.Errorf("ApplyCard = %v, want ErrNoProcedure", err)
	}
	if err := ss.Set("requester_phone", "0912345678"); !errors.Is(err, ErrNoProcedure) {
		t.Errorf("Set = %v, want ErrNoProcedure", err)
	}
	if errs := ss.ValidateStep("requester"); len(errs) != 1 || errs[0].Code != "no_procedure" {
		t.Errorf("ValidateStep = %v, want no_procedure", errs)
	}
	if ss.Steps() != nil || ss.Evidence() != nil {
		t.Error("Steps or Evidence not nil before Choose")
	}
}

func TestApplyCard(t *testing.T) {
	an := card(t, cardAn)
	tests := []struct {
		name, procedure, target string
		want                    []string // the keys filled
		values                  map[string]any
		err                     string // an error code
	}{
		{name: "requester of a birth registration", procedure: "birth-registration",
			want: []string{"requester", "requester_residence"},
			values: map[string]any{
				"requester": procedure.PersonValue{FullName: "Nguyễn Văn An", DateOfBirth: "1995-08-15",
					CitizenID: "001095012345", Sex: "male"},
				"requester_residence": an.Address,
			}},
		{name: "father of a birth registration, scalar fields", procedure: "birth-registration", target: "father",
			want: []string{"father_full_name", "father_birth_year", "father_citizen_id", "father_residence"},
			values: map[string]any{"father_full_name": "Nguyễn Văn An", "father_birth_year": "1995",
				"father_citizen_id": "001095012345", "father_residence": an.Address}},
		{name: "requester of a marriage fills the first party only", procedure: "marriage-registration",
			want: []string{"bride", "bride_residence"}},
		{name: "groom's block and residence", procedure: "marriage-registration", target: "groom",
			want: []string{"groom", "groom_residence"}},
		{name: "id card reissue: old id and issue date", procedure: "id-card-reissue",
			want:   []string{"applicant", "old_id", "card_issue_date", "applicant_residence"},
			values: map[string]any{"old_id": "012345678", "card_issue_date": "2021-04-20"}},
		{name: "unknown target", procedure: "birth-registration", target: "uncle", err: "unknown_target"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ss := chosen(t, offline(t), tt.procedure)
			got, err := ss.ApplyCard(an, tt.target)
			if tt.err != "" {
				if code := errCode(err); code != tt.err {
					t.Fatalf("ApplyCard = %v (code %q), want code %q", err, code, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("filled %v, want %v", got, tt.want)
			}
			for k, want := range tt.values {
				if v, _ := ss.Value(k); v != want {
					t.Errorf("%s = %#v, want %#v", k, v, want)
				}
			}
			for _, k := range got {
				if !ss.FromCard(k) {
					t.Errorf("FromCard(%s) = false after the card filled it", k)
				}
			}
			if (ss.Card() != nil) != (tt.target == "") {
				t.Errorf("Card() = %v: only a requester's card is the session's card", ss.Card())
			}
		})
	}
}

// A second card, for the other party, fills its own block and leaves the
// requester's as the first card filled it.
func TestSecondCardFillsTheOtherParty(t *testing.T) {
	ss := chosen(t, offline(t), "marriage-registration")
	if _, err := ss.ApplyCard(card(t, cardBinh), ""); err != nil {
		t.Fatal(err)
	}
	if _, err := ss.ApplyCard(card(t, cardAn), "groom"); err != nil {
		t.Fatal(err)
	}
	bride, _ := ss.Value("bride")
	groom, _ := ss.Value("groom")
	if bride.(procedure.PersonValue).FullName != "Trần Thị Bình" || groom.(procedure.PersonValue).FullName != "Nguyễn Văn An" {
		t.Errorf("bride %v, groom %v", bride, groom)
	}
	if ss.Card().Name != "Trần Thị Bình" {
		t.Errorf("Card() is %s's, want the requester's", ss.Card().Name)
	}
}

func TestFromCardFalseOnceChanged(t *testing.T) {
	ss := chosen(t, offline(t), "birth-registration")
	if _, err := ss.ApplyCard(card(t, cardAn), ""); err != nil {
		t.Fatal(err)
	}
	if err := ss.Set("requester_residence", "Thôn 3, Xã Yên Thường, Hà Nội"); err != nil {
		t.Fatal(err)
	}
	if ss.FromCard("requester_residence") {
		t.Error("FromCard true for a value the citizen changed")
	}
	if !ss.FromCard("requester") {
		t.Error("FromCard false for the untouched block")
	}
	if ss.FromCard("requester_phone") {
		t.Error("FromCard true for a field the card does not fill")
	}
}

func TestSet(t *testing.T) {
	tests := []struct {
		key   string
		v     any
		ok    bool
		isSet bool
	}{
		{"requester_phone", "0912345678", true, true},
		{"requester_phone", "", true, false},
		{"requester_phone", nil, true, false},
		{"requester", procedure.PersonValue{FullName: "Nguyễn Văn An"}, true, true},
		{"requester", procedure.PersonValue{}, true, false},
		{"requester", "Nguyễn Văn An", false, false},
		{"requester_phone", procedure.PersonValue{FullName: "x"}, false, false},
		{"requester_phone", 912345678, false, false},
		{"no_such_field", "x", false, false},
	}
	for _, tt := range tests {
		ss := chosen(t, offline(t), "birth-registration")
		err := ss.Set(tt.key, tt.v)
		if (err == nil) != tt.ok {
			t.Errorf("Set(%s, %#v) = %v, want ok %v", tt.key, tt.v, err, tt.ok)
		}
		if _, set := ss.Value(tt.key); set != tt.isSet {
			t.Errorf("Set(%s, %#v): Value set %v, want %v", tt.key, tt.v, set, tt.isSet)
		}
	}
}

func TestValidateStep(t *testing.T) {
	tests := []struct {
		name    string
		section string
		card    bool
		set     map[string]any
		want    []string // fields with problems
	}{
		{name: "empty requester step", section: "requester",
			want: []string{"requester", "requester_residence", "requester_relationship", "requester_phone"}},
		{name: "requester from the card, two left", section: "requester", card: true,
			want: []string{"requester_relationship", "requester_phone"}},
		{name: "requester complete", section: "requester", card: true,
			set: map[string]any{"requester_relationship": "father", "requester_phone": "0912 345 678"}},
		{name: "bad phone, and other sections' empty fields are not this step's", section: "requester", card: true,
			set:  map[string]any{"requester_relationship": "father", "requester_phone": "12345"},
			want: []string{"requester_phone"}},
		{name: "father is optional", section: "father"},
		{name: "a bad value in an optional section", section: "father",
			set: map[string]any{"father_birth_year": "95"}, want: []string{"father_birth_year"}},
		{name: "child born in the future", section: "child",
			set: map[string]any{"child_full_name": "Nguyễn Minh Khang", "child_date_of_birth": "2027-01-01",
				"child_sex": "male", "child_ethnicity": "Kinh", "child_nationality": "Việt Nam",
				"child_place_of_birth": "Bệnh viện Phụ sản Hà Nội", "child_hometown": "Hà Nội"},
			want: []string{"child_date_of_birth"}},
		{name: "unknown section", section: "pets", want: []string{""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ss := chosen(t, offline(t), "birth-registration")
			if tt.card {
				if _, err := ss.ApplyCard(card(t, cardAn), ""); err != nil {
					t.Fatal(err)
				}
			}
			for k, v := range tt.set {
				if err := ss.Set(k, v); err != nil {
					t.Fatal(err)
				}
			}
			errs := ss.ValidateStep(tt.section)
			var got []string
			for _, e := range errs {
				got = append(got, e.Field)
				if e.Message.VI == "" || e.Message.EN == "" {
					t.Errorf("%s: message not bilingual: %+v", e.Field, e.Message)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("ValidateStep(%s) fields %v, want %v (%v)", tt.section, got, tt.want, errs)
			}
		})
	}
}

func TestEvidenceWaivedByField(t *testing.T) {
	ss := chosen(t, offline(t), "birth-registration")
	waived := func() bool {
		for _, e := range ss.Evidence() {
			if e.Evidence.Key == "birth_certificate" {
				return e.Waived
			}
		}
		t.Fatal("no birth_certificate evidence")
		return false
	}
	if waived() {
		t.Error("birth certificate waived before its code is filled")
	}
	if err := ss.Set("birth_certificate_code", "GCS-01-2026-004512"); err != nil {
		t.Fatal(err)
	}
	if !waived() {
		t.Error("birth certificate not waived once its code is filled")
	}
}

func TestAttachDetach(t *testing.T) {
	ss := chosen(t, offline(t), "birth-registration")
	pdf := []byte("%PDF-1.4 page")
	if err := ss.Attach("birth_certificate", Doc{Content: pdf, MediaType: "application/pdf"}); err != nil {
		t.Fatal(err)
	}
	if err := ss.Attach("birth_certificate", Doc{Name: "second.pdf", Content: pdf}); err != nil {
		t.Fatal(err)
	}
	if code := errCode(ss.Attach("passport", Doc{Content: pdf})); code != "unknown_evidence" {
		t.Errorf("Attach(passport): code %q, want unknown_evidence", code)
	}
	if code := errCode(ss.Attach("birth_certificate", Doc{Name: "empty.pdf"})); code != "empty_attachment" {
		t.Errorf("Attach(empty): code %q, want empty_attachment", code)
	}
	docs := ss.Evidence()[0].Docs
	if len(docs) != 2 || docs[0].Name != "birth_certificate-1" || docs[1].Name != "second.pdf" {
		t.Fatalf("docs %+v", docs)
	}
	if err := ss.Detach("birth_certificate", 0); err != nil {
		t.Fatal(err)
	}
	if docs := ss.Evidence()[0].Docs; len(docs) != 1 || docs[0].Name != "second.pdf" {
		t.Errorf("after Detach(0): %+v", docs)
	}
	if err := ss.Detach("birth_certificate", 1); !errors.Is(err, ErrNotFound) {
		t.Errorf("Detach(1) of one = %v, want ErrNotFound", err)
	}
}

func TestSearch(t *testing.T) {
	tests := []struct {
		query string
		want  []string
	}{
		{"khai sinh", []string{"birth-registration", "birth-bundle"}},
		{"KHAI SINH", []string{"birth-registration", "birth-bundle"}},
		{"đăng ký khai sinh", []string{"birth-registration"}},
		{"dang ky khai tu", []string{"death-registration"}},
		{"Dang Ky Khai Tu", []string{"death-registration"}},
		{"1.001193", []string{"birth-registration"}},
		{"marriage", []string{"marriage-registration"}},
		{"không có", nil},
	}
	s := offline(t)
	for _, tt := range tests {
		var got []string
		for _, p := range s.Search(tt.query) {
			got = append(got, p.ID)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("Search(%q) = %v, want %v", tt.query, got, tt.want)
		}
	}
	if n := len(s.Search("  ")); n != len(s.Catalog().Procedures) {
		t.Errorf("Search(blank) found %d, want all %d", n, len(s.Catalog().Procedures))
	}
}

func TestReview(t *testing.T) {
	ss := chosen(t, offline(t), "birth-registration")
	if _, err := ss.ApplyCard(card(t, cardAn), ""); err != nil {
		t.Fatal(err)
	}
	if err := ss.Set("requester_relationship", "father"); err != nil {
		t.Fatal(err)
	}
	if err := ss.Set("child_date_of_birth", "2026-10-05"); err != nil {
		t.Fatal(err)
	}
	r := ss.Review()
	if len(r.Sections) != 4 || r.Sections[0].Section.Key != "requester" {
		t.Fatalf("sections %+v", r.Sections)
	}
	rows := map[string]ReviewRow{}
	for _, rs := range r.Sections {
		for _, row := range rs.Rows {
			rows[row.Key] = row
		}
	}
	if row := rows["requester_relationship"]; row.Value == "" || row.Value == "father" {
		t.Errorf("a choice shows its value %q, not its label", row.Value)
	}
	if row := rows["requester"]; !row.FromCard || row.Value != "Nguyễn Văn An, sinh ngày 15/08/1995, số định danh 001095012345, Nam" {
		t.Errorf("requester row %+v", row)
	}
	if row := rows["child_date_of_birth"]; row.Value != "05/10/2026" {
		t.Errorf("a date shows as %q, want day/month/year", row.Value)
	}
	if row := rows["child_full_name"]; row.Value != "" || row.Label.VI == "" {
		t.Errorf("empty field row %+v", row)
	}
	fields := map[string]bool{}
	for _, p := range r.Problems {
		fields[p.Field] = true
	}
	if !fields["requester_phone"] || !fields["child_full_name"] || fields["requester"] {
		t.Errorf("problems %v", r.Problems)
	}
}

func TestWipe(t *testing.T) {
	ss := chosen(t, offline(t), "birth-registration")
	key := ss.IdempotencyKey()
	if _, err := ss.ApplyCard(card(t, cardAn), ""); err != nil {
		t.Fatal(err)
	}
	if err := ss.Attach("birth_certificate", Doc{Content: []byte("%PDF")}); err != nil {
		t.Fatal(err)
	}
	ss.Wipe()
	if ss.Procedure() != nil || ss.Card() != nil {
		t.Error("procedure or card kept after Wipe")
	}
	if err := ss.Choose("birth-registration"); err != nil {
		t.Fatal(err)
	}
	if _, ok := ss.Value("requester"); ok {
		t.Error("a value kept after Wipe")
	}
	if len(ss.Evidence()[0].Docs) != 0 {
		t.Error("a document kept after Wipe")
	}
	if ss.IdempotencyKey() == key || ss.IdempotencyKey() == "" {
		t.Error("the next citizen's session reuses the idempotency key")
	}
}

func errCode(err error) string {
	var ie *i18n.Error
	if errors.As(err, &ie) {
		return ie.Code
	}
	return ""
}

// Every error a citizen may see has a Vietnamese and an English message,
// each fully formatted.
func TestCitizenMessagesHaveNoFormattingNoise(t *testing.T) {
	s := offline(t)
	ss := chosen(t, s, "birth-registration")
	errs := map[string]error{
		"choose":          ss.Choose("no-such-thing"),
		"card target":     func() error { _, err := ss.ApplyCard(card(t, cardAn), "uncle"); return err }(),
		"set":             ss.Set("shoe_size", "42"),
		"attach unknown":  ss.Attach("passport", Doc{Content: []byte("x")}),
		"attach empty":    ss.Attach("birth_certificate", Doc{Name: "a.pdf"}),
		"attach too big":  ss.Attach("birth_certificate", Doc{Name: "big.pdf", Content: make([]byte, MaxAttachmentBytes+1)}),
		"scan no scanner": func() error { _, err := ss.Scan(t.Context(), "birth_certificate"); return err }(),
		"print":           s.Print(t.Context(), 1),
		"linked":          func() error { _, err := ss.StartLinked("marriage-registration"); return err }(),
	}
	for name, err := range errs {
		var ie *i18n.Error
		if !errors.As(err, &ie) {
			t.Errorf("%s: %v is not an *i18n.Error", name, err)
			continue
		}
		checkText(t, name, ie.Msg)
	}
	for _, e := range ss.ValidateStep("pets") {
		checkText(t, "unknown step", e.Message)
	}
	checkText(t, "scanner problem", problemText(errors.New("device busy")))
}

func checkText(t *testing.T, name string, m i18n.Text) {
	t.Helper()
	if m.VI == "" || m.EN == "" || strings.Contains(m.VI, "%!") || strings.Contains(m.EN, "%!") {
		t.Errorf("%s: message %q / %q", name, m.VI, m.EN)
	}
}
