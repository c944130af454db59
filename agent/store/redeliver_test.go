package store

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/motcua/motcua/agent/application"
)

// Two portal instances issue the same file code: a code is unique per
// instance, not across them, so the receipt of a reset portal's -0001 is
// recorded instead of being refused forever.
func TestSameFileCodeFromAnotherPortalInstanceIsRecorded(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), FileName))
	ctx := context.Background()
	const code = "000.00.01.H29-261123-0001"
	a, _ := s.Create(ctx, newApp("key-a"), application.Queued)
	b, _ := s.Create(ctx, newApp("key-b"), application.Queued)
	for _, id := range []int64{a.ID, b.ID} {
		if err := s.Transition(ctx, id, application.Sending, Change{Actor: "test"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Transition(ctx, a.ID, application.Received, Change{Actor: "test", FileCode: code, Instance: "p-old"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Transition(ctx, b.ID, application.Received, Change{Actor: "test", FileCode: code, Instance: "p-new"}); err != nil {
		t.Fatalf("the same code from another portal instance: %v", err)
	}
	if err := s.Transition(ctx, b.ID, application.InReview, Change{Actor: "test", FileCode: code, Instance: "p-new"}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Get(ctx, b.ID); got.PortalInstance != "p-new" || got.FileCode != code {
		t.Errorf("b: instance %q code %q", got.PortalInstance, got.FileCode)
	}
}

// When the portal an application was filed with is gone (another instance
// answers at its URL), the applications it had not finished go back to the
// queue with a fresh upload; their old file codes stay in their history and
// the audit log, and finished ones keep theirs.
func TestFilesOfAVanishedPortalAreQueuedAgainKeepingTheirOldCodes(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), FileName))
	ctx := context.Background()
	filed := func(key, code string, to application.State) int64 {
		a, err := s.Create(ctx, newApp(key, NewAttachment{EvidenceKey: "e", Name: "n", MediaType: "image/jpeg", Content: []byte("abc")}), application.Queued)
		if err != nil {
			t.Fatal(err)
		}
		s.Transition(ctx, a.ID, application.Sending, Change{Actor: "test"})
		s.Settle(ctx, a.ID, string(application.Queued))
		s.SaveUpload(ctx, a.ID, Upload{URL: "http://127.0.0.1/v1/uploads/dev-1-" + key + "-1", Generation: 1, Confirmed: 3, Complete: true})
		if _, err := s.ApplyPortalState(ctx, key, to, Change{Actor: "test", FileCode: code, Instance: "p-old"}); err != nil {
			t.Fatal(err)
		}
		return a.ID
	}
	received := filed("key-recv", "000.00.01.H29-261123-0001", application.Received)
	review := filed("key-revw", "000.00.01.H29-261123-0002", application.InReview)
	done := filed("key-done", "000.00.01.H29-261123-0003", application.Done)
	mine := filed("key-mine", "000.00.01.H29-261123-0009", application.Received)
	if err := s.Transition(ctx, mine, application.InReview, Change{Actor: "test", Instance: "p-new"}); err != nil {
		t.Fatal(err)
	}
	s.db.ExecContext(ctx, `UPDATE applications SET portal_instance = 'p-new' WHERE id = ?`, mine)

	lost, err := s.RequeueLost(ctx, "p-new", "test")
	if err != nil {
		t.Fatal(err)
	}
	if len(lost) != 2 || lost[0].ID != received || lost[1].ID != review || lost[0].FileCode != "000.00.01.H29-261123-0001" ||
		lost[0].Instance != "p-old" {
		t.Fatalf("RequeueLost = %+v, want the received and the in-review one", lost)
	}
	for _, id := range []int64{received, review} {
		a, _ := s.Get(ctx, id)
		if a.State != application.Queued || a.FileCode != "" || a.PortalInstance != "" {
			t.Errorf("application %d: %s code %q instance %q, want queued without a code", id, a.State, a.FileCode, a.PortalInstance)
		}
		up, ok, _ := s.Upload(ctx, id)
		if !ok || up.Generation != 2 || up.Confirmed != 0 || up.Complete || up.URL != "" {
			t.Errorf("application %d upload %+v, want a new generation from zero", id, up)
		}
		old, err := s.OldFileCodes(ctx, id)
		if err != nil || len(old) != 1 || old[0].Instance != "p-old" || !strings.HasPrefix(old[0].FileCode, "000.00.01.H29-261123-000") {
			t.Errorf("application %d old codes %+v, %v", id, old, err)
		}
		evs, _ := s.Events(ctx, id)
		last := evs[len(evs)-1]
		if last.Kind != "redelivery" || last.To != "queued" || !strings.Contains(last.Detail, old[0].FileCode) ||
			!strings.Contains(last.Detail, "p-old") {
			t.Errorf("application %d last audit event %+v", id, last)
		}
	}
	if a, _ := s.Get(ctx, done); a.State != application.Done || a.FileCode != "000.00.01.H29-261123-0003" {
		t.Errorf("a finished file changed: %+v", a)
	}
	if a, _ := s.Get(ctx, mine); a.State != application.InReview {
		t.Errorf("a file of the current portal changed: %s", a.State)
	}
	pending, _ := s.Pending(ctx, string(application.Queued), 10)
	if len(pending) != 2 {
		t.Errorf("outbox has %d queued rows, want 2", len(pending))
	}
	if again, err := s.RequeueLost(ctx, "p-new", "test"); err != nil || len(again) != 0 {
		t.Errorf("second RequeueLost = %+v, %v", again, err)
	}
}

// Applications filed before the kiosk knew portal instances belong to the
// portal it first learns the instance of.
func TestFilesFromBeforeInstancesAreAdopted(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), FileName))
	ctx := context.Background()
	a, _ := s.Create(ctx, newApp("key-a"), application.Queued)
	s.ApplyPortalState(ctx, "key-a", application.Received, Change{Actor: "test", FileCode: "000.00.01.H29-261123-0001"})
	if err := s.AdoptPortalInstance(ctx, "p-1"); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Get(ctx, a.ID); got.PortalInstance != "p-1" {
		t.Errorf("instance %q, want p-1", got.PortalInstance)
	}
	if lost, err := s.RequeueLost(ctx, "p-1", "test"); err != nil || len(lost) != 0 {
		t.Errorf("RequeueLost after adoption = %+v, %v", lost, err)
	}
}

// A portal rolled back to an older backup keeps its instance: the files of
// that instance it no longer knows go back to the queue, the ones it knows
// and the finished ones stay.
func TestFilesARolledBackPortalForgotAreQueuedAgain(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), FileName))
	ctx := context.Background()
	ids := map[string]int64{}
	for i, key := range []string{"key-known", "key-forgot", "key-done"} {
		a, _ := s.Create(ctx, newApp(key), application.Queued)
		ids[key] = a.ID
		to := application.Received
		if key == "key-done" {
			to = application.Done
		}
		code := "000.00.01.H29-261123-000" + string(rune('1'+i))
		if _, err := s.ApplyPortalState(ctx, key, to, Change{Actor: "test", FileCode: code, Instance: "p-1"}); err != nil {
			t.Fatal(err)
		}
	}
	lost, err := s.RequeueMissing(ctx, "p-1", map[string]bool{"key-known": true}, "test")
	if err != nil || len(lost) != 1 || lost[0].ID != ids["key-forgot"] {
		t.Fatalf("RequeueMissing = %+v, %v, want key-forgot only", lost, err)
	}
	want := map[string]application.State{"key-known": application.Received, "key-forgot": application.Queued, "key-done": application.Done}
	for key, st := range want {
		if a, _ := s.Get(ctx, ids[key]); a.State != st {
			t.Errorf("%s: %s, want %s", key, a.State, st)
		}
	}
	if old, _ := s.OldFileCodes(ctx, ids["key-forgot"]); len(old) != 1 || old[0].FileCode != "000.00.01.H29-261123-0002" {
		t.Errorf("old codes %+v", old)
	}
}
