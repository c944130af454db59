package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/motcua/motcua/internal/pgtest"
	"github.com/motcua/motcua/internal/s3test"
	"github.com/motcua/motcua/sync/portalapi"
)

// portalBackendArgs are the flags that put a test's portal processes on
// the back ends the run asks for, one for them all: a fresh PostgreSQL
// database (MOTCUA_TEST_PORTAL_DB=postgres), a fresh bucket
// (MOTCUA_TEST_PORTAL_UPLOADS=s3); none for SQLite and uploads in the
// data directory.
func portalBackendArgs(t *testing.T) []string {
	t.Helper()
	var args []string
	if os.Getenv(pgtest.Env) == "postgres" {
		args = append(args, "--db", pgtest.New(t))
	}
	if s3test.Wanted() {
		args = append(args, "--uploads", s3test.Bucket(t))
	}
	return args
}

// roundRobin is a small reverse proxy in front of several portal
// processes. Each request of an upload goes to the process after the one
// that was sent its last request, so its creation, its HEADs and its
// PATCHes land on each process in turn however the two kiosks' requests
// interleave; other requests take turns. It keeps the Host the kiosk
// asked for, so the upload URLs the portals make lead back through it,
// and notes which processes answered each upload's requests.
type roundRobin struct {
	mu       sync.Mutex
	backends []*url.URL
	next     int
	last     map[string]int          // upload path -> process sent its last request
	reached  map[string]map[int]bool // upload path -> processes that answered
	srv      *httptest.Server
}

func newRoundRobin(t *testing.T, n int) *roundRobin {
	rr := &roundRobin{backends: make([]*url.URL, n), last: map[string]int{}, reached: map[string]map[int]bool{}}
	proxy := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			i, u := rr.pick(pr.In.URL.Path)
			pr.SetURL(u)
			pr.Out.Host = pr.In.Host
			pr.Out.Header.Set("X-Test-Process", strconv.Itoa(i))
		},
		ModifyResponse: func(resp *http.Response) error {
			i, _ := strconv.Atoi(resp.Request.Header.Get("X-Test-Process"))
			path := resp.Request.URL.Path
			creation := false
			if loc, err := url.Parse(resp.Header.Get("Location")); err == nil && resp.Request.Method == http.MethodPost {
				path, creation = loc.Path, true // a creation: the upload it made
			}
			if isUpload(path) {
				rr.mu.Lock()
				if rr.reached[path] == nil {
					rr.reached[path] = map[int]bool{}
				}
				rr.reached[path][i] = true
				if creation {
					rr.last[path] = i
				}
				rr.mu.Unlock()
			}
			return nil
		},
		// A killed process's requests fail as a dead link does.
		ErrorLog: log.New(io.Discard, "", 0),
	}
	rr.srv = httptest.NewServer(proxy)
	t.Cleanup(rr.srv.Close)
	return rr
}

func isUpload(path string) bool {
	return strings.HasPrefix(path, portalapi.PathUploads) && len(path) > len(portalapi.PathUploads)
}

// pick chooses the process for a request on path.
func (rr *roundRobin) pick(path string) (int, *url.URL) {
	rr.mu.Lock()
	defer rr.mu.Unlock()
	rr.next = (rr.next + 1) % len(rr.backends)
	i := rr.next
	if isUpload(path) {
		if last, ok := rr.last[path]; ok {
			i = (last + 1) % len(rr.backends)
		}
		rr.last[path] = i
	}
	return i, rr.backends[i]
}

func (rr *roundRobin) set(i int, backend string) {
	u, _ := url.Parse(backend)
	rr.mu.Lock()
	defer rr.mu.Unlock()
	rr.backends[i] = u
}

// cuttableLink puts a toxiproxy proxy with a bandwidth limit in front of
// target and returns its URL and the proxy, which Stop and Start cut and
// restore.
func cuttableLink(t *testing.T, target string, bytesPerMs int) (string, *toxiproxy.Proxy) {
	t.Helper()
	server := toxiproxy.NewServer(toxiproxy.NewMetricsContainer(prometheus.NewRegistry()), zerolog.Nop())
	u, _ := url.Parse(target)
	proxy := toxiproxy.NewProxy(server, "portals", "127.0.0.1:0", u.Host)
	if err := proxy.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(proxy.Stop)
	tx := fmt.Sprintf(`{"name":"bw","type":"bandwidth","stream":"upstream","attributes":{"rate":%d}}`, bytesPerMs)
	if _, err := proxy.Toxics.AddToxicJson(strings.NewReader(tx)); err != nil {
		t.Fatal(err)
	}
	return "http://" + proxy.Listen, proxy
}

// filedSub is a filed application as `motcua portal list --json` shows it.
type filedSub struct {
	FileCode       string `json:"file_code"`
	IdempotencyKey string `json:"idempotency_key"`
	DeviceID       string `json:"device_id"`
	State          string `json:"state"`
	Attachments    []struct {
		SHA256Received string `json:"sha256_received"`
	} `json:"attachments"`
}

// TestThreePortalProcessesBehindAProxyDeliverEachApplicationOnce runs
// three `motcua portal` processes on one data directory (and one database
// and one bucket when the run asks for PostgreSQL and S3) behind a
// round-robin proxy, so that every request of an upload may reach another
// process than the last. Two
// kiosks deliver through a slow link that is cut, their syncs are killed,
// and portal processes are killed with SIGKILL in the middle of uploads
// and started again. Every application is then filed exactly once, with
// its own bytes, and each kiosk's states are the portal's.
func TestThreePortalProcessesBehindAProxyDeliverEachApplicationOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns many processes")
	}
	portalDir := t.TempDir()
	args := append([]string{"--max-conns-per-addr", "0"}, portalBackendArgs(t)...)
	const processes = 3
	rr := newRoundRobin(t, processes)
	stops := make([]func(), processes)
	for i := range processes {
		// One at a time: the first makes the records and the key file.
		u, stop := runPortal(t, "127.0.0.1:0", portalDir, args...)
		rr.set(i, u)
		stops[i] = stop
	}
	// 100 KB/s per connection: each kiosk's 4 pages (about 800 KB) take
	// some 8 s, so the 15 rounds of kills (0.3 to 1.1 s each) fall in the
	// middle of uploads. At 400 KB/s they were done within 4 rounds on a
	// quiet machine, and the test said it did not test.
	link, cut := cuttableLink(t, rr.srv.URL, 100)

	type kiosk struct {
		data string
		sums map[string]bool
	}
	kiosks := make([]kiosk, 2)
	dir := t.TempDir()
	form := writeFile(t, dir, "f.json", cli(t, t.TempDir(), "", "procedures", "example", "1.001193").stdout)
	for k := range kiosks {
		kiosks[k] = kiosk{data: t.TempDir(), sums: map[string]bool{}}
		for i := range 4 {
			b := make([]byte, 100<<10+rand.IntN(200<<10))
			for j := range b {
				b[j] = byte(rand.Uint32())
			}
			page := filepath.Join(dir, fmt.Sprintf("scan-%d-%d.jpg", k, i))
			content := append([]byte("\xff\xd8\xff\xe0"), b...)
			os.WriteFile(page, content, 0o600)
			sum := sha256.Sum256(content)
			kiosks[k].sums[hex.EncodeToString(sum[:])] = true
			if r := cli(t, kiosks[k].data, "", "submit", "--procedure", "1.001193", "--form", form, "--attach", page); r.code != 0 {
				t.Fatal(r.stderr)
			}
		}
	}

	portalKills, syncKills := 0, 0
	for round := range 15 {
		var syncs []*exec.Cmd
		for _, k := range kiosks {
			cmd := exec.Command(motcua, "sync", "--once", "--portal", link, "--log-level", "error")
			cmd.Env = append(os.Environ(), "LANG=C.UTF-8", "MOTCUA_DATA_DIR="+k.data, "MOTCUA_CONFIG=", "MOTCUA_PORTAL=")
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			syncs = append(syncs, cmd)
		}
		time.Sleep(time.Duration(200+rand.IntN(500)) * time.Millisecond)
		// A portal process dies in the middle of whatever it was
		// receiving, and comes back.
		i := round % processes
		stops[i]()
		portalKills++
		u, stop := runPortal(t, "127.0.0.1:0", portalDir, args...)
		rr.set(i, u)
		stops[i] = stop
		if round%3 == 1 {
			cut.Stop() // every connection of the link is cut
			time.Sleep(100 * time.Millisecond)
			if err := cut.Start(); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(time.Duration(100+rand.IntN(400)) * time.Millisecond)
		for _, cmd := range syncs {
			cmd.Process.Kill()
			cmd.Wait()
			if !cmd.ProcessState.Success() {
				syncKills++
			}
		}
	}
	if syncKills < 10 {
		t.Fatalf("only %d syncs were killed before finishing: the test did not test", syncKills)
	}
	for _, k := range kiosks {
		if r := cli(t, k.data, "", "sync", "--once", "--portal", link, "--timeout", "3m"); r.code != 0 {
			t.Fatalf("final sync: %d\n%s%s", r.code, r.stdout, r.stderr)
		}
	}

	var subs []filedSub
	list := cli(t, portalDir, "", append([]string{"portal", "list", "--json", "--data-dir", portalDir}, args[2:]...)...)
	mustJSON(t, list.stdout, &subs)
	type key struct{ device, key string }
	byKey := map[key]int{}
	codes := map[string]bool{}
	for i, s := range subs {
		k := key{s.DeviceID, s.IdempotencyKey}
		if _, dup := byKey[k]; dup {
			t.Errorf("%s filed twice", s.IdempotencyKey)
		}
		if codes[s.FileCode] {
			t.Errorf("file code %s issued twice", s.FileCode)
		}
		byKey[k], codes[s.FileCode] = i, true
	}
	filed := 0
	for n, k := range kiosks {
		var rows []queueRow
		mustJSON(t, cli(t, k.data, "", "queue", "--json").stdout, &rows)
		for _, r := range rows {
			var s *filedSub
			for i := range subs {
				if subs[i].IdempotencyKey == r.IdempotencyKey && subs[i].FileCode == r.FileCode {
					s = &subs[i]
				}
			}
			switch {
			case s == nil:
				t.Errorf("kiosk %d: %s (%s) is not filed at the portal as the kiosk says", n, r.IdempotencyKey, r.FileCode)
			case s.State != string(r.State):
				t.Errorf("kiosk %d: %s is %s here and %s at the portal", n, r.FileCode, r.State, s.State)
			case len(s.Attachments) != 1 || !k.sums[s.Attachments[0].SHA256Received]:
				t.Errorf("kiosk %d: %s: the attachment's bytes differ at the portal: %+v", n, r.FileCode, s.Attachments)
			default:
				filed++
			}
		}
		if r := cli(t, k.data, "", "audit", "verify"); r.code != 0 {
			t.Errorf("kiosk %d: audit verify: %s", n, r.stderr)
		}
	}
	if len(subs) != filed || filed != 8 {
		t.Errorf("the portal filed %d submissions, %d of them the kiosks' 8 applications", len(subs), filed)
	}
	rr.mu.Lock()
	defer rr.mu.Unlock()
	// An upload that was cut is resumed with a HEAD and a PATCH, which the
	// proxy sends to two processes in turn, so at least one upload must
	// have been answered by two. How many were answered by all three
	// depends on where the kills fell (a CI machine once had none), so it
	// is only reported.
	several, all := 0, 0
	for _, ps := range rr.reached {
		if len(ps) > 1 {
			several++
		}
		if len(ps) == processes {
			all++
		}
	}
	if several == 0 {
		t.Errorf("no upload had its requests answered by more than one process: %v", rr.reached)
	}
	t.Logf("%d portal kills, %d sync kills; of %d uploads, %d were answered by several processes and %d by all %d", portalKills, syncKills, len(rr.reached), several, all, processes)
}
