package portal

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/motcua/motcua/sync/portalapi"
)

// answer is what a client sees of a response, less its Date.
func answerOf(resp *http.Response, body []byte) string {
	var b strings.Builder
	b.WriteString(resp.Status + "\n")
	keys := make([]string, 0, len(resp.Header))
	for k := range resp.Header {
		if k != "Date" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		b.WriteString(k + ": " + strings.Join(resp.Header[k], ",") + "\n")
	}
	b.Write(body)
	return b.String()
}

// TestAnotherDevicesUploadAnswersExactlyAsAMissingOne pins that a device
// learns nothing of an upload that is not its own through any method: the
// whole answer (status, every header but Date, body) to a request on
// another device's upload, partial or complete, is the answer for an upload
// that does not exist.
func TestAnotherDevicesUploadAnswersExactlyAsAMissingOne(t *testing.T) {
	p := newPortal(t)
	intruder := p.enrollAnother("kiosk-2")
	content := bytes.Repeat([]byte("trang scan "), 1000)
	partial, _ := p.createWithManifest("key-owner-0101", content, 4000)
	complete, _ := p.createWithManifest("key-owner-0102", content, 3000)
	p.send("PATCH", complete, map[string]string{"Upload-Offset": "3000", "Content-Type": "application/offset+octet-stream"}, content[3000:])
	missing := partial[:strings.LastIndex(partial, "-")] + "-9"
	chunk := []byte("forged bytes")
	sum := sha256.Sum256(chunk)
	checksum := "sha256 " + base64.StdEncoding.EncodeToString(sum[:])
	octets := "application/offset+octet-stream"
	tests := []struct {
		name, method string
		header       map[string]string
		body         []byte
	}{
		{"OPTIONS", "OPTIONS", nil, nil},
		{"HEAD", "HEAD", nil, nil},
		{"GET", "GET", nil, nil},
		{"PATCH", "PATCH", map[string]string{"Upload-Offset": "4000", "Content-Type": octets}, chunk},
		{"PATCH at 0", "PATCH", map[string]string{"Upload-Offset": "0", "Content-Type": octets}, chunk},
		{"PATCH with checksum", "PATCH", map[string]string{"Upload-Offset": "4000", "Content-Type": octets, "Upload-Checksum": checksum}, chunk},
		{"PATCH with a wrong checksum", "PATCH", map[string]string{"Upload-Offset": "4000", "Content-Type": octets, "Upload-Checksum": "sha256 AAAA"}, chunk},
		{"PATCH with a bad checksum", "PATCH", map[string]string{"Upload-Offset": "4000", "Content-Type": octets, "Upload-Checksum": "md5 x"}, chunk},
		{"PATCH too large", "PATCH", map[string]string{"Upload-Offset": "4000", "Content-Type": octets, "Upload-Checksum": checksum}, bytes.Repeat(chunk, 10000)},
		{"PATCH as text", "PATCH", map[string]string{"Upload-Offset": "4000", "Content-Type": "text/plain"}, chunk},
		{"PATCH without Tus-Resumable", "PATCH", map[string]string{"Upload-Offset": "4000", "Content-Type": octets, "Tus-Resumable": "0.2.2"}, chunk},
		{"DELETE", "DELETE", nil, nil},
		{"POST", "POST", map[string]string{"Upload-Length": "10", "Content-Type": octets}, chunk[:10]},
		{"PUT", "PUT", nil, chunk},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := answerOf(intruder.send(tt.method, missing, tt.header, tt.body))
			for _, target := range []string{partial, complete} {
				if got := answerOf(intruder.send(tt.method, target, tt.header, tt.body)); got != want {
					t.Errorf("%s on another device's upload answers\n%s\nbut on a missing one\n%s", tt.method, got, want)
				}
			}
		})
	}
	// A creation under the owner's upload name is the intruder's own upload,
	// named after the intruder, answered as under any fresh name.
	for _, name := range []string{"key-owner-0101-1", "key-fresh-0101-1"} {
		resp, body := intruder.send("POST", portalapi.PathUploads, map[string]string{"Upload-Length": "10",
			"Upload-Metadata": meta(portalapi.MetaIdempotencyKey, "key-owner-0101", portalapi.MetaUploadName, name)}, nil)
		if resp.StatusCode != http.StatusCreated || !strings.HasSuffix(resp.Header.Get("Location"), "/"+intruder.device+"-"+name) {
			t.Errorf("creation under %s by another device: %d %q %s", name, resp.StatusCode, resp.Header.Get("Location"), body)
		}
	}
	if got := p.offset(partial); got != 4000 {
		t.Fatalf("owner's offset after the probes: %d, want 4000", got)
	}
}
