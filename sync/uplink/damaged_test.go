package uplink

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/motcua/motcua/agent/application"
	"github.com/motcua/motcua/internal/sqlitedb"
	"github.com/motcua/motcua/sync/portalapi"
)

// damage flips one byte of the stored bytes of attachment attID, in the
// SQLite file, as a bad sector or a faulty disk would.
func (r *rig) damage(attID int64) {
	r.t.Helper()
	db, err := sql.Open("sqlite3", sqlitedb.DSN(r.store.Path()))
	if err != nil {
		r.t.Fatal(err)
	}
	defer db.Close()
	var b []byte
	part := "attachment:" + strconv.FormatInt(attID, 10)
	if err := db.QueryRow(`SELECT data FROM personal_data WHERE part = ?`, part).Scan(&b); err != nil {
		r.t.Fatal(err)
	}
	b[len(b)/2] ^= 0x40
	if _, err := db.Exec(`UPDATE personal_data SET data = ? WHERE part = ?`, b, part); err != nil {
		r.t.Fatal(err)
	}
}

// TestDamagedAttachmentIsQuarantinedNotUploaded pins the attachment whose
// stored bytes no longer match their SHA-256: it was uploaded, refused as
// corrupt and uploaded again under a new name at every pass, leaving a new
// copy at the portal each time. It is checked before sending and the
// application quarantined with the reason; the others go on.
func TestDamagedAttachmentIsQuarantinedNotUploaded(t *testing.T) {
	r := newRig(t)
	damaged := r.queue("key-damaged-bytes", 20_000, 30_000)
	healthy := r.queue("key-healthy-bytes", 40_000)
	r.damage(damaged.Attachments[1].ID)
	var uploads atomic.Int64
	r.setFault(func(w http.ResponseWriter, req *http.Request) bool {
		if req.Method == http.MethodPost && strings.HasPrefix(req.URL.Path, portalapi.PathUploads) &&
			strings.Contains(uploadName(req), "key-damaged") {
			uploads.Add(1)
		}
		return false
	})
	w := r.worker()
	var quarantined int
	for range 3 {
		sum, _ := w.Pass(context.Background())
		quarantined += sum.Quarantined
	}
	if n := uploads.Load(); n != 0 {
		t.Errorf("the damaged application was uploaded %d times; want never", n)
	}
	got, err := r.store.Get(context.Background(), damaged.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != application.Quarantined || quarantined != 1 {
		t.Fatalf("the damaged application is %s (%d quarantined); want quarantined once", got.State, quarantined)
	}
	// The reason names the attachment by id and evidence, not by its file
	// name, which is personal data (the reason is kept in clear and logged).
	for _, want := range []string{"SHA-256", fmt.Sprintf("attachment %d (", damaged.Attachments[1].ID)} {
		if !strings.Contains(got.LastError, want) {
			t.Errorf("quarantined with reason %q; want it to name %s", got.LastError, want)
		}
	}
	if got, _ := r.store.Get(context.Background(), healthy.ID); got.State != application.Received {
		t.Errorf("the healthy application is %s; want received", got.State)
	}
	subs, _ := r.portal.List(context.Background())
	if len(subs) != 1 {
		t.Errorf("the portal has %d applications; want the healthy one only", len(subs))
	}
}

// TestDamagedAttachmentIsLeftOutOfASharedUpload pins the seam between the
// check of stored bytes and the small applications that share an upload:
// the damaged one is checked before it joins, never sent, and quarantined
// alone, while the others still share one upload.
func TestDamagedAttachmentIsLeftOutOfASharedUpload(t *testing.T) {
	r := newRig(t)
	healthy := []*application.Application{r.queue("key-shared-ok-1", 10_000), r.queue("key-shared-ok-2", 30_000)}
	damaged := r.queue("key-shared-bad-1", 20_000)
	r.damage(damaged.Attachments[0].ID)
	var creations, length atomic.Int64
	r.setFault(func(w http.ResponseWriter, req *http.Request) bool {
		if req.Method == http.MethodPost && req.URL.Path == portalapi.PathUploads {
			creations.Add(1)
			n, _ := strconv.ParseInt(req.Header.Get("Upload-Length"), 10, 64)
			length.Add(n)
		}
		return false
	})
	w := r.worker()
	sum, _ := w.Pass(context.Background())
	if sum.Delivered != 2 || sum.Quarantined != 1 {
		t.Fatalf("pass = %+v; want the two healthy delivered and the damaged quarantined", sum)
	}
	if got, _ := r.store.Get(context.Background(), damaged.ID); got.State != application.Quarantined ||
		!strings.Contains(got.LastError, "SHA-256") {
		t.Errorf("the damaged application is %s (%q); want quarantined naming its bytes", got.State, got.LastError)
	}
	for _, a := range healthy {
		if got, _ := r.store.Get(context.Background(), a.ID); got.State != application.Received {
			t.Errorf("%s is %s; want received", a.IdempotencyKey, got.State)
		}
	}
	// One upload for the healthy two, holding none of the damaged bytes.
	if n, l := creations.Load(), length.Load(); n != 1 || l < 40_000 || l >= 40_000+20_000 {
		t.Errorf("%d upload(s) of %d bytes in all; want one shared by the healthy two's 40000 bytes", n, l)
	}
	r.checkExactlyOnce()
}

// damageForm flips one byte of application id's sealed form in the SQLite
// file.
func (r *rig) damageForm(id int64) {
	r.t.Helper()
	db, err := sql.Open("sqlite3", sqlitedb.DSN(r.store.Path()))
	if err != nil {
		r.t.Fatal(err)
	}
	defer db.Close()
	var b []byte
	if err := db.QueryRow(`SELECT data FROM personal_data WHERE application_id = ? AND part = 'form'`, id).Scan(&b); err != nil {
		r.t.Fatal(err)
	}
	b[len(b)/2] ^= 0x40
	if _, err := db.Exec(`UPDATE personal_data SET data = ? WHERE application_id = ? AND part = 'form'`, b, id); err != nil {
		r.t.Fatal(err)
	}
}

// TestDamagedSealedFormIsQuarantinedAndTheOthersDelivered pins a form whose
// sealed bytes were changed on disk: it can never be read again, so it is
// quarantined at once with a reason naming it, instead of failing at every
// pass, and the others, small ones sharing an upload included, go on.
func TestDamagedSealedFormIsQuarantinedAndTheOthersDelivered(t *testing.T) {
	r := newRig(t)
	healthy := []*application.Application{r.queue("key-form-ok-1", 10_000), r.queue("key-form-ok-2", 300_000)}
	damaged := r.queue("key-form-bad-1", 20_000)
	r.damageForm(damaged.ID)
	w := r.worker()
	sum, _ := w.Pass(context.Background())
	if sum.Delivered != 2 || sum.Quarantined != 1 {
		t.Fatalf("pass = %+v; want the two healthy delivered and the damaged quarantined", sum)
	}
	for _, a := range healthy {
		if got := r.get(a.ID); got.State != application.Received {
			t.Errorf("application %d is %s; want received", a.ID, got.State)
		}
	}
	var state, reason string
	db, _ := sql.Open("sqlite3", sqlitedb.DSN(r.store.Path()))
	defer db.Close()
	db.QueryRow(`SELECT state, last_error FROM applications WHERE id = ?`, damaged.ID).Scan(&state, &reason)
	if state != string(application.Quarantined) || !strings.Contains(reason, fmt.Sprintf("application %d form", damaged.ID)) {
		t.Fatalf("the damaged application is %s with reason %q; want quarantined, naming its form", state, reason)
	}
}
