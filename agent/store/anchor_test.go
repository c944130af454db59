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

// createN stores n queued applications with keys prefix0, prefix1, ...
func createN(t *testing.T, s *Store, prefix string, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		if _, err := s.Create(context.Background(), newApp(fmt.Sprint(prefix, i)), application.Queued); err != nil {
			t.Fatal(err)
		}
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// The anchor follows every commit that appends events, naming the last
// event's application and key.
func TestAnchorFollowsEachCommit(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	s := openTest(t, path)
	ctx := context.Background()
	if a, err := audit.ReadAnchor(AnchorPath(path)); err != nil || a != nil {
		t.Fatalf("anchor of an empty log: %+v, %v; want none", a, err)
	}
	createN(t, s, "k", 2)
	a, err := audit.ReadAnchor(AnchorPath(path))
	if err != nil || a == nil || a.Seq != 6 || a.ApplicationID != 2 || a.IdempotencyKey != "k1" {
		t.Fatalf("anchor after two submits: %+v, %v; want event 6 of application 2, key k1", a, err)
	}
	if err := s.Transition(ctx, 1, application.Sending, Change{Actor: "uplink"}); err != nil {
		t.Fatal(err)
	}
	if a, _ = audit.ReadAnchor(AnchorPath(path)); a.Seq != 7 || a.IdempotencyKey != "k0" {
		t.Fatalf("anchor after a transition: %+v; want event 7, key k0", a)
	}
	if _, err := s.ApplyPortalState(ctx, "k0", application.Received, Change{Actor: "portal", FileCode: "F1"}); err != nil {
		t.Fatal(err)
	}
	if a, _ = audit.ReadAnchor(AnchorPath(path)); a.Seq != 8 {
		t.Fatalf("anchor after a portal state: %+v; want event 8", a)
	}
	if n, err := s.VerifyAudit(ctx); n != 8 || err != nil {
		t.Fatalf("VerifyAudit = %d, %v", n, err)
	}
}

// A crash between a commit and its anchor leaves the anchor behind the
// database: that is no loss, and the next open catches the anchor up.
func TestAnchorBehindIsNotALoss(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	s := openTest(t, path)
	ctx := context.Background()
	createN(t, s, "k", 2)
	behind := readFile(t, AnchorPath(path))
	createN(t, s, "m", 2)
	writeFile(t, AnchorPath(path), behind)
	if n, err := s.VerifyAudit(ctx); n != 12 || err != nil {
		t.Fatalf("VerifyAudit with the anchor behind = %d, %v; want 12 events, intact", n, err)
	}
	s.Close()
	openTest(t, path)
	if a, err := audit.ReadAnchor(AnchorPath(path)); err != nil || a.Seq != 12 || a.IdempotencyKey != "m1" {
		t.Fatalf("anchor after reopening: %+v, %v; want event 12, key m1", a, err)
	}
}

// A database that lost its tail (here: an older copy put back) is reported
// with the count and the last key known, and new commits never move the
// anchor back over the loss, so it stays reported.
func TestLostTailStaysReported(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	s := openTest(t, path)
	ctx := context.Background()
	createN(t, s, "k", 2)
	s.Close()
	old := readFile(t, path)
	s = openTest(t, path)
	createN(t, s, "m", 3)
	s.Close()
	writeFile(t, path, old)

	s = openTest(t, path)
	n, err := s.VerifyAudit(ctx)
	want := "9 audit events lost after #6; last known application key m2"
	if !errors.Is(err, audit.ErrTailLost) || n != 6 || !contains(err, want) {
		t.Fatalf("VerifyAudit = %d, %v; want 6 good events and %q", n, err, want)
	}
	createN(t, s, "x", 1)
	if _, err := s.VerifyAudit(ctx); !errors.Is(err, audit.ErrTailLost) || !contains(err, "6 audit events lost after #9") {
		t.Fatalf("after one more submit: %v; want the loss still reported", err)
	}
	createN(t, s, "y", 3)
	if _, err := s.VerifyAudit(ctx); !errors.Is(err, audit.ErrBroken) || !contains(err, "last known application key m2") {
		t.Fatalf("after the log grew past the anchor: %v; want the replaced events reported", err)
	}
}

func contains(err error, s string) bool { return err != nil && strings.Contains(err.Error(), s) }
