package uplink

import (
	"context"
	"fmt"
	"github.com/motcua/motcua/sync/portalapi"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/motcua/motcua/agent/application"
	"github.com/motcua/motcua/agent/store"
	"github.com/motcua/motcua/sync/portal"
)

// TestBacklogOverFilingBurstIsHeldThenDeliveredExactlyOnce pins a kiosk back
// after days offline with more applications than the portal's filing burst:
// the portal answers the ones past it 429 with Retry-After, on the request
// completing their upload or on their manifest, and the worker holds each
// and then delivers every one, exactly once, with none quarantined, none
// left queued and no upload's bytes sent twice. The portal and the worker
// share one clock, which the worker's waits move on.
func TestBacklogOverFilingBurstIsHeldThenDeliveredExactlyOnce(t *testing.T) {
	const burst, backlog = 3, 12
	r := newRigWith(t, portal.Config{OpenEnrollment: true, FilingBurst: burst, FilingInterval: 10 * time.Second})
	var payload int64
	for i := range backlog {
		var sizes []int
		if i%3 != 0 { // every third application has no attachment
			sizes = []int{(i + 1) << 10}
			payload += int64(i+1) << 10
		}
		r.queue(fmt.Sprintf("key-backlog-%03d", i), sizes...)
	}
	// length sums the lengths of the uploads created: each is sent once.
	var length atomic.Int64
	r.setFault(func(w http.ResponseWriter, req *http.Request) bool {
		if req.Method == http.MethodPost && req.URL.Path == portalapi.PathUploads {
			n, _ := strconv.ParseInt(req.Header.Get("Upload-Length"), 10, 64)
			length.Add(n)
		}
		return false
	})
	w, ctx := r.boundedWorker(10 * backlog)
	sum, err := w.Once(ctx)
	if err != nil || sum.Remaining != 0 {
		t.Fatalf("Once = %+v, %v", sum, err)
	}
	if sum.Delivered != backlog || sum.Quarantined != 0 {
		t.Errorf("delivered %d and quarantined %d of %d", sum.Delivered, sum.Quarantined, backlog)
	}
	local, err := r.store.List(context.Background(), store.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range local {
		if a.State != application.Received {
			t.Errorf("%s is %s (%q)", a.IdempotencyKey, a.State, a.LastError)
		}
	}
	subs, err := r.portal.List(context.Background())
	if err != nil || len(subs) != backlog {
		t.Fatalf("the portal filed %d of %d: %v", len(subs), backlog, err)
	}
	r.checkExactlyOnce()
	// The small applications share uploads, which start with their
	// manifests (a few hundred bytes each at most): each upload's bytes
	// were sent once, and no attachment byte twice.
	if sent, l := w.BytesSent(), length.Load(); sent != payload || l < payload || l > payload+backlog<<9 {
		t.Errorf("sent %d attachment bytes for %d, in uploads of %d bytes", sent, payload, l)
	}
	// Past the burst the portal files one per interval: the worker waited
	// for them, and not much longer.
	var waited time.Duration
	for _, d := range r.sleeps {
		waited += d
	}
	if least := time.Duration(backlog-burst) * 10 * time.Second; waited < least-10*time.Second || waited > 3*least {
		t.Errorf("waited %v in all (%v) for %d filings past the burst at one per 10 s", waited, r.sleeps, backlog-burst)
	}
}

// TestDeviceFilingLimitIsNotAskedByEveryQueuedApplication pins the seam
// between the portal's filing limit, which is the device's (429
// rate_limited: "this device files faster than the portal allows"), and
// the worker's hold, which is one application's. A kiosk with a backlog
// past the burst asked the portal about every other queued application
// after each 429, and again each time the holds ended a second later: 300
// applications took some 17,000 requests, nearly all of them refused. A
// second 429 in one pass shows the limit is the device's, and the pass
// stops there until its Retry-After.
func TestDeviceFilingLimitIsNotAskedByEveryQueuedApplication(t *testing.T) {
	const burst, backlog = 5, 60
	r := newRigWith(t, portal.Config{OpenEnrollment: true, FilingBurst: burst, FilingInterval: time.Second})
	for i := range backlog {
		var sizes []int
		if i%2 == 0 {
			sizes = []int{(i%5 + 1) << 10}
		}
		r.queue(fmt.Sprintf("key-flood-%03d", i), sizes...)
	}
	var requests, limited atomic.Int64
	r.setFault(func(w http.ResponseWriter, req *http.Request) bool {
		requests.Add(1)
		if req.Method == http.MethodGet {
			return false // the status pull and the catalog
		}
		w = &statusRecorder{ResponseWriter: w, seen: func(code int) {
			if code == http.StatusTooManyRequests {
				limited.Add(1)
			}
		}}
		r.portal.Handler().ServeHTTP(w, req)
		return true
	})
	w, ctx := r.boundedWorker(10 * backlog)
	if sum, err := w.Once(ctx); err != nil || sum.Delivered != backlog || sum.Remaining != 0 {
		t.Fatalf("Once = %+v, %v", sum, err)
	}
	r.checkExactlyOnce()
	// Each application costs its upload (a creation, or a HEAD and a
	// manifest after a 429) or its manifest; the refusals are at most two
	// per wait, not one per queued application.
	if n := limited.Load(); n > int64(2*len(r.sleeps)+2) {
		t.Errorf("the portal refused %d filings over %d waits", n, len(r.sleeps))
	}
	if n := requests.Load(); n > 5*backlog {
		t.Errorf("%d requests for %d applications", n, backlog)
	}
}

// statusRecorder tells seen the status of an answer.
type statusRecorder struct {
	http.ResponseWriter
	seen func(int)
	done bool
}

func (s *statusRecorder) WriteHeader(code int) {
	if !s.done {
		s.done = true
		s.seen(code)
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if !s.done {
		s.WriteHeader(http.StatusOK)
	}
	return s.ResponseWriter.Write(b)
}

// Unwrap lets the portal's http.ResponseController reach the connection.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// TestRefusedUploadCompletionIsNotFollowedAtOnceByItsManifest pins an
// upload whose completing request the portal refuses for a time (429 past
// the device's filing burst, or 503 at the day's last file code) though it
// kept the bytes: the worker notes the upload complete and holds the
// application, instead of sending its manifest at once into the same
// refusal. Once the wait is over, the manifest alone files it. The same
// holds for an upload shared by small applications whose filings the
// portal answers 429 past the first: the bytes are never sent again.
func TestRefusedUploadCompletionIsNotFollowedAtOnceByItsManifest(t *testing.T) {
	for _, tc := range []struct {
		name   string
		sizes  [2]int
		shared bool
	}{
		{"alone", [2]int{batchAppBytes + 2<<10, batchAppBytes + 3<<10}, false},
		{"shared", [2]int{2 << 10, 3 << 10}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRigWith(t, portal.Config{OpenEnrollment: true, FilingBurst: 1, FilingInterval: time.Minute})
			first := r.queue("key-complete-01", tc.sizes[0])
			second := r.queue("key-complete-02", tc.sizes[1])
			var manifests, creations, length atomic.Int64
			r.setFault(func(w http.ResponseWriter, req *http.Request) bool {
				switch {
				case req.URL.Path == portalapi.PathSubmissions:
					manifests.Add(1)
				case req.Method == http.MethodPost && req.URL.Path == portalapi.PathUploads:
					creations.Add(1)
					n, _ := strconv.ParseInt(req.Header.Get("Upload-Length"), 10, 64)
					length.Add(n)
				}
				return false
			})
			w := r.worker()
			sum, err := w.Pass(context.Background())
			if err == nil || sum.Delivered != 1 || sum.Held != 1 {
				t.Fatalf("first pass = %+v, %v; want one filed and one held", sum, err)
			}
			if got, _ := r.store.Get(context.Background(), first.ID); got.State != application.Received {
				t.Fatalf("the first application is %s", got.State)
			}
			if n := manifests.Load(); n != 0 {
				t.Errorf("%d manifest(s) sent right after the portal refused the upload's completion", n)
			}
			up, _, err := r.store.Upload(context.Background(), second.ID)
			if err != nil || !up.Complete {
				t.Fatalf("held application's upload %+v, %v: the portal has all of it", up, err)
			}
			r.advance(time.Minute)
			if sum, err := w.Pass(context.Background()); err != nil || sum.Delivered != 1 {
				t.Fatalf("second pass = %+v, %v", sum, err)
			}
			wantCreations := int64(2)
			if tc.shared {
				wantCreations = 1
			}
			if n, c := manifests.Load(), creations.Load(); n != 1 || c != wantCreations {
				t.Errorf("%d manifest(s) and %d creation(s) in all; want %d creation(s), then the held one's manifest alone after the wait",
					n, c, wantCreations)
			}
			payload := int64(tc.sizes[0] + tc.sizes[1])
			if sent, l := w.BytesSent(), length.Load(); sent != payload || l < payload || l > payload+1<<10 {
				t.Errorf("sent %d attachment bytes for %d, in uploads of %d bytes", sent, payload, l)
			}
			r.checkExactlyOnce()
		})
	}
}

// TestServerErrorMidUploadGoesOnAtOnce pins the other side of the rule
// above: an error in the middle of a transfer after the portal kept part of
// the bytes (tusd answers 500 to a body that timed out, and 400 to one
// interrupted by another request for the upload, such as the expiry
// sweeper's) is like a cut, and the upload goes on at once from the
// portal's offset, in the same pass, sending no byte twice. A PATCH
// interrupted before any byte is retried, never quarantined: nothing in a
// PATCH is the application's to refuse.
func TestServerErrorMidUploadGoesOnAtOnce(t *testing.T) {
	const interrupted = "ERR_UPLOAD_INTERRUPTED: upload has been interrupted by another request for this upload resource"
	for _, tc := range []struct {
		method string
		status int
		body   string
		// kept is how much of the failed request's body the portal kept.
		kept int64
	}{
		{http.MethodPost, http.StatusInternalServerError, "ERR_READ_TIMEOUT: timeout while reading request body", 64 << 10},
		{http.MethodPost, http.StatusBadRequest, interrupted, 64 << 10},
		{http.MethodPatch, http.StatusBadRequest, interrupted, 64 << 10},
		{http.MethodPatch, http.StatusBadRequest, interrupted, 0},
	} {
		t.Run(fmt.Sprintf("%s %d after %d bytes", tc.method, tc.status, tc.kept), func(t *testing.T) {
			r := newRig(t)
			const size = 200 << 10
			kept := tc.kept
			var failed, cuts, received atomic.Int64
			cut := cutAfter(r.portal.Handler(), 64<<10, &cuts, &received)
			r.setFault(func(w http.ResponseWriter, req *http.Request) bool {
				if tc.method == http.MethodPatch && req.Method == http.MethodPost && cuts.Load() == 0 {
					return cut(w, req) // the creation is cut, so a PATCH follows
				}
				if req.Method != tc.method || !strings.HasPrefix(req.URL.Path, portalapi.PathUploads) || failed.Add(1) > 1 {
					return false
				}
				// The portal takes the first bytes, then the body fails.
				r2 := req.Clone(req.Context())
				r2.Body = io.NopCloser(io.MultiReader(io.LimitReader(req.Body, kept), errReader{}))
				r.portal.Handler().ServeHTTP(httptest.NewRecorder(), r2)
				http.Error(w, tc.body, tc.status)
				return true
			})
			a := r.queue("key-midway-err", size)
			w, ctx := r.boundedWorker(5)
			if sum, err := w.Once(ctx); err != nil || sum.Delivered != 1 || sum.Quarantined != 0 {
				t.Fatalf("Once = %+v, %v", sum, err)
			}
			if got, _ := r.store.Get(context.Background(), a.ID); got.State != application.Received {
				t.Fatalf("application is %s", got.State)
			}
			if kept > 0 && len(r.sleeps) != 0 {
				t.Errorf("waited %v after the portal kept %d bytes", r.sleeps, kept)
			}
			r.checkExactlyOnce()
		})
	}
}

// TestProxyRateLimitWithoutRetryAfterStopsThePass pins a 429 without
// Retry-After (a proxy's limit in front of the portal): nothing is held,
// but a second one in a pass still shows the limit is the device's, so the
// pass stops instead of asking about every queued application, and the
// next pass after the backoff delivers them all.
func TestProxyRateLimitWithoutRetryAfterStopsThePass(t *testing.T) {
	r := newRig(t)
	const backlog = 20
	for i := range backlog {
		r.queue(fmt.Sprintf("key-proxy-%03d", i))
	}
	var limited atomic.Int64
	r.setFault(func(w http.ResponseWriter, req *http.Request) bool {
		if req.URL.Path != portalapi.PathSubmissions || limited.Load() >= backlog {
			return false
		}
		limited.Add(1)
		http.Error(w, "<html>429 Too Many Requests</html>", http.StatusTooManyRequests)
		return true
	})
	w := r.worker()
	sum, err := w.Pass(context.Background())
	if err == nil || sum.Delivered != 0 || limited.Load() != 2 {
		t.Fatalf("first pass = %+v, %v after %d refusals; want it stopped at the second", sum, err, limited.Load())
	}
	limited.Store(backlog)
	w2, ctx := r.boundedWorker(5)
	if sum, err := w2.Once(ctx); err != nil || sum.Delivered != backlog {
		t.Fatalf("Once = %+v, %v", sum, err)
	}
	r.checkExactlyOnce()
}

// TestServerErrorMidSharedUploadGoesOnAtOnce pins the seam between the
// rule above and the small applications that share an upload: tusd's 500
// to a body that timed out, or 400 to one interrupted, after the portal
// kept part of the shared upload is a cut, and the upload goes on from the
// portal's offset in the same pass, instead of each application sending
// its bytes again alone.
func TestServerErrorMidSharedUploadGoesOnAtOnce(t *testing.T) {
	for _, tc := range []struct {
		status int
		body   string
	}{
		{http.StatusInternalServerError, "ERR_READ_TIMEOUT: timeout while reading request body"},
		{http.StatusBadRequest, "ERR_UPLOAD_INTERRUPTED: upload has been interrupted by another request for this upload resource"},
	} {
		t.Run(strconv.Itoa(tc.status), func(t *testing.T) {
			r := newRig(t)
			var failed, creations atomic.Int64
			r.setFault(func(w http.ResponseWriter, req *http.Request) bool {
				if req.Method != http.MethodPost || req.URL.Path != portalapi.PathUploads {
					return false
				}
				creations.Add(1)
				if failed.Add(1) > 1 {
					return false
				}
				r2 := req.Clone(req.Context())
				r2.Body = io.NopCloser(io.MultiReader(io.LimitReader(req.Body, 64<<10), errReader{}))
				r.portal.Handler().ServeHTTP(httptest.NewRecorder(), r2)
				http.Error(w, tc.body, tc.status)
				return true
			})
			a, b := r.queue("key-shared-midway-1", 100<<10), r.queue("key-shared-midway-2", 110<<10)
			w, ctx := r.boundedWorker(5)
			if sum, err := w.Once(ctx); err != nil || sum.Delivered != 2 || sum.Quarantined != 0 {
				t.Fatalf("Once = %+v, %v", sum, err)
			}
			for _, app := range []*application.Application{a, b} {
				if got, _ := r.store.Get(context.Background(), app.ID); got.State != application.Received {
					t.Fatalf("%s is %s", app.IdempotencyKey, got.State)
				}
			}
			if n := creations.Load(); n != 1 || len(r.sleeps) != 0 {
				t.Errorf("%d upload(s) created, waits %v; want the shared one resumed at once", n, r.sleeps)
			}
			r.checkExactlyOnce()
		})
	}
}

// TestSharedUploadCompletionRefusedAsAWholeIsNotSentAgain pins a proxy in
// front of the portal that answers 429 with Retry-After to the request
// completing a shared upload, whose bytes the portal kept (and filed, the
// receipts lost with the answer): the worker notes every application's
// bytes at the portal, holds them and ends the pass; the status pull, or
// after the wait each manifest against the shared upload, brings their
// file codes. No byte is sent twice.
func TestSharedUploadCompletionRefusedAsAWholeIsNotSentAgain(t *testing.T) {
	r := newRig(t)
	apps := []*application.Application{r.queue("key-proxy-shared-1", 2<<10), r.queue("key-proxy-shared-2", 3<<10)}
	var creations, manifests atomic.Int64
	r.setFault(func(w http.ResponseWriter, req *http.Request) bool {
		switch {
		case req.URL.Path == portalapi.PathSubmissions:
			manifests.Add(1)
		case req.Method == http.MethodPost && req.URL.Path == portalapi.PathUploads:
			if creations.Add(1) == 1 {
				r.portal.Handler().ServeHTTP(httptest.NewRecorder(), req)
				w.Header().Set("Retry-After", "30")
				http.Error(w, "<html>429 Too Many Requests</html>", http.StatusTooManyRequests)
				return true
			}
		}
		return false
	})
	w := r.worker()
	sum, err := w.Pass(context.Background())
	if err == nil || sum.Delivered != 0 || sum.Held != len(apps) || manifests.Load() != 0 {
		t.Fatalf("first pass = %+v, %v, %d manifest(s); want both held, none asked again at once", sum, err, manifests.Load())
	}
	r.advance(30 * time.Second)
	if sum, err := w.Pass(context.Background()); err != nil || sum.Remaining != 0 {
		t.Fatalf("second pass = %+v, %v", sum, err)
	}
	if c, m := creations.Load(), manifests.Load(); c != 1 || m > int64(len(apps)) {
		t.Errorf("%d creation(s) and %d manifest(s); want the shared upload once, then at most each manifest", c, m)
	}
	if sent := w.BytesSent(); sent != 5<<10 {
		t.Errorf("sent %d attachment bytes for %d", sent, 5<<10)
	}
	for _, a := range apps {
		if got, _ := r.store.Get(context.Background(), a.ID); got.State != application.Received {
			t.Errorf("%s is %s", a.IdempotencyKey, got.State)
		}
	}
	r.checkExactlyOnce()
}
