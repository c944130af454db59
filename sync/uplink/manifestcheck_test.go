package uplink

import (
	"context"
	"strings"
	"testing"

	"github.com/motcua/motcua/agent/application"
	"github.com/motcua/motcua/agent/store"
)

// An application whose form the portal's checks refuse (here a child's sex
// the catalog does not know, which a kiosk with a tampered store could send)
// is quarantined with the portal's reason naming the field, and the others
// are delivered.
func TestApplicationFailingPortalChecksIsQuarantinedWithReason(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	bad, err := r.store.Create(ctx, store.NewApplication{IdempotencyKey: "key-badform-01", ProcedureID: "birth-registration",
		ProcedureCode: "1.001193", CatalogVersion: "2026.11.1",
		Form:  []byte(strings.Replace(string(exampleForm(t)), `"child_sex": "male"`, `"child_sex": "robot"`, 1)),
		Actor: "test"}, application.Queued)
	if err != nil {
		t.Fatal(err)
	}
	good := r.queue("key-goodform-1", 2000)
	sum, err := r.worker().Once(ctx)
	if err != nil || sum.Delivered != 1 || sum.Quarantined != 1 {
		t.Fatalf("Once = %+v, %v", sum, err)
	}
	got, _ := r.store.Get(ctx, bad.ID)
	if got.State != application.Quarantined || !strings.Contains(got.LastError, "form.child_sex") {
		t.Fatalf("bad form: %s, last error %q", got.State, got.LastError)
	}
	if g, _ := r.store.Get(ctx, good.ID); g.State != application.Received {
		t.Fatalf("good form: %s", g.State)
	}
}
