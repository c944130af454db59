//go:build load

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/motcua/motcua/internal/loadtest"
	"github.com/motcua/motcua/internal/pgdb"
	"github.com/motcua/motcua/sync/portalapi"
)

// cluster is the portal processes under test, and the proxy in front of
// them when there are several.
type cluster struct {
	bin, dataDir, work string
	db, uploads        string
	extra              []string
	open               bool
	maxConns           int
	log                *slog.Logger
	// url is where the kiosks send: the portal, or the proxy.
	url     string
	portals []*proc
	proxy   *proc
	// groups are servers of several processes (PostgreSQL), by name and
	// process group, whose usage is counted too.
	groups []group
	// bucket, when set, measures the uploads' bucket.
	bucket func(context.Context) int64
}

type group struct {
	name string
	pid  int
}

// proc is one process the test started.
type proc struct {
	name    string
	cmd     *exec.Cmd
	url     string
	metrics string
	// pprof is the address of its Go profiles, when built with them.
	pprof string
	done  chan struct{}
}

func buildMotcua(ctx context.Context, out string) error {
	// The load tag adds the profiles (MOTCUA_LOAD_PPROF) and nothing else.
	cmd := exec.CommandContext(ctx, "go", "build", "-tags", "load", "-o", out, "./cmd/motcua")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("build motcua (run from the module's root, or give --motcua): %w", err)
	}
	return nil
}

// freeAddr returns a loopback address with a port free now.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// backendArgs are the arguments that choose the portal's records and
// uploads, for every portal command.
func (c *cluster) backendArgs() []string {
	args := []string{"--data-dir", c.dataDir}
	if c.db != "" {
		args = append(args, "--db", c.db)
	}
	if c.uploads != "" {
		args = append(args, "--uploads", c.uploads)
	}
	return args
}

func (c *cluster) spawn(name string, args []string, env ...string) (*proc, error) {
	logf, err := os.Create(filepath.Join(c.work, name+".log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = append(os.Environ(), env...)
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, done: make(chan struct{})}
	go func() {
		cmd.Wait()
		logf.Close()
		close(p.done)
	}()
	return p, nil
}

// start starts n portal processes on the one set of records, and the
// proxy in front of them if n > 1, and waits until they answer.
func (c *cluster) start(ctx context.Context, n int) error {
	for i := range n {
		addr, err := freeAddr()
		if err != nil {
			return err
		}
		maddr, err := freeAddr()
		if err != nil {
			return err
		}
		args := append([]string{c.bin, "portal"}, c.backendArgs()...)
		args = append(args, "--listen", addr, "--metrics-listen", maddr, "--max-conns", strconv.Itoa(c.maxConns))
		if c.open {
			args = append(args, "--open-enrollment")
		}
		args = append(args, c.extra...)
		paddr, err := freeAddr()
		if err != nil {
			return err
		}
		p, err := c.spawn(fmt.Sprintf("portal-%d", i+1), args, "MOTCUA_LOAD_PPROF="+paddr)
		if err != nil {
			return err
		}
		p.url, p.metrics, p.pprof = "http://"+addr, "http://"+maddr, "http://"+paddr
		c.portals = append(c.portals, p)
		c.log.Info("portal started", "name", p.name, "pid", p.cmd.Process.Pid, "args", strings.Join(args[1:], " "))
		if err := waitHealthy(ctx, p); err != nil {
			return err
		}
	}
	c.url = c.portals[0].url
	if n == 1 {
		return nil
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	args := []string{self, "proxy", "--listen", addr}
	for _, p := range c.portals {
		args = append(args, "--backend", p.url)
	}
	if c.proxy, err = c.spawn("proxy", args); err != nil {
		return err
	}
	c.proxy.url = "http://" + addr
	c.url = c.proxy.url
	return waitHealthy(ctx, c.proxy)
}

// waitHealthy waits up to a minute for p's health check to answer 200.
func waitHealthy(ctx context.Context, p *proc) error {
	deadline := time.Now().Add(time.Minute)
	for {
		resp, err := http.Get(p.url + portalapi.PathHealth)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-p.done:
			return fmt.Errorf("%s exited before it answered (see its log): %v", p.name, p.cmd.ProcessState)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not answer its health check within a minute", p.name)
		}
	}
}

// stop stops every process with SIGTERM, as systemd would, and waits.
func (c *cluster) stop() {
	ps := c.portals
	if c.proxy != nil {
		ps = append([]*proc{c.proxy}, ps...)
	}
	for _, p := range ps {
		p.cmd.Process.Signal(syscall.SIGTERM)
	}
	for _, p := range ps {
		select {
		case <-p.done:
		case <-time.After(30 * time.Second):
			p.cmd.Process.Kill()
			<-p.done
		}
	}
}

// usages reads each process's CPU time and peak memory so far: the
// portals, the proxy and this process (the kiosks).
func (c *cluster) usages() ([]loadtest.Process, error) {
	var out []loadtest.Process
	ps := c.portals
	if c.proxy != nil {
		ps = append(append([]*proc(nil), ps...), c.proxy)
	}
	for _, p := range ps {
		u, err := loadtest.ReadUsage(p.cmd.Process.Pid)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p.name, err)
		}
		out = append(out, loadtest.Process{Name: p.name, PID: p.cmd.Process.Pid, Usage: u})
	}
	for _, g := range c.groups {
		u, err := loadtest.ReadServerUsage(g.pid)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", g.name, err)
		}
		out = append(out, loadtest.Process{Name: g.name, PID: g.pid, Usage: u})
	}
	u, err := loadtest.ReadUsage(os.Getpid())
	if err != nil {
		return nil, err
	}
	return append(out, loadtest.Process{Name: "kiosks (this process)", PID: os.Getpid(), Usage: u}), nil
}

// enrollCodes makes n one-time enrollment codes, each with `motcua portal
// enroll-code` as an operator makes them, two at a time.
func (c *cluster) enrollCodes(ctx context.Context, n int) ([]string, error) {
	codes := make([]string, n)
	err := parallel(ctx, n, 2, func(i int) error {
		args := append(append([]string{"portal"}, c.backendArgs()...), "--log-level", "warn", "enroll-code", "--ttl", "24h")
		out, err := exec.CommandContext(ctx, c.bin, args...).Output()
		if err != nil {
			return fmt.Errorf("enroll-code: %w", err)
		}
		code, _, _ := strings.Cut(string(out), "\n")
		if code = strings.TrimSpace(code); code == "" {
			return fmt.Errorf("enroll-code printed no code: %q", out)
		}
		codes[i] = code
		return nil
	})
	return codes, err
}

// records reads the portal's filings with `motcua portal list --json`.
func (c *cluster) records(ctx context.Context) ([]loadtest.Filed, error) {
	args := append(append([]string{"portal"}, c.backendArgs()...), "--log-level", "warn", "list", "--json")
	cmd := exec.CommandContext(ctx, c.bin, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("motcua portal list: %w: %s", err, stderr.Bytes())
	}
	var subs []struct {
		FileCode string `json:"file_code"`
		Key      string `json:"idempotency_key"`
		Device   string `json:"device_id"`
	}
	if err := json.Unmarshal(out, &subs); err != nil {
		return nil, fmt.Errorf("motcua portal list --json: %w", err)
	}
	filed := make([]loadtest.Filed, len(subs))
	for i, s := range subs {
		filed[i] = loadtest.Filed{Device: s.Device, Key: s.Key, FileCode: s.FileCode}
	}
	return filed, nil
}

// sizes returns the bytes of the records and of the uploads.
func (c *cluster) sizes(ctx context.Context) (db, uploads int64) {
	if c.db == "" {
		for _, suffix := range []string{"", "-wal", "-shm"} {
			if fi, err := os.Stat(filepath.Join(c.dataDir, "portal.db"+suffix)); err == nil {
				db += fi.Size()
			}
		}
	} else {
		db = pgSize(ctx, c.db)
	}
	switch {
	case c.uploads == "":
		uploads = dirSize(filepath.Join(c.dataDir, "uploads"))
	case c.bucket != nil:
		uploads = c.bucket(ctx)
	default:
		uploads = -1
	}
	return db, uploads
}

// pgSize asks PostgreSQL the size of the database, -1 if it cannot.
func pgSize(ctx context.Context, url string) int64 {
	db, err := pgdb.Connect(ctx, url)
	if err != nil {
		return -1
	}
	defer db.Close()
	var n int64
	if err := db.QueryRowContext(ctx, "SELECT pg_database_size(current_database())").Scan(&n); err != nil {
		return -1
	}
	return n
}

func dirSize(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}

// routes reads each portal's request duration histogram and adds them up
// per route: requests and mean time.
func (c *cluster) routes(ctx context.Context) []loadtest.Route {
	sums := map[string]float64{}
	counts := map[string]int64{}
	var order []string
	for _, p := range c.portals {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.metrics+"/metrics", nil)
		if err != nil {
			continue
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			c.log.Warn("metrics", "portal", p.name, "err", err)
			continue
		}
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			line := sc.Text()
			for _, suffix := range []string{"_sum", "_count"} {
				prefix := "motcua_portal_request_duration_seconds" + suffix + `{route="`
				rest, ok := strings.CutPrefix(line, prefix)
				if !ok {
					continue
				}
				route, val, ok := strings.Cut(rest, `"} `)
				if !ok {
					continue
				}
				v, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
				if err != nil {
					continue
				}
				if _, seen := counts[route]; !seen {
					order = append(order, route)
					counts[route] = 0
				}
				if suffix == "_sum" {
					sums[route] += v
				} else {
					counts[route] += int64(v)
				}
			}
		}
		resp.Body.Close()
	}
	var out []loadtest.Route
	for _, r := range order {
		if counts[r] == 0 {
			continue
		}
		out = append(out, loadtest.Route{Route: r, Count: counts[r],
			Mean: time.Duration(sums[r] / float64(counts[r]) * float64(time.Second))})
	}
	return out
}

// profile takes a CPU profile and a lock contention profile of each
// portal for d, into the work directory, and returns the files written. A
// portal built without the profiles (--motcua a release binary) has none.
func (c *cluster) profile(ctx context.Context, d time.Duration) []string {
	var mu sync.Mutex
	var files []string
	kinds := []string{"profile", "mutex"}
	parallel(ctx, len(c.portals)*len(kinds), len(c.portals)*len(kinds), func(i int) error {
		p, kind := c.portals[i/len(kinds)], kinds[i%len(kinds)]
		u := fmt.Sprintf("%s/debug/pprof/%s?seconds=%d", p.pprof, kind, int(d.Seconds()))
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			c.log.Warn("no profile (a portal built without -tags load?)", "portal", p.name, "err", err)
			return nil
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			c.log.Warn("no profile", "portal", p.name, "kind", kind, "status", resp.Status)
			return nil
		}
		name := filepath.Join(c.work, p.name+"."+map[string]string{"profile": "cpu", "mutex": "mutex"}[kind]+".pprof")
		f, err := os.Create(name)
		if err != nil {
			return err
		}
		if _, err := io.Copy(f, resp.Body); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
		mu.Lock()
		files = append(files, name)
		mu.Unlock()
		return nil
	})
	slices.Sort(files)
	return files
}

// top writes `go tool pprof -top` of each profile beside it.
func (c *cluster) top(ctx context.Context, files []string) {
	for _, f := range files {
		out, err := exec.CommandContext(ctx, "go", "tool", "pprof", "-top", "-nodecount=40", c.bin, f).Output()
		if err != nil {
			c.log.Warn("pprof -top", "profile", f, "err", err)
			continue
		}
		txt := strings.TrimSuffix(f, ".pprof") + ".top.txt"
		if err := os.WriteFile(txt, out, 0o644); err == nil {
			c.log.Info("portal CPU profile", "top", txt)
		}
	}
}
