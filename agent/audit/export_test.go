package audit

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"testing"
	"time"
)

// An export reads back as signed; a byte changed, an event dropped, or
// another key makes it refused.
func TestExportSignedAndChecked(t *testing.T) {
	pub, key, _ := ed25519.GenerateKey(rand.Reader)
	evs := chain(4)
	x := &Export{ExportedAt: time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC), LogEvents: 4, LogVerified: true}
	for _, e := range evs[1:] {
		x.Events = append(x.Events, Exported(e))
	}
	b, err := Sign(x, key)
	if err != nil {
		t.Fatal(err)
	}
	got, signer, err := ReadExport(b, pub)
	if err != nil || !bytes.Equal(signer, pub) || len(got.Events) != 3 || got.Events[0].Seq != 2 {
		t.Fatalf("ReadExport = %+v, %x, %v", got, signer, err)
	}
	other, _, _ := ed25519.GenerateKey(rand.Reader)
	if _, _, err := ReadExport(b, other); !errors.Is(err, ErrBadExport) {
		t.Errorf("an export signed by another key was trusted: %v", err)
	}
	tampered := bytes.Replace(b, []byte(`"actor": "cli"`), []byte(`"actor": "sys"`), 1)
	if bytes.Equal(tampered, b) {
		t.Fatal("the test did not change the file")
	}
	if _, _, err := ReadExport(tampered, nil); !errors.Is(err, ErrBadExport) {
		t.Errorf("a changed export was read: %v", err)
	}
	// A forger who re-signs with their own key after dropping an event:
	// the chain inside shows the gap.
	_, forger, _ := ed25519.GenerateKey(rand.Reader)
	x.Events = append(x.Events[:1], x.Events[2:]...)
	b, _ = Sign(x, forger)
	if _, _, err := ReadExport(b, nil); !errors.Is(err, ErrBadExport) {
		t.Errorf("an export with an event dropped was read: %v", err)
	}
}
