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
// completed. Back online, after a restart, the application is uploaded
// again and filed, exactly once, neither quarantined nor stuck.
func TestUploadExpiredWhileOfflineIsSentAgain(t *testing.T) {
	const size = 300 << 10
	tests := []struct {
		name string
		// leave sends the application until it is left with an unfiled
		// upload at the portal.
		leave func(t *testing.T, r *rig)
	}{
		{"half sent", func(t *testing.T, r *rig) {
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
		}},
		{"whole but refused for a time", func(t *testing.T, r *rig) {
			r.queue("key-expiry-first", 1<<10) // takes the device's one filing
			if sum, err := r.worker().Pass(context.Background()); sum.Delivered != 1 || sum.Held != 1 {
				t.Fatalf("pass = %+v, %v; want one filed and one held", sum, err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRigWith(t, portal.Config{FilingBurst: 1, FilingInterval: 24 * time.Hour})
			a := r.queue("key-expiry-0001", size)
			tt.leave(t, r)
			// Eight days offline: the sweeper removes the upload.
			r.advance(8 * 24 * time.Hour)
			if n, err := r.portal.ExpireUploads(context.Background()); err != nil || n != 1 {
				t.Fatalf("ExpireUploads = %d, %v; want the unfiled upload removed", n, err)
			}
			w, ctx := r.boundedWorker(10)
			if sum, err := w.Once(ctx); err != nil || sum.Quarantined != 0 || sum.Remaining != 0 {
				t.Fatalf("back online: %+v, %v", sum, err)
			}
			if got, _ := r.store.Get(context.Background(), a.ID); got.State != application.Received {
				t.Fatalf("the application is %s (%q)", got.State, got.LastError)
			}
			if sent := w.BytesSent(); sent != size {
				t.Errorf("sent %d bytes after the upload expired, want the whole %d once", sent, size)
			}
			r.checkExactlyOnce()
		})
	}
}
