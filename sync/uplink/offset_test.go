package uplink

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/motcua/motcua/agent/application"
)

// TestForgedUploadOffsetRestartsUploadNeverCompletes pins an upload whose
// HEAD answers an offset beyond what the kiosk sent, or beyond the upload's
// length: a protocol error that starts the upload again under a new name,
// never an upload taken as complete.
func TestForgedUploadOffsetRestartsUploadNeverCompletes(t *testing.T) {
	const size = 4 << 20
	tests := []struct {
		name string
		// forged is the offset the first generation's HEAD claims.
		forged int64
	}{
		{"beyond the length", size + 1},
		{"the whole upload, never sent", size},
		{"more than was sent", size - 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t)
			a := r.queue("key-forged-001", size)
			var forged atomic.Int64
			cut := make(chan struct{})
			var cutOnce sync.Once
			r.setFault(func(w http.ResponseWriter, req *http.Request) bool {
				first := strings.HasSuffix(req.URL.Path, "-1") ||
					(req.Method == http.MethodPost && strings.HasPrefix(req.URL.Path, "/v1/uploads") && forged.Load() == 0)
				if !first {
					return false
				}
				switch req.Method {
				case http.MethodPost:
					// The first creation is cut before the portal reads a
					// byte; the client has handed the transport only what
					// its gated body let through, far less than 4 MB.
					conn, _, err := http.NewResponseController(w).Hijack()
					if err == nil {
						conn.Close()
					}
					cutOnce.Do(func() { close(cut) })
					forged.Add(1)
					return true
				case http.MethodHead:
					w.Header().Set("Tus-Resumable", "1.0.0")
					w.Header().Set("Upload-Offset", strconv.FormatInt(tt.forged, 10))
					w.Header().Set("Upload-Length", strconv.Itoa(size))
					w.WriteHeader(http.StatusOK)
					forged.Add(1)
					return true
				}
				return false
			})
			// The kiosk hands the transport at most 64 KiB before the cut:
			// loopback's buffers could otherwise take all 4 MB at once.
			w := r.worker()
			client := w.client
			w.client = &http.Client{Transport: &gatedTransport{base: http.DefaultTransport, limit: 64 << 10, release: cut}}
			_, err := w.Pass(context.Background())
			w.client = client
			if err == nil || !errors.Is(err, errBadOffset) {
				t.Fatalf("first pass: %v; want the forged offset named as a protocol error", err)
			}
			if sent := w.BytesSent(); sent >= tt.forged {
				t.Fatalf("the client sent %d bytes, so an offset of %d is not forged", sent, tt.forged)
			}
			up, _, _ := r.store.Upload(context.Background(), a.ID)
			if up.Complete || up.Generation != 2 {
				t.Fatalf("after a forged offset the upload is %+v; want generation 2, not complete", up)
			}
			if got, _ := r.store.Get(context.Background(), a.ID); got.State != application.Queued ||
				!strings.Contains(got.LastError, "offset") {
				t.Fatalf("application %s %q; want queued naming the offset", got.State, got.LastError)
			}
			// The next pass sends the upload again, whole, under a new name.
			if sum, err := w.Pass(context.Background()); err != nil || sum.Delivered != 1 {
				t.Fatalf("second pass = %+v, %v", sum, err)
			}
			up, _, _ = r.store.Upload(context.Background(), a.ID)
			if !strings.HasSuffix(up.URL, "-2") {
				t.Errorf("delivered through %s, want the second generation", up.URL)
			}
			r.checkExactlyOnce()
		})
	}
}

// TestForgedCompleteUploadAfterRestartIsSentAgain pins an upload that a
// restarted kiosk (which cannot know what its predecessor sent) is told is
// complete, when the portal then refuses the manifest as lacking bytes: the
// upload is sent again under a new name, never left complete.
func TestForgedCompleteUploadAfterRestartIsSentAgain(t *testing.T) {
	const size = 300 << 10
	r := newRig(t)
	var cuts, received atomic.Int64
	r.setFault(func(w http.ResponseWriter, req *http.Request) bool {
		if req.Method == http.MethodHead {
			http.Error(w, "down", http.StatusBadGateway)
			return true
		}
		return cutAfter(r.portal.Handler(), 100<<10, &cuts, &received)(w, req)
	})
	a := r.queue("key-forged-002", size)
	if _, err := r.worker().Pass(context.Background()); err == nil {
		t.Fatal("the first worker delivered through a dead link")
	}
	// After a restart, the first generation's HEAD claims it whole.
	r.setFault(func(w http.ResponseWriter, req *http.Request) bool {
		if req.Method != http.MethodHead || !strings.HasSuffix(req.URL.Path, "-1") {
			return false
		}
		w.Header().Set("Upload-Offset", strconv.Itoa(size))
		w.WriteHeader(http.StatusOK)
		return true
	})
	w := r.worker()
	if _, err := w.Pass(context.Background()); err == nil || !strings.Contains(err.Error(), "upload_incomplete") {
		t.Fatalf("first pass after the restart: %v", err)
	}
	if up, _, _ := r.store.Upload(context.Background(), a.ID); up.Complete || up.Generation != 2 {
		t.Fatalf("the upload is %+v; want generation 2, not complete", up)
	}
	if sum, err := w.Pass(context.Background()); err != nil || sum.Delivered != 1 {
		t.Fatalf("second pass = %+v, %v", sum, err)
	}
	r.checkExactlyOnce()
}

// TestForgedOffsetInTheAnswerIsNotBelieved pins an answer to the creating
// POST that claims the whole upload while the portal read none of it: a
// protocol error, the upload is sent again under a new name, never taken as
// complete.
func TestForgedOffsetInTheAnswerIsNotBelieved(t *testing.T) {
	const size = 4 << 20
	r := newRig(t)
	a := r.queue("key-forged-003", size)
	var forged atomic.Bool
	r.setFault(func(w http.ResponseWriter, req *http.Request) bool {
		if req.Method != http.MethodPost || !strings.HasPrefix(req.URL.Path, "/v1/uploads") || forged.Swap(true) {
			return false
		}
		w.Header().Set("Tus-Resumable", "1.0.0")
		w.Header().Set("Upload-Offset", strconv.Itoa(size))
		w.Header().Set("Connection", "close")
		w.WriteHeader(http.StatusCreated)
		return true
	})
	// The kiosk hands the transport at most 64 KiB of the body before the
	// forged answer: on loopback the kernel's buffers would otherwise take
	// all 4 MB at once, and an answer claiming all of it could be honest.
	w := r.worker()
	w.client = &http.Client{Transport: &gatedTransport{base: http.DefaultTransport, limit: 64 << 10}}
	if _, err := w.Pass(context.Background()); !errors.Is(err, errBadOffset) {
		t.Fatalf("first pass: %v; want the forged offset named as a protocol error", err)
	}
	w = r.worker()
	if up, _, _ := r.store.Upload(context.Background(), a.ID); up.Complete || up.Generation != 2 {
		t.Fatalf("after a forged answer the upload is %+v; want generation 2, not complete", up)
	}
	if sum, err := w.Pass(context.Background()); err != nil || sum.Delivered != 1 {
		t.Fatalf("second pass = %+v, %v", sum, err)
	}
	r.checkExactlyOnce()
}

// gatedTransport lets an upload request's body give the transport at most
// limit bytes until the answer has arrived, as a slow link would, or until
// release is closed (the test cut the connection: no answer will come).
type gatedTransport struct {
	base    http.RoundTripper
	limit   int64
	release <-chan struct{}
}

func (g *gatedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body == nil || req.Method == http.MethodHead {
		return g.base.RoundTrip(req)
	}
	gate := make(chan struct{})
	out := req.Clone(req.Context())
	out.Body = &gatedBody{rc: req.Body, left: g.limit, gate: gate, release: g.release, done: req.Context().Done()}
	resp, err := g.base.RoundTrip(out)
	close(gate)
	return resp, err
}

// gatedBody reads through to rc until left runs out, then waits for the
// gate, after which the request is over and the rest is refused.
type gatedBody struct {
	rc      io.ReadCloser
	left    int64
	gate    chan struct{}
	release <-chan struct{}
	done    <-chan struct{}
}

func (b *gatedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		select {
		case <-b.gate:
		case <-b.release:
		case <-b.done:
		}
		return 0, io.ErrUnexpectedEOF
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *gatedBody) Close() error { return b.rc.Close() }
