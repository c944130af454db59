package procedure

import (
	"encoding/json"
	"testing"
)

// The embedded catalog loads, holds the essential services, and every
// procedure's example form is valid and needs no attachment.
func TestEmbeddedCatalog(t *testing.T) {
	cat, err := Embedded()
	if err != nil {
		t.Fatal(err)
	}
	if len(cat.Procedures) < 10 {
		t.Errorf("%d procedures, want at least 10", len(cat.Procedures))
	}
	for _, code := range []string{"1.001193", "1.004222", "1.000894"} {
		if _, err := cat.Lookup(code); err != nil {
			t.Errorf("official code %s: %v", code, err)
		}
	}
	bundles := 0
	for _, p := range cat.Procedures {
		t.Run(p.ID, func(t *testing.T) {
			vals, err := p.Validate(p.Example(), today)
			if err != nil {
				t.Fatalf("example form: %v", err)
			}
			if errs := p.CheckEvidence(vals, nil); len(errs) > 0 {
				t.Fatalf("example needs attachments: %v", errs)
			}
			if len(vals) != len(p.Fields()) {
				t.Errorf("example fills %d of %d fields", len(vals), len(p.Fields()))
			}
			card := 0
			for _, f := range p.Fields() {
				if f.CardFill != CardNone {
					card++
				}
			}
			if card == 0 {
				t.Error("no field can be filled from the ID card")
			}
		})
		if len(p.Bundle) > 0 {
			bundles++
		}
	}
	if p, _ := cat.Lookup("birth-registration"); p == nil || p.Video == nil || p.Video.File != "birth-registration.mp4" {
		t.Errorf("birth-registration should offer the sample video birth-registration.mp4")
	}
	if bundles < 2 {
		t.Errorf("%d linked bundles, want the birth and death bundles", bundles)
	}
}

func TestCurrentPicksTheNewestValidCatalog(t *testing.T) {
	emb, _ := Embedded()
	next := *emb
	next.Version = "2999.1.1"
	good, _ := json.Marshal(&next)
	broken := []byte(`{"version":"3000.1.1","procedures":"nope"}`)
	old := *emb
	old.Version = "2000.1.1"
	oldJSON, _ := json.Marshal(&old)
	tests := []struct {
		stored map[string][]byte
		want   string
	}{
		{nil, emb.Version},
		{map[string][]byte{"2999.1.1": good}, "2999.1.1"},
		{map[string][]byte{"2999.1.1": good, "3000.1.1": broken}, "2999.1.1"},
		{map[string][]byte{"2000.1.1": oldJSON}, emb.Version},
		// A stored catalog whose content says another version is refused.
		{map[string][]byte{"3001.1.1": good}, emb.Version},
	}
	for _, tt := range tests {
		cat, err := Current(tt.stored)
		if err != nil || cat.Version != tt.want {
			t.Errorf("Current(%d stored) = %v, %v; want %s", len(tt.stored), cat.Version, err, tt.want)
		}
	}
}
