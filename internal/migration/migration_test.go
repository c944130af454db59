package migration

import (
	"strings"
	"testing"
	"testing/fstest"
)

func TestLoadOrdersAndRefusesGapsAndBadNames(t *testing.T) {
	ok := fstest.MapFS{
		"0002_b.sql": {Data: []byte("B")},
		"0001_a.sql": {Data: []byte("A")},
		"README":     {Data: []byte("not a migration")},
	}
	ms, err := Load(ok)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 2 || ms[0].Name != "0001_a.sql" || ms[1].SQL != "B" || Version(ok) != 2 {
		t.Fatalf("loaded %+v", ms)
	}
	for name, fsys := range map[string]fstest.MapFS{
		"without gaps":          {"0001_a.sql": {}, "0003_c.sql": {}},
		"start with its number": {"first.sql": {}},
	} {
		if _, err := Load(fsys); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("Load: %v, want an error saying %q", err, name)
		}
	}
}
