package portal

import (
	"bufio"
	"context"
	"crypto/rand"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/motcua/motcua/sync/portalapi"
)

// twoProcesses opens two portals on one data directory, as two portal
// processes sharing the records and the uploads, each served on
// 127.0.0.1, and enrolls one device through the first; the second
// carries the same device's token. cfg's DataDir is set here.
func twoProcesses(t *testing.T, cfg Config) (*testPortal, *testPortal) {
	t.Helper()
	cfg.DataDir = t.TempDir()
	var ps []*testPortal
	for range 2 {
		s, err := Open(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(s.Handler())
		t.Cleanup(func() { srv.Close(); s.Close() })
		ps = append(ps, &testPortal{Server: s, url: srv.URL, t: t})
	}
	var enrolled portalapi.EnrollResponse
	if code := ps[0].do("POST", portalapi.PathEnroll, nil, `{"device_name":"kiosk-1"}`, &enrolled); code != 201 {
		t.Fatalf("enroll: %d", code)
	}
	for _, p := range ps {
		p.token, p.device = enrolled.Token, enrolled.DeviceID
	}
	return ps[0], ps[1]
}

// stalledPatch sends a PATCH of n bytes at offset to the upload at loc
// through p on a connection of its own, writes the first part of them,
// waits until p has read them, and returns the connection: a kiosk whose
// link went dead in the middle of a chunk.
func (p *testPortal) stalledPatch(loc string, offset int, n int, part []byte) net.Conn {
	p.t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(p.url, "http://"))
	if err != nil {
		p.t.Fatal(err)
	}
	p.t.Cleanup(func() { c.Close() })
	fmt.Fprintf(c, "PATCH %s%s HTTP/1.1\r\nHost: portal\r\nTus-Resumable: 1.0.0\r\nAuthorization: Bearer %s\r\n"+
		"Upload-Offset: %d\r\nContent-Type: application/offset+octet-stream\r\nContent-Length: %d\r\n\r\n",
		portalapi.PathUploads, uploadID(loc), p.token, offset, n)
	received := func() float64 {
		return p.scrape()["motcua_portal_received_bytes_total"].GetMetric()[0].GetCounter().GetValue()
	}
	before := received()
	c.Write(part)
	for received() < before+float64(len(part)) {
		runtime.Gosched()
	}
	return c
}

// TestUploadResumedThroughAnotherProcessStopsTheStaleRequest pins a kiosk
// whose link is cut in the middle of a chunk and that comes back through
// another portal process (a proxy in front of several), while the first
// still reads the dead connection. Each process had a lock of its own in
// memory: the second answered HEAD and took the rest of the bytes, and
// when the first connection's late bytes arrived the first process wrote
// them over the upload, whose filing then failed its checksum. The lock is
// now one for all: the kiosk's HEAD interrupts the stale request at once,
// which then writes nothing more, and the application is filed with its
// own bytes.
func TestUploadResumedThroughAnotherProcessStopsTheStaleRequest(t *testing.T) {
	a, b := twoProcesses(t, Config{OpenEnrollment: true})
	content := make([]byte, 300<<10)
	rand.Read(content)
	// Upload URLs as the kiosk keeps them, relative: each request goes
	// to whichever process it reaches.
	loc := portalapi.PathUploads + uploadID(a.upload("key-multi-0001", content, 0))
	stale := a.stalledPatch(loc, 0, len(content), content[:100<<10])

	req, _ := http.NewRequest("HEAD", b.abs(loc), nil)
	req.Header.Set("Tus-Resumable", "1.0.0")
	req.Header.Set("Authorization", "Bearer "+b.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Upload-Offset") != strconv.Itoa(100<<10) {
		t.Fatalf("HEAD through the second process: %d offset %q; want 200 at %d", resp.StatusCode, resp.Header.Get("Upload-Offset"), 100<<10)
	}
	if code := b.patch(loc, 100<<10, content[100<<10:]); code != http.StatusNoContent {
		t.Fatalf("the rest through the second process: %d", code)
	}
	// The dead link's bytes arrive late, and are not the upload's.
	stale.Write(make([]byte, 200<<10))
	stale.SetReadDeadline(time.Now().Add(time.Minute))
	if r, err := http.ReadResponse(bufio.NewReader(stale), nil); err == nil && r.StatusCode == http.StatusNoContent {
		t.Errorf("the stale request was answered %d", r.StatusCode)
	}
	var rc portalapi.Receipt
	m := manifest("key-multi-0001", portalapi.AttachmentRef{EvidenceKey: "birth_certificate", Name: "a.jpg", MediaType: "image/jpeg",
		Size: int64(len(content)), SHA256: hexSum(content), UploadURL: loc})
	if code := b.do("POST", portalapi.PathSubmissions, nil, m, &rc); code != http.StatusCreated {
		t.Fatalf("filing through the second process: %d %+v", code, rc)
	}
	list, err := a.List(context.Background())
	if err != nil || len(list) != 1 || list[0].Attachments[0].SHA256Received != hexSum(content) {
		t.Fatalf("filed: %+v %v; want the upload's own bytes", list, err)
	}
}

// The sweeper of one process never removes an upload that a request of
// another is still writing, however long ago its bytes last changed: each
// process counted only its own requests in progress.
func TestSweeperOfAnotherProcessLeavesAnUploadInProgress(t *testing.T) {
	const expiry = 48 * time.Hour
	var later atomic.Int64
	a, b := twoProcesses(t, Config{OpenEnrollment: true, UploadExpiry: expiry,
		Now: func() time.Time { return time.Now().Add(time.Duration(later.Load())) }})
	content := make([]byte, 3000)
	rand.Read(content)
	loc := portalapi.PathUploads + uploadID(a.upload("key-multi-0002", content, 1000))
	c := a.stalledPatch(loc, 1000, 2000, content[1000:1010])
	later.Store(int64(expiry + time.Hour))
	if n, err := b.ExpireUploads(context.Background()); n != 0 || err != nil {
		t.Fatalf("the other process's sweeper removed %d uploads (%v) while one was being written", n, err)
	}
	c.Write(content[1010:])
	c.SetReadDeadline(time.Now().Add(time.Minute))
	r, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil || r.StatusCode != http.StatusNoContent {
		t.Fatalf("the rest of the chunk: %v %v", r, err)
	}
	m := manifest("key-multi-0002", portalapi.AttachmentRef{EvidenceKey: "birth_certificate", Name: "a.jpg", MediaType: "image/jpeg",
		Size: int64(len(content)), SHA256: hexSum(content), UploadURL: loc})
	if code := b.do("POST", portalapi.PathSubmissions, nil, m, nil); code != http.StatusCreated {
		t.Fatalf("filing: %d", code)
	}
}

// A portal process that opens removes what crashed processes left in
// their spools, never the spool of a process still running beside it
// (Open used to wipe the whole spool).
func TestOpenKeepsTheSpoolOfALiveProcessAndRemovesDeadOnes(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	a, err := Open(ctx, Config{OpenEnrollment: true, DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	live := filepath.Join(a.spoolDir, "chunk-live")
	if err := os.WriteFile(live, []byte("sealed bytes of a chunk in progress"), 0o600); err != nil {
		t.Fatal(err)
	}
	// A process killed long ago, and one whose row is gone.
	old := time.Now().Add(-time.Hour).UnixMilli()
	if _, err := a.db.ExecContext(ctx, `INSERT INTO portal_processes (id, started_at, alive_until) VALUES ('proc-dead', ?, ?)`, old, old); err != nil {
		t.Fatal(err)
	}
	spool := filepath.Join(dir, "spool")
	var dead []string
	for _, name := range []string{"proc-dead", "proc-forgotten"} {
		d := filepath.Join(spool, name)
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(d, "chunk-1"), []byte("left by a crash"), 0o600)
		dead = append(dead, d)
	}
	b, err := Open(ctx, Config{OpenEnrollment: true, DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if _, err := os.Stat(live); err != nil {
		t.Errorf("the live process's spooled chunk: %v", err)
	}
	for _, d := range dead {
		if _, err := os.Stat(d); !os.IsNotExist(err) {
			t.Errorf("the spool of a dead process %s is still there: %v", d, err)
		}
	}
	if _, err := os.Stat(b.spoolDir); err != nil {
		t.Errorf("the new process's spool: %v", err)
	}
}

// Status events pulled through any process, while applications are filed
// and moved on through both, come in order and none is skipped: a cursor
// never passes an event that becomes visible later.
func TestStatusCursorsSkipNoEventAcrossProcesses(t *testing.T) {
	a, b := twoProcesses(t, Config{OpenEnrollment: true, FilingInterval: -1})
	ps := []*testPortal{a, b}
	const files = 40
	var writers sync.WaitGroup
	codes := make(chan string, files)
	for w := range 4 {
		writers.Go(func() {
			for i := w; i < files; i += 4 {
				var rc portalapi.Receipt
				if code := ps[i%2].do("POST", portalapi.PathSubmissions, nil, manifest(fmt.Sprintf("key-cursor-%04d", i)), &rc); code != http.StatusCreated {
					t.Errorf("filing %d: %d", i, code)
					continue
				}
				codes <- rc.FileCode
			}
		})
	}
	writers.Go(func() {
		for i := range files {
			code, ok := <-codes
			if !ok {
				return
			}
			if err := ps[i%2].Advance(context.Background(), code, portalapi.InReview, ""); err != nil {
				t.Errorf("advance %s: %v", code, err)
			}
		}
	})
	done := make(chan struct{})
	pulled := make([][]int64, 2)
	var readers sync.WaitGroup
	for r := range 2 {
		readers.Go(func() {
			var cursor int64
			pull := func(p *testPortal) bool {
				var page portalapi.StatusPage
				if code := p.do("GET", portalapi.PathStatus+"?limit=7&cursor="+strconv.FormatInt(cursor, 10), nil, "", &page); code != 200 {
					t.Errorf("status: %d", code)
					return false
				}
				for _, e := range page.Events {
					pulled[r] = append(pulled[r], e.Seq)
				}
				cursor = page.Cursor
				return page.More
			}
			for i := 0; ; i++ {
				select {
				case <-done:
					for pull(ps[i%2]) {
						i++
					}
					return
				default:
					pull(ps[(i+r)%2])
				}
			}
		})
	}
	writers.Wait()
	close(done)
	readers.Wait()
	var all []int64
	rows, err := a.db.Query(`SELECT seq FROM events WHERE device_id = ? ORDER BY seq`, a.device)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var s int64
		rows.Scan(&s)
		all = append(all, s)
	}
	rows.Close()
	if len(all) != 2*files {
		t.Fatalf("%d events recorded, want %d", len(all), 2*files)
	}
	for r, got := range pulled {
		if fmt.Sprint(got) != fmt.Sprint(all) {
			t.Errorf("reader %d pulled %d events %v; want every one in order %v", r, len(got), got, all)
		}
	}
}
