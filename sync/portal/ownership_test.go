package portal

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/motcua/motcua/sync/portalapi"
)

// enrollAnother enrolls a second device with the same portal and returns a
// client that speaks as it.
func (p *testPortal) enrollAnother(name string) *testPortal {
	p.t.Helper()
	q := &testPortal{Server: p.Server, url: p.url, t: p.t}
	var enrolled portalapi.EnrollResponse
	if code := q.do("POST", portalapi.PathEnroll, nil, `{"device_name":"`+name+`"}`, &enrolled); code != 201 {
		p.t.Fatalf("enroll %s: %d", name, code)
	}
	q.token, q.device = enrolled.Token, enrolled.DeviceID
	return q
}

// send sends a tus request to an upload URL as p's device and returns the
// answer with its body read.
func (p *testPortal) send(method, loc string, header map[string]string, body []byte) (*http.Response, []byte) {
	p.t.Helper()
	if !strings.HasPrefix(loc, "http") {
		loc = p.url + loc
	}
	req, err := http.NewRequest(method, loc, bytes.NewReader(body))
	if err != nil {
		p.t.Fatal(err)
	}
	req.Header.Set("Tus-Resumable", "1.0.0")
	req.Header.Set("Authorization", "Bearer "+p.token)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, b
}

// createWithManifest creates an upload that carries a manifest with the
// citizen's form, as the uplink does, and sends the first n bytes.
func (p *testPortal) createWithManifest(key string, content []byte, n int) (loc string, m portalapi.Manifest) {
	p.t.Helper()
	m = portalapi.Manifest{IdempotencyKey: key, ProcedureCode: "1.001193", ProcedureID: "birth-registration",
		CatalogVersion: "2026.11.1", CapturedAt: time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC),
		Form: exampleForm(),
		Attachments: []portalapi.AttachmentRef{{EvidenceKey: "birth_certificate", Name: "gcs.jpg", MediaType: "image/jpeg",
			Size: int64(len(content)), SHA256: hexSum(content)}}}
	mj, _ := json.Marshal(m)
	resp, _ := p.send("POST", portalapi.PathUploads, map[string]string{
		"Upload-Length":   strconv.Itoa(len(content)),
		"Content-Type":    "application/offset+octet-stream",
		"Upload-Metadata": meta(portalapi.MetaIdempotencyKey, key, portalapi.MetaUploadName, key+"-1", portalapi.MetaManifest, string(mj)),
	}, content[:n])
	if resp.StatusCode != 201 {
		p.t.Fatalf("create upload: %d", resp.StatusCode)
	}
	return resp.Header.Get("Location"), m
}

// Another device's token gets 404 for every request on an upload, exactly
// as for an upload that does not exist: it learns nothing of the form, adds
// no byte, and deletes nothing.
func TestUploadOfAnotherDeviceIsNotFound(t *testing.T) {
	p := newPortal(t)
	intruder := p.enrollAnother("kiosk-2")
	content := bytes.Repeat([]byte("trang scan "), 1000)
	loc, _ := p.createWithManifest("key-owner-0001", content, 4000)
	missing := loc[:strings.LastIndex(loc, "-")] + "-9"
	tests := []struct {
		method string
		header map[string]string
		body   []byte
	}{
		{"HEAD", nil, nil},
		{"GET", nil, nil},
		{"PATCH", map[string]string{"Upload-Offset": "4000", "Content-Type": "application/offset+octet-stream"}, []byte("forged bytes")},
		{"DELETE", nil, nil},
	}
	for _, tt := range tests {
		for _, target := range []string{loc, missing} {
			resp, body := intruder.send(tt.method, target, tt.header, tt.body)
			if resp.StatusCode != http.StatusNotFound {
				t.Errorf("%s %s by another device: %d, want 404", tt.method, target, resp.StatusCode)
			}
			for _, h := range []string{"Upload-Metadata", "Upload-Offset", "Upload-Length"} {
				if v := resp.Header.Get(h); v != "" {
					t.Errorf("%s by another device answers %s: %q", tt.method, h, v)
				}
			}
			if strings.Contains(string(body), "Khang") {
				t.Errorf("%s by another device shows the form: %s", tt.method, body)
			}
		}
	}
	// The owner's upload is untouched and goes on.
	if got := p.offset(loc); got != 4000 {
		t.Fatalf("owner's offset after the intrusions: %d, want 4000", got)
	}
	resp, _ := p.send("PATCH", loc, map[string]string{"Upload-Offset": "4000", "Content-Type": "application/offset+octet-stream"}, content[4000:])
	if resp.StatusCode != 204 || resp.Header.Get(portalapi.HeaderReceipt) == "" {
		t.Fatalf("owner's completing PATCH: %d receipt %q", resp.StatusCode, resp.Header.Get(portalapi.HeaderReceipt))
	}
}

// A manifest naming another device's upload gets the same answer as one
// naming an upload that does not exist, so it cannot probe for uploads.
func TestManifestNamingAnotherDevicesUploadLooksMissing(t *testing.T) {
	p := newPortal(t)
	intruder := p.enrollAnother("kiosk-2")
	content := bytes.Repeat([]byte("x"), 3000)
	loc, m := p.createWithManifest("key-owner-0002", content, len(content))
	m.IdempotencyKey = "key-intruder-02"
	answer := func(url string) (int, portalapi.Error) {
		m.Attachments[0].UploadURL = url
		mj, _ := json.Marshal(m)
		var perr portalapi.Error
		code := intruder.do("POST", portalapi.PathSubmissions, nil, string(mj), &perr)
		return code, perr
	}
	codeOwned, errOwned := answer(loc)
	codeMissing, errMissing := answer(loc[:strings.LastIndex(loc, "-")] + "-9")
	if codeOwned != codeMissing || errOwned.Code != errMissing.Code || len(errOwned.Fields) != 1 ||
		errOwned.Fields[0].Message != errMissing.Fields[0].Message {
		t.Fatalf("another device's upload: %d %+v; a missing upload: %d %+v", codeOwned, errOwned, codeMissing, errMissing)
	}
}

// No device deletes an upload, its owner included: a complete upload is the
// evidence of a filed application (or may be filed at any moment by its
// manifest), and the uplink never needs to delete one. The portal does not
// advertise tus termination.
func TestUploadCannotBeDeletedByItsOwner(t *testing.T) {
	p := newPortal(t)
	content := bytes.Repeat([]byte("y"), 3000)
	filed, _ := p.createWithManifest("key-owner-0003", content, len(content))
	partial, _ := p.createWithManifest("key-owner-0004", content, 1000)
	for _, loc := range []string{filed, partial} {
		resp, _ := p.send("DELETE", loc, nil, nil)
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("owner's DELETE %s: %d, want 405", loc, resp.StatusCode)
		}
	}
	if got := p.offset(filed); got != 3000 {
		t.Fatalf("filed upload after DELETE: offset %d", got)
	}
	if got := p.offset(partial); got != 1000 {
		t.Fatalf("partial upload after DELETE: offset %d", got)
	}
	list, _ := p.List(t.Context())
	if len(list) != 1 || list[0].IdempotencyKey != "key-owner-0003" {
		t.Fatalf("filed: %+v", list)
	}
	req, _ := http.NewRequest("OPTIONS", p.url+portalapi.PathUploads, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if ext := resp.Header.Get("Tus-Extension"); strings.Contains(ext, "termination") || !strings.Contains(ext, "creation") {
		t.Errorf("OPTIONS Tus-Extension %q: want creation and no termination", ext)
	}
}

// TestUploadWithLongestNameIsFiled pins an upload named with the longest
// upload_name the portal accepts (160 characters): its manifest was refused
// as naming "not an upload of this portal", since the upload's id, the
// device's id before the name, was held to the name's own bound.
func TestUploadWithLongestNameIsFiled(t *testing.T) {
	p := newPortal(t)
	content := bytes.Repeat([]byte("z"), 3000)
	key := "key-" + strings.Repeat("a", 154)
	m := portalapi.Manifest{IdempotencyKey: "key-long-name-01", ProcedureCode: "1.001193", ProcedureID: "birth-registration",
		CatalogVersion: "2026.11.1", CapturedAt: time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC), Form: exampleForm(),
		Attachments: []portalapi.AttachmentRef{{EvidenceKey: "birth_certificate", Name: "gcs.jpg", MediaType: "image/jpeg",
			Size: int64(len(content)), SHA256: hexSum(content)}}}
	mj, _ := json.Marshal(m)
	name := key + "-1"
	if len(name) != 160 {
		t.Fatalf("name of %d characters", len(name))
	}
	resp, body := p.send("POST", portalapi.PathUploads, map[string]string{
		"Upload-Length":   strconv.Itoa(len(content)),
		"Content-Type":    "application/offset+octet-stream",
		"Upload-Metadata": meta(portalapi.MetaIdempotencyKey, m.IdempotencyKey, portalapi.MetaUploadName, name, portalapi.MetaManifest, string(mj)),
	}, content)
	if resp.StatusCode != http.StatusCreated || resp.Header.Get(portalapi.HeaderReceipt) == "" {
		t.Fatalf("completing creation under a 160-character name: %d %s", resp.StatusCode, body)
	}
	// The manifest alone, naming the upload, gets the same receipt.
	m.Attachments[0].UploadURL = resp.Header.Get("Location")
	mj, _ = json.Marshal(m)
	if code := p.do("POST", portalapi.PathSubmissions, nil, string(mj), nil); code != http.StatusOK {
		t.Fatalf("manifest naming it: %d", code)
	}
}
