package portal

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptrace"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/motcua/motcua/internal/sqlitedb"
	"github.com/motcua/motcua/sync/portalapi"
)

// The regression tests of what the 1,000-kiosk load test found in the
// shared upload locks (issue 13, second round).

// keepAliveClient is an HTTP client that sends its requests one after the
// other on one connection, as a kiosk's uplink does, and reports whether
// each reused it.
func keepAliveClient() *http.Client {
	return &http.Client{Transport: &http.Transport{MaxConnsPerHost: 1, MaxIdleConnsPerHost: 1}}
}

// sendOn sends req with c and reports the answer and whether it went on a
// connection that carried an earlier request.
func sendOn(t *testing.T, c *http.Client, req *http.Request) (*http.Response, bool) {
	t.Helper()
	reused := false
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
		GotConn: func(i httptrace.GotConnInfo) { reused = i.Reused }}))
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	body, _ := io.ReadAll(resp.Body)
	t.Logf("%s: %d %s", req.Method, resp.StatusCode, body)
	resp.Body.Close()
	return resp, reused
}

// The wedge: a request interrupted for its upload's lock (another request
// wants it, or the process's lease ran out) after its body was all read
// had its connection's read deadline set to now. net/http's background
// read then failed and cancelled the connection's context for good, yet
// kept the connection for the next request: every later request of that
// kiosk on it met a cancelled context, and was answered 503 Retry-After 30
// at once, with nothing logged, until the portal was restarted.
func TestInterruptedRequestDoesNotWedgeItsKioskConnection(t *testing.T) {
	p := newPortal(t)
	c := keepAliveClient()
	a, b := bytes.Repeat([]byte("a"), 3500), bytes.Repeat([]byte("b"), 2500)
	content := append(append([]byte{}, a...), b...)
	m := portalapi.Manifest{IdempotencyKey: "key-wedge-0001", ProcedureID: "birth-registration", CatalogVersion: "2026.11.1",
		CapturedAt: time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC), Form: exampleForm(), Attachments: []portalapi.AttachmentRef{
			{EvidenceKey: "birth_certificate", Name: "a", MediaType: "image/jpeg", Size: 3500, SHA256: hexSum(a), Offset: 0},
			{EvidenceKey: "marriage_certificate", Name: "b", MediaType: "image/jpeg", Size: 2500, SHA256: hexSum(b), Offset: 3500},
		}}
	mj, _ := json.Marshal(m)
	create, _ := http.NewRequest("POST", p.url+portalapi.PathUploads, bytes.NewReader(content[:4000]))
	create.Header.Set("Tus-Resumable", "1.0.0")
	create.Header.Set("Upload-Length", "6000")
	create.Header.Set("Content-Type", "application/offset+octet-stream")
	create.Header.Set("Authorization", "Bearer "+p.token)
	device, key := kiosks.device(create)
	create.Header.Set("Upload-Metadata", meta(portalapi.MetaIdempotencyKey, m.IdempotencyKey, portalapi.MetaUploadName, "key-wedge-0001-1",
		portalapi.MetaManifest, string(mj), portalapi.MetaSignature, portalapi.Sign(key, portalapi.ManifestMessage(device, m.IdempotencyKey, mj))))
	resp, _ := sendOn(t, c, create)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("creation: %d", resp.StatusCode)
	}
	id := p.device + "-key-wedge-0001-1"
	// While the completing PATCH files (its body all read), its lock is
	// wanted, as a waiter or a lease that ran out asks.
	p.beforeFile = func() {
		p.locks.mu.Lock()
		if h := p.locks.held[id]; h != nil {
			h.interrupt()
		}
		p.locks.mu.Unlock()
	}
	patch, _ := http.NewRequest("PATCH", p.url+portalapi.PathUploads+id, bytes.NewReader(content[4000:]))
	patch.Header.Set("Tus-Resumable", "1.0.0")
	patch.Header.Set("Upload-Offset", "4000")
	patch.Header.Set("Content-Type", "application/offset+octet-stream")
	patch.Header.Set("Authorization", "Bearer "+p.token)
	sendOn(t, c, patch)
	p.beforeFile = nil
	for i := range 3 {
		head, _ := http.NewRequest("HEAD", p.url+portalapi.PathUploads+id, nil)
		head.Header.Set("Tus-Resumable", "1.0.0")
		head.Header.Set("Authorization", "Bearer "+p.token)
		resp, reused := sendOn(t, c, head)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Upload-Offset") != "6000" {
			t.Fatalf("HEAD %d after the interrupted PATCH (connection reused: %v): %d Retry-After %q offset %q; want 200 with every byte",
				i+1, reused, resp.StatusCode, resp.Header.Get("Retry-After"), resp.Header.Get("Upload-Offset"))
		}
	}
}

// busyHandle opens the SQLite records at path again, for s to use in
// place of one of its handles, with no busy timeout: while hold holds the
// write lock, every write through it fails at once with "database is
// locked", as one does after the busy timeout under load. The returned
// function takes SQLite's write lock (BEGIN IMMEDIATE) on a connection of
// its own, and gives back the function that lets it go.
func busyHandle(t *testing.T, path string) (*sql.DB, func() (release func())) {
	t.Helper()
	dsn := strings.Replace(sqlitedb.DSN(path), "_busy_timeout=10000", "_busy_timeout=0", 1)
	db, err := sql.Open("sqlite3", dsn)
	if err != nil {
		t.Fatal(err)
	}
	holder, err := sql.Open("sqlite3", sqlitedb.DSN(path))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close(); holder.Close() })
	hold := func() func() {
		ctx := context.Background()
		conn, err := holder.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
			t.Fatal(err)
		}
		return func() {
			conn.ExecContext(ctx, "ROLLBACK")
			conn.Close()
		}
	}
	return db, hold
}

// skipIfPostgres skips a test that makes SQLite's records busy.
func skipIfPostgres(t *testing.T, s *Server, why string) {
	t.Helper()
	if s.pg {
		t.Skip(why)
	}
}

var _ = filepath.Join
