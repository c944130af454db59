package kiosk

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/motcua/motcua/agent/application"
	"github.com/motcua/motcua/agent/audit"
	"github.com/motcua/motcua/agent/staff"
	"github.com/motcua/motcua/agent/store"
)

// Every action of a staff member on a citizen's file (capture, view,
// reprint, re-queue, export) is in the real store's audit log with the member's
// id as actor, and so are a re-queue and an export the staff role refuses;
// the refused re-queue leaves the application quarantined.
func TestDeskAuditsEveryActionWithTheStaffID(t *testing.T) {
	ctx := context.Background()
	pr := &fakePrinter{}
	s, st := stored(t, Config{Actor: "counter", Printer: pr, Scanner: &fakeScanner{pages: 1}})
	dir := staff.New(st, staff.Options{Params: staff.Params{Time: 1, Memory: 64, Threads: 1}})
	lan, err := dir.Add(ctx, "cli", "lan", "Nguyễn Thị Lan", staff.RoleStaff, "482913")
	if err != nil {
		t.Fatal(err)
	}
	hung, err := dir.Add(ctx, "cli", "hung", "Trần Văn Hùng", staff.RoleSupervisor, "739102")
	if err != nil {
		t.Fatal(err)
	}
	clerk, sup := s.For(lan), s.For(hung)

	ss, err := clerk.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	birth(t, ss)
	sub, err := ss.Submit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	id := sub.App.ID
	if _, err := clerk.View(ctx, id); err != nil {
		t.Fatal(err)
	}
	if err := clerk.Reprint(ctx, id); err != nil {
		t.Fatal(err)
	}
	if len(pr.printed) != 1 {
		t.Fatalf("printed %d receipts, want 1", len(pr.printed))
	}
	for _, st2 := range []application.State{application.Sending, application.Quarantined} {
		if err := st.Transition(ctx, id, st2, store.Change{Actor: "uplink", LastError: "refused"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := clerk.Requeue(ctx, id); !errors.Is(err, staff.ErrForbidden) {
		t.Fatalf("a staff member's re-queue = %v, want ErrForbidden", err)
	}
	if a, _ := st.Get(ctx, id); a.State != application.Quarantined {
		t.Fatalf("after a refused re-queue the application is %s", a.State)
	}
	if err := sup.Requeue(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, err := sup.Track(ctx, "https://portal.example.vn/track/dev-1/"+sub.App.IdempotencyKey); err != nil {
		t.Fatal(err)
	}
	if _, err := clerk.Export(ctx, id); !errors.Is(err, staff.ErrForbidden) {
		t.Fatalf("a staff member's export = %v, want ErrForbidden", err)
	}
	out, err := sup.Export(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "Nguyễn Minh Khang") {
		t.Errorf("the export lacks the form: %s", out)
	}

	evs, err := st.Events(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	type row struct{ kind, to, actor string }
	var got []row
	for _, e := range evs {
		if e.Actor == "uplink" {
			continue
		}
		got = append(got, row{e.Kind, e.To, e.Actor})
	}
	want := []row{
		{audit.KindCreated, string(application.Draft), lan.Actor()},
		{audit.KindTransition, string(application.Ready), lan.Actor()},
		{audit.KindTransition, string(application.Queued), lan.Actor()},
		{staff.KindView, "", lan.Actor()},
		{staff.KindReprint, "", lan.Actor()},
		{staff.KindDenied, "", lan.Actor()},
		{audit.KindTransition, string(application.Queued), hung.Actor()},
		{staff.KindView, "", hung.Actor()},
		{staff.KindDenied, "", lan.Actor()},
		{staff.KindExport, "", hung.Actor()},
	}
	if len(got) != len(want) {
		t.Fatalf("audit events %+v\nwant %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("event %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	var refused []string
	for _, e := range evs {
		if e.Kind == staff.KindDenied {
			refused = append(refused, e.Detail)
		}
	}
	if len(refused) != 2 || !strings.Contains(refused[0], `"requeue"`) || !strings.Contains(refused[1], `"export"`) {
		t.Errorf("the refusals do not name their actions: %q", refused)
	}
	if n, err := st.VerifyAudit(ctx); err != nil {
		t.Fatalf("audit log after %d events: %v", n, err)
	}
}
