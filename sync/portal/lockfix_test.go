package portal

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
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
	interruptWhileFiling(p, id)
	patch, _ := http.NewRequest("PATCH", p.url+portalapi.PathUploads+id, bytes.NewReader(content[4000:]))
	patch.Header.Set("Tus-Resumable", "1.0.0")
	patch.Header.Set("Upload-Offset", "4000")
	patch.Header.Set("Content-Type", "application/offset+octet-stream")
	patch.Header.Set("Authorization", "Bearer "+p.token)
	sendOn(t, c, patch)
	p.beforeFile = nil
	headsServedOn(t, p, c, id, "6000", "the interrupted PATCH")
}

// interruptWhileFiling makes the request that files upload id interrupted
// once its body is all read, as when its lock is wanted.
func interruptWhileFiling(p *testPortal, id string) {
	p.beforeFile = func() {
		p.locks.mu.Lock()
		if h := p.locks.held[id]; h != nil {
			h.interrupt()
		}
		p.locks.mu.Unlock()
	}
}

// headsServedOn asks upload id's offset three times on c, the kiosk's
// kept connection, after the request named after, and fails unless each
// is answered 200 with offset.
func headsServedOn(t *testing.T, p *testPortal, c *http.Client, id, offset, after string) {
	t.Helper()
	for i := range 3 {
		head, _ := http.NewRequest("HEAD", p.url+portalapi.PathUploads+id, nil)
		head.Header.Set("Tus-Resumable", "1.0.0")
		head.Header.Set("Authorization", "Bearer "+p.token)
		resp, reused := sendOn(t, c, head)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Upload-Offset") != offset {
			t.Fatalf("HEAD %d after %s (connection reused: %v): %d Retry-After %q offset %q; want 200 with every byte",
				i+1, after, reused, resp.StatusCode, resp.Header.Get("Retry-After"), resp.Header.Get("Upload-Offset"))
		}
	}
}

// The same wedge through a creation that carries all its bytes, the
// kiosks' usual request: interrupted while it files, after its body was
// all read (tusd cuts its reads the same way), its connection must not
// serve the next request with a cancelled context.
func TestInterruptedCreationDoesNotWedgeItsKioskConnection(t *testing.T) {
	p := newPortal(t)
	c := keepAliveClient()
	content := bytes.Repeat([]byte("c"), 3000)
	m := portalapi.Manifest{IdempotencyKey: "key-wedge-0002", ProcedureID: "birth-registration", CatalogVersion: "2026.11.1",
		CapturedAt: time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC), Form: exampleForm(), Attachments: []portalapi.AttachmentRef{
			{EvidenceKey: "birth_certificate", Name: "a", MediaType: "image/jpeg", Size: 2000, SHA256: hexSum(content[:2000]), Offset: 0},
			{EvidenceKey: "marriage_certificate", Name: "b", MediaType: "image/jpeg", Size: 1000, SHA256: hexSum(content[2000:]), Offset: 2000},
		}}
	mj, _ := json.Marshal(m)
	id := p.device + "-key-wedge-0002-1"
	interruptWhileFiling(p, id)
	create, _ := http.NewRequest("POST", p.url+portalapi.PathUploads, bytes.NewReader(content))
	create.Header.Set("Tus-Resumable", "1.0.0")
	create.Header.Set("Upload-Length", "3000")
	create.Header.Set("Content-Type", "application/offset+octet-stream")
	create.Header.Set("Authorization", "Bearer "+p.token)
	device, key := kiosks.device(create)
	create.Header.Set("Upload-Metadata", meta(portalapi.MetaIdempotencyKey, m.IdempotencyKey, portalapi.MetaUploadName, "key-wedge-0002-1",
		portalapi.MetaManifest, string(mj), portalapi.MetaSignature, portalapi.Sign(key, portalapi.ManifestMessage(device, m.IdempotencyKey, mj))))
	sendOn(t, c, create)
	p.beforeFile = nil
	headsServedOn(t, p, c, id, "3000", "the interrupted creation")
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

// withBusyLocks makes the upload locks of the portals opened from now to
// the end of t try SQLite's writer lock once, without waiting, so that a
// test holding it (busyHandle's hold) makes them fail at once with
// "database is locked", as they do after the busy timeout under load.
func withBusyLocks(t *testing.T) {
	was := lockBusyTimeout
	lockBusyTimeout = 0
	t.Cleanup(func() { lockBusyTimeout = was })
}

// False 409: a request whose upload's lock could not be taken because the
// records were busy ("database is locked") was told the upload exists and
// is in use (409 upload_exists to a creation, 409 upload_incomplete to a
// manifest) or locked (423), answers a kiosk may take as final or as
// someone else's doing. Nobody holds the lock: each is answered 503 with
// Retry-After, and once the records answer again each goes through.
func TestBusyLockRecordsAreAnswered503NotUploadInUse(t *testing.T) {
	cfg := backendConfig(t)
	if cfg.DatabaseURL != "" {
		t.Skip("makes SQLite's records busy; PostgreSQL's lock errors take the same path")
	}
	withBusyLocks(t)
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		defer time.Sleep(time.Minute) // tusd's graceful completion timeout
		s, err := Open(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		_, hold := busyHandle(t, filepath.Join(cfg.DataDir, "portal.db"))
		body, key := enrollBodyAndKey(t, s, "kiosk-busy")
		rec := serve(s, httptest.NewRequest("POST", portalapi.PathEnroll, strings.NewReader(body)))
		var enrolled portalapi.EnrollResponse
		if err := json.Unmarshal(rec.Body.Bytes(), &enrolled); rec.Code != http.StatusCreated || err != nil {
			t.Fatalf("enroll: %d %s", rec.Code, rec.Body)
		}
		auth := "Bearer " + enrolled.Token
		create := func(key string) *http.Request {
			r := httptest.NewRequest("POST", portalapi.PathUploads, nil)
			r.Header.Set("Tus-Resumable", "1.0.0")
			r.Header.Set("Upload-Length", "3000")
			r.Header.Set("Upload-Metadata", meta(portalapi.MetaIdempotencyKey, key, portalapi.MetaUploadName, key+"-1"))
			r.Header.Set("Authorization", auth)
			return r
		}
		if rec := serve(s, create("key-busy-0001")); rec.Code != http.StatusCreated {
			t.Fatalf("create: %d %s", rec.Code, rec.Body)
		}
		id := enrolled.DeviceID + "-key-busy-0001-1"
		head := func() *http.Request {
			r := httptest.NewRequest("HEAD", portalapi.PathUploads+id, nil)
			r.Header.Set("Tus-Resumable", "1.0.0")
			r.Header.Set("Authorization", auth)
			return r
		}
		manifest := func() *http.Request {
			m := fmt.Sprintf(`{"idempotency_key":"key-busy-0001","procedure_id":"birth-registration","catalog_version":"2026.11.1",
				"captured_at":"2026-11-22T08:00:00Z","form":%s,"attachments":[{"evidence_key":"birth_certificate","name":"a",
				"media_type":"image/jpeg","size":3000,"sha256":"%s","upload_url":"%s"}]}`,
				exampleForm(), strings.Repeat("0", 64), portalapi.PathUploads+id)
			r := httptest.NewRequest("POST", portalapi.PathSubmissions, strings.NewReader(m))
			r.Header.Set("Authorization", auth)
			r.Header.Set(portalapi.HeaderSignature, portalapi.Sign(key, portalapi.ManifestMessage(enrolled.DeviceID, "key-busy-0001", []byte(m))))
			return r
		}
		for _, tc := range []struct {
			name string
			req  func() *http.Request
		}{
			{"creation", func() *http.Request { return create("key-busy-0002") }},
			{"HEAD", head},
			{"manifest", manifest},
		} {
			// The lock released by the last request is taken back without
			// a write until its row is deleted, within a poll.
			time.Sleep(2 * lockPoll)
			release := hold()
			rec := serve(s, tc.req())
			release()
			if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
				t.Errorf("%s while the locks' records are busy: %d Retry-After %q %s; want 503 with Retry-After",
					tc.name, rec.Code, rec.Header().Get("Retry-After"), rec.Body)
			}
			if rec := serve(s, tc.req()); rec.Code >= 500 || rec.Code == http.StatusLocked ||
				(tc.name != "manifest" && rec.Code == http.StatusConflict) {
				t.Errorf("%s once the records answer: %d %s", tc.name, rec.Code, rec.Body)
			}
		}
	})
}

// enrollBodyAndKey is enrollBody, with the device's key.
func enrollBodyAndKey(t *testing.T, s *Server, name string) (string, ed25519.PrivateKey) {
	t.Helper()
	code, _, err := s.CreateEnrollCode(context.Background(), "", 0)
	if err != nil {
		t.Fatal(err)
	}
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	er := portalapi.EnrollRequest{DeviceName: name, Code: code, PublicKey: portalapi.EncodePublicKey(key.Public().(ed25519.PublicKey)),
		SignedAt: time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)}
	er.Signature = portalapi.Sign(key, portalapi.EnrollMessage(s.Instance(), er))
	b, _ := json.Marshal(er)
	return string(b), key
}

// A filing that met SQLite's writer lock held past the busy timeout
// ("database is locked") was answered 500, which a kiosk counts as the
// portal's fault, though nothing was written and the same request goes
// through a moment later. It is answered 503 with Retry-After, and the
// kiosk's retry files it once.
func TestFilingThatMeetsBusyRecordsIsAnswered503(t *testing.T) {
	withBusyLocks(t)
	p := newPortal(t)
	skipIfPostgres(t, p.Server, "makes SQLite's records busy; PostgreSQL's serialization failures take the same path")
	busy, hold := busyHandle(t, filepath.Join(p.cfg.DataDir, "portal.db"))
	records := p.db
	p.db = busy
	t.Cleanup(func() { p.db = records })
	var release func()
	p.beforeFile = func() { release = hold() }
	req, _ := http.NewRequest("POST", p.url+portalapi.PathSubmissions, strings.NewReader(manifest("key-busy-file-1")))
	req.Header.Set("Authorization", "Bearer "+p.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	release()
	p.beforeFile = nil
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("filing while the records are busy: %d Retry-After %q; want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	var rc portalapi.Receipt
	if code := p.do("POST", portalapi.PathSubmissions, nil, manifest("key-busy-file-1"), &rc); code != http.StatusCreated || rc.FileCode == "" {
		t.Fatalf("the retry: %d %+v; want 201 with a file code", code, rc)
	}
	if list, err := p.List(context.Background()); err != nil || len(list) != 1 {
		t.Fatalf("filed %d, %v; want once", len(list), err)
	}
}

// A live process whose lease ran out because its records were too busy to
// renew it interrupts the requests holding its locks, and takes its lease
// again as soon as the records answer: it carries on, its locks taken as
// before and its lease seen alive by the others, without a restart.
func TestLeaseThatRanOutIsTakenAgain(t *testing.T) {
	cfg := backendConfig(t)
	if cfg.DatabaseURL != "" {
		t.Skip("makes SQLite's records busy")
	}
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		shared, err := openRecords(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer shared.Close()
		busy, hold := busyHandle(t, filepath.Join(cfg.DataDir, "portal.db"))
		a, err := newUploadLocker(ctx, busy, slog.New(slog.DiscardHandler), time.Now, processTTL, processBeat, lockPoll)
		if err != nil {
			t.Fatal(err)
		}
		defer a.close()
		interrupted := make(chan struct{}, 1)
		h, err := a.acquire(ctx, "dev-0000000000000001-up-9", func() { interrupted <- struct{}{} }, true)
		if err != nil {
			t.Fatal(err)
		}
		release := hold()
		time.Sleep(processTTL + processBeat) // the records stay busy past the lease
		select {
		case <-interrupted:
		default:
			t.Fatal("the lease ran out and the request holding a lock was not interrupted")
		}
		release()
		time.Sleep(2 * lockPoll)
		a.release(h)
		var alive int64
		if err := shared.QueryRowContext(ctx, `SELECT alive_until FROM portal_processes WHERE id = ?`, a.process).Scan(&alive); err != nil ||
			!time.UnixMilli(alive).After(time.Now().Add(processTTL-processBeat)) {
			t.Fatalf("the lease after the records answer again: alive until %v (now %v), %v", time.UnixMilli(alive), time.Now(), err)
		}
		a.mu.Lock()
		lapsed := a.lapsed
		a.mu.Unlock()
		if lapsed {
			t.Error("the process still counts its lease as run out")
		}
		if h, err := a.acquire(ctx, "dev-0000000000000001-up-10", nil, true); err != nil {
			t.Errorf("a lock after the lease was taken again: %v", err)
		} else {
			a.release(h)
		}
	})
}

// Whatever cancelled a kept connection's context (a read deadline set
// after a request's body was read, by an interruption the other guards
// missed), the next request on it arrives with its context cancelled.
// It was answered 503 Retry-After 30 at once, unlogged, and so was every
// later one: it is served, and its connection closed after the answer.
func TestRequestOnAConnectionWhoseContextWasCancelledIsServed(t *testing.T) {
	p := newPortal(t)
	loc := p.upload("key-poisoned-01", bytes.Repeat([]byte("p"), 2000), 2000)
	req := httptest.NewRequest("HEAD", loc, nil)
	req.Header.Set("Tus-Resumable", "1.0.0")
	req.Header.Set("Authorization", "Bearer "+p.token)
	ctx, cancel := context.WithCancel(req.Context())
	cancel()
	req = req.WithContext(ctx)
	req.RemoteAddr = "127.0.0.1:40000"
	rec := httptest.NewRecorder()
	p.Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || rec.Header().Get("Upload-Offset") != "2000" || rec.Header().Get("Connection") != "close" {
		t.Fatalf("HEAD with its connection's context cancelled: %d offset %q Connection %q; want 200 with every byte, and the connection closed",
			rec.Code, rec.Header().Get("Upload-Offset"), rec.Header().Get("Connection"))
	}
}

// Under 1,000 kiosks on PostgreSQL, a live process's lease renewals waited
// for one of the pool's connections behind the requests' lock takes and
// filings (database/sql hands a freed connection to a waiter at random),
// past their deadline again and again, until the lease ran out and the
// process interrupted its 278 uploads in flight. The lease keeps a
// connection of its own: with every other connection of the pool held, it
// is still renewed, and no request holding a lock is interrupted.
func TestLeaseIsRenewedWhileRequestsHoldEveryConnection(t *testing.T) {
	cfg := backendConfig(t)
	ctx := context.Background()
	db, err := openRecords(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(3)
	const ttl, beat, poll = 2 * time.Second, 200 * time.Millisecond, 50 * time.Millisecond
	l, err := newUploadLocker(ctx, db, slog.New(slog.DiscardHandler), time.Now, ttl, beat, poll)
	if err != nil {
		t.Fatal(err)
	}
	defer l.close()
	var interrupted atomic.Bool
	h, err := l.acquire(ctx, "dev-0000000000000001-up-1", func() { interrupted.Store(true) }, true)
	if err != nil {
		t.Fatal(err)
	}
	// The requests take every connection the pool has left.
	var held []*sql.Conn
	for {
		tctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		c, err := db.Conn(tctx)
		cancel()
		if err != nil {
			break
		}
		held = append(held, c)
	}
	if len(held) == 0 {
		t.Fatal("took no connection of the pool")
	}
	time.Sleep(3 * ttl)
	for _, c := range held {
		c.Close()
	}
	l.mu.Lock()
	lapsed, last := l.lapsed, l.lastBeat
	l.mu.Unlock()
	if lapsed || interrupted.Load() {
		t.Fatalf("with the pool's %d other connections held for %v, the lease ran out (last renewed %v ago) and interrupted the request holding a lock: %v",
			len(held), 3*ttl, time.Since(last).Round(time.Millisecond), interrupted.Load())
	}
	l.release(h)
}
