package main

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"

	"github.com/motcua/motcua/sync/portalapi"
)

// Behind a TLS proxy, motcua portal --public-url makes the upload URLs it
// returns point through the proxy, not at the address it listens on.
func TestPortalPublicURLMakesUploadLocations(t *testing.T) {
	portalURL, _ := startPortal(t, "--public-url", "https://portal.example.vn/mc/")
	enrolled, _, _ := enrollDevice(t, http.DefaultClient, portalURL, "kiosk-1", "")
	req, _ := http.NewRequest("POST", portalURL+portalapi.PathUploads, nil)
	req.Header.Set("Tus-Resumable", "1.0.0")
	req.Header.Set("Upload-Length", "10")
	b64 := base64.StdEncoding.EncodeToString
	req.Header.Set("Upload-Metadata", portalapi.MetaIdempotencyKey+" "+b64([]byte("key-00000001"))+","+
		portalapi.MetaUploadName+" "+b64([]byte("key-00000001-1")))
	req.Header.Set("Authorization", "Bearer "+enrolled.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	want := "https://portal.example.vn/mc" + portalapi.PathUploads + enrolled.DeviceID + "-key-00000001-1"
	if loc := resp.Header.Get("Location"); resp.StatusCode != 201 || loc != want {
		t.Fatalf("creation: %d Location %q, want %q", resp.StatusCode, loc, want)
	}
}

// Bad serving flags are refused with a message naming them.
func TestPortalRefusesBadServingFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--public-url", "portal.example.vn"},
		{"--public-url", "ftp://portal.example.vn"},
		{"--upload-expiry", "-1h"},
		{"--max-conns", "0"},
		{"--max-conns-per-addr", "-2"},
	} {
		r := cli(t, t.TempDir(), "", append([]string{"portal", "--listen", "127.0.0.1:0"}, args...)...)
		if r.code != exitUsage || !strings.Contains(r.stderr, strings.TrimPrefix(args[0], "--")) {
			t.Errorf("portal %v: exit %d, stderr %q", args, r.code, r.stderr)
		}
	}
}
