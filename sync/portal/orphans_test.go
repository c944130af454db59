package portal

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// age sets the modification time of path d ago.
func age(t *testing.T, path string, d time.Duration) {
	t.Helper()
	at := time.Now().Add(-d)
	if err := os.Chtimes(path, at, at); err != nil {
		t.Fatal(err)
	}
}

// exists reports whether path exists.
func exists(t *testing.T, path string) bool {
	t.Helper()
	_, err := os.Lstat(path)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return err == nil
}

// TestOrphanUploadBytesAreSwept pins the bytes of an upload left without
// their .info (a crash between the file store making the two, or a .info
// lost): no request can reach them, and they used to stay on the portal's
// disk for ever. The periodic sweep and the portal's start remove them
// once they are older than the grace period; bytes younger than that (an
// upload being created) and a live upload's are kept.
func TestOrphanUploadBytesAreSwept(t *testing.T) {
	dataDir := t.TempDir()
	p := openPortalIn(t, dataDir)
	old := p.uploadFiles(p.upload("key-00000101", make([]byte, 3000), 1000))
	young := p.uploadFiles(p.upload("key-00000102", make([]byte, 3000), 1000))
	live := p.uploadFiles(p.upload("key-00000103", make([]byte, 3000), 1000))
	for _, f := range [][]string{old, young} {
		if err := os.Remove(f[1]); err != nil {
			t.Fatal(err)
		}
	}
	age(t, old[0], orphanGrace+time.Minute)
	age(t, young[0], orphanGrace-time.Minute)
	age(t, live[0], orphanGrace+time.Minute)
	age(t, live[1], orphanGrace+time.Minute)

	n, err := p.ExpireUploads(context.Background())
	if err != nil || n != 1 {
		t.Errorf("sweep: %d removed, %v; want the orphan bytes removed", n, err)
	}
	if exists(t, old[0]) {
		t.Errorf("orphan bytes %s older than the grace period are left", filepath.Base(old[0]))
	}
	if !exists(t, young[0]) {
		t.Errorf("orphan bytes younger than the grace period (an upload being made) were removed")
	}
	if !exists(t, live[0]) || !exists(t, live[1]) {
		t.Errorf("a live upload's files were removed")
	}

	// At start: the portal opened on the same records sweeps them too.
	age(t, young[0], orphanGrace+time.Minute)
	p.Close()
	again, err := Open(context.Background(), Config{OpenEnrollment: true, DataDir: dataDir, UploadExpiry: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if exists(t, young[0]) {
		t.Errorf("orphan bytes %s are left after the portal started", filepath.Base(young[0]))
	}
	if !exists(t, live[0]) || !exists(t, live[1]) {
		t.Errorf("a live upload's files were removed at start")
	}
}
