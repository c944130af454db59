package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/motcua/motcua/agent/application"
	"github.com/motcua/motcua/agent/audit"
)

// A database whose events were written before the audit key (no MACs, no
// key file) gets its key and its MACs at the next Open, once; afterwards a
// MAC dropped, or a key file lost, is reported by VerifyAudit.
func TestAuditKeyBackfillsOnceThenMissingMACsShow(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), FileName)
	s := openTest(t, path)
	for i := range 2 {
		if _, err := s.Create(ctx, newApp(fmt.Sprint("k", i)), application.Queued); err != nil {
			t.Fatal(err)
		}
	}
	// As before MACs: no key file and no MAC rows.
	for _, q := range []string{`DROP TRIGGER audit_macs_no_delete`, `DELETE FROM audit_macs`} {
		if _, err := s.db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	if err := os.Remove(AuditKeyPath(path)); err != nil {
		t.Fatal(err)
	}
	ro, err := OpenReadOnly(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := ro.VerifyAudit(ctx); err != nil || n != 6 {
		t.Fatalf("VerifyAudit before the key = %d, %v; want 6 events intact", n, err)
	}
	ro.Close()
	s = openTest(t, path)
	if n, err := s.VerifyAudit(ctx); err != nil || n != 6 {
		t.Fatalf("VerifyAudit after the backfill = %d, %v; want 6 events intact", n, err)
	}
	if _, err := s.db.Exec(`DELETE FROM audit_macs WHERE seq = 4`); err != nil {
		t.Fatal(err)
	}
	if n, err := s.VerifyAudit(ctx); !errors.Is(err, audit.ErrBroken) || n != 3 || !strings.Contains(err.Error(), "event 4 has no MAC") {
		t.Fatalf("VerifyAudit with a MAC dropped = %d, %v; want 3 then ErrBroken naming event 4", n, err)
	}
	s.Close()
	// The next Open keeps the key and MACs nothing anew: event 4 stays bare.
	s = openTest(t, path)
	if _, err := s.VerifyAudit(ctx); !errors.Is(err, audit.ErrBroken) {
		t.Fatalf("VerifyAudit after a reopen = %v; want ErrBroken still", err)
	}
	s.Close()
	if err := os.Remove(AuditKeyPath(path)); err != nil {
		t.Fatal(err)
	}
	ro, err = OpenReadOnly(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if _, err := ro.VerifyAudit(ctx); !errors.Is(err, audit.ErrBroken) || !strings.Contains(err.Error(), "audit key") {
		t.Fatalf("VerifyAudit with the key file gone = %v; want ErrBroken naming the audit key", err)
	}
}
