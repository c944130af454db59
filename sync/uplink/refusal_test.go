package uplink

import (
	"bytes"
	"compress/flate"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/motcua/motcua/agent/application"
	"github.com/motcua/motcua/sync/portalapi"
)

// concerns reports whether req carries or names the application with
// idempotency key: an upload's metadata, URL or a manifest. It leaves the
// body readable.
func concerns(req *http.Request, key string) bool {
	if strings.Contains(req.URL.Path, key) ||
		strings.Contains(req.Header.Get("Upload-Metadata"), base64.StdEncoding.EncodeToString([]byte(key))) {
		return true
	}
	if n, ok := batchBlock(req); ok {
		// An upload of several applications concerns each it carries.
		b, _ := io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(b))
		raw, _ := io.ReadAll(flate.NewReader(bytes.NewReader(b[:min(n, len(b))])))
		return bytes.Contains(raw, []byte(key))
	}
	if req.URL.Path != portalapi.PathSubmissions {
		return false
	}
	b, _ := io.ReadAll(req.Body)
	req.Body = io.NopCloser(bytes.NewReader(b))
	return bytes.Contains(b, []byte(key))
}

// batchBlock returns the length of the manifest block a request creating
// an upload of several applications starts with.
func batchBlock(req *http.Request) (int, bool) {
	if req.Method != http.MethodPost {
		return 0, false
	}
	for _, kv := range strings.Split(req.Header.Get("Upload-Metadata"), ",") {
		k, v, _ := strings.Cut(kv, " ")
		if k == portalapi.MetaManifests {
			n, _ := base64.StdEncoding.DecodeString(v)
			l, err := strconv.Atoi(string(n))
			return l, err == nil
		}
	}
	return 0, false
}

// boundedWorker is the rig's worker whose Once gives up after n waits, so a
// test of something retried forever ends.
func (r *rig) boundedWorker(n int) (*Worker, context.Context) {
	ctx, cancel := context.WithCancel(context.Background())
	r.t.Cleanup(cancel)
	w := r.worker()
	var waits atomic.Int64
	w.cfg.Sleep = func(ctx context.Context, d time.Duration) error {
		r.advance(d)
		if waits.Add(1) >= int64(n) {
			cancel()
		}
		return ctx.Err()
	}
	return w, ctx
}

// TestPermanentRefusalIsQuarantinedNotRetriedForever pins the portal's
// answers that retrying cannot change: each quarantines the application
// after one request, with the portal's code and message for staff, and the
// others go on. Answers that may change are retried.
func TestPermanentRefusalIsQuarantinedNotRetriedForever(t *testing.T) {
	tests := []struct {
		status    int
		permanent bool
		// pages is the refused application's attachment sizes: none goes
		// as a manifest, some as an upload.
		pages []int
	}{
		{http.StatusBadRequest, true, []int{4 << 10}},
		{http.StatusForbidden, true, []int{4 << 10}},
		{http.StatusForbidden, true, nil},
		{http.StatusGone, true, nil},
		{http.StatusGone, true, []int{4 << 10}},
		{http.StatusRequestEntityTooLarge, true, []int{64 << 10}},
		{http.StatusRequestURITooLong, true, []int{4 << 10}},
		{http.StatusUnsupportedMediaType, true, nil},
		{http.StatusUnprocessableEntity, true, nil},
		{http.StatusUnprocessableEntity, true, []int{4 << 10}},
		{http.StatusNotFound, false, nil},
		{http.StatusNotFound, false, []int{4 << 10}},
		{http.StatusRequestTimeout, false, []int{4 << 10}},
		{http.StatusConflict, false, nil},
		{http.StatusTooEarly, false, []int{4 << 10}},
		{http.StatusTooManyRequests, false, nil},
		{http.StatusInternalServerError, false, []int{4 << 10}},
		{http.StatusBadGateway, false, nil},
		{http.StatusServiceUnavailable, false, []int{4 << 10}},
		{http.StatusGatewayTimeout, false, nil},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d with %d pages", tt.status, len(tt.pages)), func(t *testing.T) {
			r := newRig(t)
			const key = "key-refused-01"
			refused := r.queue(key, tt.pages...)
			others := []*application.Application{r.queue("key-other-0001"), r.queue("key-other-0002", 8<<10)}
			var hits atomic.Int64
			r.setFault(func(w http.ResponseWriter, req *http.Request) bool {
				if req.Method == http.MethodHead || !concerns(req, key) {
					return false
				}
				if n := hits.Add(1); !tt.permanent && n > 1 {
					return false
				}
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tt.status)
				fmt.Fprintf(w, `{"error":"refused_%d","message":"the portal says no (%d)"}`, tt.status, tt.status)
				return true
			})
			w, ctx := r.boundedWorker(20)
			sum, err := w.Once(ctx)
			if err != nil || sum.Remaining != 0 {
				t.Fatalf("Once = %+v, %v after %d refused requests", sum, err, hits.Load())
			}
			got, _ := r.store.Get(context.Background(), refused.ID)
			if tt.permanent {
				want := fmt.Sprintf("%d refused_%d: the portal says no (%d)", tt.status, tt.status, tt.status)
				if got.State != application.Quarantined || !strings.Contains(got.LastError, want) {
					t.Errorf("refused application: %s %q; want quarantined with %q", got.State, got.LastError, want)
				}
				// An application that shares an upload with others is
				// asked about twice: with them, and alone.
				asked := int64(1)
				if len(tt.pages) > 0 {
					asked = 2
				}
				if n := hits.Load(); n != asked {
					t.Errorf("the portal was asked %d times after a permanent refusal, want %d", n, asked)
				}
				evs, _ := r.store.Events(context.Background(), refused.ID)
				if last := evs[len(evs)-1]; !strings.Contains(last.Detail, want) {
					t.Errorf("the audit event %q does not say why", last.Detail)
				}
				if sum.Quarantined != 1 || sum.Delivered != 2 {
					t.Errorf("summary %+v", sum)
				}
			} else if got.State != application.Received {
				t.Errorf("refused application: %s %q; want received after a retry", got.State, got.LastError)
			}
			for _, a := range others {
				if got, _ := r.store.Get(context.Background(), a.ID); got.State != application.Received {
					t.Errorf("%s: %s", a.IdempotencyKey, got.State)
				}
			}
			r.checkExactlyOnce()
		})
	}
}
