package portal

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	tushandler "github.com/tus/tusd/v2/pkg/handler"

	"github.com/motcua/motcua/sync/portalapi"
)

// Several portal processes may share the records and the uploads (one
// SQLite file or one PostgreSQL database; one uploads directory or
// bucket). An upload is then written, read and removed by whichever
// process a request reaches, so its tus lock is kept where they all look:
// in the records (migration 0008). Each process keeps a row in
// portal_processes whose lease it renews every processBeat; a lock names
// the process that holds it, and is free once that process's lease has
// run out (it was killed, or lost its database). So a lock costs no
// connection while it is held, whatever the number of uploads in
// progress, and one write to take and one to release.
//
// A request that wants a lock another holds marks it wanted; the holding
// process sees the mark within lockPoll and interrupts the request that
// holds it (tusd's requestUnlock), which is how a kiosk that reconnects
// through another process after a cut gets its upload back at once while
// the first process still reads the dead connection.

// The lock timings. A process renews its lease every processBeat for
// processTTL ahead; its locks are taken over processTTL after it died. The
// clocks of the processes sharing the records must agree to well within
// processTTL - processBeat.
const (
	processTTL  = 10 * time.Second
	processBeat = 2 * time.Second
	// lockPoll is how often a holding process looks for its locks
	// wanted, and the longest a waiter waits between two tries.
	lockPoll = 250 * time.Millisecond
	// lockWait is how long a request waits for its upload's lock (tusd's
	// AcquireLockTimeout).
	lockWait = 20 * time.Second
	// politeLockWait is how long a filing waits for the locks of its
	// uploads, without interrupting their holders.
	politeLockWait = 5 * time.Second
)

// errLockBusy is returned (wrapped) when a lock is held by another request.
var errLockBusy = errors.New("the upload is in use by another request")

// errLockRecords is returned (wrapped, with the database's error) when a
// lock could not be taken because its records did not answer in time
// (SQLite busy, PostgreSQL unreachable): nobody was seen holding it, so a
// request refused for it is told to retry, never that the upload is in use.
var errLockRecords = errors.New("the upload locks' records did not answer")

// lockRetryAfter is the wait asked of a request refused because the
// locks' records or the filing's did not answer in time (503).
const lockRetryAfter = 5 * time.Second

// uploadLocker is the portal's tus Locker, kept in the records.
type uploadLocker struct {
	db      *sql.DB
	process string
	log     *slog.Logger
	// now is the leases' clock: the wall clock, not Config.Now, which
	// tests move by days.
	now             func() time.Time
	ttl, beat, poll time.Duration
	stop, done      chan struct{}
	closeOnce       sync.Once
	// leaseConn is a connection of db kept for the lease's renewals, so
	// that they never wait behind the requests' lock takes and filings
	// for one of the pool's connections: database/sql hands a freed
	// connection to a waiter at random, and under 1,000 kiosks a renewal
	// waited past its deadline again and again until the lease of a live
	// process ran out and its 278 uploads in flight were interrupted.
	// Only keepLease's goroutine uses it; a renewal that fails gives it
	// back, and the next takes another.
	leaseConn *sql.Conn

	// mu guards what follows.
	mu sync.Mutex
	// held are the locks this process holds or is taking, by upload.
	held map[string]*holding
	// released are the locks released here whose rows are not deleted
	// yet, by upload: run deletes them together every poll, so that
	// releasing costs a request no write, and a request that takes the
	// lock again meanwhile takes the row as it is (see take).
	released map[string]releasedRow
	// lastBeat is when the lease was last renewed, and lapsed is set once
	// the requests holding locks were interrupted for a lease not renewed.
	lastBeat time.Time
	lapsed   bool
	// alone is set while no other live process shares the records, as
	// the last renewal saw: only then are the rows of released locks
	// deleted later, together (release).
	alone bool
	// renewFailing is set while the lease's renewals fail.
	renewFailing bool
}

// releasedRow is the row of a lock released here, not deleted yet.
type releasedRow struct {
	token string
	// ours is unset once this process's lease ran out after the
	// release: another may have taken the row over since.
	ours bool
}

// holding is one lock held, or being taken, by this process.
type holding struct {
	id, token string
	// released is closed when the holding ends.
	released chan struct{}
	// interrupts stop the request that holds the lock; asked is set
	// once they were called.
	interrupts []func()
	asked      bool
	// inner is tusd's requestUnlock while tusd holds the lock inside a
	// request that took it first (see lockScope).
	inner func()
}

// newUploadLocker registers this process in db and starts renewing its
// lease and watching its locks until close.
func newUploadLocker(ctx context.Context, db *sql.DB, log *slog.Logger, now func() time.Time, ttl, beat, poll time.Duration) (*uploadLocker, error) {
	l := &uploadLocker{db: db, process: "proc-" + randomHex(8), log: log, now: now, ttl: ttl, beat: beat, poll: poll,
		held: map[string]*holding{}, released: map[string]releasedRow{}, stop: make(chan struct{}), done: make(chan struct{})}
	var err error
	if l.leaseConn, err = db.Conn(ctx); err != nil {
		return nil, fmt.Errorf("register this portal process: %w", err)
	}
	host, _ := os.Hostname()
	t := now()
	if err := l.execBusy(ctx, `INSERT INTO portal_processes (id, host, pid, started_at, alive_until) VALUES (?, ?, ?, ?, ?)`,
		l.process, host, os.Getpid(), t.UnixMilli(), t.Add(ttl).UnixMilli()); err != nil {
		l.leaseConn.Close()
		return nil, fmt.Errorf("register this portal process: %w", err)
	}
	l.lastBeat = t
	l.alone = l.countOthers(ctx, l.db, t) == 0
	go l.run()
	return l, nil
}

// records is what the lease's statements run on: the pool, or the
// connection kept for them.
type records interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// countOthers counts the other processes whose lease runs at t; an error
// counts as one, so that a process never takes itself for alone wrongly.
func (l *uploadLocker) countOthers(ctx context.Context, db records, t time.Time) int {
	var n int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM portal_processes WHERE id <> ? AND alive_until > ?`,
		l.process, t.UnixMilli()).Scan(&n); err != nil {
		return 1
	}
	return n
}

// execBusy runs a statement, trying again while the records are busy
// (busyRecords) until ctx is done.
func (l *uploadLocker) execBusy(ctx context.Context, query string, args ...any) error {
	pause := 5 * time.Millisecond
	for {
		_, err := l.db.ExecContext(ctx, query, args...)
		if err == nil || !busyRecords(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(pause):
		}
		pause = min(2*pause, l.poll)
	}
}

// close stops the lease and releases whatever this process still holds,
// so that the others need not wait for the lease to run out.
func (l *uploadLocker) close() {
	l.closeOnce.Do(func() {
		close(l.stop)
		<-l.done
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		l.execBusy(ctx, `DELETE FROM upload_locks WHERE process = ?`, l.process)
		l.execBusy(ctx, `DELETE FROM portal_processes WHERE id = ?`, l.process)
	})
}

// run keeps the lease (keepLease) and, every poll, interrupts the
// requests holding locks that others want and deletes the rows of the
// locks released meanwhile.
func (l *uploadLocker) run() {
	defer close(l.done)
	leaseDone := make(chan struct{})
	go func() {
		defer close(leaseDone)
		l.keepLease()
	}()
	defer func() { <-leaseDone }()
	t := time.NewTicker(l.poll)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), l.ttl)
		l.answerWaiters(ctx)
		l.deleteReleased(ctx)
		cancel()
	}
}

// keepLease renews the lease every beat, on a path of its own: no sweep
// of wanted or released locks delays it. A renewal that fails is tried
// again every poll, not a beat later, so a lease survives the records
// being busy for a while. One that ran out all the same (renew) is taken
// again as soon as the records answer, and the process carries on: the
// locks it held may have been taken over meanwhile, which is as when it
// is killed.
func (l *uploadLocker) keepLease() {
	wait := l.beat
	defer func() {
		if l.leaseConn != nil {
			l.leaseConn.Close()
		}
	}()
	for {
		select {
		case <-l.stop:
			return
		case <-time.After(wait):
		}
		ctx, cancel := context.WithTimeout(context.Background(), l.beat)
		if l.renew(ctx) {
			wait = l.beat
		} else {
			wait = l.poll
		}
		cancel()
	}
}

// renew extends this process's lease and reports whether it did. A lease
// that could not be renewed in time is lost: the others may take its
// locks, so the requests holding them here are interrupted, and the rows
// of locks released here are no longer taken back without a write.
func (l *uploadLocker) renew(ctx context.Context) bool {
	t := l.now()
	var err error
	if l.leaseConn == nil {
		l.leaseConn, err = l.db.Conn(ctx)
	}
	var res sql.Result
	if err == nil {
		res, err = l.leaseConn.ExecContext(ctx, `UPDATE portal_processes SET alive_until = ? WHERE id = ?`, t.Add(l.ttl).UnixMilli(), l.process)
	}
	var n int64
	if err == nil {
		n, err = res.RowsAffected()
	}
	if err == nil && n == 0 {
		// Taken for dead and removed by another process: back again.
		host, _ := os.Hostname()
		_, err = l.leaseConn.ExecContext(ctx, `INSERT INTO portal_processes (id, host, pid, started_at, alive_until) VALUES (?, ?, ?, ?, ?)`,
			l.process, host, os.Getpid(), t.UnixMilli(), t.Add(l.ttl).UnixMilli())
	}
	others := 1
	if err == nil {
		others = l.countOthers(ctx, l.leaseConn, t)
	}
	if err != nil && l.leaseConn != nil {
		// A broken or cancelled connection goes back (or is dropped);
		// the next renewal takes another.
		l.leaseConn.Close()
		l.leaseConn = nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if err == nil {
		l.alone = others == 0
		l.renewFailing = false
		if l.lapsed {
			l.log.Warn("this portal process's lease is taken again after it ran out: it carries on", "process", l.process,
				"lapsed_for", t.Sub(l.lastBeat))
		}
		l.lastBeat = t
		l.lapsed = false
		return true
	}
	if !l.renewFailing {
		// The first failure of a run of them; the lapse and the recovery
		// are logged too.
		l.log.Error("renew this portal process's lease: trying again every poll", "process", l.process, "err", err)
	}
	l.renewFailing = true
	if t.Sub(l.lastBeat) >= l.ttl-l.beat && !l.lapsed {
		l.lapsed = true
		l.log.Error("this portal process's lease ran out: the uploads it was receiving are interrupted", "process", l.process,
			"uploads", len(l.held))
		for _, h := range l.held {
			h.interrupt()
		}
		for id, r := range l.released {
			r.ours = false
			l.released[id] = r
		}
	}
	return false
}

// leaseSure reports whether this process's lease is surely still its
// own: renewed less than ttl - beat ago. The caller holds l.mu.
func (l *uploadLocker) leaseSure() bool {
	return !l.lapsed && l.now().Sub(l.lastBeat) < l.ttl-l.beat
}

// answerWaiters interrupts the requests holding locks that another
// process marked wanted.
func (l *uploadLocker) answerWaiters(ctx context.Context) {
	l.mu.Lock()
	n := len(l.held)
	l.mu.Unlock()
	if n == 0 {
		return
	}
	rows, err := l.db.QueryContext(ctx, `SELECT upload_id, token FROM upload_locks WHERE process = ? AND wanted = 1`, l.process)
	if err != nil {
		l.log.Error("look for wanted upload locks", "err", err)
		return
	}
	defer rows.Close()
	for rows.Next() {
		var id, token string
		if rows.Scan(&id, &token) != nil {
			return
		}
		l.mu.Lock()
		if h := l.held[id]; h != nil && h.token == token {
			h.interrupt()
		}
		l.mu.Unlock()
	}
}

// deleteReleased deletes the rows of the locks released here since the
// last time, in one transaction: one write for all of them. Those it
// could not delete are tried again the next time, unless released again
// meanwhile.
func (l *uploadLocker) deleteReleased(ctx context.Context) {
	l.mu.Lock()
	batch := l.released
	if len(batch) == 0 {
		l.mu.Unlock()
		return
	}
	l.released = map[string]releasedRow{}
	l.mu.Unlock()
	err := l.deleteRows(ctx, batch)
	if err == nil {
		return
	}
	if ctx.Err() == nil {
		l.log.Error("delete the rows of released upload locks", "locks", len(batch), "err", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for id, r := range batch {
		if _, again := l.released[id]; !again && l.held[id] == nil {
			l.released[id] = r
		}
	}
}

func (l *uploadLocker) deleteRows(ctx context.Context, rows map[string]releasedRow) error {
	tx, err := l.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for id, r := range rows {
		if _, err := tx.ExecContext(ctx, `DELETE FROM upload_locks WHERE upload_id = ? AND token = ?`, id, r.token); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// interrupt asks the request holding h to stop, once. The caller holds
// l.mu.
func (h *holding) interrupt() {
	if h.asked {
		return
	}
	h.asked = true
	for _, f := range h.interrupts {
		f()
	}
	if h.inner != nil {
		h.inner()
	}
}

// acquire takes the lock of upload id, waiting until ctx is done. While
// it waits, want marks the lock wanted, so that its holder is interrupted;
// without want it waits for the holder to finish. interrupt, if not nil,
// is called when another request wants the lock taken.
func (l *uploadLocker) acquire(ctx context.Context, id string, interrupt func(), want bool) (*holding, error) {
	return l.take(ctx, id, interrupt, want, true)
}

// tryAcquire takes the lock of upload id if no request holds it, without
// waiting or disturbing the holder: the sweepers' way.
func (l *uploadLocker) tryAcquire(ctx context.Context, id string) (*holding, error) {
	return l.take(ctx, id, nil, false, false)
}

func (l *uploadLocker) take(ctx context.Context, id string, interrupt func(), want, wait bool) (*holding, error) {
	var h *holding
	for h == nil {
		l.mu.Lock()
		if other := l.held[id]; other != nil {
			if !wait {
				l.mu.Unlock()
				return nil, fmt.Errorf("upload %s: %w", id, errLockBusy)
			}
			if want {
				other.interrupt()
			}
			released := other.released
			l.mu.Unlock()
			select {
			case <-released:
				continue
			case <-ctx.Done():
				return nil, tushandler.ErrLockTimeout
			}
		}
		h = &holding{id: id, token: randomHex(8), released: make(chan struct{})}
		if interrupt != nil {
			h.interrupts = append(h.interrupts, interrupt)
		}
		l.held[id] = h
		// A lock released here whose row is not deleted yet is taken
		// back as it is, without a write, while the lease is surely
		// this process's: no other process can have taken the row.
		if r, ok := l.released[id]; ok {
			delete(l.released, id)
			if r.ours && l.leaseSure() {
				h.token = r.token
				l.mu.Unlock()
				return h, nil
			}
		}
		l.mu.Unlock()
	}
	pause := 5 * time.Millisecond
	// held is whether the last try that the database answered found the
	// lock held by another process; lastErr is the last database error.
	held := false
	var lastErr error
	for {
		ok, err := l.insertRow(ctx, h)
		if err == nil && ok {
			return h, nil
		}
		switch {
		case err == nil:
			held, lastErr = true, nil
		case ctx.Err() == nil:
			// Logged by whoever answers for it, once.
			held, lastErr = false, err
		}
		if !wait {
			l.forget(h)
			if err != nil {
				return nil, fmt.Errorf("upload %s: %w: %w", id, errLockRecords, err)
			}
			return nil, fmt.Errorf("upload %s: %w", id, errLockBusy)
		}
		if want && err == nil {
			if _, err := l.db.ExecContext(ctx, `UPDATE upload_locks SET wanted = 1 WHERE upload_id = ? AND wanted = 0`, id); err != nil && ctx.Err() == nil {
				l.log.Error("mark an upload's lock wanted", "upload", id, "err", err)
			}
		}
		select {
		case <-ctx.Done():
			l.forget(h)
			if held {
				return nil, tushandler.ErrLockTimeout
			}
			// Nobody was seen holding it: the records did not answer.
			return nil, fmt.Errorf("upload %s: %w: %w", id, errLockRecords, cmp.Or(lastErr, context.Cause(ctx)))
		case <-time.After(pause):
		}
		pause = min(2*pause, l.poll)
	}
}

// insertRow takes h's lock in the records if it is free: no row, a row
// of this process (whose holdings l.held tells apart), or a row of a
// process whose lease ran out.
func (l *uploadLocker) insertRow(ctx context.Context, h *holding) (bool, error) {
	res, err := l.db.ExecContext(ctx, `INSERT INTO upload_locks (upload_id, process, token, wanted) VALUES (?, ?, ?, 0)
		ON CONFLICT (upload_id) DO UPDATE SET process = excluded.process, token = excluded.token, wanted = 0
		WHERE upload_locks.process = ? OR NOT EXISTS (SELECT 1 FROM portal_processes p
			WHERE p.id = upload_locks.process AND p.alive_until > ?)`,
		h.id, l.process, h.token, l.process, l.now().UnixMilli())
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// forget drops h, never taken, and wakes those waiting for it.
func (l *uploadLocker) forget(h *holding) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.held[h.id] == h {
		delete(l.held, h.id)
	}
	close(h.released)
}

// release gives up h. A process alone on the records gives it up at
// once in itself and deletes its row within a poll, with others'
// (deleteReleased): a request ends without a write, and the next request
// on the upload takes the row back as it is. A process that shares the
// records deletes the row at once, so that the others find the lock free
// without waiting for a poll; if that fails it is deleted later.
func (l *uploadLocker) release(h *holding) error {
	l.mu.Lock()
	alone := l.alone
	l.mu.Unlock()
	var err error
	if !alone {
		ctx, cancel := context.WithTimeout(context.Background(), l.poll)
		_, err = l.db.ExecContext(ctx, `DELETE FROM upload_locks WHERE upload_id = ? AND token = ?`, h.id, h.token)
		cancel()
	}
	l.mu.Lock()
	if l.held[h.id] == h && (alone || err != nil) {
		l.released[h.id] = releasedRow{token: h.token, ours: !l.lapsed}
	}
	l.mu.Unlock()
	l.forget(h)
	return nil
}

// heldHere reports whether a request of this process holds, or is taking,
// the lock of upload id.
func (l *uploadLocker) heldHere(id string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.held[id] != nil
}

// NewLock returns upload id's lock for tusd.
func (l *uploadLocker) NewLock(id string) (tushandler.Lock, error) {
	return &uploadLock{l: l, id: id}, nil
}

// UseIn adds the locker to a tus store composer.
func (l *uploadLocker) UseIn(c *tushandler.StoreComposer) { c.UseLocker(l) }

// uploadLock is one upload's lock as tusd takes it.
type uploadLock struct {
	l  *uploadLocker
	id string
	h  *holding
	// inner is set when the request holds the lock already (lockScope):
	// tusd takes it again, and Unlock leaves it to the request.
	inner *holding
}

// Lock takes the lock for tusd. A request that took it first (lockScope)
// has it already: tusd's requestUnlock is then added to what interrupts
// that request.
func (k *uploadLock) Lock(ctx context.Context, requestUnlock func()) error {
	if h := scopeFrom(ctx).holding(k.id); h != nil {
		k.l.mu.Lock()
		h.inner = requestUnlock
		asked := h.asked
		k.l.mu.Unlock()
		if asked {
			requestUnlock()
		}
		k.inner = h
		return nil
	}
	h, err := k.l.acquire(ctx, k.id, requestUnlock, true)
	if err != nil {
		return err
	}
	k.h = h
	return nil
}

// Unlock releases the lock tusd took.
func (k *uploadLock) Unlock() error {
	if k.inner != nil {
		k.l.mu.Lock()
		k.inner.inner = nil
		k.l.mu.Unlock()
		k.inner = nil
		return nil
	}
	if k.h == nil {
		return nil
	}
	h := k.h
	k.h = nil
	return k.l.release(h)
}

// lockScope holds the upload locks a request took before tusd runs (the
// whole request is under the lock, the spooling of a checksummed chunk
// included) and releases them when the request ends.
type lockScope struct {
	mu    sync.Mutex
	locks map[string]*holding
}

type lockScopeKey struct{}

// withLockScope returns ctx carrying a new, empty lock scope.
func withLockScope(ctx context.Context) (context.Context, *lockScope) {
	sc := &lockScope{locks: map[string]*holding{}}
	return context.WithValue(ctx, lockScopeKey{}, sc), sc
}

func scopeFrom(ctx context.Context) *lockScope {
	sc, _ := ctx.Value(lockScopeKey{}).(*lockScope)
	return sc
}

// holding returns the scope's holding of upload id, if any.
func (sc *lockScope) holding(id string) *holding {
	if sc == nil {
		return nil
	}
	sc.mu.Lock()
	defer sc.mu.Unlock()
	return sc.locks[id]
}

func (sc *lockScope) add(h *holding) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	sc.locks[h.id] = h
}

// asked reports whether a lock of the scope was asked for (interrupted).
func (sc *lockScope) asked(l *uploadLocker) bool {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, h := range sc.locks {
		if h.asked {
			return true
		}
	}
	return false
}

// releaseAll releases every lock of the scope.
func (sc *lockScope) releaseAll(l *uploadLocker) error {
	sc.mu.Lock()
	locks := sc.locks
	sc.locks = map[string]*holding{}
	sc.mu.Unlock()
	var errs []error
	for _, h := range locks {
		errs = append(errs, l.release(h))
	}
	return errors.Join(errs...)
}

// lockUploads takes, politely (without interrupting their holders), the
// locks of the uploads ids that ctx's request does not hold already, for
// a filing: no sweeper removes them while the filing is checked and
// recorded. It returns the function that releases them, and the ids whose
// lock stayed busy for politeLockWait.
func (s *Server) lockUploads(ctx context.Context, ids []string) (release func(), busy []string, err error) {
	ids = append([]string(nil), ids...)
	sort.Strings(ids)
	sc := scopeFrom(ctx)
	var taken []*holding
	release = func() {
		for _, h := range taken {
			if err := s.locks.release(h); err != nil {
				s.log.Error("release an upload's lock", "err", err)
			}
		}
	}
	wait, cancel := context.WithTimeout(ctx, politeLockWait)
	defer cancel()
	for i, id := range ids {
		if id == "" || (i > 0 && ids[i-1] == id) || sc.holding(id) != nil {
			continue
		}
		h, err := s.locks.acquire(wait, id, nil, false)
		if errors.Is(err, tushandler.ErrLockTimeout) && ctx.Err() == nil {
			busy = append(busy, id)
			continue
		}
		if err != nil {
			release()
			return func() {}, nil, err
		}
		taken = append(taken, h)
	}
	return release, busy, nil
}

// lockedUploads holds a request on an upload (HEAD, PATCH) under the
// upload's lock from the moment its device and ownership are checked to
// its end: the spooling of a checksummed chunk, before tusd sees a byte,
// is under it too, so no sweeper in any process removes an upload a
// request is working on. A request that waits for the lock longer than
// lockWait is answered 423 with Retry-After. Every request gets a lock
// scope, in which a creation takes the lock of the upload it names
// (preUploadCreate) and a filing those of its uploads (submit).
func (s *Server) lockedUploads(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodOptions {
			next.ServeHTTP(w, r)
			return
		}
		ctx, sc := withLockScope(r.Context())
		defer func() {
			if err := sc.releaseAll(s.locks); err != nil {
				s.log.Error("release an upload's lock", "err", err)
			}
		}()
		iw := &interruptedWriter{ResponseWriter: w, sc: sc, l: s.locks}
		w = iw
		if id := strings.Trim(strings.TrimPrefix(r.URL.Path, strings.TrimSuffix(portalapi.PathUploads, "/")), "/"); id != "" {
			stop := &bodyInterrupt{rc: http.NewResponseController(w)}
			wait, cancel := context.WithTimeout(ctx, lockWait)
			h, err := s.locks.acquire(wait, id, stop.interrupt, true)
			cancel()
			if err != nil {
				if r.Context().Err() != nil {
					return
				}
				if !errors.Is(err, tushandler.ErrLockTimeout) {
					s.lockUnavailable(w, r, err)
					return
				}
				s.log.Warn("an upload's lock stayed busy", "upload", id, "method", r.Method, "waited", lockWait)
				w.Header().Set("Retry-After", "1")
				refuseUnread(w, http.StatusLocked, portalapi.CodeConflict,
					"upload "+id+" is in use by another request: retry")
				return
			}
			sc.add(h)
			ctx = context.WithValue(ctx, bodyInterruptKey{}, stop)
			// The connection may carry the next request once this one
			// returns: an interruption must not reach it.
			defer stop.end()
			if r.ContentLength == 0 {
				stop.bodyRead()
			} else {
				r.Body = &watchedBody{ReadCloser: r.Body, b: stop}
			}
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// lockUnavailable answers 503 with Retry-After to a request whose
// upload's lock could not be taken because the records did not answer
// (errLockRecords), and logs why: nobody holds the upload, so the request
// is neither refused nor told it is in use, only asked to retry.
func (s *Server) lockUnavailable(w http.ResponseWriter, r *http.Request, err error) {
	s.log.Error("take an upload's lock: answered 503", "method", r.Method, "path", r.URL.Path, "err", err)
	w.Header().Set("Retry-After", strconv.Itoa(retryAfterSeconds(lockRetryAfter)))
	refuseUnread(w, http.StatusServiceUnavailable, portalapi.CodeUnavailable,
		"the portal cannot reach its upload locks: retry later")
}

// freshContext serves a request that arrives with its context already
// cancelled with a context of its own, and closes its connection after
// the answer. Its connection's context was cancelled for good while the
// connection was kept: by a read deadline set after an earlier request's
// body was read (an interruption for an upload's lock, tusd's or ours,
// that bodyInterrupt and interruptedWriter did not keep from it). Served
// with that context, the request would fail at its first query and be
// answered 503, and so would every later one on the connection: the
// wedge the load test found.
func freshContext(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Context().Err() != nil {
			w.Header().Set("Connection", "close")
			r = r.WithContext(context.WithoutCancel(r.Context()))
		}
		next.ServeHTTP(w, r)
	})
}

// bodyInterrupt cuts the reads of a request's body when another request
// wants its upload's lock, until tusd takes over (it has its own way).
//
// Cutting a read sets the connection's read deadline to now. Once the body
// is all read, net/http reads on in the background to see the connection
// close, and a read deadline then fails that read and cancels the
// connection's context for good, though the connection is kept for the
// next request: each later request on it would meet a cancelled context
// (the wedge the load test found: every HEAD answered 503 at once). So the
// deadline is set only while the body is being read, and the answer to an
// interrupted request closes its connection (interruptedWriter), tusd
// having cut its own reads the same way.
type bodyInterrupt struct {
	rc   *http.ResponseController
	mu   sync.Mutex
	stop bool
	// ended is set when the request's handler returned, and read once
	// its body was all read (or its reading failed).
	ended, read bool
}

// bodyRead notes that the request's body was all read: an interruption
// no longer touches the connection.
func (b *bodyInterrupt) bodyRead() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.read = true
}

// watchedBody tells its bodyInterrupt when it was all read.
type watchedBody struct {
	io.ReadCloser
	b *bodyInterrupt
}

func (w *watchedBody) Read(p []byte) (int, error) {
	n, err := w.ReadCloser.Read(p)
	if err != nil {
		w.b.bodyRead()
	}
	return n, err
}

// interruptedWriter closes the connection after the answer to a request
// any of whose upload locks was asked for (a creation's, a filing's
// included): tusd, or bodyInterrupt, may have set its read deadline, so
// its connection's context may be cancelled (see bodyInterrupt), and must
// not serve another request.
type interruptedWriter struct {
	http.ResponseWriter
	sc   *lockScope
	l    *uploadLocker
	done bool
}

func (i *interruptedWriter) WriteHeader(code int) {
	if !i.done {
		i.done = true
		if i.sc.asked(i.l) {
			i.Header().Set("Connection", "close")
		}
	}
	i.ResponseWriter.WriteHeader(code)
}

func (i *interruptedWriter) Write(p []byte) (int, error) {
	if !i.done {
		i.WriteHeader(http.StatusOK)
	}
	return i.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController (tusd's, the spooling's) reach the
// connection.
func (i *interruptedWriter) Unwrap() http.ResponseWriter { return i.ResponseWriter }

// end stops the interruptions: the request is over.
func (b *bodyInterrupt) end() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.ended = true
}

type bodyInterruptKey struct{}

func bodyInterruptFrom(ctx context.Context) *bodyInterrupt {
	b, _ := ctx.Value(bodyInterruptKey{}).(*bodyInterrupt)
	return b
}

// errInterrupted is a body read cut for another request.
var errInterrupted = errors.New("interrupted: another request wants this upload")

// interrupt cuts the read in progress, and those to come.
func (b *bodyInterrupt) interrupt() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ended {
		return
	}
	b.stop = true
	if !b.read {
		b.rc.SetReadDeadline(time.Now())
	}
}

func (b *bodyInterrupt) interrupted() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.stop
}

// setDeadline moves the read deadline on to t, unless the reads were
// interrupted.
func (b *bodyInterrupt) setDeadline(t time.Time) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.stop {
		return errInterrupted
	}
	return b.rc.SetReadDeadline(t)
}
