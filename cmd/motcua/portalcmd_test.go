package main

import (
	"bufio"
	"encoding/base64"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

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

// motcua portal --metrics-listen serves the Prometheus metrics on their
// own address, and not on the portal's.
func TestPortalServesMetricsOnItsOwnListener(t *testing.T) {
	cmd := exec.Command(motcua, "portal", "--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0", "--data-dir", t.TempDir())
	cmd.Env = append(os.Environ(), "LANG=C.UTF-8")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	addrs := make(chan [2]string, 1)
	go func() {
		var portalURL string
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if _, rest, ok := strings.Cut(sc.Text(), "listening on "); ok {
				portalURL = strings.Fields(rest)[0]
			}
			if rest, ok := strings.CutPrefix(sc.Text(), "Metrics at "); ok {
				addrs <- [2]string{portalURL, rest}
			}
		}
	}()
	var got [2]string
	select {
	case got = <-addrs:
	case <-time.After(30 * time.Second):
		t.Fatal("the portal did not say where its metrics are")
	}
	get := func(url string) (int, string) {
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := get(got[0] + portalapi.PathHealth); code != http.StatusOK {
		t.Fatalf("health: %d", code)
	}
	if code, body := get(got[1]); code != http.StatusOK || !strings.Contains(body, `motcua_portal_request_duration_seconds_count{route="health"} 1`) {
		t.Errorf("metrics: %d %.300q", code, body)
	}
	if code, body := get(got[0] + "/metrics"); code != http.StatusNotFound || strings.Contains(body, "motcua_portal_") {
		t.Errorf("metrics on the portal's listener: %d %.80q", code, body)
	}
}
