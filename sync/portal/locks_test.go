package portal

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/motcua/motcua/sync/portalapi"
)

// backendConfig returns a Config for a new data directory on the back
// ends the run asks for (PostgreSQL, S3), made outside any synctest
// bubble: a database or bucket made inside one would tie the test
// servers' shared connections to it.
func backendConfig(t *testing.T) Config {
	t.Helper()
	cfg := Config{OpenEnrollment: true, DataDir: t.TempDir()}
	if testBackend != nil {
		testBackend(&cfg)
	}
	return cfg
}

// lockers opens the records of cfg and starts n lockers on them, as n
// portal processes would, each with the real timings. Time is the
// bubble's: call it inside synctest.Test.
func lockers(t *testing.T, cfg Config, n int) []*uploadLocker {
	t.Helper()
	ctx := context.Background()
	db, err := openRecords(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	var ls []*uploadLocker
	for range n {
		l, err := newUploadLocker(ctx, db, slog.New(slog.DiscardHandler), time.Now, processTTL, processBeat, lockPoll)
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
	}
	t.Cleanup(func() {
		for _, l := range ls {
			l.close()
		}
		db.Close()
	})
	return ls
}

// kill stops l as SIGKILL would: its lease is no longer renewed, and
// nothing it holds is released.
func (l *uploadLocker) kill() {
	l.closeOnce.Do(func() {
		close(l.stop)
		<-l.done
	})
}

// A process killed while it holds a lock never releases it: the lock is
// taken over once its lease runs out, not before, and not never.
func TestLockOfAKilledProcessIsTakenOverWhenItsLeaseRunsOut(t *testing.T) {
	cfg := backendConfig(t)
	synctest.Test(t, func(t *testing.T) {
		ls := lockers(t, cfg, 2)
		a, b := ls[0], ls[1]
		ctx := context.Background()
		if _, err := a.acquire(ctx, "dev-0000000000000001-up-1", func() {}, true); err != nil {
			t.Fatal(err)
		}
		time.Sleep(3 * processBeat) // a few renewals
		a.kill()
		killed := time.Now()
		h, err := b.acquire(ctx, "dev-0000000000000001-up-1", nil, true)
		if err != nil {
			t.Fatal(err)
		}
		waited := time.Since(killed)
		if waited < processTTL-processBeat || waited > processTTL+lockPoll {
			t.Errorf("the lock of a killed process was taken over after %v; want its lease, %v, give or take a beat", waited, processTTL)
		}
		if err := b.release(h); err != nil {
			t.Fatal(err)
		}
	})
}

// A request that waits for a lock another process holds marks it wanted;
// that process interrupts the request holding it within lockPoll, and the
// lock passes on as soon as it is released.
func TestWaiterInterruptsTheHolderInAnotherProcess(t *testing.T) {
	cfg := backendConfig(t)
	synctest.Test(t, func(t *testing.T) {
		ls := lockers(t, cfg, 2)
		a, b := ls[0], ls[1]
		ctx := context.Background()
		var held *holding
		interrupted := make(chan time.Time, 1)
		held, err := a.acquire(ctx, "dev-0000000000000001-up-2", func() {
			interrupted <- time.Now()
			go a.release(held) // as tusd does once its request stops
		}, true)
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Minute) // held for long, renewed
		start := time.Now()
		h, err := b.acquire(ctx, "dev-0000000000000001-up-2", nil, true)
		if err != nil {
			t.Fatal(err)
		}
		select {
		case at := <-interrupted:
			if at.Sub(start) > 2*lockPoll {
				t.Errorf("the holder was interrupted %v after the waiter came; want within %v", at.Sub(start), 2*lockPoll)
			}
		default:
			t.Fatal("the waiter got the lock without the holder being interrupted")
		}
		if waited := time.Since(start); waited > 3*lockPoll {
			t.Errorf("the waiter waited %v", waited)
		}
		b.release(h)
	})
}

// A sweeper's try never waits and never interrupts the holder, in its own
// process or another; a polite waiter (a filing) waits for the release
// without interrupting either.
func TestSweeperAndFilingNeverInterruptAHolder(t *testing.T) {
	cfg := backendConfig(t)
	synctest.Test(t, func(t *testing.T) {
		ls := lockers(t, cfg, 2)
		a, b := ls[0], ls[1]
		ctx := context.Background()
		var interrupts atomic.Int32
		held, err := a.acquire(ctx, "dev-0000000000000001-up-3", func() { interrupts.Add(1) }, true)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range []*uploadLocker{a, b} {
			if _, err := l.tryAcquire(ctx, "dev-0000000000000001-up-3"); !errors.Is(err, errLockBusy) {
				t.Fatalf("a sweeper took a lock in use: %v", err)
			}
		}
		released := make(chan struct{})
		go func() {
			time.Sleep(30 * time.Second)
			a.release(held)
			close(released)
		}()
		start := time.Now()
		h, err := b.acquire(ctx, "dev-0000000000000001-up-3", nil, false)
		if err != nil {
			t.Fatal(err)
		}
		<-released
		if waited := time.Since(start); waited < 30*time.Second || waited > 30*time.Second+lockPoll {
			t.Errorf("the polite waiter got the lock after %v; want when it was released, 30s", waited)
		}
		if n := interrupts.Load(); n != 0 {
			t.Errorf("the holder was interrupted %d times", n)
		}
		b.release(h)
		h, err = a.tryAcquire(ctx, "dev-0000000000000001-up-3")
		if err != nil {
			t.Fatalf("a sweeper could not take a free lock: %v", err)
		}
		a.release(h)
	})
}

// Within one process, a second request for a lock interrupts the first
// and gets the lock once it is released, without waiting for a poll.
func TestLockPassesWithinAProcessAtOnce(t *testing.T) {
	cfg := backendConfig(t)
	synctest.Test(t, func(t *testing.T) {
		a := lockers(t, cfg, 1)[0]
		ctx := context.Background()
		var held *holding
		held, err := a.acquire(ctx, "dev-0000000000000001-up-4", func() { go a.release(held) }, true)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		h, err := a.acquire(ctx, "dev-0000000000000001-up-4", nil, true)
		if err != nil {
			t.Fatal(err)
		}
		if waited := time.Since(start); waited > 10*time.Millisecond {
			t.Errorf("the second request waited %v", waited)
		}
		a.release(h)
	})
}

// BenchmarkUploadLockTakeAndRelease measures what the shared lock adds to
// each request on an upload: one write to take it and one to release it,
// on the records the run uses (SQLite, or PostgreSQL with
// MOTCUA_TEST_PORTAL_DB=postgres), as a portal opens them.
func BenchmarkUploadLockTakeAndRelease(b *testing.B) {
	ctx := context.Background()
	s, err := Open(ctx, Config{DataDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	l := s.locks
	b.RunParallel(func(pb *testing.PB) {
		id := "dev-0000000000000001-bench-" + randomHex(4)
		for pb.Next() {
			h, err := l.acquire(ctx, id, nil, true)
			if err != nil {
				b.Fatal(err)
			}
			if err := l.release(h); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// A process that cannot renew its lease (its database gone) interrupts
// the requests holding its locks before the lease runs out, since the
// others may then take the locks; and they do, once it has.
func TestProcessThatLosesItsDatabaseInterruptsItsUploads(t *testing.T) {
	cfg := backendConfig(t)
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		shared, err := openRecords(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer shared.Close()
		own, err := openRecords(ctx, cfg) // the connections the first process loses
		if err != nil {
			t.Fatal(err)
		}
		a, err := newUploadLocker(ctx, own, slog.New(slog.DiscardHandler), time.Now, processTTL, processBeat, lockPoll)
		if err != nil {
			t.Fatal(err)
		}
		defer a.close()
		b, err := newUploadLocker(ctx, shared, slog.New(slog.DiscardHandler), time.Now, processTTL, processBeat, lockPoll)
		if err != nil {
			t.Fatal(err)
		}
		defer b.close()
		interrupted := make(chan time.Time, 1)
		if _, err := a.acquire(ctx, "dev-0000000000000001-up-5", func() { interrupted <- time.Now() }, true); err != nil {
			t.Fatal(err)
		}
		time.Sleep(processBeat + time.Second)
		lost := time.Now()
		own.Close()
		a.leaseConn.Close() // and the connection its lease keeps
		h, err := b.acquire(ctx, "dev-0000000000000001-up-5", nil, true)
		if err != nil {
			t.Fatal(err)
		}
		taken := time.Now()
		select {
		case at := <-interrupted:
			if !at.Before(taken) {
				t.Errorf("the holder was interrupted at %v, after its lock was taken over at %v", at.Sub(lost), taken.Sub(lost))
			}
		default:
			t.Fatalf("the lock was taken over %v after its process lost its database, and the holder was never interrupted", taken.Sub(lost))
		}
		b.release(h)
	})
}

// serve sends req to s's handler, as from this machine, and returns the
// answer. The request's context ends with it, as a server's does.
func serve(s *Server, req *http.Request) *httptest.ResponseRecorder {
	ctx, cancel := context.WithCancel(req.Context())
	defer cancel()
	req = req.WithContext(ctx)
	req.RemoteAddr = "127.0.0.1:40000"
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	return rec
}

// A request whose upload's lock another process holds, and does not give
// up, waits lockWait for it and is then answered 423 with Retry-After,
// which the uplink retries: never a 500, which tusd answers for a lock it
// could not get.
func TestUploadLockedTooLongIsAnswered423(t *testing.T) {
	cfg := backendConfig(t)
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		// tusd keeps each request's context for its graceful completion
		// timeout (10 s) after the request.
		defer time.Sleep(time.Minute)
		var ss []*Server
		for range 2 {
			s, err := Open(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			ss = append(ss, s)
		}
		a, b := ss[0], ss[1]
		rec := serve(a, httptest.NewRequest("POST", portalapi.PathEnroll, strings.NewReader(enrollBody(t, a, "kiosk-locked"))))
		var enrolled portalapi.EnrollResponse
		if err := json.Unmarshal(rec.Body.Bytes(), &enrolled); rec.Code != http.StatusCreated || err != nil {
			t.Fatalf("enroll: %d %s", rec.Code, rec.Body)
		}
		create := httptest.NewRequest("POST", portalapi.PathUploads, nil)
		create.Header.Set("Tus-Resumable", "1.0.0")
		create.Header.Set("Upload-Length", "3000")
		create.Header.Set("Upload-Metadata", meta(portalapi.MetaIdempotencyKey, "key-locked-0001", portalapi.MetaUploadName, "key-locked-0001-1"))
		create.Header.Set("Authorization", "Bearer "+enrolled.Token)
		if rec := serve(a, create); rec.Code != http.StatusCreated {
			t.Fatalf("create: %d %s", rec.Code, rec.Body)
		}
		id := enrolled.DeviceID + "-key-locked-0001-1"
		// A request of the first process that never lets go.
		h, err := a.locks.acquire(ctx, id, func() {}, true)
		if err != nil {
			t.Fatal(err)
		}
		head := httptest.NewRequest("HEAD", portalapi.PathUploads+id, nil)
		head.Header.Set("Tus-Resumable", "1.0.0")
		head.Header.Set("Authorization", "Bearer "+enrolled.Token)
		start := time.Now()
		rec = serve(b, head)
		if rec.Code != http.StatusLocked || rec.Header().Get("Retry-After") == "" || time.Since(start) != lockWait {
			t.Errorf("HEAD of an upload locked elsewhere: %d Retry-After %q after %v; want 423 with Retry-After after %v",
				rec.Code, rec.Header().Get("Retry-After"), time.Since(start), lockWait)
		}
		a.locks.release(h)
		if rec := serve(b, head); rec.Code != http.StatusOK || rec.Header().Get("Upload-Offset") != "0" {
			t.Errorf("HEAD once the lock is free: %d offset %q", rec.Code, rec.Header().Get("Upload-Offset"))
		}
	})
}
