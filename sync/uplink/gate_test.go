package uplink

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/motcua/motcua/agent/application"
	"github.com/motcua/motcua/sync/portalapi"
)

// A kiosk enrolled with the portal at its URL sends at once and checks the
// portal's identity beside the upload, so nothing may be filed before that
// check has answered. Here the kiosk believes itself enrolled with another
// instance than the one that answers, which still takes its token, and the
// health check answers only once the upload has begun: the upload must
// stop short of its last byte, the kiosk enroll as a new device with the
// portal that answers, and the application be filed under that device
// only.
func TestNothingIsFiledBeforeTheHealthCheckConfirmsThePortal(t *testing.T) {
	ctx := context.Background()
	r := newRig(t)
	r.queue("key-gate-first1", 2<<10)
	if _, err := r.worker().Once(ctx); err != nil {
		t.Fatal(err)
	}
	oldDevice, _ := r.store.Setting(ctx, settingDevice)
	if err := r.store.SetSetting(ctx, settingInstance, "p-another-portal"); err != nil {
		t.Fatal(err)
	}
	x := r.queue("key-gate-xfile1", 3<<10)
	begun := make(chan struct{})
	var uploads, checks atomic.Int64
	r.setFault(func(w http.ResponseWriter, req *http.Request) bool {
		switch {
		case completesUpload(req):
			if uploads.Add(1) == 1 {
				close(begun)
			}
		case req.URL.Path == portalapi.PathHealth && checks.Add(1) == 1:
			select {
			case <-begun:
			case <-time.After(guard):
				t.Error("the upload did not begin before the health check answered")
			}
		}
		return false
	})
	sum, err := r.worker().Once(ctx)
	if err != nil || sum.Remaining != 0 || sum.Delivered != 1 || !strings.Contains(sum.PortalChanged, "changed identity") {
		t.Fatalf("Once = %+v, %v", sum, err)
	}
	newDevice, _ := r.store.Setting(ctx, settingDevice)
	if newDevice == oldDevice {
		t.Fatalf("still device %s", oldDevice)
	}
	subs, err := r.portal.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range subs {
		if s.IdempotencyKey == x.IdempotencyKey && s.DeviceID != newDevice {
			t.Errorf("%s filed under device %s before the portal was confirmed; the kiosk is now %s", s.IdempotencyKey, s.DeviceID, newDevice)
		}
	}
	if got := r.get(x.ID); got.State != application.Received || got.PortalInstance != r.portal.Instance() {
		t.Errorf("%s: %s at %q", x.IdempotencyKey, got.State, got.PortalInstance)
	}
}

// A health check refused beside the upload stops the upload short of its
// last byte: nothing is filed, and the next pass resumes the upload from
// the portal's offset, every attachment byte sent once. The refusal is the
// health check's, not an answer to the applications: a 503 holds the
// worker for its Retry-After, and a 403 (a proxy's) quarantines nothing.
func TestHealthCheckRefusedBesideTheUploadFilesNothingAndResumes(t *testing.T) {
	for _, tt := range []struct {
		name   string
		sizes  []int
		status int
	}{
		{"503 with Retry-After, shared upload", []int{20 << 10, 30 << 10}, http.StatusServiceUnavailable},
		{"403 from a proxy, sent alone", []int{40 << 10}, http.StatusForbidden},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			r := newRig(t)
			r.queue("key-gate-enroll1", 1<<10)
			if _, err := r.worker().Once(ctx); err != nil {
				t.Fatal(err)
			}
			var payload int64
			for i, n := range tt.sizes {
				r.queue(fmt.Sprintf("key-gate-refused-%04d", i), n)
				payload += int64(n)
			}
			begun := make(chan struct{})
			var uploads, checks atomic.Int64
			var filedUnconfirmed atomic.Bool
			r.setFault(func(w http.ResponseWriter, req *http.Request) bool {
				switch {
				case completesUpload(req):
					if uploads.Add(1) == 1 {
						close(begun)
					}
					rec := httptest.NewRecorder()
					r.portal.Handler().ServeHTTP(rec, req)
					// Only the refused check has answered: the portal is
					// not confirmed, and must have filed nothing more.
					if subs, _ := r.portal.List(ctx); len(subs) > 1 && checks.Load() < 2 {
						filedUnconfirmed.Store(true)
					}
					copyRecorded(w, rec)
					return true
				case req.URL.Path == portalapi.PathHealth && checks.Add(1) == 1:
					select {
					case <-begun:
					case <-time.After(guard):
						t.Error("the upload did not begin before the health check answered")
					}
					if tt.status == http.StatusServiceUnavailable {
						w.Header().Set("Retry-After", "40")
					}
					w.WriteHeader(tt.status)
					return true
				}
				return false
			})
			w := r.worker()
			sum, err := w.Once(ctx)
			if err != nil || sum.Remaining != 0 || sum.Delivered != len(tt.sizes) || sum.Quarantined != 0 {
				t.Fatalf("Once = %+v, %v", sum, err)
			}
			if filedUnconfirmed.Load() {
				t.Error("an application was filed before the portal was confirmed")
			}
			waited := false
			for _, d := range r.sleeps {
				waited = waited || d >= 40*time.Second
			}
			if want := tt.status == http.StatusServiceUnavailable; waited != want {
				t.Errorf("waited %v after a health check answered %d", r.sleeps, tt.status)
			}
			if sent := w.BytesSent(); sent != payload {
				t.Errorf("sent %d attachment bytes, want each of %d once", sent, payload)
			}
			r.checkExactlyOnce()
		})
	}
}

// The other ordering of the flake of
// TestHealthCheckRefusedBesideTheUploadFilesNothingAndResumes: the kiosk
// gave up its creation one byte short of its end (the health check beside
// it refused), and its next pass's HEAD reached the portal before the
// given-up creation did, so the portal rightly answered that it had no
// such upload. The kiosk created the upload again, and its bytes went out
// before the portal answered upload_exists (the first creation had landed
// meanwhile): every byte sent twice (81,920 bytes for 40 KiB before the
// fix). An upload created again after a creation that carried bytes is
// created empty, so upload_exists costs no bytes, and the kiosk resumes
// from the portal's offset.
func TestCreationSentAgainAfterAGivenUpOneSendsNoByteTwice(t *testing.T) {
	ctx := context.Background()
	r := newRig(t)
	r.queue("key-again-enroll1", 1<<10)
	if _, err := r.worker().Once(ctx); err != nil {
		t.Fatal(err)
	}
	const size = 40 << 10
	r.queue("key-again-refused1", size)
	begun, headAnswered, firstDone := make(chan struct{}), make(chan struct{}), make(chan struct{})
	var creations, heads, checks atomic.Int64
	wait := func(c <-chan struct{}, what string) {
		select {
		case <-c:
		case <-time.After(guard):
			t.Errorf("%s never happened", what)
		}
	}
	r.setFault(func(w http.ResponseWriter, req *http.Request) bool {
		switch {
		case req.Method == http.MethodPost && strings.HasPrefix(req.URL.Path, portalapi.PathUploads):
			switch creations.Add(1) {
			case 1:
				// The given-up creation reaches the portal only after
				// the next pass's HEAD was answered.
				close(begun)
				wait(headAnswered, "the HEAD after the given-up creation")
				r.portal.Handler().ServeHTTP(w, req)
				close(firstDone)
				return true
			case 2:
				if req.ContentLength != 0 {
					t.Errorf("the upload was created again with %d bytes", req.ContentLength)
				}
				wait(firstDone, "the given-up creation")
			}
		case req.Method == http.MethodHead && heads.Add(1) == 1:
			r.portal.Handler().ServeHTTP(w, req)
			close(headAnswered)
			return true
		case req.URL.Path == portalapi.PathHealth && checks.Add(1) == 1:
			wait(begun, "the creation")
			w.WriteHeader(http.StatusForbidden)
			return true
		}
		return false
	})
	w := r.worker()
	sum, err := w.Once(ctx)
	if err != nil || sum.Remaining != 0 || sum.Delivered != 1 || sum.Quarantined != 0 {
		t.Fatalf("Once = %+v, %v", sum, err)
	}
	if creations.Load() < 2 {
		t.Fatalf("%d creations: the ordering was not met", creations.Load())
	}
	if sent := w.BytesSent(); sent != size {
		t.Errorf("sent %d attachment bytes, want each of %d once", sent, size)
	}
	r.checkExactlyOnce()
}
