package portal

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/motcua/motcua/sync/portalapi"
)

// createWithBytes sends a creating POST for key's first upload with the
// first bytes of content, and returns the answer.
func (p *testPortal) createWithBytes(key string, content []byte) *http.Response {
	p.t.Helper()
	return p.tusRequest("POST", portalapi.PathUploads, map[string]string{
		"Upload-Length":   strconv.Itoa(len(content)),
		"Upload-Metadata": meta(portalapi.MetaIdempotencyKey, key, portalapi.MetaUploadName, key+"-1"),
		"Content-Type":    "application/offset+octet-stream",
	}, content)
}

// checkNoUploadFiles fails the test when anything of upload id is left.
func (p *testPortal) checkNoUploadFiles(id string) {
	p.t.Helper()
	if p.uploadKept(p.t, id) {
		p.t.Fatalf("upload %s is left behind though the portal could not complete it", id)
	}
}

// smallDisk mounts a tmpfs of 256 KiB for the test, or skips it where
// this user cannot mount one.
func smallDisk(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a small tmpfs to fill: %v %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", "--lazy", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v %s", dir, err, out)
		}
	})
	return dir
}

// fill writes a file in dir until the disk is full, and returns a function
// that removes it.
func fill(t *testing.T, dir string) func() {
	t.Helper()
	f, err := os.Create(filepath.Join(dir, "filler"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	block := make([]byte, 4096)
	for {
		if _, err := f.Write(block); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			break
		}
	}
	return func() {
		if err := os.Remove(f.Name()); err != nil {
			t.Fatal(err)
		}
	}
}

// TestFailedCreationLeavesNoHalfMadeUpload pins the half-made upload a full
// disk left at creation (its bytes' file made, its .info empty): the portal
// removes what it made, so the upload does not exist (404 to HEAD) and the
// kiosk creates it again once there is room.
func TestFailedCreationLeavesNoHalfMadeUpload(t *testing.T) {
	skipIfS3(t, "a full disk under DATADIR/uploads is the disk store's; a bucket that refuses a write is TestS3UploadsFailedCreationLeavesNothing's")
	disk := smallDisk(t)
	dataDir := t.TempDir()
	// The uploads live on the small disk; the records do not.
	if err := os.Symlink(disk, filepath.Join(dataDir, "uploads")); err != nil {
		t.Fatal(err)
	}
	p := openPortalIn(t, dataDir)
	const key = "key-00000093"
	id := p.device + "-" + key + "-1"
	free := fill(t, disk)
	content := make([]byte, 2000)
	if resp := p.createWithBytes(key, content); resp.StatusCode != http.StatusInternalServerError {
		t.Fatalf("creation on a full disk: %d; want 500", resp.StatusCode)
	}
	p.checkNoUploadFiles(id)
	loc := portalapi.PathUploads + id
	if code := p.headStatus(loc); code != http.StatusNotFound {
		t.Fatalf("HEAD of the upload whose creation failed: %d; want 404, so the kiosk creates it again", code)
	}
	free()
	resp := p.createWithBytes(key, content)
	if resp.StatusCode != http.StatusCreated || resp.Header.Get("Upload-Offset") != strconv.Itoa(len(content)) {
		t.Fatalf("creation once there is room: %d offset %q; want 201 with every byte", resp.StatusCode, resp.Header.Get("Upload-Offset"))
	}
}

// openPortalIn starts a real portal on dataDir on 127.0.0.1 and enrolls
// one device.
func openPortalIn(t *testing.T, dataDir string) *testPortal {
	t.Helper()
	s, err := Open(context.Background(), Config{OpenEnrollment: true, DataDir: dataDir})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(func() { srv.Close(); s.Close() })
	p := &testPortal{Server: s, url: srv.URL, t: t}
	var enrolled portalapi.EnrollResponse
	if code := p.do("POST", portalapi.PathEnroll, nil, `{"device_name":"kiosk-1"}`, &enrolled); code != 201 {
		t.Fatalf("enroll: %d", code)
	}
	p.token, p.device = enrolled.Token, enrolled.DeviceID
	return p
}

// TestSweeperRemovesHalfMadeUploads pins the record a full disk or a crash
// left with an empty .info: no request can complete it (HEAD answers 404),
// so the expiry sweeper removes it, bytes and all, instead of skipping it
// for ever.
func TestSweeperRemovesHalfMadeUploads(t *testing.T) {
	later := time.Duration(0)
	p := openPortal(t, Config{OpenEnrollment: true, UploadExpiry: time.Hour, Now: func() time.Time { return time.Now().Add(later) }})
	loc := p.upload("key-00000094", make([]byte, 3000), 1000)
	p.spoilInfo(t, uploadID(loc))
	if code := p.headStatus(loc); code != http.StatusNotFound {
		t.Fatalf("HEAD of a half-made upload: %d; want 404", code)
	}
	if n, err := p.ExpireUploads(context.Background()); err != nil || n != 0 {
		t.Fatalf("sweep before the expiry: %d, %v; want nothing removed", n, err)
	}
	later = 2 * time.Hour
	if n, err := p.ExpireUploads(context.Background()); err != nil || n != 1 {
		t.Errorf("sweep after the expiry: %d, %v; want the half-made upload removed", n, err)
	}
	p.checkNoUploadFiles(uploadID(loc))
}
