package uplink

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/motcua/motcua/agent/application"
	"github.com/motcua/motcua/agent/audit"
	"github.com/motcua/motcua/agent/store"
	"github.com/motcua/motcua/sync/portal"
	"github.com/motcua/motcua/sync/portalapi"
)

// swapRig is a kiosk store and a URL on 127.0.0.1 behind which the portal
// can be replaced: the same address, other records.
type swapRig struct {
	t     *testing.T
	mu    sync.Mutex
	p     *portal.Server
	srv   *httptest.Server
	store *store.Store
	log   bytes.Buffer
	// fault, when set, may answer a request instead of the portal.
	fault func(w http.ResponseWriter, r *http.Request) bool
}

func newSwapRig(t *testing.T) *swapRig {
	t.Helper()
	r := &swapRig{t: t}
	r.swap()
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		p, f := r.p, r.fault
		r.mu.Unlock()
		if f != nil && f(w, req) {
			return
		}
		p.Handler().ServeHTTP(w, req)
	}))
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), store.FileName), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r.store = st
	t.Cleanup(func() { r.srv.Close(); st.Close() })
	return r
}

// swap puts a portal with new, empty records behind the URL.
func (r *swapRig) swap() *portal.Server {
	r.t.Helper()
	return r.swapTo(r.t.TempDir())
}

// swapTo puts the portal whose records are in dir behind the URL.
func (r *swapRig) swapTo(dir string) *portal.Server {
	r.t.Helper()
	p, err := portal.Open(context.Background(), portal.Config{OpenEnrollment: true, DataDir: dir})
	if err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(func() { p.Close() })
	r.mu.Lock()
	r.p = p
	r.mu.Unlock()
	return p
}

func (r *swapRig) worker(portalURL string) *Worker {
	r.t.Helper()
	w, err := New(Config{Portal: portalURL, Store: r.store, StallTimeout: 5 * time.Second,
		Logger: slog.New(slog.NewTextHandler(&r.log, &slog.HandlerOptions{Level: slog.LevelInfo})),
		Sleep:  func(ctx context.Context, d time.Duration) error { return ctx.Err() }})
	if err != nil {
		r.t.Fatal(err)
	}
	return w
}

func (r *swapRig) queue(key string, sizes ...int) *application.Application {
	r.t.Helper()
	var atts []store.NewAttachment
	for i, n := range sizes {
		atts = append(atts, store.NewAttachment{EvidenceKey: "birth_certificate", Name: "trang.jpg",
			MediaType: "image/jpeg", Content: page(n, uint64(len(key)*1000+i))})
	}
	a, err := r.store.Create(context.Background(), store.NewApplication{IdempotencyKey: key, ProcedureID: "birth-registration",
		ProcedureCode: "1.001193", CatalogVersion: "2026.11.1", Form: exampleForm(r.t), Attachments: atts, Actor: "test"},
		application.Queued)
	if err != nil {
		r.t.Fatal(err)
	}
	return a
}

func (r *swapRig) get(id int64) *application.Application {
	r.t.Helper()
	a, err := r.store.Get(context.Background(), id)
	if err != nil {
		r.t.Fatal(err)
	}
	return a
}

// A portal that lost its records (restored from nothing, or another portal
// at the same URL) issues ...-0001 again. The kiosk records that receipt
// (codes are unique per portal instance), delivers again what the new
// portal does not have, keeps the old codes in history, says so at WARN and
// in the audit log, and keeps the finished file as it was.
func TestPortalThatLostItsRecordsGetsUnfinishedFilesAgain(t *testing.T) {
	ctx := context.Background()
	r := newSwapRig(t)
	old := r.p
	waiting := r.queue("key-waiting-01", 20<<10)
	finished := r.queue("key-finished-1")
	if sum, err := r.worker(r.srv.URL).Once(ctx); err != nil || sum.Delivered != 2 {
		t.Fatalf("first delivery: %+v, %v", sum, err)
	}
	oldWaiting, oldFinished := r.get(waiting.ID).FileCode, r.get(finished.ID).FileCode
	if err := old.Advance(ctx, oldFinished, portalapi.Done, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := r.worker(r.srv.URL).Once(ctx); err != nil || r.get(finished.ID).State != application.Done {
		t.Fatalf("status of the finished file: %s, %v", r.get(finished.ID).State, err)
	}

	fresh := r.swap()
	later := r.queue("key-later-0001")
	sum, err := r.worker(r.srv.URL).Once(ctx)
	if err != nil || sum.Remaining != 0 {
		t.Fatalf("delivery to the new portal: %+v, %v", sum, err)
	}
	if !strings.Contains(sum.PortalChanged, "changed identity") || !strings.Contains(sum.PortalChanged, oldWaiting) {
		t.Errorf("summary says %q, want the change of identity and the old code", sum.PortalChanged)
	}
	subs, err := fresh.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, s := range subs {
		got[s.IdempotencyKey] = s.FileCode
	}
	if len(subs) != 2 || got["key-waiting-01"] == "" || got["key-later-0001"] == "" {
		t.Fatalf("the new portal has %v, want the unfinished file and the new one", got)
	}
	w, l := r.get(waiting.ID), r.get(later.ID)
	if w.State != application.Received || w.FileCode != got["key-waiting-01"] || w.PortalInstance != fresh.Instance() {
		t.Errorf("unfinished file: %s %s at %s, want received %s at %s", w.State, w.FileCode, w.PortalInstance,
			got["key-waiting-01"], fresh.Instance())
	}
	if l.State != application.Received || l.FileCode != got["key-later-0001"] {
		t.Errorf("new file: %s %q", l.State, l.FileCode)
	}
	if f := r.get(finished.ID); f.State != application.Done || f.FileCode != oldFinished || f.PortalInstance != old.Instance() {
		t.Errorf("finished file: %s %s at %s, want it kept", f.State, f.FileCode, f.PortalInstance)
	}
	codes, err := r.store.OldFileCodes(ctx, waiting.ID)
	if err != nil || len(codes) != 1 || codes[0].FileCode != oldWaiting || codes[0].Instance != old.Instance() {
		t.Errorf("old codes %+v, %v, want %s at %s", codes, err, oldWaiting, old.Instance())
	}
	if !strings.Contains(r.log.String(), "level=WARN msg=\"the portal changed identity") {
		t.Errorf("no WARN about the change of identity in the log:\n%s", r.log.String())
	}
	events, err := r.store.Events(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range events {
		found = found || (e.Kind == audit.KindPortal && strings.Contains(e.Detail, old.Instance()) && strings.Contains(e.Detail, fresh.Instance()))
	}
	if !found {
		t.Errorf("no audit event names the old and the new portal: %+v", events)
	}
	if _, err := r.store.VerifyAudit(ctx); err != nil {
		t.Fatal(err)
	}
}

// Another spelling of the portal's URL (localhost for 127.0.0.1, a
// trailing slash) is the same portal: the kiosk keeps its device, and the
// status of files filed before reaches it.
func TestAnotherSpellingOfThePortalURLKeepsTheDeviceAndItsStatus(t *testing.T) {
	ctx := context.Background()
	r := newSwapRig(t)
	a := r.queue("key-spelling-1")
	if sum, err := r.worker(r.srv.URL).Once(ctx); err != nil || sum.Delivered != 1 {
		t.Fatalf("delivery: %+v, %v", sum, err)
	}
	u, _ := url.Parse(r.srv.URL)
	for _, spelling := range []string{r.srv.URL + "/", "http://localhost:" + u.Port(), "HTTP://LOCALHOST:" + u.Port() + "/"} {
		if _, err := r.worker(spelling).Once(ctx); err != nil {
			t.Fatalf("%s: %v", spelling, err)
		}
	}
	if err := r.p.Advance(ctx, r.get(a.ID).FileCode, portalapi.Done, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := r.worker("http://localhost:" + u.Port() + "/").Once(ctx); err != nil {
		t.Fatal(err)
	}
	if got := r.get(a.ID).State; got != application.Done {
		t.Errorf("after the portal finished it: %s, want done", got)
	}
	if strings.Count(r.log.String(), "msg=\"enrolled with the portal\"") != 1 {
		t.Errorf("the kiosk enrolled more than once:\n%s", r.log.String())
	}
}

// A 401 (a proxy's, or a portal's passing fault) no longer makes the kiosk
// a new device: it enrolls again asking to keep its id, with its token,
// and the status of its earlier files still reaches it.
func TestRefusedTokenKeepsTheDeviceAndItsStatus(t *testing.T) {
	ctx := context.Background()
	r := newSwapRig(t)
	files := []*application.Application{r.queue("key-refused-1"), r.queue("key-refused-2"), r.queue("key-refused-3")}
	if sum, err := r.worker(r.srv.URL).Once(ctx); err != nil || sum.Delivered != 3 {
		t.Fatalf("delivery: %+v, %v", sum, err)
	}
	device, _ := r.store.Setting(ctx, settingDevice)
	refusals := 1
	r.mu.Lock()
	r.fault = func(w http.ResponseWriter, req *http.Request) bool {
		if req.URL.Path != portalapi.PathStatus || refusals == 0 {
			return false
		}
		refusals--
		http.Error(w, `{"error":"unauthorized","message":"no"}`, http.StatusUnauthorized)
		return true
	}
	r.mu.Unlock()
	w := r.worker(r.srv.URL)
	if _, err := w.Pass(ctx); err == nil {
		t.Fatal("the pass with a 401 succeeded")
	}
	for _, a := range files {
		if err := r.p.Advance(ctx, r.get(a.ID).FileCode, portalapi.Done, ""); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.Once(ctx); err != nil {
		t.Fatal(err)
	}
	for _, a := range files {
		if got := r.get(a.ID).State; got != application.Done {
			t.Errorf("%s: %s, want done", a.IdempotencyKey, got)
		}
	}
	if now, _ := r.store.Setting(ctx, settingDevice); now != device {
		t.Errorf("device %s became %s", device, now)
	}
}

// A portal restored from an older backup keeps its instance id but no
// longer has the files filed since, nor their status. The kiosk sees its
// status cursor past the portal's latest event, delivers again the files
// the portal does not know (keeping their old codes) and keeps the ones it
// knows as they are.
func TestPortalRolledBackToABackupGetsTheFilesItForgot(t *testing.T) {
	ctx := context.Background()
	r := newSwapRig(t)
	dir, backup := r.t.TempDir(), r.t.TempDir()
	r.swapTo(dir)
	kept := r.queue("key-in-backup1")
	if _, err := r.worker(r.srv.URL).Once(ctx); err != nil {
		t.Fatal(err)
	}
	r.p.Close()
	b, err := os.ReadFile(filepath.Join(dir, "portal.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(backup, "portal.db"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	// The backup holds the key that seals the records too (agent/seal).
	kek, err := os.ReadFile(filepath.Join(dir, "keys", "kek"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(backup, "keys"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(backup, "keys", "kek"), kek, 0o600); err != nil {
		t.Fatal(err)
	}
	r.swapTo(dir)
	forgotten := r.queue("key-after-bkp1", 10<<10)
	if _, err := r.worker(r.srv.URL).Once(ctx); err != nil {
		t.Fatal(err)
	}
	oldCode := r.get(forgotten.ID).FileCode
	keptCode := r.get(kept.ID).FileCode

	restored := r.swapTo(backup)
	sum, err := r.worker(r.srv.URL).Once(ctx)
	if err != nil || sum.Remaining != 0 || !strings.Contains(sum.PortalChanged, "rolled back") {
		t.Fatalf("after the restore: %+v, %v", sum, err)
	}
	subs, err := restored.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, s := range subs {
		got[s.IdempotencyKey] = s.FileCode
	}
	if len(subs) != 2 || got["key-after-bkp1"] == "" || got["key-in-backup1"] != keptCode {
		t.Fatalf("the restored portal has %v", got)
	}
	if f := r.get(forgotten.ID); f.State != application.Received || f.FileCode != got["key-after-bkp1"] {
		t.Errorf("forgotten file: %s %q, portal has %q", f.State, f.FileCode, got["key-after-bkp1"])
	}
	if k := r.get(kept.ID); k.FileCode != keptCode || k.State != application.Received {
		t.Errorf("file the backup has: %s %q, want %q kept", k.State, k.FileCode, keptCode)
	}
	if codes, _ := r.store.OldFileCodes(ctx, forgotten.ID); len(codes) != 1 || codes[0].FileCode != oldCode {
		t.Errorf("old codes %+v, want %s", codes, oldCode)
	}
	if err := restored.Advance(ctx, got["key-after-bkp1"], portalapi.Done, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := r.worker(r.srv.URL).Once(ctx); err != nil || r.get(forgotten.ID).State != application.Done {
		t.Errorf("status after the restore: %s, %v", r.get(forgotten.ID).State, err)
	}
}

// TestReceiptsFromASharedUploadRecordThePortalInstance pins the seam
// between the instance recorded with each file code and the small
// applications that share an upload: each receipt in the answer to the
// upload's last byte is stored with the instance of the portal that issued
// it, as a receipt for an application sent alone is.
func TestReceiptsFromASharedUploadRecordThePortalInstance(t *testing.T) {
	r := newRig(t)
	var apps []*application.Application
	for i := range 3 {
		apps = append(apps, r.queue(fmt.Sprintf("key-shared-inst-%d", i), 3<<10+i))
	}
	if sum, err := r.worker().Pass(context.Background()); err != nil || sum.Delivered != len(apps) {
		t.Fatalf("pass = %+v, %v", sum, err)
	}
	for _, a := range apps {
		got, err := r.store.Get(context.Background(), a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.State != application.Received || got.PortalInstance != r.portal.Instance() {
			t.Errorf("%s: %s %s at instance %q; want received at %q", a.IdempotencyKey, got.State, got.FileCode,
				got.PortalInstance, r.portal.Instance())
		}
	}
}
