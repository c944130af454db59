package uplink

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/motcua/motcua/agent/application"
	"github.com/motcua/motcua/agent/store"
	"github.com/motcua/motcua/sync/portal"
	"github.com/motcua/motcua/sync/portalapi"
)

// rig is a real reference portal on 127.0.0.1, behind an optional fault
// injector, and a kiosk store.
type rig struct {
	t      *testing.T
	portal *portal.Server
	srv    *httptest.Server
	store  *store.Store
	// fault, when set, may answer a request instead of the portal.
	mu    sync.Mutex
	fault func(w http.ResponseWriter, r *http.Request) bool
	// sleeps records the waits the worker asked for.
	sleeps []time.Duration
	// conns counts the TCP connections the portal accepted.
	conns atomic.Int64
	// clock is the workers' clock; their waits advance it.
	clock time.Time
}

// now reads the rig's clock.
func (r *rig) now() time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.clock
}

// advance records a wait and moves the rig's clock on by d.
func (r *rig) advance(d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sleeps = append(r.sleeps, d)
	r.clock = r.clock.Add(d)
}

func newRig(t *testing.T) *rig {
	t.Helper()
	return newRigWith(t, portal.Config{})
}

// newRigWith is newRig with a portal configured by cfg. A portal without
// a clock of its own runs on the rig's, so the workers' waits move it too.
func newRigWith(t *testing.T, cfg portal.Config) *rig {
	t.Helper()
	ctx := context.Background()
	r := &rig{t: t, clock: time.Now()}
	cfg.DataDir = t.TempDir()
	// The rig's kiosks enroll without a code, from loopback.
	cfg.OpenEnrollment = true
	if cfg.Now == nil {
		cfg.Now = r.now
	}
	p, err := portal.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	r.portal = p
	r.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		f := r.fault
		r.mu.Unlock()
		// Each request and the answer it got (the fault's or the
		// portal's) is logged, so a failure shows what the portal said.
		tw := &traceWriter{ResponseWriter: w}
		started := time.Now()
		defer func() {
			t.Logf("portal: %s %s (%d bytes, Upload-Offset %q) answered %d, Upload-Offset %q, %q, after %v",
				req.Method, req.URL.Path, req.ContentLength, req.Header.Get("Upload-Offset"),
				tw.code, tw.Header().Get("Upload-Offset"), tw.body, time.Since(started))
		}()
		w = tw
		if f != nil && f(w, req) {
			return
		}
		p.Handler().ServeHTTP(w, req)
	}))
	r.srv.Config.ConnState = func(_ net.Conn, state http.ConnState) {
		if state == http.StateNew {
			r.conns.Add(1)
		}
	}
	r.srv.Start()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), store.FileName), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.srv.Close(); p.Close(); st.Close() })
	r.store = st
	return r
}

func (r *rig) setFault(f func(w http.ResponseWriter, req *http.Request) bool) {
	r.mu.Lock()
	r.fault = f
	r.mu.Unlock()
}

func (r *rig) worker() *Worker {
	w, err := New(Config{Portal: r.srv.URL, Store: r.store, StallTimeout: 5 * time.Second, Now: r.now,
		Sleep: func(ctx context.Context, d time.Duration) error {
			r.advance(d)
			return ctx.Err()
		}})
	if err != nil {
		r.t.Fatal(err)
	}
	return w
}

func page(n int, seed uint64) []byte {
	rnd := rand.New(rand.NewPCG(seed, 7))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rnd.Uint32())
	}
	return b
}

// queue stores a queued application with attachments of the given sizes.
func (r *rig) queue(key string, sizes ...int) *application.Application {
	r.t.Helper()
	var atts []store.NewAttachment
	for i, n := range sizes {
		atts = append(atts, store.NewAttachment{EvidenceKey: "birth_certificate", Name: fmt.Sprintf("trang-%d.jpg", i+1),
			MediaType: "image/jpeg", Content: page(n, uint64(len(key)*1000+i))})
	}
	a, err := r.store.Create(context.Background(), store.NewApplication{IdempotencyKey: key, ProcedureID: "birth-registration",
		ProcedureCode: "1.001193", CatalogVersion: "2026.11.1", Form: exampleForm(r.t),
		Attachments: atts, Actor: "test"}, application.Queued)
	if err != nil {
		r.t.Fatal(err)
	}
	return a
}

// checkExactlyOnce asserts that the portal holds each local application
// exactly once, with byte-identical attachments, and that the local file
// codes and states equal the portal's.
func (r *rig) checkExactlyOnce() {
	r.t.Helper()
	ctx := context.Background()
	subs, err := r.portal.List(ctx)
	if err != nil {
		r.t.Fatal(err)
	}
	byKey := map[string]portal.Submission{}
	for _, s := range subs {
		if _, dup := byKey[s.IdempotencyKey]; dup {
			r.t.Fatalf("application %s filed twice", s.IdempotencyKey)
		}
		byKey[s.IdempotencyKey] = s
	}
	local, _ := r.store.List(ctx, store.ListOptions{})
	for _, sm := range local {
		if sm.State == application.Quarantined {
			continue
		}
		s, ok := byKey[sm.IdempotencyKey]
		if !ok {
			r.t.Fatalf("application %s (%s) never reached the portal", sm.IdempotencyKey, sm.State)
		}
		if sm.FileCode != s.FileCode || string(sm.State) != string(s.State) {
			r.t.Errorf("%s: local %s %s, portal %s %s", sm.IdempotencyKey, sm.FileCode, sm.State, s.FileCode, s.State)
		}
		a, _ := r.store.Get(ctx, sm.ID)
		for i, att := range a.Attachments {
			content, _ := r.store.AttachmentContent(ctx, att.ID)
			sum := sha256.Sum256(content)
			if s.Attachments[i].SHA256Received != hex.EncodeToString(sum[:]) {
				r.t.Errorf("%s attachment %d: portal computed %s", sm.IdempotencyKey, i, s.Attachments[i].SHA256Received)
			}
		}
	}
	if _, err := r.store.VerifyAudit(ctx); err != nil {
		r.t.Fatal(err)
	}
	// The outbox is settled for everything the portal has.
	pending, _ := r.store.Pending(ctx, string(application.Queued), 10000)
	for _, it := range pending {
		if a, _ := r.store.Get(ctx, it.ApplicationID); a.State != application.Queued {
			r.t.Errorf("outbox row %d for application %d, which is %s, is still pending", it.ID, a.ID, a.State)
		}
	}
}

func TestDeliversSmallestFirstAndExactlyOnce(t *testing.T) {
	r := newRig(t)
	big := r.queue("key-big-0001", 300<<10, 200<<10)
	small := r.queue("key-small-001", 20<<10)
	none := r.queue("key-none-0001")
	w := r.worker()
	sum, err := w.Once(context.Background())
	if err != nil || sum.Delivered != 3 || sum.Remaining != 0 {
		t.Fatalf("Once = %+v, %v", sum, err)
	}
	r.checkExactlyOnce()
	codes := map[int64]string{}
	for _, a := range []*application.Application{big, small, none} {
		got, _ := r.store.Get(context.Background(), a.ID)
		codes[a.ID] = got.FileCode
	}
	// Sequence numbers follow delivery order: no attachments, small, big.
	if !(codes[none.ID] < codes[small.ID] && codes[small.ID] < codes[big.ID]) {
		t.Errorf("delivery order by file code: none %s, small %s, big %s", codes[none.ID], codes[small.ID], codes[big.ID])
	}
	if sent := w.BytesSent(); sent != 520<<10 {
		t.Errorf("sent %d attachment bytes, want exactly %d", sent, 520<<10)
	}
	// A second run finds nothing to do and files nothing twice.
	if sum, err := r.worker().Once(context.Background()); err != nil || sum.Delivered != 0 {
		t.Fatalf("second Once = %+v, %v", sum, err)
	}
	r.checkExactlyOnce()
}

func TestStatusPullUpdatesLocalStates(t *testing.T) {
	r := newRig(t)
	a := r.queue("key-status-01", 1000)
	w := r.worker()
	if _, err := w.Once(context.Background()); err != nil {
		t.Fatal(err)
	}
	got, _ := r.store.Get(context.Background(), a.ID)
	ctx := context.Background()
	r.portal.Advance(ctx, got.FileCode, portalapi.InReview, "")
	r.portal.Advance(ctx, got.FileCode, portalapi.NeedsMore, "Thiếu giấy chứng sinh")
	n, err := w.PullStatus(ctx)
	if err != nil || n != 2 {
		t.Fatalf("PullStatus = %d, %v", n, err)
	}
	got, _ = r.store.Get(ctx, a.ID)
	if got.State != application.NeedsMore {
		t.Fatalf("state %s", got.State)
	}
	evs, _ := r.store.Events(ctx, a.ID)
	last := evs[len(evs)-1]
	if last.Actor != "portal" || !strings.HasPrefix(last.Detail, "Thiếu giấy chứng sinh") {
		t.Errorf("last audit event %+v", last)
	}
	// Pulling again applies nothing: the cursor moved on.
	if n, err := w.PullStatus(ctx); err != nil || n != 0 {
		t.Fatalf("second PullStatus = %d, %v", n, err)
	}
	r.checkExactlyOnce()
}

func TestMalformedIsQuarantinedAndDoesNotBlock(t *testing.T) {
	r := newRig(t)
	bad := r.queue("bad!", 500) // the portal refuses keys like this
	good := r.queue("key-good-0001", 500)
	sum, err := r.worker().Once(context.Background())
	if err != nil || sum.Delivered != 1 || sum.Quarantined != 1 {
		t.Fatalf("Once = %+v, %v", sum, err)
	}
	b, _ := r.store.Get(context.Background(), bad.ID)
	g, _ := r.store.Get(context.Background(), good.ID)
	if b.State != application.Quarantined || !strings.Contains(b.LastError, "malformed") {
		t.Errorf("bad: %s %q", b.State, b.LastError)
	}
	if g.State != application.Received {
		t.Errorf("good: %s", g.State)
	}
	r.checkExactlyOnce()
}

// cutAfter returns a fault that cuts the connection of every upload PATCH
// after n bytes of its body, the way a weak link drops. received counts the
// PATCH body bytes that reached the portal, cut or not.
func cutAfter(target http.Handler, n int64, cuts, received *atomic.Int64) func(http.ResponseWriter, *http.Request) bool {
	return func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method != http.MethodPatch && (r.Method != http.MethodPost || !strings.HasPrefix(r.URL.Path, portalapi.PathUploads)) {
			return false
		}
		if r.ContentLength <= n {
			r.Body = &countingReader{r: r.Body, n: received}
			return false
		}
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return false
		}
		cuts.Add(1)
		// The portal reads n bytes, then the body ends as a cut body does;
		// the client sees its connection drop.
		r2 := r.Clone(r.Context())
		r2.Body = io.NopCloser(io.MultiReader(&countingReader{r: io.LimitReader(r.Body, n), n: received}, errReader{}))
		target.ServeHTTP(httptest.NewRecorder(), r2)
		conn.Close()
		return true
	}
}

type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c *countingReader) Read(b []byte) (int, error) {
	k, err := c.r.Read(b)
	c.n.Add(int64(k))
	return k, err
}

func (c *countingReader) Close() error { return nil }

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, io.ErrUnexpectedEOF }

func TestUploadResumesAfterCuts(t *testing.T) {
	r := newRig(t)
	var cuts, received atomic.Int64
	r.setFault(cutAfter(r.portal.Handler(), 100<<10, &cuts, &received))
	r.queue("key-cut-00001", 350<<10)
	w := r.worker()
	sum, err := w.Once(context.Background())
	if err != nil || sum.Delivered != 1 {
		t.Fatalf("Once = %+v, %v", sum, err)
	}
	if cuts.Load() != 3 {
		t.Fatalf("%d cuts, want 3 (at 100, 200 and 300 KB)", cuts.Load())
	}
	r.checkExactlyOnce()
	// The portal keeps what arrived before each cut and the worker resumes
	// from the portal's offset: no byte reaches the portal twice.
	if got := received.Load(); got != 350<<10 {
		t.Errorf("the portal received %d bytes for a %d-byte page", got, 350<<10)
	}
}

func TestResumesAfterRestart(t *testing.T) {
	r := newRig(t)
	var cuts, received atomic.Int64
	// Every long PATCH is cut and HEADs fail: the first worker gets part of the
	// bytes across and gives up.
	r.setFault(func(w http.ResponseWriter, req *http.Request) bool {
		if req.Method == http.MethodHead {
			http.Error(w, "down", http.StatusBadGateway)
			return true
		}
		return cutAfter(r.portal.Handler(), 120<<10, &cuts, &received)(w, req)
	})
	a := r.queue("key-restart-1", 300<<10)
	w1 := r.worker()
	ctx, cancel := context.WithCancel(context.Background())
	w1.cfg.Sleep = func(context.Context, time.Duration) error { cancel(); return context.Canceled }
	if _, err := w1.Once(ctx); err == nil {
		t.Fatal("first worker delivered through a dead link")
	}
	up, found, _ := r.store.Upload(context.Background(), a.ID)
	if !found || up.URL == "" {
		t.Fatalf("no upload recorded: %+v", up)
	}
	// A new worker, as after a restart, with the link back (still counting).
	r.setFault(cutAfter(r.portal.Handler(), 1<<40, &cuts, &received))
	w2 := r.worker()
	if sum, err := w2.Once(context.Background()); err != nil || sum.Delivered != 1 {
		t.Fatalf("after restart: %+v, %v", sum, err)
	}
	if got := received.Load(); got != 300<<10 {
		t.Errorf("the portal received %d bytes for a %d-byte page: the restart did not resume", got, 300<<10)
	}
	r.checkExactlyOnce()
}

func TestPortalFaultsAreRetried(t *testing.T) {
	faults := []struct {
		name  string
		fault func(w http.ResponseWriter, r *http.Request)
	}{
		{"500", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "boom", http.StatusInternalServerError) }},
		{"503 with Retry-After", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "7")
			http.Error(w, "busy", http.StatusServiceUnavailable)
		}},
		{"429 with Retry-After", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "9")
			w.WriteHeader(http.StatusTooManyRequests)
			w.Write([]byte(`{"error":"rate_limited","message":"slow down"}`))
		}},
		{"garbage body", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusCreated)
			w.Write([]byte("\x00\xffnot json at all"))
		}},
		{"truncated receipt", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusCreated)
			w.Write([]byte(`{"file_code":"000.00.01.H29-26`))
		}},
		{"receipt without a file code", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusCreated)
			w.Write([]byte(`{"state":"received"}`))
		}},
	}
	for _, f := range faults {
		t.Run(f.name, func(t *testing.T) {
			r := newRig(t)
			r.queue("key-fault-001", 10<<10)
			r.queue("key-fault-002")
			var hits atomic.Int64
			// The first requests that deliver (manifests, and uploads that
			// carry theirs) meet the fault; for the garbled answers the
			// portal has seen the request first.
			r.setFault(func(w http.ResponseWriter, req *http.Request) bool {
				delivering := req.URL.Path == portalapi.PathSubmissions ||
					(req.Method != http.MethodHead && strings.HasPrefix(req.URL.Path, portalapi.PathUploads))
				if !delivering || hits.Add(1) > 4 {
					return false
				}
				if strings.HasPrefix(f.name, "garbage") || strings.HasPrefix(f.name, "truncated") || strings.HasPrefix(f.name, "receipt") {
					r.portal.Handler().ServeHTTP(httptest.NewRecorder(), req)
				}
				f.fault(w, req)
				return true
			})
			sum, err := r.worker().Once(context.Background())
			// A garbled answer to a manifest the portal filed is repaired by
			// the status pull (which carries the file code) or by the retry
			// (which gets the same code): either way, filed once.
			if err != nil || sum.Remaining != 0 || sum.Delivered+sum.StatusUpdates < 2 {
				t.Fatalf("Once = %+v, %v after %d manifests", sum, err, hits.Load())
			}
			r.checkExactlyOnce()
			if strings.Contains(f.name, "Retry-After") {
				want := 7 * time.Second
				if strings.HasPrefix(f.name, "429") {
					want = 9 * time.Second
				}
				for _, d := range r.sleeps {
					if d < want {
						t.Errorf("waited %v, less than Retry-After %v", d, want)
					}
				}
			}
		})
	}
}

func TestBackoffIsCappedAndProbeResumes(t *testing.T) {
	r := newRig(t)
	r.queue("key-probe-001", 1000)
	down := atomic.Bool{}
	down.Store(true)
	var probes atomic.Int64
	r.setFault(func(w http.ResponseWriter, req *http.Request) bool {
		if req.URL.Path == portalapi.PathHealth {
			if probes.Add(1) > 200 {
				down.Store(false)
			}
		}
		if down.Load() {
			// Drop the connection without an answer, as a dead link does.
			conn, _, _ := http.NewResponseController(w).Hijack()
			conn.Close()
			return true
		}
		return false
	})
	w := r.worker()
	sum, err := w.Once(context.Background())
	if err != nil || sum.Delivered != 1 {
		t.Fatalf("Once = %+v, %v", sum, err)
	}
	var total time.Duration
	for _, d := range r.sleeps {
		if d > 60*time.Second {
			t.Errorf("waited %v, more than the 60 s cap", d)
		}
		if d > w.cfg.ProbeInterval {
			t.Errorf("waited %v without probing the link (probe every %v)", d, w.cfg.ProbeInterval)
		}
		total += d
	}
	t.Logf("%d probes, %v of simulated waiting", probes.Load(), total)
	r.checkExactlyOnce()
}

func TestTLSErrorsAreErrors(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	st, _ := store.Open(context.Background(), filepath.Join(t.TempDir(), store.FileName), store.Options{})
	defer st.Close()
	w, err := New(Config{Portal: srv.URL, Store: st, Sleep: func(context.Context, time.Duration) error { return context.Canceled }})
	if err != nil {
		t.Fatal(err)
	}
	_, err = w.Pass(context.Background())
	if err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("a self-signed portal was accepted: %v", err)
	}
}

// A portal that forgot the device (its records were reset) gets a new
// enrollment, and delivery goes on.
func TestReenrollsWhenTheTokenIsRefused(t *testing.T) {
	r := newRig(t)
	r.queue("key-reenroll1", 1000)
	w := r.worker()
	if _, err := w.Once(context.Background()); err != nil {
		t.Fatal(err)
	}
	var refused atomic.Bool
	r.setFault(func(w http.ResponseWriter, req *http.Request) bool {
		if req.URL.Path != portalapi.PathEnroll && !refused.Load() {
			refused.Store(true)
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte(`{"error":"unauthorized","message":"unknown device token"}`))
			return true
		}
		return false
	})
	r.queue("key-reenroll2", 1000)
	sum, err := w.Once(context.Background())
	if err != nil || sum.Delivered != 1 || !refused.Load() {
		t.Fatalf("Once = %+v, %v", sum, err)
	}
	r.checkExactlyOnce()
}

// traceWriter records the status and the start of the body of an answer
// for the rig's log.
type traceWriter struct {
	http.ResponseWriter
	code int
	body string
}

func (t *traceWriter) WriteHeader(code int) {
	if t.code == 0 {
		t.code = code
	}
	t.ResponseWriter.WriteHeader(code)
}

func (t *traceWriter) Write(b []byte) (int, error) {
	if t.code == 0 {
		t.code = http.StatusOK
	}
	if len(t.body) < 200 {
		t.body += string(b[:min(len(b), 200-len(t.body))])
	}
	return t.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection (Hijack,
// deadlines) through the trace.
func (t *traceWriter) Unwrap() http.ResponseWriter { return t.ResponseWriter }
