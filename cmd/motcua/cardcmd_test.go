package main

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestCardParse(t *testing.T) {
	in := strings.Join([]string{
		"\ufeff001095012345|012345678|Nguyễn Văn An|15081995|Nam|Số 12 ngõ 34 Láng Hạ, Hà Nội|20042021",
		"",
		"079304000123||Trần Thị Bình|02112004|Nữ|123 Lê Lợi, Quận 1|10072022|extra",
		"079304000123||Trần Thị Bình|02112004|Nam|123 Lê Lợi, Quận 1|10072022",
		"079304000123||Tr\xe1n|02112004|Nữ|123 Lê Lợi|10072022",
	}, "\n") + "\n"
	r := cli(t, t.TempDir(), in, "card", "parse")
	if r.code != exitFail || !strings.Contains(r.stderr, "2 of 5") {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 4 {
		t.Fatalf("%d output lines for 4 payloads:\n%s", len(lines), r.stdout)
	}
	var an struct {
		ID, OldID, Name, Sex, Address string
		DateOfBirth                   string `json:"date_of_birth"`
		IssueDate                     string `json:"issue_date"`
		Raw                           string
	}
	if err := json.Unmarshal([]byte(lines[0]), &an); err != nil {
		t.Fatal(err)
	}
	if an.ID != "001095012345" || an.Name != "Nguyễn Văn An" || an.DateOfBirth != "1995-08-15" || an.Sex != "male" ||
		an.IssueDate != "2021-04-20" || strings.HasPrefix(an.Raw, "\ufeff") {
		t.Errorf("first card %+v", an)
	}
	if !strings.Contains(lines[1], `"raw":"079304000123||Trần Thị Bình|02112004|Nữ|123 Lê Lợi, Quận 1|10072022|extra"`) {
		t.Errorf("extra field not kept in raw: %s", lines[1])
	}
	for i, want := range map[int]string{2: "encodes sex female", 3: "not UTF-8"} {
		var bad cardLine
		json.Unmarshal([]byte(lines[i]), &bad)
		if !strings.Contains(bad.Error, want) || bad.ErrorVI == "" || bad.Line != i+2 {
			t.Errorf("line %d: %+v, want an error naming %q", i, bad, want)
		}
	}
	if ok := cli(t, t.TempDir(), "001095012345|012345678|Nguyễn Văn An|15081995|Nam|Hà Nội|20042021\n", "card", "parse"); ok.code != 0 {
		t.Errorf("a good payload: exit %d", ok.code)
	}
}
