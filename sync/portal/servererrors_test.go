package portal

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	tushandler "github.com/tus/tusd/v2/pkg/handler"

	"github.com/motcua/motcua/sync/portalapi"
)

// syncBuffer is a log's destination that requests write concurrently.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// newLoggedPortal is newPortal with the portal's log kept in the returned
// buffer and its upload store wrapped in faults.
func newLoggedPortal(t *testing.T, faults *faultyUploads) (*testPortal, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	s, err := Open(context.Background(), Config{OpenEnrollment: true, DataDir: t.TempDir(),
		Logger: slog.New(slog.NewTextHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	faults.uploadStore = s.uploads
	s.uploads = faults
	if s.tus, err = s.newTus(); err != nil {
		t.Fatal(err)
	}
	s.routes()
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(func() { srv.Close(); s.Close() })
	p := &testPortal{Server: s, url: srv.URL, t: t}
	var enrolled portalapi.EnrollResponse
	if code := p.do("POST", portalapi.PathEnroll, nil, `{"device_name":"kiosk-1","site":"UBND xã Yên Thường"}`, &enrolled); code != 201 {
		t.Fatalf("enroll: %d", code)
	}
	p.token, p.device = enrolled.Token, enrolled.DeviceID
	return p, logs
}

// faultyUploads is an upload store that fails, once told to, as a bucket
// that stopped answering: its reads of uploads (failReads), or its writes
// of bytes (failWrites).
type faultyUploads struct {
	uploadStore
	failReads, failWrites atomic.Bool
}

var errInjected = errors.New("injected: the bucket does not answer")

func (f *faultyUploads) GetUpload(ctx context.Context, id string) (tushandler.Upload, error) {
	if f.failReads.Load() {
		return nil, errInjected
	}
	up, err := f.uploadStore.GetUpload(ctx, id)
	if err != nil {
		return nil, err
	}
	return faultyUpload{Upload: up, f: f}, nil
}

type faultyUpload struct {
	tushandler.Upload
	f *faultyUploads
}

func (u faultyUpload) WriteChunk(ctx context.Context, offset int64, src io.Reader) (int64, error) {
	if u.f.failWrites.Load() {
		return 0, errInjected
	}
	return u.Upload.WriteChunk(ctx, offset, src)
}

// loggedWithCause reports whether log has a line about method's request
// that names the injected fault.
func loggedWithCause(log, method string) bool {
	for _, line := range strings.Split(log, "\n") {
		if strings.Contains(line, "method="+method) && strings.Contains(line, errInjected.Error()) {
			return true
		}
	}
	return false
}

// A store's failure is answered 500 by tusd, whose log the portal
// dropped: under a thousand kiosks the portal answered thousands of 500s
// to creations and PATCHes and logged none. Each is logged with its cause.
func TestTusInternalErrorsWereAnsweredUnlogged(t *testing.T) {
	faults := &faultyUploads{}
	p, logs := newLoggedPortal(t, faults)
	content := []byte("page one")
	loc := p.upload("key-unlogged-1", content, 0)
	faults.failWrites.Store(true)
	if code := p.patch(loc, 0, content); code != http.StatusInternalServerError {
		t.Fatalf("PATCH with the store failing: %d, want 500", code)
	}
	if !loggedWithCause(logs.String(), "PATCH") {
		t.Errorf("the PATCH answered 500 is not logged with its cause; log:\n%s", logs)
	}
}

// An upload the store cannot read was answered 404 "no such upload" by the
// ownership check, unlogged: the kiosk then creates it again, which the
// load test saw as thousands of HEADs answered 404 after a failure. The
// store's failure is the portal's: 503 with Retry-After, logged.
func TestUploadStoreFailureWasAnsweredNoSuchUpload(t *testing.T) {
	faults := &faultyUploads{}
	p, logs := newLoggedPortal(t, faults)
	content := []byte("page one")
	loc := p.upload("key-unread-1", content, 0)
	faults.failReads.Store(true)
	resp := p.tusRequest("HEAD", loc, nil, nil)
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("HEAD with the store failing: %d (Retry-After %q), want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if code := p.patch(loc, 0, content); code != http.StatusServiceUnavailable {
		t.Fatalf("PATCH with the store failing: %d, want 503", code)
	}
	for _, method := range []string{"HEAD", "PATCH"} {
		if !loggedWithCause(logs.String(), method) {
			t.Errorf("the %s answered 503 is not logged with its cause; log:\n%s", method, logs)
		}
	}
}

// A portal failing every request logs at most failuresPerSecond lines a
// second, and says how many it left out.
func TestServerErrorsLogIsRateLimited(t *testing.T) {
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	var f failureLog
	at := time.Date(2026, 11, 30, 20, 0, 0, 0, time.UTC)
	for i := range 3 * failuresPerSecond {
		f.log(log, at.Add(time.Duration(i)*time.Millisecond), "answered a server error")
	}
	f.log(log, at.Add(time.Second), "answered a server error")
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != failuresPerSecond+1 {
		t.Fatalf("%d lines logged, want %d", len(lines), failuresPerSecond+1)
	}
	if !strings.Contains(lines[len(lines)-1], "not_logged_before=40") {
		t.Errorf("the next second's line does not count the ones left out: %s", lines[len(lines)-1])
	}
}

// A shared upload whose manifests the store could not read back was
// answered 422 malformed, which the uplink quarantines as a permanent
// refusal: the store's failure is the portal's, 503 with Retry-After.
func TestUnreadableBatchWasAnsweredMalformed(t *testing.T) {
	faults := &faultyUploads{}
	p, logs := newLoggedPortal(t, faults)
	a := bytes.Repeat([]byte("a"), 3000)
	m := portalapi.Manifest{IdempotencyKey: "key-unreadable-1", ProcedureID: "birth-registration", CatalogVersion: "2026.11.1",
		CapturedAt: time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC), Form: exampleForm(), Attachments: []portalapi.AttachmentRef{
			{EvidenceKey: "birth_certificate", Name: "p", MediaType: "application/pdf", Size: 3000, SHA256: hexSum(a)}}}
	faults.failReads.Store(true)
	status, _ := p.batchUpload("batch-unreadable-1", []portalapi.Manifest{m}, a, nil)
	if status != http.StatusServiceUnavailable {
		t.Fatalf("shared upload with the store failing: %d, want 503", status)
	}
	if !loggedWithCause(logs.String(), "POST") {
		t.Errorf("the POST answered 503 is not logged with its cause; log:\n%s", logs)
	}
}

// TestKeptConnectionWhoseContextWasCancelledKeptAnswering503 pins the
// wedge of the full load run: net/http cancels a kept-alive connection's
// context for good when its background read fails (here a read deadline
// set in the past, as an interrupted upload leaves it), and every later
// request on that connection met a cancelled context and was answered 503
// again and again. The answer written on a cancelled context now closes
// the connection, so the kiosk's next request opens a fresh one.
func TestKeptConnectionWhoseContextWasCancelledKeptAnswering503(t *testing.T) {
	s := &Server{log: slog.New(slog.DiscardHandler)}
	mux := http.NewServeMux()
	mux.HandleFunc("/wedge", func(w http.ResponseWriter, r *http.Request) {
		http.NewResponseController(w).SetReadDeadline(time.Now())
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
			t.Error("the connection's context was not cancelled by its failed read")
		}
		http.Error(w, "the portal cannot reach its records: retry later", http.StatusServiceUnavailable)
	})
	mux.HandleFunc("/status", func(w http.ResponseWriter, r *http.Request) {
		if r.Context().Err() != nil {
			http.Error(w, "the portal cannot reach its records: retry later", http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, "ok")
	})
	srv := httptest.NewServer(s.loggedServerErrors(mux))
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 1}}
	defer client.CloseIdleConnections()

	resp, err := client.Get(srv.URL + "/wedge")
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("wedging request answered %d", resp.StatusCode)
	}
	for i := range 3 {
		resp, err := client.Get(srv.URL + "/status")
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("request %d after the connection's context was cancelled answered %d, want 200 on a fresh connection", i+1, resp.StatusCode)
		}
	}
}
