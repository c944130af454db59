package procedure

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/motcua/motcua/agent/identity"
)

var today = identity.Date{Year: 2026, Month: 11, Day: 22}

func loadGood(t *testing.T) *Catalog {
	t.Helper()
	cat, err := Load(os.DirFS("testdata/good"))
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

func testProcedure(t *testing.T) *Procedure {
	t.Helper()
	p, err := loadGood(t).Lookup("1.000001")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLookup(t *testing.T) {
	cat := loadGood(t)
	for _, ref := range []string{"1.000001", "test-procedure"} {
		if p, err := cat.Lookup(ref); err != nil || p.ID != "test-procedure" {
			t.Errorf("Lookup(%q) = %v, %v", ref, p, err)
		}
	}
	if _, err := cat.Lookup("1.999999"); !errors.Is(err, ErrUnknownProcedure) {
		t.Errorf("Lookup(unknown) = %v", err)
	}
}

// goodFS returns the good test catalog as a MapFS, with edit applied to the
// JSON of file name.
func goodFS(t *testing.T, name string, edit func(m map[string]any)) fstest.MapFS {
	t.Helper()
	fsys := fstest.MapFS{}
	for _, f := range []string{"index.json", "test-procedure.json", "other.json"} {
		b, err := os.ReadFile("testdata/good/" + f)
		if err != nil {
			t.Fatal(err)
		}
		if f == name {
			var m map[string]any
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatal(err)
			}
			edit(m)
			b, _ = json.Marshal(m)
		}
		fsys[f] = &fstest.MapFile{Data: b}
	}
	return fsys
}

func field(m map[string]any, section, idx int) map[string]any {
	return m["sections"].([]any)[section].(map[string]any)["fields"].([]any)[idx].(map[string]any)
}

func TestLoadRefusesBadCatalogs(t *testing.T) {
	tests := []struct {
		name string
		file string
		edit func(m map[string]any)
		want string
	}{
		{"bad version", "index.json", func(m map[string]any) { m["version"] = "latest" }, "version"},
		{"unlisted file", "index.json", func(m map[string]any) { m["order"] = []any{"test-procedure"} }, "other.json is not listed"},
		{"unknown key", "other.json", func(m map[string]any) { m["colour"] = "blue" }, "colour"},
		{"id differs from file", "other.json", func(m map[string]any) { m["id"] = "another" }, "holds procedure"},
		{"duplicate field key", "test-procedure.json", func(m map[string]any) { field(m, 0, 1)["key"] = "email" }, `"email" appears twice`},
		{"malformed field key", "test-procedure.json", func(m map[string]any) { field(m, 0, 1)["key"] = "Phone Number" }, "malformed"},
		{"unknown type", "test-procedure.json", func(m map[string]any) { field(m, 0, 1)["type"] = "telephone" }, "unknown type"},
		{"choice without choices", "test-procedure.json", func(m map[string]any) { delete(field(m, 1, 2), "choices") }, "choices"},
		{"card fill of the wrong type", "test-procedure.json", func(m map[string]any) { field(m, 0, 1)["card_fill"] = "date_of_birth" }, "does not fit"},
		{"missing example", "test-procedure.json", func(m map[string]any) { delete(field(m, 0, 1), "example") }, "no example"},
		{"missing English label", "test-procedure.json", func(m map[string]any) {
			field(m, 0, 1)["label"] = map[string]any{"vi": "Số điện thoại"}
		}, "English"},
		{"waived by a missing field", "test-procedure.json", func(m map[string]any) {
			m["evidence"].([]any)[0].(map[string]any)["waived_by"] = "nothing"
		}, `waived_by "nothing"`},
		{"linked to a missing procedure", "test-procedure.json", func(m map[string]any) { m["linked"] = []any{"ghost"} }, `"ghost"`},
		{"id_matches a missing field", "test-procedure.json", func(m map[string]any) {
			field(m, 1, 3)["id_matches"] = map[string]any{"date_of_birth": "nope"}
		}, "id_matches.date_of_birth"},
		{"malformed code", "other.json", func(m map[string]any) { m["code"] = "1-2" }, "code"},
		{"duplicate code", "other.json", func(m map[string]any) { m["code"] = "1.000001" }, "also"},
		{"video file climbing out", "other.json", video("../motcua.db", "Hướng dẫn", "Guide"), `video file "../motcua.db"`},
		{"video file in a folder", "other.json", video("videos/guide.mp4", "Hướng dẫn", "Guide"), `video file "videos/guide.mp4"`},
		{"video file with a backslash", "other.json", video(`C:\guide.mp4`, "Hướng dẫn", "Guide"), "video file"},
		{"video file dot-dot", "other.json", video("..", "Hướng dẫn", "Guide"), `video file ".."`},
		{"video file hidden", "other.json", video(".guide.mp4", "Hướng dẫn", "Guide"), `video file ".guide.mp4"`},
		{"video file empty", "other.json", video("", "Hướng dẫn", "Guide"), `video file ""`},
		{"video file without extension", "other.json", video("guide", "Hướng dẫn", "Guide"), `video file "guide"`},
		{"video title without English", "other.json", video("guide.mp4", "Hướng dẫn", ""), "video title needs both"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(goodFS(t, tt.file, tt.edit))
			if !errors.Is(err, ErrBadCatalog) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Load = %v; want ErrBadCatalog mentioning %q", err, tt.want)
			}
		})
	}
}

// video returns an edit that gives a procedure a video.
func video(file, vi, en string) func(m map[string]any) {
	return func(m map[string]any) {
		m["video"] = map[string]any{"file": file, "title": map[string]any{"vi": vi, "en": en}}
	}
}

// A procedure may name an instructional video by a plain file name, which
// Load keeps.
func TestLoadKeepsVideo(t *testing.T) {
	cat, err := Load(goodFS(t, "other.json", video("other-guide_2.webm", "Hướng dẫn", "Guide")))
	if err != nil {
		t.Fatal(err)
	}
	p, err := cat.Lookup("other")
	if err != nil {
		t.Fatal(err)
	}
	if p.Video == nil || p.Video.File != "other-guide_2.webm" || p.Video.Title.EN != "Guide" {
		t.Fatalf("Video = %+v", p.Video)
	}
	if q, _ := cat.Lookup("test-procedure"); q.Video != nil {
		t.Errorf("test-procedure has video %+v, want none", q.Video)
	}
}

func TestExampleValidates(t *testing.T) {
	p := testProcedure(t)
	vals, err := p.Validate(p.Example(), today)
	if err != nil {
		t.Fatal(err)
	}
	if got := p.CheckEvidence(vals, []string{"proof"}); len(got) != 0 {
		t.Fatalf("CheckEvidence = %v", got)
	}
	person, ok := vals["applicant"].(PersonValue)
	if !ok || person.FullName != "Nguyễn Văn An" || person.Sex != "male" || person.CitizenID != "001095012345" {
		t.Errorf("applicant = %#v", vals["applicant"])
	}
}

// validateWith validates the test procedure's example with edits applied.
func validateWith(t *testing.T, edit func(m map[string]any)) (Values, Errors) {
	t.Helper()
	p := testProcedure(t)
	var m map[string]any
	if err := json.Unmarshal(p.Example(), &m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	b, _ := json.Marshal(m)
	vals, err := p.Validate(b, today)
	if err == nil {
		return vals, nil
	}
	var errs Errors
	if !errors.As(err, &errs) {
		t.Fatalf("Validate returned %T %v, want Errors", err, err)
	}
	return vals, errs
}

func TestValidateRefuses(t *testing.T) {
	set := func(k string, v any) func(map[string]any) { return func(m map[string]any) { m[k] = v } }
	setPart := func(part string, v any) func(map[string]any) {
		return func(m map[string]any) { m["applicant"].(map[string]any)[part] = v }
	}
	tests := []struct {
		name  string
		edit  func(map[string]any)
		field string
		code  string
	}{
		{"missing required", func(m map[string]any) { delete(m, "subject_name") }, "subject_name", "required"},
		{"null required", set("subject_name", nil), "subject_name", "required"},
		{"blank required", set("phone", "  "), "phone", "required"},
		{"unknown field", set("shoe_size", "42"), "shoe_size", "unknown_field"},
		{"number for text", set("subject_name", 7), "subject_name", "invalid_type"},
		{"object for text", set("phone", map[string]any{}), "phone", "invalid_type"},
		{"name with a digit", set("subject_name", "Trần Thị 8"), "subject_name", "invalid_name"},
		{"text too long", set("address", strings.Repeat("đ", 41)), "address", "too_long"},
		{"control character", set("address", "Số 1\x07"), "address", "invalid_text"},
		{"impossible date", set("subject_dob", "2023-02-29"), "subject_dob", "invalid_date"},
		{"day-first date", set("subject_dob", "02/11/2004"), "subject_dob", "invalid_date"},
		{"future birth", set("subject_dob", "2026-11-23"), "subject_dob", "future_date"},
		{"past appointment", set("appointment", "2026-11-21"), "appointment", "past_date"},
		{"year with letters", set("mother_birth_year", "19x5"), "mother_birth_year", "invalid_year"},
		{"future year", set("mother_birth_year", "2027"), "mother_birth_year", "invalid_year"},
		{"choice not listed", set("subject_sex", "Nữ"), "subject_sex", "invalid_choice"},
		{"ID too short", set("subject_id", "07930400012"), "subject_id", "invalid_citizen_id"},
		{"ID wrong sex", set("subject_sex", "male"), "subject_id", "id_mismatch"},
		{"ID wrong year", set("subject_dob", "2005-11-02"), "subject_id", "id_mismatch"},
		{"phone too short", set("phone", "091234567"), "phone", "invalid_phone"},
		{"phone with letters", set("phone", "09123456ab"), "phone", "invalid_phone"},
		{"phone unknown prefix", set("phone", "0123456789"), "phone", "invalid_phone"},
		{"bad e-mail", set("email", "an at example.vn"), "email", "invalid_email"},
		{"e-mail without domain dot", set("email", "an@localhost"), "email", "invalid_email"},
		{"person not an object", set("applicant", "Nguyễn Văn An"), "applicant", "invalid_type"},
		{"person missing sex", func(m map[string]any) { delete(m["applicant"].(map[string]any), "sex") }, "applicant.sex", "required"},
		{"person bad name", setPart("full_name", "Nguyễn V@n An"), "applicant.full_name", "invalid_name"},
		{"person future birth", setPart("date_of_birth", "2027-01-01"), "applicant.date_of_birth", "future_date"},
		{"person ID mismatch", setPart("sex", "Nữ"), "applicant.citizen_id", "id_mismatch"},
		{"person unknown part", setPart("nickname", "Tí"), "applicant.nickname", "unknown_field"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errs := validateWith(t, tt.edit)
			if len(errs) != 1 || errs[0].Field != tt.field || errs[0].Code != tt.code {
				t.Fatalf("errors = %v; want exactly %s %s", errs, tt.field, tt.code)
			}
			if errs[0].Message.VI == "" || errs[0].Message.EN == "" || errs[0].Message.VI == errs[0].Message.EN {
				t.Errorf("message is not bilingual: %+v", errs[0].Message)
			}
		})
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	_, errs := validateWith(t, func(m map[string]any) {
		delete(m, "subject_name")
		m["phone"] = "12"
		m["subject_dob"] = "2099-01-01"
		m["zzz"] = 1
	})
	var got []string
	for _, e := range errs {
		got = append(got, e.Field)
	}
	want := []string{"phone", "subject_name", "subject_dob", "zzz"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("fields %v, want %v (form order, unknown last)", got, want)
	}
}

func TestValidateNormalizes(t *testing.T) {
	vals, errs := validateWith(t, func(m map[string]any) {
		m["phone"] = "+84 912.345.678"
		m["email"] = "An@Example.VN"
		m["subject_name"] = "  Tra\u0302\u0300n   Thi\u0323 Bi\u0300nh "
		m["address"] = "Số 12   Láng Hạ"
		m["applicant"].(map[string]any)["sex"] = "Nam"
		m["subject_id"] = "079 304 000 123"
		m["email"] = ""
	})
	if errs != nil {
		t.Fatal(errs)
	}
	want := map[string]any{
		"phone":        "0912345678",
		"subject_name": "Trần Thị Bình",
		"address":      "Số 12 Láng Hạ",
		"subject_id":   "079304000123",
	}
	for k, v := range want {
		if vals[k] != v {
			t.Errorf("%s = %q, want %q", k, vals[k], v)
		}
	}
	if _, ok := vals["email"]; ok {
		t.Error("an empty optional field was kept")
	}
	if vals["applicant"].(PersonValue).Sex != "male" {
		t.Errorf("sex %q not normalized", vals["applicant"].(PersonValue).Sex)
	}
}

func TestValidateNotAnObject(t *testing.T) {
	p := testProcedure(t)
	for _, in := range []string{"", "[]", "null", "42", `{"a":1}x`, "{"} {
		_, err := p.Validate([]byte(in), today)
		var errs Errors
		if !errors.As(err, &errs) || len(errs) != 1 || errs[0].Code != "not_object" {
			t.Errorf("Validate(%q) = %v", in, err)
		}
	}
}

func TestCheckEvidence(t *testing.T) {
	p := testProcedure(t)
	vals, err := p.Validate(p.Example(), today)
	if err != nil {
		t.Fatal(err)
	}
	codes := func(es Errors) string {
		var s []string
		for _, e := range es {
			s = append(s, e.Field+"="+e.Code)
		}
		return strings.Join(s, ",")
	}
	if got := codes(p.CheckEvidence(vals, nil)); got != "evidence:proof=missing_evidence" {
		t.Errorf("no attachments: %s", got)
	}
	delete(vals, "certificate_code")
	if got := codes(p.CheckEvidence(vals, []string{"proof"})); got != "evidence:birth_certificate=missing_evidence" {
		t.Errorf("waiver removed: %s", got)
	}
	if got := codes(p.CheckEvidence(vals, []string{"proof", "birth_certificate", "selfie"})); got != "evidence:selfie=unknown_evidence" {
		t.Errorf("unknown evidence: %s", got)
	}
	if got := p.UnmetEvidence([]string{"proof"}); strings.Join(got, ",") != "birth_certificate,authorization" {
		t.Errorf("UnmetEvidence = %v", got)
	}
}

func TestParseRoundTrip(t *testing.T) {
	cat := loadGood(t)
	b, err := json.Marshal(cat)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Parse(b)
	if err != nil || got.Version != cat.Version || len(got.Procedures) != len(cat.Procedures) {
		t.Fatalf("Parse = %v, %v", got, err)
	}
	for _, bad := range []string{`{"version":"2026.1.1","procedures":[],"extra":1}`, `{"version":"x","procedures":[]}`, `[]`} {
		if _, err := Parse([]byte(bad)); !errors.Is(err, ErrBadCatalog) {
			t.Errorf("Parse(%s) = %v, want ErrBadCatalog", bad, err)
		}
	}
}

func TestNewer(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"2026.11.2", "2026.11.1", true},
		{"2026.12.1", "2026.11.9", true},
		{"2026.11.10", "2026.11.9", true},
		{"2027.1.1", "2026.12.30", true},
		{"2026.11.1", "2026.11.1", false},
		{"2026.9.1", "2026.11.1", false},
	}
	for _, tt := range tests {
		if got := Newer(tt.a, tt.b); got != tt.want {
			t.Errorf("Newer(%s, %s) = %v", tt.a, tt.b, got)
		}
	}
}
