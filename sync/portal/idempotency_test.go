package portal

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/motcua/motcua/sync/portalapi"
)

// An idempotency key is the device's own: another device filing under the
// same key files a different application, and the first device's own
// application is then filed with its own form, not answered with the
// forger's receipt.
func TestForgedKeyFromOtherDeviceDoesNotStealFiling(t *testing.T) {
	p := newPortal(t)
	forger := p.enrollAnother("kiosk-forger")
	const key = "47df56da65348be2f87340c63639a099"
	forged := strings.Replace(manifest(key), "Nguyễn Minh Khang", "Giả Mạo", 1)
	var frc, rc portalapi.Receipt
	if code := forger.do("POST", portalapi.PathSubmissions, nil, forged, &frc); code != 201 {
		t.Fatalf("forger's filing: %d", code)
	}
	if code := p.do("POST", portalapi.PathSubmissions, nil, manifest(key), &rc); code != 201 || rc.Duplicate {
		t.Fatalf("citizen's filing after the forger's: %d %+v, want 201 and a new file", code, rc)
	}
	if rc.FileCode == frc.FileCode {
		t.Fatalf("citizen's application got the forger's file code %s", rc.FileCode)
	}
	form, err := p.Form(t.Context(), rc.FileCode)
	if err != nil || !strings.Contains(string(form), "Nguyễn Minh Khang") {
		t.Fatalf("citizen's file %s holds form %s (%v)", rc.FileCode, form, err)
	}
	// Each device's repeat gets its own receipt.
	var again portalapi.Receipt
	if code := p.do("POST", portalapi.PathSubmissions, nil, manifest(key), &again); code != 200 || again.FileCode != rc.FileCode {
		t.Fatalf("citizen's repeat: %d %+v", code, again)
	}
	if code := forger.do("POST", portalapi.PathSubmissions, nil, forged, &again); code != 200 || again.FileCode != frc.FileCode {
		t.Fatalf("forger's repeat: %d %+v", code, again)
	}
	// The status pull of each device carries only its own file.
	var page portalapi.StatusPage
	p.do("GET", portalapi.PathStatus, nil, "", &page)
	if len(page.Events) != 1 || page.Events[0].FileCode != rc.FileCode {
		t.Fatalf("citizen's status: %+v", page)
	}
}

// The tracking page finds a file by idempotency key only together with the
// device that filed it, so a forger's file is never shown for a citizen's
// receipt; a key alone finds nothing.
func TestTrackByKeyShowsOnlyTheDevicesOwnFile(t *testing.T) {
	p := newPortal(t)
	forger := p.enrollAnother("kiosk-forger")
	const key = "47df56da65348be2f87340c63639a099"
	var frc, rc portalapi.Receipt
	forger.do("POST", portalapi.PathSubmissions, nil, manifest(key), &frc)
	get := func(path string) (int, string) {
		resp, err := http.Get(p.url + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp.StatusCode, string(b)
	}
	citizen := portalapi.TrackPath(p.device, key)
	for _, path := range []string{portalapi.PathTrack + key, citizen} {
		if code, page := get(path); code != 404 || strings.Contains(page, frc.FileCode) {
			t.Errorf("%s before the citizen's file arrives: %d, shows the forger's file: %v", path, code, strings.Contains(page, frc.FileCode))
		}
	}
	p.do("POST", portalapi.PathSubmissions, nil, manifest(key), &rc)
	if code, page := get(citizen); code != 200 || !strings.Contains(page, rc.FileCode) || strings.Contains(page, frc.FileCode) {
		t.Errorf("%s after the citizen's file arrives: %d, shows own %v, forger's %v", citizen, code,
			strings.Contains(page, rc.FileCode), strings.Contains(page, frc.FileCode))
	}
	if code, _ := get(portalapi.PathTrack + key); code != 404 {
		t.Errorf("a key without its device: %d, want 404", code)
	}
}
