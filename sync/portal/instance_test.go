package portal

import (
	"context"
	"net/http"
	"testing"

	"github.com/motcua/motcua/sync/portalapi"
)

// A portal's instance id is made once with its records: the same records
// answer with the same id after a restart, and records made anew (restored
// from nothing, another portal at the same URL) with another. Health and
// every receipt carry it, so a kiosk can tell the portal it delivered to.
func TestPortalInstanceSurvivesRestartAndChangesWithNewRecords(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	p := newPortal(t)
	var h portalapi.Health
	if code := p.do("GET", portalapi.PathHealth, nil, "", &h); code != 200 || h.Status != "ok" || h.Instance == "" {
		t.Fatalf("health: %d %+v, want ok with an instance", code, h)
	}
	var rc portalapi.Receipt
	if code := p.do("POST", portalapi.PathSubmissions, nil, manifest("key-00000001"), &rc); code != 201 {
		t.Fatalf("submit: %d", code)
	}
	if rc.Instance != h.Instance {
		t.Errorf("receipt instance %q, health says %q", rc.Instance, h.Instance)
	}

	first, err := Open(ctx, Config{OpenEnrollment: true, DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	id := first.Instance()
	first.Close()
	again, err := Open(ctx, Config{OpenEnrollment: true, DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if again.Instance() != id || len(id) < 16 {
		t.Errorf("reopened records: instance %q, was %q", again.Instance(), id)
	}
	if h.Instance == id {
		t.Errorf("two portals' records share instance %q", id)
	}
}

// A failing database is the portal's fault, not the device's: it answers
// 503 with Retry-After, never 401, which would make the kiosk enroll as a
// new device and lose the status of every file it had filed.
func TestDatabaseFailureIsUnavailableNotUnauthorized(t *testing.T) {
	p := newPortal(t)
	p.db.Close()
	req, _ := http.NewRequest("GET", p.url+portalapi.PathStatus, nil)
	req.Header.Set("Authorization", "Bearer "+p.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("status pull with the database down: %d Retry-After %q, want 503 with Retry-After",
			resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	var e portalapi.Error
	if code := p.do("POST", portalapi.PathEnroll, nil, `{"device_name":"kiosk-2"}`, &e); code != http.StatusServiceUnavailable ||
		e.Code != portalapi.CodeUnavailable {
		t.Errorf("enroll with the database down: %d %+v, want 503 unavailable", code, e)
	}
}

// A device that enrolls again with its device id and its still-valid token
// keeps its id (and so the status of its files); the old token stops
// working. An id claimed without its token gets a new device: re-claiming
// by id alone would let anyone who read a receipt's track link take a
// kiosk's status.
func TestReenrollKeepsDeviceOnlyWithItsToken(t *testing.T) {
	p := newPortal(t)
	old := p.token
	var again portalapi.EnrollResponse
	body := `{"device_name":"kiosk-1","device_id":"` + p.device + `"}`
	if code := p.do("POST", portalapi.PathEnroll, nil, body, &again); code != 201 {
		t.Fatalf("re-enroll: %d", code)
	}
	if again.DeviceID != p.device || again.Token == old || again.Token == "" {
		t.Fatalf("re-enroll with the token: %+v, want device %s and a new token", again, p.device)
	}
	if code := p.do("GET", portalapi.PathStatus, nil, "", nil); code != 401 {
		t.Errorf("old token after re-enrollment: %d, want 401", code)
	}
	p.token = again.Token
	if code := p.do("GET", portalapi.PathStatus, nil, "", nil); code != 200 {
		t.Errorf("new token: %d, want 200", code)
	}

	var stranger portalapi.EnrollResponse
	p.token = ""
	if code := p.do("POST", portalapi.PathEnroll, http.Header{"Authorization": {"Bearer not-a-token"}}, body, &stranger); code != 201 {
		t.Fatalf("claim without the token: %d", code)
	}
	if stranger.DeviceID == p.device {
		t.Errorf("a claim by id alone took device %s", p.device)
	}
}
