package uplink

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/motcua/motcua/agent/application"
	"github.com/motcua/motcua/sync/portalapi"
)

// guard bounds the waits of the faults below, which hold a request until
// the worker has done something else: a worker that never does it fails the
// test instead of hanging it.
const guard = 20 * time.Second

// get reads application id from the kiosk's store.
func (r *rig) get(id int64) *application.Application {
	r.t.Helper()
	a, err := r.store.Get(context.Background(), id)
	if err != nil {
		r.t.Fatal(err)
	}
	return a
}

// copyRecorded writes a recorded answer to w.
func copyRecorded(w http.ResponseWriter, rec *httptest.ResponseRecorder) {
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	w.Write(rec.Body.Bytes())
}

// completesUpload reports whether req may complete an upload: a creating
// POST with bytes, or a PATCH.
func completesUpload(req *http.Request) bool {
	return req.Method == http.MethodPatch ||
		req.Method == http.MethodPost && strings.HasPrefix(req.URL.Path, portalapi.PathUploads) && req.ContentLength > 0
}

// The status pull runs beside the uploads, so an event for an application
// the portal files during the pass can reach the kiosk before the
// application's receipt does. Here the portal files the applications, an
// officer takes them into review at once, and the status pull beside the
// upload gets both events before the upload's answer (with the receipts)
// leaves the portal. Applied then, the events would move the applications
// past "received" and their receipts would no longer apply: they must wait
// for the receipts, and the pull after the upload applies them, so each
// application ends with its receipt recorded and the portal's state, and
// the cursor skips nothing.
func TestStatusPulledBesideTheUploadWaitsForTheReceipt(t *testing.T) {
	for _, tt := range []struct {
		name  string
		sizes []int
	}{
		{"alone", []int{12 << 10}},
		{"shared upload", []int{5 << 10, 6 << 10, 7 << 10}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			r := newRig(t)
			var apps []*application.Application
			for i, n := range tt.sizes {
				apps = append(apps, r.queue(fmt.Sprintf("key-beside-%04d", i), n))
			}
			filed, pulled := make(chan struct{}), make(chan struct{})
			var upload, catalog atomic.Bool
			var beside atomic.Bool
			r.setFault(func(w http.ResponseWriter, req *http.Request) bool {
				switch {
				case req.URL.Path == portalapi.PathCatalog:
					// The catalog follows the status pull: that pull is over.
					if !catalog.Swap(true) {
						close(pulled)
					}
				case req.URL.Path == portalapi.PathStatus:
					select {
					case <-filed:
					case <-time.After(guard):
					}
				case completesUpload(req) && !upload.Swap(true):
					rec := httptest.NewRecorder()
					r.portal.Handler().ServeHTTP(rec, req)
					subs, err := r.portal.List(ctx)
					if err != nil {
						t.Error(err)
					}
					for _, s := range subs {
						if err := r.portal.Advance(ctx, s.FileCode, portalapi.InReview, "Đang thẩm định"); err != nil {
							t.Error(err)
						}
					}
					close(filed)
					select {
					case <-pulled:
						beside.Store(true)
					case <-time.After(guard):
					}
					copyRecorded(w, rec)
					return true
				}
				return false
			})
			w := r.worker()
			sum, err := w.Once(ctx)
			if !beside.Load() {
				t.Error("the status pull did not run beside the upload")
			}
			if err != nil || sum.Delivered != len(apps) || sum.Failed != 0 || sum.Remaining != 0 || sum.StatusUpdates != len(apps) {
				t.Fatalf("Once = %+v, %v; want %d delivered, their review applied", sum, err, len(apps))
			}
			r.checkExactlyOnce()
			for _, a := range apps {
				got := r.get(a.ID)
				evs, err := r.store.Events(ctx, a.ID)
				if err != nil {
					t.Fatal(err)
				}
				var states []string
				for _, e := range evs {
					states = append(states, e.Actor+":"+e.To)
				}
				// The receipt (the uplink's "received") comes before the
				// portal's review.
				if got.State != application.InReview || !strings.HasSuffix(strings.Join(states, " "), "uplink:received portal:in_review") {
					t.Errorf("%s: %s, history %v", a.IdempotencyKey, got.State, states)
				}
			}
			page, err := w.statusPage(ctx, 0)
			if err != nil {
				t.Fatal(err)
			}
			if cur, _ := w.seqSetting(ctx, settingCursor); cur != page.Last {
				t.Errorf("cursor %d, the portal's last event %d", cur, page.Last)
			}
		})
	}
}

// A status pull beside the uploads that finds the portal rolled back
// leaves the recovery to the pull after them. The recovery queues again
// the files the portal no longer names; run beside an upload, it could ask
// the portal what it knows, then see the receipt of a file filed a moment
// later recorded, and queue that file again as forgotten. Here the portal
// answers what it knows before it files the application, and answers only
// once the receipt is recorded.
func TestRollbackSeenBesideAnUploadDoesNotQueueAgainTheFileBeingFiled(t *testing.T) {
	ctx := context.Background()
	r := newRig(t)
	kept := r.queue("key-rolled-kept")
	if _, err := r.worker().Once(ctx); err != nil {
		t.Fatal(err)
	}
	// The kiosk was told of events the portal no longer has.
	if err := r.store.SetSetting(ctx, settingCursor, "100"); err != nil {
		t.Fatal(err)
	}
	x := r.queue("key-rolled-xfile", 9<<10)
	asked, pulled := make(chan struct{}), make(chan struct{})
	var askedOnce, pulledOnce sync.Once
	var upload atomic.Bool
	r.setFault(func(w http.ResponseWriter, req *http.Request) bool {
		switch {
		case req.URL.Path == portalapi.PathCatalog:
			pulledOnce.Do(func() { close(pulled) })
		case req.URL.Path == portalapi.PathStatus && req.URL.Query().Get("cursor") == "0":
			// What the portal knows, asked before the filing.
			rec := httptest.NewRecorder()
			r.portal.Handler().ServeHTTP(rec, req)
			askedOnce.Do(func() { close(asked) })
			for deadline := time.Now().Add(guard); r.get(x.ID).State != application.Received && time.Now().Before(deadline); {
				time.Sleep(5 * time.Millisecond)
			}
			copyRecorded(w, rec)
			return true
		case completesUpload(req) && !upload.Swap(true):
			// The filing waits until what the portal knows was asked, or
			// the pull beside it is over.
			select {
			case <-asked:
			case <-pulled:
			case <-time.After(guard):
			}
		}
		return false
	})
	sum, err := r.worker().Once(ctx)
	if err != nil || sum.Remaining != 0 || !strings.Contains(sum.PortalChanged, "rolled back") {
		t.Fatalf("Once = %+v, %v", sum, err)
	}
	if !strings.Contains(sum.PortalChanged, ": 0 unfinished file(s) queued again") {
		t.Errorf("the recovery queued files again: %s", sum.PortalChanged)
	}
	r.checkExactlyOnce()
	for _, a := range []*application.Application{kept, x} {
		if codes, _ := r.store.OldFileCodes(ctx, a.ID); len(codes) != 0 {
			t.Errorf("%s was queued again as forgotten (old codes %+v)", a.IdempotencyKey, codes)
		}
		if got := r.get(a.ID); got.State != application.Received {
			t.Errorf("%s: %s", a.IdempotencyKey, got.State)
		}
	}
}

// noSeq matches the status event a receipt names.
var noSeq = regexp.MustCompile(`,"seq":[0-9]+`)

// A portal that does not name the status event of a filing in its receipt
// (portalapi.Receipt.Seq) leaves the kiosk no way to tell, before its
// status pull reaches that event, that a rollback lost the file: the pull
// then goes after the deliveries, as it did before it ran beside them, and
// the cursor passes the filings of the pass.
func TestReceiptNamingNoStatusEventPullsStatusAfterTheDeliveries(t *testing.T) {
	ctx := context.Background()
	r := newRig(t)
	for i, n := range []int{20 << 10, 4 << 10, 5 << 10} {
		r.queue(fmt.Sprintf("key-noseq-%04d", i), n)
	}
	r.setFault(func(w http.ResponseWriter, req *http.Request) bool {
		if !completesUpload(req) && req.URL.Path != portalapi.PathSubmissions {
			return false
		}
		rec := httptest.NewRecorder()
		r.portal.Handler().ServeHTTP(rec, req)
		// Receipts come in the body (a manifest's) or a header (an
		// upload's); "seq" is their last field.
		body := noSeq.ReplaceAll(rec.Body.Bytes(), nil)
		rec.Body.Reset()
		rec.Body.Write(body)
		rec.Header().Set("Content-Length", strconv.Itoa(len(body)))
		for _, h := range []string{portalapi.HeaderReceipt, portalapi.HeaderReceipts} {
			if v := rec.Header().Get(h); v != "" {
				rec.Header().Set(h, noSeq.ReplaceAllString(v, ""))
			}
		}
		copyRecorded(w, rec)
		return true
	})
	w := r.worker()
	if sum, err := w.Once(ctx); err != nil || sum.Delivered != 3 || sum.Remaining != 0 {
		t.Fatalf("Once = %+v, %v", sum, err)
	}
	page, err := w.statusPage(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if cur, _ := w.seqSetting(ctx, settingCursor); page.Last != 3 || cur != page.Last {
		t.Errorf("cursor %d after the pass, the portal's last event %d", cur, page.Last)
	}
	if seen, _ := w.seqSetting(ctx, settingSeen); seen != 0 {
		t.Errorf("kept event %d from receipts that named none", seen)
	}
}
