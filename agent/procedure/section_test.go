package procedure

import (
	"encoding/json"
	"errors"
	"slices"
	"testing"

	"github.com/motcua/motcua/agent/i18n"
)

func TestValidateSection(t *testing.T) {
	p := testProcedure(t)
	tests := []struct {
		name    string
		section string
		form    map[string]any
		want    []string // "field code"
	}{
		{name: "other sections' empty required fields are left alone", section: "subject",
			form: map[string]any{"subject_name": "Trần Thị Bình", "subject_dob": "2004-11-02", "subject_sex": "female"}},
		{name: "this section's empty required fields", section: "subject", form: map[string]any{},
			want: []string{"subject_name required", "subject_dob required", "subject_sex required"}},
		{name: "other sections' bad values are left alone", section: "subject",
			form: map[string]any{"subject_name": "Trần Thị Bình", "subject_dob": "2004-11-02", "subject_sex": "female",
				"phone": "12"}},
		{name: "cross-check within the section", section: "subject",
			form: map[string]any{"subject_name": "Trần Thị Bình", "subject_dob": "2004-11-02", "subject_sex": "male",
				"subject_id": "079304000123"},
			want: []string{"subject_id id_mismatch"}},
		{name: "unknown keys are still errors", section: "applicant",
			form: map[string]any{"applicant": map[string]any{"full_name": "Nguyễn Văn An", "date_of_birth": "1995-08-15",
				"citizen_id": "001095012345", "sex": "male"}, "phone": "0912345678", "address": "Hà Nội", "shoe_size": "42"},
			want: []string{"shoe_size unknown_field"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			form, _ := json.Marshal(tt.form)
			vals, err := p.ValidateSection(tt.section, form, today)
			var errs Errors
			if err != nil && !errors.As(err, &errs) {
				t.Fatalf("ValidateSection: %v, not Errors", err)
			}
			var got []string
			for _, e := range errs {
				got = append(got, e.Field+" "+e.Code)
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("problems %v, want %v", got, tt.want)
			}
			if err == nil {
				for k := range vals {
					if p.Section(tt.section) != nil && !slices.ContainsFunc(p.Section(tt.section).Fields, func(f Field) bool { return f.Key == k }) {
						t.Errorf("value %s is not this section's", k)
					}
				}
			}
		})
	}
	if _, err := p.ValidateSection("pets", []byte(`{}`), today); !errors.Is(err, ErrUnknownSection) {
		t.Errorf("unknown section: %v, want ErrUnknownSection", err)
	}
}

// A citizen ID is checked against a date of birth in another section only
// when the whole form is validated: on the ID's own screen the date is not
// the citizen's to fix.
func TestValidateSectionCrossCheckNeedsAllItsFields(t *testing.T) {
	txt := i18n.T("x", "x")
	p := &Procedure{ID: "split", Sections: []Section{
		{Key: "id", Fields: []Field{{Key: "cid", Type: TypeCitizenID, Label: txt,
			IDMatches: &IDMatch{DateOfBirth: "dob"}}}},
		{Key: "birth", Fields: []Field{{Key: "dob", Type: TypeDate, Label: txt}}},
	}}
	form := []byte(`{"cid": "079304000123", "dob": "2005-11-02"}`)
	if _, err := p.ValidateSection("id", form, today); err != nil {
		t.Errorf("ValidateSection(id) = %v, want nil: the date is on another screen", err)
	}
	if _, err := p.Validate(form, today); err == nil {
		t.Error("Validate accepted an ID that disagrees with the date of birth")
	}
}
