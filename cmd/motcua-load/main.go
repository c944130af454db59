//go:build load

// Command motcua-load is the reference portal's load test: it starts
// `motcua portal` as an operator would (one process, or several behind a
// round-robin proxy), enrolls a thousand simulated kiosks, each with its own
// device key and token, and has each deliver its applications over the
// real protocol (tus 1.0 uploads carrying signed manifests, idempotency
// keys and SHA-256 checksums) until it holds every receipt. It then checks
// that the portal filed each application exactly once, through the
// kiosks' status pulls and the portal's records, and reports throughput,
// times to receipt, each process's CPU and peak memory, and the sizes of
// the database and the uploads.
//
// It is built only with the load tag, so `go build ./...`, `go test ./...`
// and the packages leave it out: it is a tool that starts servers and runs
// for minutes, not part of the kiosk or the portal. Its pure logic is
// internal/loadtest, which the ordinary tests cover.
//
//	go run -tags load ./cmd/motcua-load --kiosks 1000 --apps 20 --out /tmp/load
//
// Every kiosk comes from its own loopback address (127.1.0.1, 127.1.0.2,
// ...), as kiosks of a province come from their own addresses: the portal's
// per-address limits (enrollments, connections, failed authentications)
// then apply to each kiosk as they would in the field. Behind the proxy
// the proxy connects to the portals from the kiosk's address (as a
// transparent proxy does), so those limits still see the kiosk.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/motcua/motcua/internal/loadtest"
	"github.com/motcua/motcua/internal/pgdb"
	"github.com/motcua/motcua/sync/portalapi"
)

// options are the command line's.
type options struct {
	kiosks, apps       int
	minPages, maxPages int
	pageSize           int
	procs              int
	db, uploads        string
	pg, s3             bool
	batch              int
	motcua             string
	work               string
	keep               bool
	enroll             string
	out                string
	ramp               time.Duration
	timeout            time.Duration
	cpuProfile         string
	profile            time.Duration
	portalArgs         multiFlag
	seed               uint64
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, " ") }
func (m *multiFlag) Set(s string) error { *m = append(*m, s); return nil }

func main() {
	if len(os.Args) > 1 && os.Args[1] == "proxy" {
		os.Exit(runProxy(os.Args[2:]))
	}
	var o options
	fs := flag.NewFlagSet("motcua-load", flag.ExitOnError)
	fs.IntVar(&o.kiosks, "kiosks", 1000, "simulated kiosks, each with its own device key, token and loopback address")
	fs.IntVar(&o.apps, "apps", 20, "applications each kiosk delivers")
	fs.IntVar(&o.minPages, "min-pages", 1, "fewest scanned pages of an application")
	fs.IntVar(&o.maxPages, "max-pages", 3, "most scanned pages of an application")
	fs.IntVar(&o.pageSize, "page-size", 30<<10, "bytes of a scanned page (random, like a JPEG)")
	fs.IntVar(&o.batch, "batch", 1, "applications per upload: 1 sends each alone as it is captured; more captures them all first and sends them in uploads of up to this many (at most 32) and 2 MB, as the uplink sends a backlog")
	fs.IntVar(&o.procs, "procs", 1, "portal processes; more than one are put behind a round-robin proxy")
	fs.StringVar(&o.db, "db", "", "passed to each portal as --db (e.g. postgres://...); empty: SQLite in the data directory")
	fs.StringVar(&o.uploads, "uploads", "", "passed to each portal as --uploads (e.g. s3://bucket?endpoint=...); empty: the data directory")
	fs.BoolVar(&o.pg, "pg", false, "start a PostgreSQL server (durable settings) in the work directory for the records, and pass it as --db")
	fs.BoolVar(&o.s3, "s3", false, "start a SeaweedFS S3 server (internal/s3test; weed on PATH, /usr/local/bin/weed or $MOTCUA_TEST_WEED) with a fresh bucket for the uploads, and pass it as --uploads")
	fs.StringVar(&o.motcua, "motcua", "", "the motcua binary to run; empty: built from ./cmd/motcua into the work directory")
	fs.StringVar(&o.work, "work", "", "work directory (portal data, logs, binary); empty: a new temporary one, removed unless --keep")
	fs.BoolVar(&o.keep, "keep", false, "keep the work directory")
	fs.StringVar(&o.enroll, "enroll", "open", "how kiosks enroll: open (--open-enrollment, loopback) or codes (one `motcua portal enroll-code` each, as an operator does)")
	fs.StringVar(&o.out, "out", "", "write the report to OUT.json and OUT.md")
	fs.DurationVar(&o.ramp, "ramp", 0, "spread the kiosks' starts over this long (0: all at once, a province's backlog after an outage)")
	fs.DurationVar(&o.timeout, "timeout", time.Hour, "give up after this long")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write this process's (the kiosks' and the test's) CPU profile to the file")
	fs.DurationVar(&o.profile, "profile", 0, "take a CPU profile and a lock contention profile of each portal this long, from 2 s into the delivery, into the work directory, with pprof -top beside them (0: none)")
	fs.Var(&o.portalArgs, "portal-arg", "one more argument for each portal process (repeatable)")
	fs.Uint64Var(&o.seed, "seed", 1, "seed of the pages and page counts")
	fs.Parse(os.Args[1:])
	if o.kiosks < 1 || o.apps < 1 || o.minPages < 1 || o.maxPages < o.minPages || o.pageSize < 1 || o.procs < 1 ||
		o.kiosks > 60000 || o.batch < 1 || o.batch > portalapi.MaxBatch || (o.enroll != "open" && o.enroll != "codes") {
		fmt.Fprintln(os.Stderr, "motcua-load: --kiosks 1..60000, --apps, --min-pages, --page-size and --procs at least 1, --max-pages at least --min-pages, --enroll open or codes, --batch 1..32")
		os.Exit(2)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	// The report names the command, but not a password in --db.
	command := strings.Join(os.Args, " ")
	if o.db != "" {
		command = strings.ReplaceAll(command, o.db, pgdb.Redact(o.db))
	}
	r, err := run(ctx, o, log, command)
	if err != nil {
		log.Error("load test failed", "err", err)
		os.Exit(1)
	}
	if !r.OK() {
		log.Error("not every application was delivered and filed exactly once", "receipts", r.Receipts,
			"records", r.Records, "status", r.Status, "stopped", r.Stopped)
		os.Exit(1)
	}
}

// run runs the whole test and returns its report.
func run(ctx context.Context, o options, log *slog.Logger, command string) (*loadtest.Report, error) {
	work := o.work
	if work == "" {
		var err error
		if work, err = os.MkdirTemp("", "motcua-load-"); err != nil {
			return nil, err
		}
		if !o.keep {
			defer os.RemoveAll(work)
		}
	} else if err := os.MkdirAll(work, 0o755); err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(work, "portal")); err == nil {
		return nil, fmt.Errorf("%s already holds a portal's records from an earlier run: give a new --work", work)
	}
	log.Info("work directory", "dir", work)
	bin := o.motcua
	if bin == "" {
		bin = filepath.Join(work, "motcua")
		if err := buildMotcua(ctx, bin); err != nil {
			return nil, err
		}
	}
	var groups []group
	if o.pg {
		if o.db != "" {
			return nil, fmt.Errorf("--pg and --db %s: one or the other", o.db)
		}
		srv, url, err := startPostgres(ctx, filepath.Join(work, "pg"), 50*o.procs+20)
		if err != nil {
			return nil, err
		}
		defer srv.Stop()
		o.db = url
		groups = append(groups, group{name: "postgres (all its processes)", pid: srv.Pid()})
		log.Info("postgres started", "url", url, "pid", srv.Pid())
	}
	var bucket func(context.Context) int64
	if o.s3 {
		if o.uploads != "" {
			return nil, fmt.Errorf("--s3 and --uploads %s: one or the other", o.uploads)
		}
		srv, name, uploads, pid, err := startS3(ctx)
		if err != nil {
			return nil, err
		}
		defer srv.Stop()
		o.uploads = uploads
		bucket = func(ctx context.Context) int64 { return bucketSize(ctx, srv, name) }
		groups = append(groups, group{name: "seaweedfs (weed server)", pid: pid})
		log.Info("seaweedfs started", "uploads", uploads, "pid", pid)
	}
	cl := &cluster{groups: groups, bucket: bucket, bin: bin, dataDir: filepath.Join(work, "portal"), work: work, db: o.db, uploads: o.uploads,
		extra: o.portalArgs, open: o.enroll == "open", maxConns: 2*o.kiosks + 64, log: log}
	if err := cl.start(ctx, o.procs); err != nil {
		cl.stop()
		return nil, err
	}
	defer cl.stop()

	r := &loadtest.Report{Command: command, Started: time.Now().UTC(), Kiosks: o.kiosks, Apps: o.apps, PageSize: o.pageSize,
		Batch: o.batch, Portals: o.procs, Database: backendName(o.db, "sqlite"), Uploads: backendName(o.uploads, "disk"), Enroll: o.enroll,
		Cores: runtime.NumCPU(), Answers: map[string]int{}}

	// Enroll every kiosk before any delivers: enrollment is set-up, not
	// the load.
	pool := newPages(o.seed, 64, o.pageSize)
	kiosks := make([]*kiosk, o.kiosks)
	var codes []string
	t0 := time.Now()
	if o.enroll == "codes" {
		var err error
		if codes, err = cl.enrollCodes(ctx, o.kiosks); err != nil {
			return nil, err
		}
	}
	err := parallel(ctx, o.kiosks, 32, func(i int) error {
		k, err := newKiosk(i, cl.url, o.seed, pool)
		if err != nil {
			return err
		}
		code := ""
		if codes != nil {
			code = codes[i]
		}
		if err := k.enroll(ctx, code); err != nil {
			return fmt.Errorf("kiosk %d: %w", i, err)
		}
		kiosks[i] = k
		return nil
	})
	if err != nil {
		return nil, err
	}
	r.EnrollTime = time.Since(t0)
	log.Info("kiosks enrolled", "kiosks", o.kiosks, "took", r.EnrollTime)

	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return nil, err
		}
	}
	r.LoadBefore = loadavg()
	before, err := cl.usages()
	if err != nil {
		return nil, err
	}
	m0, err := loadtest.ReadMachine()
	if err != nil {
		return nil, err
	}
	start := time.Now()
	results := make([][]result, o.kiosks)
	var wg sync.WaitGroup
	for i, k := range kiosks {
		wg.Go(func() {
			if o.ramp > 0 {
				select {
				case <-time.After(o.ramp * time.Duration(i) / time.Duration(o.kiosks)):
				case <-ctx.Done():
					return
				}
			}
			results[i] = k.deliverAll(ctx, o.apps, o.minPages, o.maxPages, o.batch)
		})
	}
	profiled := make(chan []string, 1)
	if o.profile > 0 {
		go func() {
			if sleep(ctx, 2*time.Second) != nil {
				profiled <- nil
				return
			}
			profiled <- cl.profile(ctx, o.profile)
		}()
	} else {
		profiled <- nil
	}
	progress := make(chan struct{})
	go reportProgress(ctx, log, progress, start)
	wg.Wait()
	close(progress)
	r.Wall = time.Since(start)
	m1, err := loadtest.ReadMachine()
	if err != nil {
		return nil, err
	}
	after, err := cl.usages()
	if err != nil {
		return nil, err
	}
	if o.cpuProfile != "" {
		pprof.StopCPUProfile()
	}
	r.LoadAfter = loadavg()
	profiles := <-profiled
	r.Machine = m1.Sub(m0)
	for i, u := range after {
		u.Usage.CPU -= before[i].Usage.CPU
		u.Usage.RunDelay -= before[i].Usage.RunDelay
		r.Processes = append(r.Processes, u)
	}
	if err := ctx.Err(); err != nil {
		// Stopped (--timeout, or interrupted): what was delivered so far
		// is still checked and reported, with a fresh deadline.
		r.Stopped = fmt.Sprintf("delivery stopped after %s: %v", loadtest.Round(r.Wall), err)
		log.Error("delivery stopped: checking what was delivered", "after", r.Wall, "err", err)
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
	}

	var apps []loadtest.App
	var lat []time.Duration
	for i, rs := range results {
		for _, res := range rs {
			apps = append(apps, loadtest.App{Device: kiosks[i].deviceID, Key: res.key, FileCode: res.fileCode})
			for k, n := range res.answers {
				r.Answers[k] += n
			}
			if res.fileCode != "" {
				r.Receipts++
				r.Bytes += res.bytes
				lat = append(lat, res.took)
			} else {
				log.Warn("no receipt", "kiosk", i, "key", res.key, "err", res.err)
			}
		}
	}
	r.Latency = loadtest.Summarise(lat)
	r.AppsPerSec = float64(r.Receipts) / r.Wall.Seconds()
	r.MBPerSec = float64(r.Bytes) / 1e6 / r.Wall.Seconds()
	log.Info("delivered", "receipts", r.Receipts, "took", r.Wall, "apps_per_s", r.AppsPerSec)

	// What each kiosk's status pull says was filed. A kiosk whose pull
	// fails (the portal broke under the load) is left out of that check,
	// and the report says how many were.
	var mu sync.Mutex
	var events []loadtest.Filed
	unpulled := map[string]bool{}
	parallel(ctx, o.kiosks, 32, func(i int) error {
		evs, err := kiosks[i].receivedEvents(ctx)
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			log.Warn("status pull failed", "kiosk", i, "err", err)
			unpulled[kiosks[i].deviceID] = true
			return nil
		}
		events = append(events, evs...)
		return nil
	})
	r.StatusUnpulled = len(unpulled)
	pulled := apps
	if len(unpulled) > 0 {
		pulled = slices.DeleteFunc(slices.Clone(apps), func(a loadtest.App) bool { return unpulled[a.Device] })
	}
	r.Status = loadtest.Reconcile(pulled, events)
	r.Routes = cl.routes(ctx)
	r.DatabaseBytes, r.UploadsBytes = cl.sizes(ctx)

	cl.top(ctx, profiles)

	// What the portal's records say, read as an operator would.
	cl.stop()
	records, err := cl.records(ctx)
	if err != nil {
		return nil, err
	}
	r.Records = loadtest.Reconcile(apps, records)
	if r.Database == "sqlite" {
		// After the portals closed it, the WAL is folded into the file.
		r.DatabaseBytes, _ = cl.sizes(ctx)
	}

	r.Markdown(os.Stdout)
	if o.out != "" {
		b, err := json.MarshalIndent(r, "", "  ")
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(o.out+".json", b, 0o644); err != nil {
			return nil, err
		}
		f, err := os.Create(o.out + ".md")
		if err != nil {
			return nil, err
		}
		r.Markdown(f)
		if err := f.Close(); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// reportProgress logs the receipts so far every 10 s until done closes.
func reportProgress(ctx context.Context, log *slog.Logger, done <-chan struct{}, start time.Time) {
	t := time.NewTicker(10 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-ctx.Done():
			return
		case <-t.C:
			log.Info("delivering", "receipts", receiptsSoFar.Load(), "elapsed", time.Since(start).Round(time.Second))
		}
	}
}

// parallel runs f(0..n-1) with at most width at once and returns the first
// error.
func parallel(ctx context.Context, n, width int, f func(i int) error) error {
	sem := make(chan struct{}, width)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	for i := range n {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			wg.Wait()
			return ctx.Err()
		}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := f(i); err != nil {
				mu.Lock()
				if first == nil {
					first = err
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return first
}

func backendName(url, def string) string {
	if url == "" {
		return def
	}
	scheme, _, _ := strings.Cut(url, "://")
	if scheme == "postgresql" {
		scheme = "postgres"
	}
	return scheme
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}
