package portal

import (
	"context"
	"testing"
	"time"
)

// age makes upload id look last written d ago.
func (s *Server) age(t *testing.T, id string, d time.Duration) {
	t.Helper()
	s.setLastWrite(t, id, time.Now().Add(-d))
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
	old := uploadID(p.upload("key-00000101", make([]byte, 3000), 1000))
	young := uploadID(p.upload("key-00000102", make([]byte, 3000), 1000))
	live := uploadID(p.upload("key-00000103", make([]byte, 3000), 1000))
	for _, id := range []string{old, young} {
		p.dropInfo(t, id)
	}
	p.age(t, old, orphanGrace+time.Minute)
	p.age(t, young, orphanGrace-time.Minute)
	p.age(t, live, orphanGrace+time.Minute)

	n, err := p.ExpireUploads(context.Background())
	if err != nil || n != 1 {
		t.Errorf("sweep: %d removed, %v; want the orphan bytes removed", n, err)
	}
	if p.uploadKept(t, old) {
		t.Errorf("orphan bytes %s older than the grace period are left", old)
	}
	if !p.uploadKept(t, young) {
		t.Errorf("orphan bytes younger than the grace period (an upload being made) were removed")
	}
	if _, hasInfo, _ := p.uploads.LastWrite(context.Background(), live); !hasInfo || !p.uploadKept(t, live) {
		t.Errorf("a live upload's files were removed")
	}

	// At start: the portal opened on the same records sweeps them too.
	p.age(t, young, orphanGrace+time.Minute)
	p.Close()
	again, err := Open(context.Background(), Config{OpenEnrollment: true, DataDir: dataDir, UploadExpiry: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if again.uploadKept(t, young) {
		t.Errorf("orphan bytes %s are left after the portal started", young)
	}
	if _, hasInfo, _ := again.uploads.LastWrite(context.Background(), live); !hasInfo {
		t.Errorf("a live upload's files were removed at start")
	}
}
