package uplink

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/motcua/motcua/agent/application"
	"github.com/motcua/motcua/agent/store"
	"github.com/motcua/motcua/sync/portal"
	"github.com/motcua/motcua/sync/portalapi"
)

// TestSmallApplicationsShareOneUpload pins issue 9's fix for an idle link:
// small applications travel in one upload, and each gets its receipt from
// the answer to its last byte.
func TestSmallApplicationsShareOneUpload(t *testing.T) {
	r := newRig(t)
	var apps []*application.Application
	for i := range 6 {
		apps = append(apps, r.queue(fmt.Sprintf("key-small-%04d", i), 20<<10+i))
	}
	var creations, others atomic.Int64
	r.setFault(func(w http.ResponseWriter, req *http.Request) bool {
		switch {
		case req.Method == http.MethodPost && req.URL.Path == portalapi.PathUploads:
			creations.Add(1)
		case strings.HasPrefix(req.URL.Path, portalapi.PathUploads), req.URL.Path == portalapi.PathSubmissions:
			others.Add(1)
		}
		return false
	})
	w := r.worker()
	sum, err := w.Once(context.Background())
	if err != nil || sum.Delivered != len(apps) || sum.Remaining != 0 {
		t.Fatalf("Once = %+v, %v", sum, err)
	}
	if n, m := creations.Load(), others.Load(); n != 1 || m != 0 {
		t.Errorf("%d uploads created and %d other upload or manifest requests for %d small applications; want one upload alone", n, m, len(apps))
	}
	for _, a := range apps {
		got, _ := r.store.Get(context.Background(), a.ID)
		if got.State != application.Received || got.FileCode == "" {
			t.Errorf("%s: %s %q", a.IdempotencyKey, got.State, got.FileCode)
		}
	}
	r.checkExactlyOnce()
}

// TestSharedUploadCutByAStopIsResumedByTheNextWorker pins that an upload
// of several applications cut by a worker's end is resumed, not sent
// again, by the next worker: it plans the same batch, and the first
// application's record names its upload.
func TestSharedUploadCutByAStopIsResumedByTheNextWorker(t *testing.T) {
	r := newRig(t)
	var apps []*application.Application
	for i := range 4 {
		apps = append(apps, r.queue(fmt.Sprintf("key-cut-%04d", i), 40<<10))
	}
	ctx, cancel := context.WithCancel(context.Background())
	var cut atomic.Bool
	r.setFault(func(w http.ResponseWriter, req *http.Request) bool {
		if req.Method != http.MethodPost || req.URL.Path != portalapi.PathUploads || cut.Swap(true) {
			return false
		}
		// Half the bytes reach the portal, then the worker is stopped.
		b, _ := io.ReadAll(req.Body)
		half := req.Clone(req.Context())
		half.Body = io.NopCloser(bytes.NewReader(b[:len(b)/2]))
		half.ContentLength = int64(len(b) / 2)
		r.portal.Handler().ServeHTTP(&discardWriter{h: http.Header{}}, half)
		cancel()
		if c, _, err := http.NewResponseController(w).Hijack(); err == nil {
			c.Close()
		}
		return true
	})
	first := r.worker()
	first.Once(ctx)
	if !cut.Load() {
		t.Fatal("no upload was created")
	}
	second := r.worker()
	sum, err := second.Once(context.Background())
	if err != nil || sum.Delivered != 4 {
		t.Fatalf("second Once = %+v, %v", sum, err)
	}
	total := int64(4 * 40 << 10)
	if sent := second.BytesSent(); sent > total/2+4<<10 {
		t.Errorf("the next worker sent %d bytes of %d; want the second half only", sent, total)
	}
	for _, a := range apps {
		if got, _ := r.store.Get(context.Background(), a.ID); got.State != application.Received {
			t.Errorf("%s: %s", a.IdempotencyKey, got.State)
		}
	}
	r.checkExactlyOnce()
}

type discardWriter struct {
	h    http.Header
	code int
}

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d *discardWriter) WriteHeader(code int)        { d.code = code }

// TestApplicationRefusedAmongOthersGoesAloneAndIsQuarantined pins that a
// manifest the portal refuses in an upload of several holds back none of
// the others, and its manifest is sent alone, naming its bytes in the
// shared upload, where its refusal quarantines it: no byte is sent twice.
func TestApplicationRefusedAmongOthersGoesAloneAndIsQuarantined(t *testing.T) {
	r := newRig(t)
	good := []*application.Application{r.queue("key-good-0001", 10<<10), r.queue("key-good-0002", 30<<10)}
	bad, err := r.store.Create(context.Background(), store.NewApplication{IdempotencyKey: "key-bad-00001", ProcedureID: "birth-registration",
		ProcedureCode: "9.999999", CatalogVersion: "2026.11.1", Form: exampleForm(t), Actor: "test",
		Attachments: []store.NewAttachment{{EvidenceKey: "birth_certificate", Name: "p.jpg", MediaType: "image/jpeg", Content: page(20<<10, 9)}}},
		application.Queued)
	if err != nil {
		t.Fatal(err)
	}
	var creations, manifests, length atomic.Int64
	r.setFault(func(w http.ResponseWriter, req *http.Request) bool {
		switch {
		case req.Method == http.MethodPost && req.URL.Path == portalapi.PathUploads:
			creations.Add(1)
			n, _ := strconv.ParseInt(req.Header.Get("Upload-Length"), 10, 64)
			length.Add(n)
		case req.URL.Path == portalapi.PathSubmissions:
			manifests.Add(1)
		}
		return false
	})
	wk := r.worker()
	sum, err := wk.Once(context.Background())
	if err != nil || sum.Delivered != 2 || sum.Quarantined != 1 || sum.Remaining != 0 {
		t.Fatalf("Once = %+v, %v", sum, err)
	}
	for _, a := range good {
		if got, _ := r.store.Get(context.Background(), a.ID); got.State != application.Received {
			t.Errorf("%s: %s", a.IdempotencyKey, got.State)
		}
	}
	got, _ := r.store.Get(context.Background(), bad.ID)
	if got.State != application.Quarantined || !strings.Contains(got.LastError, "procedure_code") {
		t.Errorf("refused application: %s %q; want quarantined naming procedure_code", got.State, got.LastError)
	}
	if n, m := creations.Load(), manifests.Load(); n != 1 || m != 1 {
		t.Errorf("%d uploads created and %d manifests posted; want the three together, then the refused one's manifest alone", n, m)
	}
	if sent, l := wk.BytesSent(), length.Load(); sent != 60<<10 || l < 60<<10 || l > 62<<10 {
		t.Errorf("sent %d attachment bytes for %d, in an upload of %d bytes", sent, 60<<10, l)
	}
	r.checkExactlyOnce()
}

// TestSharedUploadFilingPutOffIsHeldThenFiledByManifest pins an upload of
// several applications whose completion the portal answers with a filing
// for some and a 429 for another, past the device's filing burst: that one
// is held, not sent again alone at once, and once the wait is over its
// manifest alone files it against the shared upload, which holds its
// bytes. No byte is sent twice.
func TestSharedUploadFilingPutOffIsHeldThenFiledByManifest(t *testing.T) {
	r := newRigWith(t, portal.Config{OpenEnrollment: true, FilingBurst: 1, FilingInterval: time.Minute})
	first := r.queue("key-shared-001", 2<<10)
	second := r.queue("key-shared-002", 3<<10)
	var manifests, creations atomic.Int64
	r.setFault(func(w http.ResponseWriter, req *http.Request) bool {
		switch {
		case req.URL.Path == portalapi.PathSubmissions:
			manifests.Add(1)
		case req.Method == http.MethodPost && req.URL.Path == portalapi.PathUploads:
			creations.Add(1)
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
	if got, _ := r.store.Get(context.Background(), second.ID); got.State != application.Queued {
		t.Fatalf("the put-off application is %s", got.State)
	}
	if n := manifests.Load(); n != 0 {
		t.Errorf("%d manifest(s) sent right after the portal put the filing off", n)
	}
	r.advance(time.Minute)
	if sum, err := w.Pass(context.Background()); err != nil || sum.Delivered != 1 {
		t.Fatalf("second pass = %+v, %v", sum, err)
	}
	if n, c := manifests.Load(), creations.Load(); n != 1 || c != 1 {
		t.Errorf("%d manifest(s) and %d creation(s) in all; want the shared upload, then the held one's manifest alone", n, c)
	}
	if sent := w.BytesSent(); sent != 5<<10 {
		t.Errorf("sent %d attachment bytes for %d", sent, 5<<10)
	}
	r.checkExactlyOnce()
}
