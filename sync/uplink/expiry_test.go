package uplink

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/motcua/motcua/agent/application"
	"github.com/motcua/motcua/sync/portal"
)

// TestUploadExpiredWhileOfflineIsSentAgain pins a kiosk offline for over a
// week while the portal's sweeper removed its unfiled upload: half sent
// before the link went, or whole but refused for a time (429) when it
// completed, alone or shared by small applications none of which the
// portal filed. Back online, after a restart, each application is uploaded
// again and filed, exactly once, neither quarantined nor stuck.
func TestUploadExpiredWhileOfflineIsSentAgain(t *testing.T) {
	// large goes alone; small shares an upload with another.
	const large, small = batchAppBytes + 16<<10, 300 << 10
	tests := []struct {
		name string
		size int
		// leave sends the application until it is left with an unfiled
		// upload at the portal, and returns the attachment bytes of the
		// others it left unfiled.
		leave func(t *testing.T, r *rig) int64
	}{
		{"half sent", large, func(t *testing.T, r *rig) int64 {
			var cuts, received atomic.Int64
			r.setFault(func(w http.ResponseWriter, req *http.Request) bool {
				if req.Method == http.MethodHead {
					http.Error(w, "link down", http.StatusBadGateway)
					return true
				}
				return cutAfter(r.portal.Handler(), 120<<10, &cuts, &received)(w, req)
			})
			w, ctx := r.boundedWorker(1)
			if _, err := w.Once(ctx); err == nil {
				t.Fatal("delivered through a dead link")
			}
			r.setFault(nil)
			return 0
		}},
		{"whole but refused for a time", large, func(t *testing.T, r *rig) int64 {
			r.queue("key-expiry-first", 1<<10) // takes the device's one filing
			if sum, err := r.worker().Pass(context.Background()); sum.Delivered != 1 || sum.Held != 1 {
				t.Fatalf("pass = %+v, %v; want one filed and one held", sum, err)
			}
			return 0
		}},
		{"shared, whole but refused for a time", small, func(t *testing.T, r *rig) int64 {
			// The device's one filing goes first, alone; the two small
			// ones then share an upload the portal files neither of.
			first := r.queue("key-expiry-first") // no attachment
			w := r.worker()
			if err := w.enroll(context.Background()); err != nil {
				t.Fatal(err)
			}
			if err := w.deliver(context.Background(), first.ID); err != nil {
				t.Fatal(err)
			}
			r.queue("key-expiry-second", 1<<10)
			if sum, err := w.Pass(context.Background()); sum.Delivered != 0 || sum.Held != 2 || err == nil {
				t.Fatalf("pass = %+v, %v; want both held", sum, err)
			}
			return 1 << 10
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRigWith(t, portal.Config{OpenEnrollment: true, FilingBurst: 1, FilingInterval: 24 * time.Hour})
			a := r.queue("key-expiry-0001", tt.size)
			others := tt.leave(t, r)
			// Eight days offline: the sweeper removes the upload.
			r.advance(8 * 24 * time.Hour)
			if n, err := r.portal.ExpireUploads(context.Background()); err != nil || n != 1 {
				t.Fatalf("ExpireUploads = %d, %v; want the unfiled upload removed", n, err)
			}
			// Two filings at one a day take a day of waits of at most
			// MaxRetryAfter.
			w, ctx := r.boundedWorker(40)
			if sum, err := w.Once(ctx); err != nil || sum.Quarantined != 0 || sum.Remaining != 0 {
				t.Fatalf("back online: %+v, %v", sum, err)
			}
			if got, _ := r.store.Get(context.Background(), a.ID); got.State != application.Received {
				t.Fatalf("the application is %s (%q)", got.State, got.LastError)
			}
			if sent, want := w.BytesSent(), int64(tt.size)+others; sent != want {
				t.Errorf("sent %d bytes after the upload expired, want the whole %d once", sent, want)
			}
			r.checkExactlyOnce()
		})
	}
}
