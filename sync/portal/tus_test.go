package portal

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/motcua/motcua/sync/portalapi"
)

// tusRequest sends a tus request to the portal with the device's token
// unless header says otherwise, and returns the answer with its body read.
func (p *testPortal) tusRequest(method, url string, header map[string]string, body []byte) *http.Response {
	p.t.Helper()
	req, _ := http.NewRequest(method, p.abs(url), bytes.NewReader(body))
	req.Header.Set("Tus-Resumable", "1.0.0")
	req.Header.Set("Authorization", "Bearer "+p.token)
	for k, v := range header {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		p.t.Fatalf("%s %s: %v", method, url, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// The portal advertises only the tus extensions it implements: it refuses
// deferred lengths, so it must not advertise creation-defer-length.
func TestTusAdvertisesOnlyImplementedExtensions(t *testing.T) {
	p := newPortal(t)
	resp := p.tusRequest("OPTIONS", portalapi.PathUploads, nil, nil)
	ext := map[string]bool{}
	for e := range strings.SplitSeq(resp.Header.Get("Tus-Extension"), ",") {
		ext[e] = true
	}
	for _, want := range []string{"creation", "creation-with-upload", "checksum", "expiration"} {
		if !ext[want] {
			t.Errorf("Tus-Extension %q lacks %s", resp.Header.Get("Tus-Extension"), want)
		}
	}
	for _, refused := range []string{"creation-defer-length", "concatenation", "termination"} {
		if ext[refused] {
			t.Errorf("Tus-Extension %q advertises %s, which the portal refuses", resp.Header.Get("Tus-Extension"), refused)
		}
	}
	resp = p.tusRequest("POST", portalapi.PathUploads, map[string]string{"Upload-Defer-Length": "1",
		"Upload-Metadata": meta(portalapi.MetaIdempotencyKey, "key-00000020", portalapi.MetaUploadName, "key-00000020-1")}, nil)
	if resp.StatusCode/100 == 2 {
		t.Fatalf("deferred length: %d, want a refusal", resp.StatusCode)
	}
}

// Every answer on the uploads carries Tus-Resumable, errors included; 412
// carries Tus-Version; a PATCH that is not application/offset+octet-stream
// gets 415.
func TestTusHeadersOnEveryAnswer(t *testing.T) {
	p := newPortal(t)
	loc := p.abs(p.upload("key-00000021", make([]byte, 1000), 0))
	octets := "application/offset+octet-stream"
	for _, tc := range []struct {
		name, method, url string
		header            map[string]string
		body              []byte
		status            int
	}{
		{"created", "POST", portalapi.PathUploads, map[string]string{"Upload-Length": "10",
			"Upload-Metadata": meta(portalapi.MetaIdempotencyKey, "key-00000022", portalapi.MetaUploadName, "key-00000022-1")}, nil, 201},
		{"offset", "HEAD", loc, nil, nil, 200},
		{"checksum mismatch", "PATCH", loc, map[string]string{"Content-Type": octets, "Upload-Offset": "0",
			"Upload-Checksum": zeroSum(10)}, []byte("0123456789"), statusChecksumMismatch},
		{"bad checksum header", "PATCH", loc, map[string]string{"Content-Type": octets, "Upload-Offset": "0",
			"Upload-Checksum": "md5 AAAA"}, []byte("0123456789"), 400},
		{"no token", "PATCH", loc, map[string]string{"Content-Type": octets, "Upload-Offset": "0", "Authorization": ""}, []byte("0"), 401},
		{"missing upload", "HEAD", portalapi.PathUploads + "dev-0000000000000000-nothing-1", nil, nil, 404},
		{"wrong offset", "PATCH", loc, map[string]string{"Content-Type": octets, "Upload-Offset": "5"}, []byte("0"), 409},
		{"too big", "PATCH", loc, map[string]string{"Content-Type": octets, "Upload-Offset": "0",
			"Upload-Checksum": zeroSum(2000)}, make([]byte, 2000), 413},
		{"no Tus-Resumable", "PATCH", loc, map[string]string{"Content-Type": octets, "Upload-Offset": "0", "Tus-Resumable": ""}, []byte("0"), 412},
		{"wrong version", "POST", portalapi.PathUploads, map[string]string{"Tus-Resumable": "0.2.2", "Upload-Length": "10"}, nil, 412},
		{"wrong content type", "PATCH", loc, map[string]string{"Content-Type": "application/octet-stream", "Upload-Offset": "0"}, []byte("0"), 415},
		{"no content type", "PATCH", loc, map[string]string{"Upload-Offset": "0"}, []byte("0"), 415},
		{"chunk", "PATCH", loc, map[string]string{"Content-Type": octets, "Upload-Offset": "0"}, []byte("0123456789"), 204},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := p.tusRequest(tc.method, tc.url, tc.header, tc.body)
			if resp.StatusCode != tc.status {
				t.Fatalf("%d, want %d", resp.StatusCode, tc.status)
			}
			if got := resp.Header.Get("Tus-Resumable"); got != "1.0.0" {
				t.Errorf("Tus-Resumable %q, want 1.0.0", got)
			}
			if tc.status == 412 && resp.Header.Get("Tus-Version") != "1.0.0" {
				t.Errorf("412 without Tus-Version (%q)", resp.Header.Get("Tus-Version"))
			}
		})
	}
}

// The expiration extension: creation and PATCH answers say when the
// upload expires if nothing more arrives, by the portal's clock.
func TestTusUploadExpiresHeader(t *testing.T) {
	p := newPortal(t)
	resp := p.tusRequest("POST", portalapi.PathUploads, map[string]string{"Upload-Length": "10",
		"Upload-Metadata": meta(portalapi.MetaIdempotencyKey, "key-00000023", portalapi.MetaUploadName, "key-00000023-1")}, nil)
	want := p.now().Add(DefaultUploadExpiry).UTC().Format(http.TimeFormat)
	if got := resp.Header.Get("Upload-Expires"); got != want {
		t.Fatalf("creation: Upload-Expires %q, want %q", got, want)
	}
	resp = p.tusRequest("PATCH", resp.Header.Get("Location"), map[string]string{"Content-Type": "application/offset+octet-stream",
		"Upload-Offset": "0"}, []byte("01234"))
	if got := resp.Header.Get("Upload-Expires"); resp.StatusCode != 204 || got != want {
		t.Fatalf("PATCH: %d Upload-Expires %q, want %q", resp.StatusCode, got, want)
	}
}

// No upload is deleted over tus, filed or not: its owner gets 405 and the
// bytes stay (a filed application's evidence, or one its manifest may file
// at any moment); only the expiry sweeper removes unfiled uploads.
func TestDeleteRemovesNoUploadFiledOrNot(t *testing.T) {
	p := newPortal(t)
	content := make([]byte, 3000)
	loose := p.upload("key-00000024", content, 100)
	filed := p.upload("key-00000025", content, len(content))
	att := portalapi.AttachmentRef{EvidenceKey: "birth_certificate", Name: "a", MediaType: "image/jpeg", Size: 3000,
		SHA256: hexSum(content), UploadURL: filed}
	var rc portalapi.Receipt
	if code := p.do("POST", portalapi.PathSubmissions, nil, manifest("key-00000025", att), &rc); code != 201 {
		t.Fatalf("submit: %d", code)
	}
	for _, u := range []string{filed, loose} {
		if resp := p.tusRequest("DELETE", u, nil, nil); resp.StatusCode != http.StatusMethodNotAllowed {
			t.Fatalf("DELETE %s: %d, want 405", u, resp.StatusCode)
		}
		if _, hasInfo, err := p.uploads.LastWrite(context.Background(), uploadID(u)); err != nil || !hasInfo {
			t.Fatalf("upload %s after DELETE: kept %v, %v", u, hasInfo, err)
		}
	}
}

// Behind a TLS proxy the portal's public URL is not the one it listens on:
// the Location of a new upload is built from Config.BaseURL.
func TestLocationUsesPublicURL(t *testing.T) {
	p := openPortal(t, Config{OpenEnrollment: true, BaseURL: "https://portal.example.vn/"})
	resp := p.tusRequest("POST", portalapi.PathUploads, map[string]string{"Upload-Length": "10",
		"Upload-Metadata": meta(portalapi.MetaIdempotencyKey, "key-00000026", portalapi.MetaUploadName, "key-00000026-1")}, nil)
	loc := resp.Header.Get("Location")
	if !strings.HasPrefix(loc, "https://portal.example.vn"+portalapi.PathUploads) || !strings.HasSuffix(loc, "-key-00000026-1") {
		t.Fatalf("Location %q, want under https://portal.example.vn%s", loc, portalapi.PathUploads)
	}
}
