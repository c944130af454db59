package uplink

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/motcua/motcua/agent/application"
	"github.com/motcua/motcua/sync/portalapi"
)

// fileAs enrolls a second device with the rig's portal and files a forged
// manifest under key, as a hostile kiosk would, returning its file code.
func (r *rig) fileAs(device, key, form string) string {
	r.t.Helper()
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	var id string
	post := func(path, token string, body any, out any) int {
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest("POST", r.srv.URL+path, bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
			req.Header.Set(portalapi.HeaderSignature, portalapi.Sign(priv, portalapi.ManifestMessage(id, key, b)))
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			r.t.Fatal(err)
		}
		defer resp.Body.Close()
		rb, _ := io.ReadAll(resp.Body)
		if err := json.Unmarshal(rb, out); err != nil {
			r.t.Fatalf("POST %s: %d %s", path, resp.StatusCode, rb)
		}
		return resp.StatusCode
	}
	var er portalapi.EnrollResponse
	enroll := portalapi.EnrollRequest{DeviceName: device, PublicKey: portalapi.EncodePublicKey(priv.Public().(ed25519.PublicKey)),
		SignedAt: time.Now()}
	enroll.Signature = portalapi.Sign(priv, portalapi.EnrollMessage(r.portal.Instance(), enroll))
	if code := post(portalapi.PathEnroll, "", enroll, &er); code != 201 {
		r.t.Fatalf("enroll %s: %d", device, code)
	}
	id = er.DeviceID
	m := portalapi.Manifest{IdempotencyKey: key, ProcedureCode: "1.001193", ProcedureID: "birth-registration",
		CatalogVersion: "2026.11.1", CapturedAt: time.Now().UTC(), Form: json.RawMessage(form),
		Attachments: []portalapi.AttachmentRef{}}
	var rc portalapi.Receipt
	if code := post(portalapi.PathSubmissions, er.Token, m, &rc); code != 201 {
		r.t.Fatalf("forged filing of %s: %d", key, code)
	}
	return rc.FileCode
}

// Device B files under device A's idempotency keys before A's link comes
// back; then A syncs. Each of A's applications must be filed as A's own,
// with A's form and attachments, not answered with the forger's receipt
// (which would show "received" on the kiosk while the citizen's application
// was never filed).
func TestForgedKeyFromOtherDeviceDoesNotStealFiling(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	withScan := r.queue("key-citizen-0001", 40<<10)
	formOnly := r.queue("key-citizen-0002")
	forged := map[string]string{}
	for _, key := range []string{withScan.IdempotencyKey, formOnly.IdempotencyKey} {
		forged[key] = r.fileAs("kiosk-forger", key, strings.Replace(string(exampleForm(t)), "Nguyễn Minh Khang", "Giả Mạo", 1))
	}
	sum, err := r.worker().Once(ctx)
	if err != nil || sum.Delivered != 2 {
		t.Fatalf("Once = %+v, %v", sum, err)
	}
	device, _ := r.store.Setting(ctx, settingDevice)
	subs, err := r.portal.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []*application.Application{withScan, formOnly} {
		got, _ := r.store.Get(ctx, a.ID)
		if got.State != application.Received || got.FileCode == "" || got.FileCode == forged[a.IdempotencyKey] {
			t.Errorf("%s: %s with file code %q; the forger's is %s", a.IdempotencyKey, got.State, got.FileCode, forged[a.IdempotencyKey])
			continue
		}
		form, err := r.portal.Form(ctx, got.FileCode)
		if err != nil || !strings.Contains(string(form), "Nguyễn Minh Khang") {
			t.Errorf("%s: the portal's file %s holds form %s (%v)", a.IdempotencyKey, got.FileCode, form, err)
		}
		found := false
		for _, s := range subs {
			if s.FileCode == got.FileCode {
				found = s.DeviceID == device && s.IdempotencyKey == a.IdempotencyKey && len(s.Attachments) == len(a.Attachments)
			}
		}
		if !found {
			t.Errorf("%s: file %s is not the kiosk's own at the portal: %+v", a.IdempotencyKey, got.FileCode, subs)
		}
	}
}
