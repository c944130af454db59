package portal

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/motcua/motcua/internal/migration"
	"github.com/motcua/motcua/internal/pgdb"
	"github.com/motcua/motcua/internal/pgtest"
	"github.com/motcua/motcua/internal/sqlitedb"
	"github.com/motcua/motcua/sync/portalapi"
)

// These tests are about records that several portal processes share, so
// they run on PostgreSQL whatever MOTCUA_TEST_PORTAL_DB says (skipped only
// when the machine has no PostgreSQL and the run does not ask for it).

// sharedPortals opens n portals on one new PostgreSQL database and one data
// directory (one key file), as n processes of a province's portal, serves
// each on 127.0.0.1, and enrolls one device through the first: each
// returned testPortal is that device talking to one of the processes.
func sharedPortals(t *testing.T, n int) []*testPortal {
	t.Helper()
	url := pgtest.New(t)
	dir := t.TempDir()
	now := time.Date(2026, 11, 23, 2, 0, 0, 0, time.UTC) // Monday 09:00 in Vietnam
	var ps []*testPortal
	for range n {
		s, err := Open(context.Background(), Config{OpenEnrollment: true, DataDir: dir, DatabaseURL: url,
			Now: func() time.Time { return now }, FilingInterval: -1})
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, &testPortal{Server: s, url: newServer(t, s), t: t})
	}
	first := ps[0].enrollAnother("kiosk-1")
	for _, p := range ps {
		p.token, p.device = first.token, first.device
	}
	return ps
}

// on returns p's device talking to the portal process of q.
func (p *testPortal) on(q *testPortal) *testPortal {
	return &testPortal{Server: q.Server, url: q.url, token: p.token, device: p.device, t: p.t}
}

// Two portal processes on one database, each sent the same application at
// once (a kiosk retrying through a load balancer), file it once: both get
// the one file code, one 201 and one 200, and the day's sequence moves by
// one. Both requests are held until each has passed its checks, so both
// reach the filing transaction with the key not yet filed.
func TestTwoPortalsFileOneKeyOnce(t *testing.T) {
	ps := sharedPortals(t, 2)
	var arrived sync.WaitGroup
	release := make(chan struct{})
	hold := func() { arrived.Done(); <-release }
	ps[0].beforeFile, ps[1].beforeFile = hold, hold
	const n = 10
	for i := range n {
		key := fmt.Sprintf("key-once-%04d", i)
		arrived.Add(2)
		var wg sync.WaitGroup
		codes := make([]int, 2)
		rcs := make([]portalapi.Receipt, 2)
		for j, p := range ps {
			wg.Go(func() { codes[j] = p.do("POST", portalapi.PathSubmissions, nil, manifest(key), &rcs[j]) })
		}
		arrived.Wait()
		release <- struct{}{}
		release <- struct{}{}
		wg.Wait()
		slices.Sort(codes)
		if codes[0] != 200 || codes[1] != 201 || rcs[0].FileCode != rcs[1].FileCode || rcs[0].FileCode == "" {
			t.Fatalf("key %s sent to both processes at once: %v %+v, want 200 and 201 with one file code", key, codes, rcs)
		}
		if want := portalapi.FormatFileCode(DefaultAgencyCode, ps[0].now().In(vietnam), i+1); rcs[0].FileCode != want {
			t.Fatalf("key %s got %s, want %s: the day's sequence moved by more than one", key, rcs[0].FileCode, want)
		}
	}
	list, err := ps[1].List(t.Context())
	if err != nil || len(list) != n {
		t.Fatalf("List = %d submissions, %v; want %d", len(list), err, n)
	}
}

// Many devices filing at once through three portal processes on one
// database get distinct file codes, and the day's codes have no gap: 1 to
// the number filed.
func TestThreePortalsIssueDistinctGaplessFileCodes(t *testing.T) {
	ps := sharedPortals(t, 3)
	const devices, each = 6, 10
	var kiosksOn [][]*testPortal
	for d := range devices {
		dev := ps[0].enrollAnother(fmt.Sprintf("kiosk-%d", d+2))
		kiosksOn = append(kiosksOn, []*testPortal{dev.on(ps[0]), dev.on(ps[1]), dev.on(ps[2])})
	}
	var wg sync.WaitGroup
	errs := make(chan string, devices*each)
	for d, on := range kiosksOn {
		for i := range each {
			wg.Go(func() {
				var rc portalapi.Receipt
				p := on[i%len(on)]
				if code := p.do("POST", portalapi.PathSubmissions, nil, manifest(fmt.Sprintf("key-d%d-%04d", d, i)), &rc); code != 201 {
					errs <- fmt.Sprintf("device %d filing %d: %d", d, i, code)
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	list, err := ps[2].List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var seqs []int
	for _, s := range list {
		i := strings.LastIndexByte(s.FileCode, '-')
		n, err := strconv.Atoi(s.FileCode[i+1:])
		if err != nil {
			t.Fatalf("file code %s", s.FileCode)
		}
		seqs = append(seqs, n)
	}
	sort.Ints(seqs)
	if len(seqs) != devices*each {
		t.Fatalf("%d filed, want %d", len(seqs), devices*each)
	}
	for i, n := range seqs {
		if n != i+1 {
			t.Fatalf("the day's sequences are %v: want 1 to %d, each once", seqs, devices*each)
		}
	}
}

// A device's status cursor never passes an event that is not committed
// yet. A filing on one process is held after its event is written and
// before it commits; meanwhile an officer on another process moves the
// device's earlier file on, and the device pulls its status. Were the
// officer's event to commit first with the greater seq, the pull would move
// the cursor past the filing's, which the device would then never see. The
// change waits for the filing's hold on the device, so the pull sees
// neither, then both.
func TestStatusCursorNeverPassesAnUncommittedEventAcrossPortals(t *testing.T) {
	ps := sharedPortals(t, 2)
	a, b := ps[0], ps[1]
	var earlier portalapi.Receipt
	if code := b.do("POST", portalapi.PathSubmissions, nil, manifest("key-earlier-0001"), &earlier); code != 201 {
		t.Fatalf("earlier filing: %d", code)
	}
	var page portalapi.StatusPage
	b.do("GET", portalapi.PathStatus, nil, "", &page)
	cursor := page.Cursor
	held := make(chan struct{})
	release := make(chan struct{})
	a.beforeCommit = func(key string) {
		if key == "key-held-0002" {
			close(held)
			<-release
		}
	}
	filed := make(chan int, 1)
	go func() { filed <- a.do("POST", portalapi.PathSubmissions, nil, manifest("key-held-0002"), nil) }()
	<-held
	advanced := make(chan error, 1)
	go func() {
		advanced <- b.AdvanceBy(context.Background(), earlier.FileCode, portalapi.InReview, "", Handler{Officer: "Lê Văn An"})
	}()
	// Wait until the change has either committed (the fault) or waits
	// for a lock the filing holds.
	admin, err := pgdb.Connect(t.Context(), b.cfg.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	var advanceErr error
	done := false
	for !done {
		select {
		case advanceErr = <-advanced:
			done = true
			continue
		default:
		}
		var waiting int
		if err := admin.QueryRow(`SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting > 0 {
			break
		}
		time.Sleep(time.Millisecond) // polls a condition; nothing is timed
	}
	page = portalapi.StatusPage{}
	if code := b.do("GET", portalapi.PathStatus+"?cursor="+strconv.FormatInt(cursor, 10), nil, "", &page); code != 200 {
		t.Fatalf("status: %d", code)
	}
	seen := page.Events
	if len(page.Events) > 0 {
		cursor = page.Cursor
	}
	close(release)
	if code := <-filed; code != 201 {
		t.Fatalf("held filing: %d", code)
	}
	if !done {
		advanceErr = <-advanced
	}
	if advanceErr != nil {
		t.Fatal(advanceErr)
	}
	page = portalapi.StatusPage{}
	b.do("GET", portalapi.PathStatus+"?cursor="+strconv.FormatInt(cursor, 10), nil, "", &page)
	seen = append(seen, page.Events...)
	var all portalapi.StatusPage
	a.do("GET", portalapi.PathStatus+"?cursor=0", nil, "", &all)
	if len(all.Events) != 3 {
		t.Fatalf("the device has %d events, want 3: %+v", len(all.Events), all.Events)
	}
	if len(seen) != 2 {
		t.Fatalf("pulling after the first event saw %+v; the device has %+v: an event was skipped", seen, all.Events)
	}
}

// Two officers on two portal processes deciding one file at once (one
// approves, the other rejects) do not both win: the second reads the
// state again once the first has committed, and is refused. The test holds
// the device's row itself until both changes wait for it.
func TestTwoOfficersOnTwoPortalsCannotBothDecideAFile(t *testing.T) {
	ps := sharedPortals(t, 2)
	var rc portalapi.Receipt
	if code := ps[0].do("POST", portalapi.PathSubmissions, nil, manifest("key-decide-0001"), &rc); code != 201 {
		t.Fatalf("filing: %d", code)
	}
	admin, err := pgdb.Connect(t.Context(), ps[0].cfg.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	tx, err := admin.Begin()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(`SELECT 1 FROM devices WHERE id = ? FOR UPDATE`, ps[0].device); err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 2)
	for i, to := range []portalapi.State{portalapi.Done, portalapi.Rejected} {
		go func() {
			errs <- ps[i].AdvanceBy(context.Background(), rc.FileCode, to, "", Handler{Officer: "officer " + string(to)})
		}()
	}
	waitForLockWaiters(t, admin, 2)
	tx.Commit()
	var refused, moved int
	for range 2 {
		switch err := <-errs; {
		case err == nil:
			moved++
		case errors.Is(err, ErrIllegalTransition):
			refused++
		default:
			t.Fatal(err)
		}
	}
	if moved != 1 || refused != 1 {
		t.Fatalf("%d changes made, %d refused; want one of each", moved, refused)
	}
	var page portalapi.StatusPage
	ps[1].do("GET", portalapi.PathStatus, nil, "", &page)
	if len(page.Events) != 2 {
		t.Fatalf("events %+v, want the filing and one decision", page.Events)
	}
}

// waitForLockWaiters waits until n sessions of db's database wait for a
// lock.
func waitForLockWaiters(t *testing.T, db *sql.DB, n int) {
	t.Helper()
	for {
		var waiting int
		if err := db.QueryRow(`SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting >= n {
			return
		}
		time.Sleep(time.Millisecond) // polls a condition; nothing is timed
	}
}

// Three processes opening a new database at once (a province's portal
// started by its service manager) apply the migrations once and make one
// data key and one instance id, which all three use.
func TestThreePortalsOpenANewDatabaseAtOnce(t *testing.T) {
	url := pgtest.New(t)
	dir := t.TempDir()
	servers := make([]*Server, 3)
	errs := make([]error, 3)
	var wg sync.WaitGroup
	for i := range servers {
		wg.Go(func() {
			servers[i], errs[i] = Open(context.Background(), Config{OpenEnrollment: true, DataDir: dir, DatabaseURL: url})
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		defer servers[i].Close()
	}
	for _, s := range servers[1:] {
		if s.Instance() != servers[0].Instance() || s.Instance() == "" {
			t.Fatalf("instances %q and %q", servers[0].Instance(), s.Instance())
		}
	}
	var keys, migrations int
	servers[0].db.QueryRow(`SELECT count(*) FROM data_keys`).Scan(&keys)
	servers[0].db.QueryRow(`SELECT count(*) FROM schema_migrations`).Scan(&migrations)
	if keys != 1 || migrations != migration.Version(pgMigrations) {
		t.Fatalf("%d data keys, %d migrations applied; want 1 and %d", keys, migrations, migration.Version(pgMigrations))
	}
	// A form sealed by one process opens in another.
	p := &testPortal{Server: servers[0], url: newServer(t, servers[0]), t: t}
	p = p.enrollAnother("kiosk-1")
	var rc portalapi.Receipt
	if code := p.do("POST", portalapi.PathSubmissions, nil, manifest("key-sealed-0001"), &rc); code != 201 {
		t.Fatalf("filing: %d", code)
	}
	if form, err := servers[2].Form(t.Context(), rc.FileCode); err != nil || !strings.Contains(string(form), "Nguyễn Minh Khang") {
		t.Fatalf("another process reads the form as %s, %v", form, err)
	}
}

// A database URL that is not one, or a server that does not answer, stops
// Open with an error naming what is wrong and where, without the password.
func TestPortalDatabaseURLErrorsSayWhatIsWrong(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	for _, tc := range []struct {
		url  string
		want error
		says string
	}{
		{"portal.db", pgdb.ErrBadURL, "must start with postgres://"},
		{"postgres://motcua:secret@db:port/portal", pgdb.ErrBadURL, "invalid port"},
		{"postgres://motcua:secret@" + closed + "/portal?connect_timeout=2", pgdb.ErrUnreachable, closed},
	} {
		_, err := Open(context.Background(), Config{DataDir: t.TempDir(), DatabaseURL: tc.url})
		if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.says) || strings.Contains(err.Error(), "secret") {
			t.Errorf("Open with %q = %v; want %v saying %q, no password", tc.url, err, tc.want, tc.says)
		}
	}
}

// The PostgreSQL migrations build the same tables and columns as the
// SQLite ones: a migration added to one set and not the other fails here.
func TestPostgresMigrationsMatchSQLite(t *testing.T) {
	if a, b := migration.Version(migrations), migration.Version(pgMigrations); a != b {
		t.Fatalf("%d SQLite migrations, %d PostgreSQL ones: each migration needs both", a, b)
	}
	ctx := context.Background()
	lite, err := sqlitedb.Open(ctx, t.TempDir()+"/portal.db", migrations, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer lite.Close()
	pg, err := pgdb.Open(ctx, pgtest.New(t), pgMigrations, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	liteCols := queryStrings(t, lite, `SELECT m.name || '.' || p.name FROM sqlite_schema m, pragma_table_info(m.name) p
		WHERE m.type = 'table' ORDER BY 1`)
	pgCols := queryStrings(t, pg, `SELECT table_name || '.' || column_name FROM information_schema.columns
		WHERE table_schema = 'public' AND table_name != 'schema_migrations' ORDER BY 1`)
	sort.Strings(liteCols)
	sort.Strings(pgCols)
	if !slices.Equal(liteCols, pgCols) {
		t.Fatalf("columns differ:\nSQLite:     %v\nPostgreSQL: %v", liteCols, pgCols)
	}
}

// queryStrings returns the one text column of q's rows.
func queryStrings(t *testing.T, db *sql.DB, q string) []string {
	t.Helper()
	rows, err := db.Query(q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// A portal whose PostgreSQL server goes away says so in its health check
// (503, "database" failed, its instance id kept) instead of answering ok.
// The server is one of the test's own.
func TestHealthSaysDatabaseWhenPostgresStops(t *testing.T) {
	srv, err := pgtest.Start(t.Context())
	if errors.Is(err, pgtest.ErrNoPostgres) && !pgtest.Wanted() {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	url, err := srv.NewDatabase(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(context.Background(), Config{OpenEnrollment: true, DataDir: t.TempDir(), DatabaseURL: url})
	if err != nil {
		t.Fatal(err)
	}
	p := &testPortal{Server: s, url: newServer(t, s), t: t}
	var h portalapi.Health
	if code := p.do("GET", portalapi.PathHealth, nil, "", &h); code != 200 || h.Status != "ok" {
		t.Fatalf("health with PostgreSQL up: %d %+v", code, h)
	}
	srv.Stop()
	h = portalapi.Health{}
	if code := p.do("GET", portalapi.PathHealth, nil, "", &h); code != 503 || !slices.Equal(h.Failed, []string{healthDatabase}) || h.Instance != s.Instance() {
		t.Fatalf("health with PostgreSQL stopped: %d %+v, want 503 naming the database", code, h)
	}
}
