package portal

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/motcua/motcua/sync/portalapi"
)

// openPortal starts a real portal with cfg on 127.0.0.1 and enrolls one
// device.
func openPortal(t *testing.T, cfg Config) *testPortal {
	t.Helper()
	cfg.DataDir = t.TempDir()
	s, err := Open(context.Background(), cfg)
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
	p.token = enrolled.Token
	return p
}

// warmRecords leaves n connections of s's records idle in their pool,
// made outside any synctest bubble. A connection the pool made inside one
// would be closed from outside it when the portal closes, which synctest
// forbids (a fatal error on PostgreSQL, whose connections keep timers);
// since the lease keeps a connection of its own, the pool's idle ones
// after a test's setup may be too few for a bubble's sweeps.
func warmRecords(t *testing.T, s *Server, n int) {
	t.Helper()
	var conns []*sql.Conn
	for range n {
		c, err := s.db.Conn(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	for _, c := range conns {
		c.Close()
	}
}

// Uploads that never got filed are removed with their bytes once they
// have received nothing for UploadExpiry; those of a filed application,
// and those still receiving, are kept.
func TestUnfiledUploadsExpireWithTheirBytes(t *testing.T) {
	const expiry = 48 * time.Hour
	later := time.Duration(0)
	p := openPortal(t, Config{OpenEnrollment: true, UploadExpiry: expiry, Now: func() time.Time { return time.Now().Add(later) }})
	ctx := context.Background()
	content := make([]byte, 3000)

	abandoned := p.upload("key-00000010", content, 1000)
	filed := p.upload("key-00000011", content, len(content))
	att := portalapi.AttachmentRef{EvidenceKey: "birth_certificate", Name: "a", MediaType: "image/jpeg", Size: 3000,
		SHA256: hexSum(content), UploadURL: filed}
	var rc portalapi.Receipt
	if code := p.do("POST", portalapi.PathSubmissions, nil, manifest("key-00000011", att), &rc); code != 201 {
		t.Fatalf("submit: %d", code)
	}
	unsubmitted := p.upload("key-00000012", content, len(content))
	active := p.upload("key-00000013", content, 500)

	if n, err := p.ExpireUploads(ctx); err != nil || n != 0 {
		t.Fatalf("fresh uploads: expired %d, %v", n, err)
	}
	later = expiry + time.Minute
	// The active upload received bytes an hour ago by the portal's clock.
	recent := time.Now().Add(later - time.Hour)
	p.setLastWrite(t, uploadID(active), recent)
	n, err := p.ExpireUploads(ctx)
	if err != nil || n != 2 {
		t.Fatalf("expired %d uploads, %v; want 2", n, err)
	}
	for _, tc := range []struct {
		name, loc string
		kept      bool
	}{
		{"abandoned half way", abandoned, false},
		{"complete but never submitted", unsubmitted, false},
		{"filed", filed, true},
		{"receiving", active, true},
	} {
		if kept := p.uploadKept(t, uploadID(tc.loc)); kept != tc.kept {
			t.Errorf("%s: upload kept: %v, want %v", tc.name, kept, tc.kept)
		}
		code := p.headStatus(tc.loc)
		if want := map[bool]int{true: http.StatusOK, false: http.StatusNotFound}[tc.kept]; code != want {
			t.Errorf("%s: HEAD %d, want %d", tc.name, code, want)
		}
	}
	list, _ := p.List(ctx)
	if len(list) != 1 || list[0].FileCode != rc.FileCode {
		t.Fatalf("filed applications after expiry: %+v", list)
	}
}

func (p *testPortal) headStatus(loc string) int {
	p.t.Helper()
	req, _ := http.NewRequest("HEAD", p.abs(loc), nil)
	req.Header.Set("Tus-Resumable", "1.0.0")
	req.Header.Set("Authorization", "Bearer "+p.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// Serve's sweeper runs ExpireUploads on its own: an abandoned upload is
// gone within an interval of its expiry.
func TestSweeperExpiresUploadsOnItsOwn(t *testing.T) {
	const expiry = 48 * time.Hour
	realStart := time.Now()
	var clock atomic.Pointer[func() time.Time]
	fixed := func() time.Time { return realStart }
	clock.Store(&fixed)
	p := openPortal(t, Config{OpenEnrollment: true, UploadExpiry: expiry, Now: func() time.Time { return (*clock.Load())() }})
	abandoned := uploadID(p.upload("key-00000014", make([]byte, 3000), 1000))
	warmRecords(t, p.Server, 8)
	synctest.Test(t, func(t *testing.T) {
		// The portal's clock runs with the bubble's fake time, from now.
		fakeStart := time.Now()
		running := func() time.Time { return realStart.Add(time.Since(fakeStart)) }
		clock.Store(&running)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			p.expireUploadsEvery(ctx, expiryInterval(expiry))
			close(done)
		}()
		time.Sleep(expiry - time.Hour)
		synctest.Wait()
		if !p.uploadKept(t, abandoned) {
			t.Fatalf("upload removed before its expiry")
		}
		time.Sleep(time.Hour + expiryInterval(expiry))
		synctest.Wait()
		// In a bubble the S3 client's clock is fake: the server refuses its
		// signatures as too old until the client has corrected them, and it
		// waits a moment between its tries (durably blocked, so synctest.Wait
		// returns then). A minute of grace on an hour's interval.
		for i := 0; i < 60 && p.onS3() && p.uploadKept(t, abandoned); i++ {
			time.Sleep(time.Second)
			synctest.Wait()
		}
		if p.uploadKept(t, abandoned) {
			t.Fatalf("upload still there an interval after its expiry")
		}
		cancel()
		<-done
	})
}

// The sweeper never interrupts a request in progress on an upload, however
// long ago its bytes last changed: tusd's lock would stop the request.
func TestExpiryDoesNotInterruptAnUploadInProgress(t *testing.T) {
	const expiry = 48 * time.Hour
	var later atomic.Int64
	p := openPortal(t, Config{OpenEnrollment: true, UploadExpiry: expiry, Now: func() time.Time { return time.Now().Add(time.Duration(later.Load())) }})
	loc := p.abs(p.upload("key-00000015", make([]byte, 3000), 1000))
	id := uploadID(loc)
	c, err := net.Dial("tcp", strings.TrimPrefix(p.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(c, "PATCH %s%s HTTP/1.1\r\nHost: portal\r\nTus-Resumable: 1.0.0\r\nAuthorization: Bearer %s\r\n"+
		"Upload-Offset: 1000\r\nContent-Type: application/offset+octet-stream\r\nContent-Length: 2000\r\n\r\n0123456789",
		portalapi.PathUploads, id, p.token)
	// Wait until the portal has written the bytes sent so far (in a
	// bucket, they wait in memory for the rest of the part).
	for !p.uploadBusy(id) || !p.onS3() && p.diskSize(t, id) != 1010 {
		runtime.Gosched()
	}
	later.Store(int64(expiry + time.Minute))
	if n, err := p.ExpireUploads(context.Background()); err != nil || n != 0 {
		t.Fatalf("expired %d uploads during a PATCH, %v", n, err)
	}
	c.Close()
	for p.uploadBusy(id) {
		runtime.Gosched()
	}
	if n, err := p.ExpireUploads(context.Background()); err != nil || n != 1 {
		t.Fatalf("expired %d uploads after the PATCH ended, %v; want 1", n, err)
	}
}

// TestSweeperRacingAManifestNeverFilesWithoutTheBytes pins the race between
// the expiry sweeper and a manifest naming a stale upload (a kiosk back
// after the expiry, whose receipt was lost): the sweeper removed the upload
// after the manifest's checks had read it, and the application was filed
// with its evidence gone. Either the application is filed and its upload
// kept, or the upload is removed and the manifest answered as incomplete,
// so the kiosk sends it again.
func TestSweeperRacingAManifestNeverFilesWithoutTheBytes(t *testing.T) {
	const expiry = 48 * time.Hour
	var later atomic.Int64
	p := openPortal(t, Config{OpenEnrollment: true, UploadExpiry: expiry, Now: func() time.Time { return time.Now().Add(time.Duration(later.Load())) }})
	ctx := context.Background()
	content := []byte(strings.Repeat("trang giấy khai sinh ", 200))
	loc := p.upload("key-00000020", content, len(content))
	later.Store(int64(expiry + time.Minute))
	swept := -1
	p.beforeFile = func() {
		// The sweeper's hourly pass comes between the checks and the filing.
		n, err := p.ExpireUploads(ctx)
		if err != nil {
			t.Error(err)
		}
		swept = n
	}
	att := portalapi.AttachmentRef{EvidenceKey: "birth_certificate", Name: "a", MediaType: "image/jpeg",
		Size: int64(len(content)), SHA256: hexSum(content), UploadURL: loc}
	var answer portalapi.Error
	code := p.do("POST", portalapi.PathSubmissions, nil, manifest("key-00000020", att), &answer)
	list, _ := p.List(ctx)
	head := p.headStatus(loc)
	switch {
	case code == http.StatusCreated && head == http.StatusOK && len(list) == 1 && swept == 0:
		// Filed first: the sweeper kept the upload.
	case code == http.StatusConflict && answer.Code == portalapi.CodeUploadIncomplete && head == http.StatusNotFound &&
		len(list) == 0 && swept == 1:
		// Swept first: nothing filed, and the kiosk is told to send it again.
	default:
		t.Fatalf("manifest answered %d %q, %d filed, upload HEAD %d, sweeper removed %d", code, answer.Code, len(list), head, swept)
	}
}
