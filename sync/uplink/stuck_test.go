package uplink

import (
	"context"
	"database/sql"
	"encoding/base64"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/motcua/motcua/agent/application"
	"github.com/motcua/motcua/internal/sqlitedb"
	"github.com/motcua/motcua/sync/portalapi"
)

// uploadName returns the upload name a tus request is about: the last
// part of its URL, or the upload_name of a creation's metadata.
func uploadName(req *http.Request) string {
	if req.Method == http.MethodPost {
		for kv := range strings.SplitSeq(req.Header.Get("Upload-Metadata"), ",") {
			k, v, _ := strings.Cut(strings.TrimSpace(kv), " ")
			if k == portalapi.MetaUploadName {
				b, _ := base64.StdEncoding.DecodeString(v)
				return string(b)
			}
		}
		return ""
	}
	return req.URL.Path[strings.LastIndex(req.URL.Path, "/")+1:]
}

// diskFull answers 500, as a portal whose disk is full does, to the upload
// requests match picks.
func diskFull(match func(name string) bool) func(w http.ResponseWriter, req *http.Request) bool {
	return func(w http.ResponseWriter, req *http.Request) bool {
		if !strings.HasPrefix(req.URL.Path, portalapi.PathUploads) || req.Method == http.MethodOptions || !match(uploadName(req)) {
			return false
		}
		w.Header().Set("Tus-Resumable", "1.0.0")
		http.Error(w, "write uploads/x.info: no space left on device", http.StatusInternalServerError)
		return true
	}
}

// countRows counts the rows of the kiosk's database that query selects
// for application id.
func (r *rig) countRows(query string, id int64) int {
	r.t.Helper()
	db := r.openDB()
	defer db.Close()
	var n int
	if err := db.QueryRow(query, id).Scan(&n); err != nil {
		r.t.Fatal(err)
	}
	return n
}

// openDB opens the kiosk's database beside its store.
func (r *rig) openDB() *sql.DB {
	r.t.Helper()
	db, err := sql.Open("sqlite3", sqlitedb.DSN(r.store.Path()))
	if err != nil {
		r.t.Fatal(err)
	}
	return db
}

func (r *rig) auditEvents(id int64) int {
	return r.countRows(`SELECT count(*) FROM audit_events WHERE application_id = ?`, id)
}

func (r *rig) outboxRows(id int64) int {
	return r.countRows(`SELECT count(*) FROM outbox WHERE application_id = ?`, id)
}

// TestServerErrorsOnOneUploadStartANewGeneration pins the kiosk stuck on an
// upload the portal answers 500 to forever (its record half-made by a full
// disk): after a bounded number of server errors it sends the attachments
// again under a new name, and the application is delivered exactly once.
func TestServerErrorsOnOneUploadStartANewGeneration(t *testing.T) {
	r := newRig(t)
	a := r.queue("key-stuck-upload", 30_000, 20_000)
	// Generation 1's record is broken at the portal: creation, HEAD and
	// PATCH on it all answer 500.
	r.setFault(diskFull(func(name string) bool { return strings.HasSuffix(name, "-1") }))
	w := r.worker()
	passes := 0
	for ; passes < 3*DefaultMaxServerErrors; passes++ {
		sum, _ := w.Pass(context.Background())
		if sum.Delivered == 1 {
			break
		}
		r.advance(time.Minute)
	}
	got, err := r.store.Get(context.Background(), a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != application.Received {
		t.Fatalf("after %d passes the application is %s (%s); want received under a new upload", passes, got.State, got.LastError)
	}
	if passes > DefaultMaxServerErrors {
		t.Errorf("delivered after %d passes; want a new upload after %d server errors", passes, DefaultMaxServerErrors)
	}
	r.setFault(nil)
	r.checkExactlyOnce()
	// created, ready, queued, sending, queued (the first failure),
	// sending, received.
	if n := r.auditEvents(a.ID); n > 7 {
		t.Errorf("%d audit events for one application retried %d times; want at most 7", n, passes)
	}
}

// TestServerErrorsForDaysQuarantineWithReason pins the application the
// portal fails with 500 on every upload, whatever its name: after
// QuarantineAfter of nothing but server errors it is quarantined with the
// portal's answer as the reason, and the others go on.
func TestServerErrorsForDaysQuarantineWithReason(t *testing.T) {
	r := newRig(t)
	stuck := r.queue("key-stuck-always", 40_000)
	r.setFault(diskFull(func(string) bool { return true }))
	w := r.worker()
	const step = 6 * time.Hour
	start := r.now()
	passes := 0
	for ; passes < 30; passes++ {
		if sum, _ := w.Pass(context.Background()); sum.Quarantined == 1 {
			break
		}
		r.advance(step)
	}
	got, err := r.store.Get(context.Background(), stuck.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != application.Quarantined {
		t.Fatalf("after %d passes over %s of server errors the application is %s; want quarantined", passes, r.now().Sub(start), got.State)
	}
	if failing := r.now().Sub(start); failing < DefaultQuarantineAfter || failing > DefaultQuarantineAfter+step {
		t.Errorf("quarantined after %s of server errors; want %s", failing, DefaultQuarantineAfter)
	}
	if !strings.Contains(got.LastError, "500") || !strings.Contains(got.LastError, "server errors") {
		t.Errorf("quarantined with reason %q; want the portal's 500 and why", got.LastError)
	}
	// created, ready, queued, sending, queued, sending, quarantined.
	if n := r.auditEvents(stuck.ID); n > 7 {
		t.Errorf("%d audit events after %d failed passes; want at most 7", n, passes)
	}
	if n := r.outboxRows(stuck.ID); n > 6 {
		t.Errorf("%d outbox rows after %d failed passes; want at most 6", n, passes)
	}
	// The portal works again: the next application goes through.
	r.setFault(nil)
	next := r.queue("key-stuck-next", 1000)
	if sum, err := w.Pass(context.Background()); err != nil || sum.Delivered != 1 {
		t.Fatalf("pass after the quarantine = %+v, %v", sum, err)
	}
	if got, _ := r.store.Get(context.Background(), next.ID); got.State != application.Received {
		t.Errorf("the next application is %s", got.State)
	}
}

// TestRetriesCountAttemptsInsteadOfAuditEvents pins the audit log that grew
// by two events and the outbox by two rows at every failed retry (422
// events against about 100): the retries are counted on the outbox row,
// and the log holds the first failure only.
func TestRetriesCountAttemptsInsteadOfAuditEvents(t *testing.T) {
	r := newRig(t)
	a := r.queue("key-retried-often", 10_000)
	r.setFault(diskFull(func(string) bool { return true }))
	w := r.worker()
	const retries = 40
	for range retries {
		if _, err := w.Pass(context.Background()); err == nil {
			t.Fatal("a pass against a failing portal reported no error")
		}
		r.advance(time.Minute)
	}
	got, _ := r.store.Get(context.Background(), a.ID)
	if got.State != application.Queued || !strings.Contains(got.LastError, "500") {
		t.Fatalf("after %d failures the application is %s (%q); want queued with the portal's 500", retries, got.State, got.LastError)
	}
	// created, ready, queued, sending, queued.
	if n := r.auditEvents(a.ID); n != 5 {
		t.Errorf("%d audit events after %d failed deliveries; want 5", n, retries)
	}
	if n := r.outboxRows(a.ID); n > 4 {
		t.Errorf("%d outbox rows after %d failed deliveries; want at most 4", n, retries)
	}
	attempts := r.countRows(`SELECT max(attempts) FROM outbox WHERE application_id = ? AND done_at IS NULL`, a.ID)
	if attempts != retries {
		t.Errorf("the outbox counts %d attempts; want %d", attempts, retries)
	}
	if _, err := r.store.VerifyAudit(context.Background()); err != nil {
		t.Errorf("audit chain: %v", err)
	}
	// Delivered at last, through the states the log expects.
	r.setFault(nil)
	if sum, err := w.Pass(context.Background()); err != nil || sum.Delivered != 1 {
		t.Fatalf("pass after the portal recovered = %+v, %v", sum, err)
	}
	evs, err := r.store.Events(context.Background(), a.ID)
	if err != nil {
		t.Fatal(err)
	}
	var path []string
	for _, e := range evs[1:] {
		path = append(path, e.From+">"+e.To)
	}
	if want := "draft>ready ready>queued queued>sending sending>queued queued>sending sending>received"; !strings.Contains(strings.Join(path, " "), want) {
		t.Errorf("audit path %v; want %s", path, want)
	}
	r.checkExactlyOnce()
}

// TestServerErrorsOnASharedUploadCountAsForOneApplication pins the seam
// between the bounds on server errors and the small applications that
// share an upload: a portal that fails every upload with 500 gets the
// shared one once, then each application alone, where its server errors
// count, start new uploads and, after QuarantineAfter, quarantine it with
// the reason, without growing the audit log at every pass.
func TestServerErrorsOnASharedUploadCountAsForOneApplication(t *testing.T) {
	r := newRig(t)
	apps := []*application.Application{r.queue("key-stuck-shared-1", 10_000), r.queue("key-stuck-shared-2", 20_000)}
	var shared, generations atomic.Int64
	full := diskFull(func(string) bool { return true })
	r.setFault(func(w http.ResponseWriter, req *http.Request) bool {
		if req.Method == http.MethodPost && req.URL.Path == portalapi.PathUploads {
			switch name := uploadName(req); {
			case strings.HasPrefix(name, "batch-"):
				shared.Add(1)
			case !strings.HasSuffix(name, "-1"):
				generations.Add(1)
			}
		}
		return full(w, req)
	})
	w := r.worker()
	const step = 6 * time.Hour
	start := r.now()
	quarantined, passes := 0, 0
	for ; passes < 30 && quarantined < len(apps); passes++ {
		sum, _ := w.Pass(context.Background())
		quarantined += sum.Quarantined
		r.advance(step)
	}
	for _, a := range apps {
		got, _ := r.store.Get(context.Background(), a.ID)
		if got.State != application.Quarantined || !strings.Contains(got.LastError, "server errors") {
			t.Errorf("%s after %s of server errors: %s (%q); want quarantined naming them", a.IdempotencyKey,
				r.now().Sub(start), got.State, got.LastError)
		}
		if n := r.auditEvents(a.ID); n > 7 {
			t.Errorf("%s: %d audit events after %d failed passes; want at most 7", a.IdempotencyKey, n, passes)
		}
	}
	if failing := r.now().Sub(start); failing > DefaultQuarantineAfter+2*step {
		t.Errorf("quarantined after %s of server errors; want %s", failing, DefaultQuarantineAfter)
	}
	if n := shared.Load(); n != 1 {
		t.Errorf("the shared upload was created %d times; want once, then each alone", n)
	}
	if generations.Load() == 0 {
		t.Errorf("no upload started under a new generation after %d server errors", DefaultMaxServerErrors)
	}
}

// TestSharedUploadRetriedThroughCutsCountsAttemptsInsteadOfAuditEvents
// pins the seam between retries that only count and a shared upload the
// link cuts at every pass: each pass plans and resumes the same upload,
// and its applications' audit log holds the first failure only, not a
// move to sending and back per pass.
func TestSharedUploadRetriedThroughCutsCountsAttemptsInsteadOfAuditEvents(t *testing.T) {
	r := newRig(t)
	apps := []*application.Application{r.queue("key-cut-shared-1", 10_000), r.queue("key-cut-shared-2", 20_000)}
	var down atomic.Bool
	down.Store(true)
	r.setFault(func(w http.ResponseWriter, req *http.Request) bool {
		if !down.Load() || !strings.HasPrefix(req.URL.Path, portalapi.PathUploads) {
			return false
		}
		if c, _, err := http.NewResponseController(w).Hijack(); err == nil {
			c.Close()
		}
		return true
	})
	w := r.worker()
	const passes = 6
	for range passes {
		if sum, err := w.Pass(context.Background()); err == nil || sum.Delivered != 0 {
			t.Fatalf("pass through a cut link = %+v, %v", sum, err)
		}
	}
	down.Store(false)
	if sum, err := w.Pass(context.Background()); err != nil || sum.Delivered != len(apps) {
		t.Fatalf("pass once the link is back = %+v, %v", sum, err)
	}
	for _, a := range apps {
		got, _ := r.store.Get(context.Background(), a.ID)
		if got.State != application.Received {
			t.Errorf("%s is %s", a.IdempotencyKey, got.State)
		}
		// created, ready, queued, sending, queued (the first failure),
		// sending, received.
		if n := r.auditEvents(a.ID); n > 7 {
			t.Errorf("%s: %d audit events after %d failed passes; want at most 7", a.IdempotencyKey, n, passes)
		}
		if f, _ := r.store.DeliveryFailures(context.Background(), a.ID); f.Attempts != 0 {
			t.Errorf("%s delivered with %d failed attempts still recorded", a.IdempotencyKey, f.Attempts)
		}
	}
	r.checkExactlyOnce()
}
