package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/motcua/motcua/internal/s3test"
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
		{"--uploads", "http://bucket"},
		{"--uploads", "s3://bucket?endpoint=ftp://127.0.0.1:8333"},
		{"--uploads", "s3://bucket?colour=blue"},
		{"--uploads", "s3://AKIAEXAMPLE:hush-hush@bucket"},
	} {
		r := cli(t, t.TempDir(), "", append([]string{"portal", "--listen", "127.0.0.1:0"}, args...)...)
		if r.code != exitUsage || !strings.Contains(r.stderr, strings.TrimPrefix(args[0], "--")) {
			t.Errorf("portal %v: exit %d, stderr %q", args, r.code, r.stderr)
		}
		if strings.Contains(r.stderr+r.stdout, "hush-hush") {
			t.Errorf("portal %v: the secret is echoed: %q", args, r.stderr)
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

// motcua portal --uploads keeps the uploads in an S3 bucket (a real
// SeaweedFS): a kiosk's application is filed through it, and the bucket
// holds the upload's objects, none of its bytes in clear.
func TestPortalKeepsUploadsInS3Bucket(t *testing.T) {
	bucketURL := s3test.Bucket(t)
	srv := s3test.For(t)
	portalURL, _ := startPortal(t, "--uploads", bucketURL)
	data, dir := t.TempDir(), t.TempDir()
	form := writeFile(t, dir, "f.json", cli(t, data, "", "procedures", "example", "1.001193").stdout)
	scan := strings.Repeat("trang scan S3 ", 5000)
	page := writeFile(t, dir, "scan.jpg", "\xff\xd8\xff\xe0"+scan)
	if r := cli(t, data, "", "submit", "--procedure", "1.001193", "--form", form, "--attach", page); r.code != 0 {
		t.Fatal(r.stderr)
	}
	if r := cli(t, data, "", "sync", "--once", "--portal", portalURL); r.code != 0 {
		t.Fatalf("sync: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	var rows []queueRow
	mustJSON(t, cli(t, data, "", "queue", "--json").stdout, &rows)
	if len(rows) != 1 || rows[0].State != "received" || rows[0].FileCode == "" {
		t.Fatalf("after sync: %+v", rows)
	}
	bucket := strings.TrimPrefix(bucketURL[:strings.Index(bucketURL, "?")], "s3://")
	list, err := srv.Client.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Contents) == 0 {
		t.Fatal("the bucket holds no object after a filing")
	}
	for _, o := range list.Contents {
		out, err := srv.Client.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: o.Key})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(out.Body)
		out.Body.Close()
		if bytes.Contains(b, []byte("trang scan S3")) {
			t.Errorf("object %s holds the scan in clear", aws.ToString(o.Key))
		}
	}
}
