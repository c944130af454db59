package store

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/motcua/motcua/agent/application"
)

func TestSettingsAndUploads(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), FileName))
	ctx := context.Background()
	if v, err := s.Setting(ctx, "portal.token"); err != nil || v != "" {
		t.Fatalf("unset setting = %q, %v", v, err)
	}
	s.SetSetting(ctx, "portal.token", "a")
	s.SetSetting(ctx, "portal.token", "b")
	if v, _ := s.Setting(ctx, "portal.token"); v != "b" {
		t.Fatalf("setting = %q", v)
	}
	a, err := s.Create(ctx, newApp("k", NewAttachment{EvidenceKey: "e", Name: "n", MediaType: "image/jpeg", Content: []byte("abc")}), application.Queued)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s.Upload(ctx, a.ID); ok {
		t.Fatal("an upload exists before any was saved")
	}
	want := Upload{URL: "http://127.0.0.1/v1/uploads/x", Generation: 1, Confirmed: 2}
	s.SaveUpload(ctx, a.ID, want)
	want.Generation, want.Confirmed, want.Complete, want.Base, want.Block = 2, 3, true, 7, []byte{1, 2}
	s.SaveUpload(ctx, a.ID, want)
	if got, ok, err := s.Upload(ctx, a.ID); !ok || err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("Upload = %+v, %v, %v", got, ok, err)
	}
}

func TestApplyPortalState(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), FileName))
	ctx := context.Background()
	a, _ := s.Create(ctx, newApp("k"), application.Queued)
	// The portal filed it (the answer was lost) and an officer finished it.
	changed, err := s.ApplyPortalState(ctx, "k", application.Done, Change{Actor: "portal", FileCode: "000.00.01.H29-261123-0001", Detail: "note"})
	if err != nil || !changed {
		t.Fatalf("ApplyPortalState = %v, %v", changed, err)
	}
	got, _ := s.Get(ctx, a.ID)
	if got.State != application.Done || got.FileCode != "000.00.01.H29-261123-0001" {
		t.Fatalf("after: %+v", got)
	}
	evs, _ := s.Events(ctx, a.ID)
	if last := evs[len(evs)-1]; last.From != "received" || last.To != "done" || last.Actor != "portal" {
		t.Fatalf("last event %+v", last)
	}
	if changed, err := s.ApplyPortalState(ctx, "k", application.Done, Change{}); err != nil || changed {
		t.Fatalf("repeat = %v, %v", changed, err)
	}
	if _, err := s.ApplyPortalState(ctx, "k", application.InReview, Change{}); !errors.Is(err, application.ErrIllegalTransition) {
		t.Fatalf("done -> in review: %v", err)
	}
	if _, err := s.ApplyPortalState(ctx, "nope", application.Done, Change{}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown key: %v", err)
	}
	if _, err := s.VerifyAudit(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestDeliveryHolds(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), FileName))
	ctx := context.Background()
	a, err := s.Create(ctx, newApp("k1"), application.Queued)
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.Create(ctx, newApp("k2"), application.Queued)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	if err := s.HoldDelivery(ctx, a.ID, now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := s.HoldDelivery(ctx, b.ID, now.Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	holds, err := s.DeliveryHolds(ctx, now)
	if err != nil || len(holds) != 1 || !holds[a.ID].Equal(now.Add(time.Minute)) {
		t.Fatalf("DeliveryHolds = %v, %v; want only %d's", holds, err, a.ID)
	}
	// A new hold replaces the old one.
	if err := s.HoldDelivery(ctx, a.ID, now.Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	if holds, err := s.DeliveryHolds(ctx, now); err != nil || len(holds) != 0 {
		t.Fatalf("DeliveryHolds = %v, %v after the holds passed", holds, err)
	}
}
