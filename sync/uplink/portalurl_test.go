package uplink

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/motcua/motcua/agent/application"
	"github.com/motcua/motcua/sync/portalapi"
)

// TestSamePortalWrittenAnotherWayKeepsTheEnrollment pins a portal URL that
// staff write another way (a trailing slash, the host in capitals): the
// kiosk enrolled again as a new device, so the portal's status for every
// application it had delivered never reached it, and an application whose
// receipt was lost would be filed a second time under the new device.
func TestSamePortalWrittenAnotherWayKeepsTheEnrollment(t *testing.T) {
	r := newRig(t)
	a := r.queue("key-url-000001", 1000)
	if sum, err := r.worker().Once(context.Background()); err != nil || sum.Delivered != 1 {
		t.Fatalf("Once = %+v, %v", sum, err)
	}
	device, _ := r.store.Setting(context.Background(), settingDevice)
	got, _ := r.store.Get(context.Background(), a.ID)
	if err := r.portal.Advance(context.Background(), got.FileCode, portalapi.InReview, ""); err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{r.srv.URL + "/", "HTTP" + strings.TrimPrefix(r.srv.URL, "http")} {
		w, err := New(Config{Portal: u, Store: r.store, Now: r.now, Sleep: func(ctx context.Context, d time.Duration) error { r.advance(d); return ctx.Err() }})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Once(context.Background()); err != nil {
			t.Fatalf("%s: %v", u, err)
		}
		if now, _ := r.store.Setting(context.Background(), settingDevice); now != device {
			t.Fatalf("with the portal written %s the kiosk enrolled again as %s (was %s)", u, now, device)
		}
	}
	if got, _ := r.store.Get(context.Background(), a.ID); got.State != application.InReview {
		t.Errorf("the application is %s, the portal says in review", got.State)
	}
}
