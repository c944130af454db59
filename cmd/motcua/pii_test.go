package main

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/motcua/motcua/internal/piiscan"
	"github.com/motcua/motcua/internal/s3test"
)

// The citizen of TestNoPersonalDataInClearInEitherDataDir: a name with
// Vietnamese marks (searched with and without them, NFC and NFD), an ID
// number and a phone number.
const (
	piiName  = "Đỗ Quang Hưng"
	piiID    = "001095067890"
	piiPhone = "0987654321"
	piiCard  = piiID + "||" + piiName + "|15081995|Nam|Số 7 ngõ 9 Hoàng Hoa Thám, Phường Ngọc Hà, Quận Ba Đình, Hà Nội|20042021"
)

// scanForPII fails the test for every place under dirs where the citizen's
// name, ID number, phone number, the scan's text or the scan's file name
// appear, in any of their encodings.
func scanForPII(t *testing.T, when string, dirs ...string) {
	t.Helper()
	for _, dir := range dirs {
		hits, err := piiscan.Dir(dir, piiName, piiID, piiPhone, "GIẤY KHAI SINH BẢN SAO", "scan-Đỗ-Quang-Hưng")
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range hits {
			t.Errorf("%s: personal data in clear: %s", when, h)
		}
	}
}

// bucketObjects reads every object of the bucket an uploads URL names, raw.
func bucketObjects(t *testing.T, bucketURL string) map[string][]byte {
	t.Helper()
	srv := s3test.For(t)
	bucket := strings.TrimPrefix(bucketURL[:strings.Index(bucketURL, "?")], "s3://")
	ctx := context.Background()
	list, err := srv.Client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, o := range list.Contents {
		obj, err := srv.Client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: o.Key})
		if err != nil {
			continue // removed since the listing
		}
		b, _ := io.ReadAll(obj.Body)
		obj.Body.Close()
		out[aws.ToString(o.Key)] = b
	}
	return out
}

// scanBucketForPII is scanForPII for the objects of the bucket an uploads
// URL names (none when it is empty), copied to a directory to scan.
func scanBucketForPII(t *testing.T, when, bucketURL string) {
	t.Helper()
	if bucketURL == "" {
		return
	}
	dir := t.TempDir()
	for key, b := range bucketObjects(t, bucketURL) {
		if err := os.WriteFile(filepath.Join(dir, strings.ReplaceAll(key, "/", "_")), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	scanForPII(t, when+" (the uploads bucket)", dir)
}

// TestNoPersonalDataInClearInEitherDataDir submits an application for a
// known citizen, its form filled from the ID card, with a scanned page, and
// delivers it to a `motcua portal` process through a slow link. Neither the
// kiosk's data directory nor the portal's holds the name, the ID number or
// the phone number in any encoding: not while the upload is in flight, not
// after both processes have exited (the databases, their WAL and SHM,
// uploads, temporary files).
func TestNoPersonalDataInClearInEitherDataDir(t *testing.T) {
	portalDir := t.TempDir()
	// On S3 (MOTCUA_TEST_PORTAL_UPLOADS=s3) the uploads are in a bucket,
	// scanned too.
	var bucketURL string
	var portalArgs []string
	if s3test.Wanted() {
		bucketURL = s3test.Bucket(t)
		portalArgs = []string{"--uploads", bucketURL}
	}
	portalURL, stopPortal := runPortal(t, "127.0.0.1:0", portalDir, portalArgs...)
	data, dir := t.TempDir(), t.TempDir()

	// The form, filled from the card as the kiosk does.
	card := cli(t, data, piiCard+"\n", "card", "parse")
	var c struct {
		ID, Name, Sex string
		DateOfBirth   string `json:"date_of_birth"`
	}
	if card.code != 0 || json.Unmarshal([]byte(card.stdout), &c) != nil || c.Name != piiName {
		t.Fatalf("card parse: %+v", card)
	}
	var form map[string]any
	mustJSON(t, cli(t, data, "", "procedures", "example", "1.001193").stdout, &form)
	form["requester"] = map[string]any{"full_name": c.Name, "citizen_id": c.ID, "date_of_birth": c.DateOfBirth, "sex": c.Sex}
	form["father_full_name"], form["father_citizen_id"], form["father_birth_year"] = c.Name, c.ID, c.DateOfBirth[:4]
	form["requester_phone"] = piiPhone
	fb, _ := json.Marshal(form)
	formPath := writeFile(t, dir, "form.json", string(fb))
	scan := "\xff\xd8\xff\xe0 GIẤY KHAI SINH BẢN SAO " + piiName + " " + piiID + strings.Repeat(" trang", 40000)
	page := writeFile(t, dir, "scan-Đỗ-Quang-Hưng.jpg", scan)
	if r := cli(t, data, "", "submit", "--procedure", "1.001193", "--form", formPath, "--attach", page); r.code != 0 {
		t.Fatalf("submit: %+v", r)
	}
	scanForPII(t, "after submit", data)

	// Deliver through a slow link, and look while the upload is in flight.
	sync := exec.Command(motcua, "sync", "--once", "--portal", slowLink(t, portalURL, 40))
	sync.Env = append(os.Environ(), "LANG=C.UTF-8", "MOTCUA_DATA_DIR="+data, "MOTCUA_CONFIG=", "MOTCUA_PORTAL=")
	if err := sync.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- sync.Wait() }()
	inFlight := false
	for !inFlight {
		select {
		case err := <-done:
			t.Fatalf("sync ended (%v) before the upload was seen in flight", err)
		default:
		}
		if bucketURL != "" {
			// Created (its sealed info is there), not finished (no object
			// of its bytes yet): its bytes are on their way.
			objects := bucketObjects(t, bucketURL)
			for key := range objects {
				id, isInfo := strings.CutSuffix(key, ".info")
				if _, finished := objects[id]; isInfo && !finished {
					inFlight = true
				}
			}
		}
		bins, _ := filepath.Glob(filepath.Join(portalDir, "uploads", "dev-*"))
		for _, b := range bins {
			if st, err := os.Stat(b); err == nil && !strings.HasSuffix(b, ".info") && st.Size() > 0 && st.Size() < int64(len(scan)) {
				inFlight = true
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	scanForPII(t, "upload in flight", data, portalDir)
	scanBucketForPII(t, "upload in flight", bucketURL)
	if err := <-done; err != nil {
		t.Fatalf("sync: %v", err)
	}
	var rows []queueRow
	mustJSON(t, cli(t, data, "", "queue", "--json").stdout, &rows)
	if len(rows) != 1 || rows[0].State != "received" {
		t.Fatalf("after sync: %+v", rows)
	}
	stopPortal()
	scanForPII(t, "after both processes exited", data, portalDir)
	scanBucketForPII(t, "after both processes exited", bucketURL)

	// And what was sealed reads back whole on both sides.
	if r := cli(t, data, "", "show", "1"); r.code != 0 || !strings.Contains(r.stdout, piiName) {
		t.Fatalf("show: %+v", r)
	}
	var subs []struct {
		FileCode string `json:"file_code"`
	}
	mustJSON(t, cli(t, portalDir, "", "portal", "list", "--json", "--data-dir", portalDir).stdout, &subs)
	if len(subs) != 1 || subs[0].FileCode != rows[0].FileCode {
		t.Fatalf("portal list: %+v", subs)
	}
}
