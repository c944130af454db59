package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/motcua/motcua/agent/store"
	"github.com/motcua/motcua/sync/portalapi"
	"github.com/motcua/motcua/sync/uplink"
)

// countingLink is a reverse proxy in front of target that counts the upload
// bytes that reach it in request bodies.
func countingLink(t *testing.T, target string) (string, *atomic.Int64) {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	var n atomic.Int64
	proxy := httputil.NewSingleHostReverseProxy(u)
	proxy.ErrorLog = log.New(io.Discard, "", 0) // a killed client's cut is expected
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, portalapi.PathUploads) && r.Body != nil {
			r.Body = &countedBody{ReadCloser: r.Body, n: &n}
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, &n
}

type countedBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (c *countedBody) Read(p []byte) (int, error) {
	k, err := c.ReadCloser.Read(p)
	c.n.Add(int64(k))
	return k, err
}

// submitPages captures n applications of size bytes each in data and
// returns their payload in all.
func submitPages(t *testing.T, data string, n, size int) int64 {
	t.Helper()
	dir := t.TempDir()
	form := writeFile(t, dir, "f.json", cli(t, data, "", "procedures", "example", "1.001193").stdout)
	for i := range n {
		page := writeFile(t, dir, fmt.Sprintf("scan-%d.jpg", i), "\xff\xd8\xff\xe0"+strings.Repeat(strconv.Itoa(i), size-4))
		if r := cli(t, data, "", "submit", "--procedure", "1.001193", "--form", form, "--attach", page); r.code != 0 {
			t.Fatal(r.stderr)
		}
	}
	var rows []queueRow
	mustJSON(t, cli(t, data, "", "queue", "--json").stdout, &rows)
	var payload int64
	for _, r := range rows {
		payload += r.PayloadBytes
	}
	return payload
}

// waitDelivered waits until every application in data has a file code.
func waitDelivered(t *testing.T, data string) []queueRow {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		var rows []queueRow
		mustJSON(t, cli(t, data, "", "queue", "--json").stdout, &rows)
		done := len(rows) > 0
		for _, r := range rows {
			done = done && r.FileCode != ""
		}
		if done {
			return rows
		}
		if time.Now().After(deadline) {
			t.Fatalf("not delivered in time: %+v", rows)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// budgetUsed reads the data budget counted today in data.
func budgetUsed(t *testing.T, data string) int64 {
	t.Helper()
	st, err := store.Open(context.Background(), filepath.Join(data, store.FileName), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	_, used, err := uplink.BudgetUsed(context.Background(), st, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return used
}

// Two workers on one data directory, `run` and `sync --once`, each put
// the other's "sending" applications back in the queue and sent them again:
// the portal got the payload several times over and the daily budget
// counted far more than was sent. Now `sync --once` finds the delivery lock
// taken, names its holder and exits 1; run alone delivers, each byte once,
// and the budget counts exactly the bytes that crossed the wire.
func TestSyncBesideRunDoesNotSendTwiceNorCountTwice(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	portalURL, portalDir := startPortal(t)
	link, wire := countingLink(t, slowLink(t, portalURL, 300)) // 300 KB/s: uploads overlap the second worker
	data := t.TempDir()
	payload := submitPages(t, data, 3, 300_000)

	agent := startAgent(t, data, "--portal", link, "--daily-budget", "10MB", "--devices", "real")
	r := cli(t, data, "", "sync", "--once", "--portal", link, "--daily-budget", "10MB", "--timeout", "90s")
	pid := strconv.Itoa(agent.cmd.Process.Pid)
	if r.code != 1 || !strings.Contains(r.stderr, "pid "+pid) || !strings.Contains(r.stderr, "motcua run") ||
		!strings.Contains(r.stderr, "Một tiến trình motcua khác") {
		t.Errorf("sync --once beside run: exit %d, want 1 naming pid %s (motcua run) in English and Vietnamese:\n%s", r.code, pid, r.stderr)
	}
	rows := waitDelivered(t, data)
	agent.stop(t)

	var subs []struct {
		IdempotencyKey string `json:"idempotency_key"`
	}
	mustJSON(t, cli(t, portalDir, "", "portal", "list", "--json", "--data-dir", portalDir).stdout, &subs)
	if len(subs) != len(rows) {
		t.Errorf("the portal filed %d submissions for %d applications", len(subs), len(rows))
	}
	// Small applications share an upload that starts with their
	// compressed manifests: a few hundred bytes more, never a page twice.
	if got := wire.Load(); got < payload || got > payload+4<<10 {
		t.Errorf("%d upload bytes reached the portal for a payload of %d", got, payload)
	}
	if used := budgetUsed(t, data); used != wire.Load() {
		t.Errorf("the daily budget counts %d bytes; %d crossed the wire", used, wire.Load())
	}
	if r := cli(t, data, "", "audit", "verify"); r.code != 0 {
		t.Fatal(r.stderr)
	}
}

// A second run waits for the delivery lock while the first delivers, and
// takes over at once when the first is killed with SIGKILL: the kernel
// drops the lock with its holder, so nothing stale blocks delivery. Submit
// works meanwhile, and a waiting run or sync stops on SIGTERM.
func TestSecondRunTakesOverFromAKilledOne(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	portalURL, portalDir := startPortal(t)
	link := slowLink(t, portalURL, 200)
	data := t.TempDir()
	submitPages(t, data, 2, 400_000)

	first := startAgent(t, data, "--portal", link, "--devices", "real")
	second := startAgent(t, data, "--portal", link, "--devices", "real")
	if !strings.Contains(second.stdout, "pid "+strconv.Itoa(first.cmd.Process.Pid)) {
		t.Errorf("the second run does not say which process delivers:\n%s", second.stdout)
	}
	// Capturing needs no lock: submit works while a worker delivers.
	submitPages(t, data, 1, 50_000)
	// A run waiting for the lock stops on SIGTERM like any other.
	third := startAgent(t, data, "--portal", link, "--devices", "real")
	third.stop(t)
	// So does a sync that delivers until stopped.
	loop := startBlocked(t, data, "sync", "--portal", link)
	loop.waitSaid(t, "Waiting for it to stop")
	loop.cmd.Process.Signal(syscall.SIGTERM)
	if err := loop.cmd.Wait(); err != nil {
		t.Errorf("sync waiting for the lock, stopped: %v\n%s", err, loop.output())
	}
	first.cmd.Process.Kill()
	first.cmd.Wait()
	second.waitLog(t, "delivery lock taken")
	rows := waitDelivered(t, data)
	second.stop(t)
	var subs []struct {
		IdempotencyKey string `json:"idempotency_key"`
	}
	mustJSON(t, cli(t, portalDir, "", "portal", "list", "--json", "--data-dir", portalDir).stdout, &subs)
	if len(subs) != len(rows) {
		t.Errorf("the portal filed %d submissions for %d applications", len(subs), len(rows))
	}
	if r := cli(t, data, "", "sync", "--once", "--portal", link); r.code != 0 {
		t.Errorf("sync --once after run stopped: %d\n%s", r.code, r.stderr)
	}
}

// A worker killed mid-upload left its application's whole size booked
// against the daily budget, and the next worker booked what remained on top:
// the budget counted bytes that never left. The next worker now corrects
// the open booking to the portal's offset, so the budget counts what crossed
// the wire, once; only bytes in flight at the kill may differ.
func TestBudgetAfterAKilledUploadCountsWhatCrossedTheWire(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	portalURL, _ := startPortal(t)
	counted, wire := countingLink(t, portalURL)
	link := slowLink(t, counted, 200) // 200 KB/s: killed well before the end
	data := t.TempDir()
	payload := submitPages(t, data, 1, 1_000_000)

	// Killed twice: the second resumes from the portal's offset, ahead of
	// what the kiosk's database knows, and must not count the first's
	// bytes again.
	var killedAt []int64
	for _, at := range []int64{200_000, 500_000} {
		cmd := exec.Command(motcua, "sync", "--once", "--portal", link, "--daily-budget", "10MB", "--log-level", "error")
		cmd.Env = append(os.Environ(), "LANG=C.UTF-8", "MOTCUA_DATA_DIR="+data)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		deadline := time.Now().Add(30 * time.Second)
		for wire.Load() < at {
			if time.Now().After(deadline) {
				t.Fatalf("the upload did not get to %d bytes: %d", at, wire.Load())
			}
			time.Sleep(10 * time.Millisecond)
		}
		cmd.Process.Kill()
		cmd.Wait()
		killedAt = append(killedAt, wire.Load())
	}
	if killedAt[1] >= payload {
		t.Fatalf("the upload was complete (%d of %d bytes) before the kill: the test did not test", killedAt[1], payload)
	}
	if r := cli(t, data, "", "sync", "--once", "--portal", link, "--daily-budget", "10MB", "--timeout", "2m"); r.code != 0 {
		t.Fatalf("sync after the kill: %d\n%s", r.code, r.stderr)
	}
	used, sent := budgetUsed(t, data), wire.Load()
	const inFlight = 64 << 10
	if used < sent-inFlight || used > sent+inFlight {
		t.Errorf("the daily budget counts %d bytes; %d crossed the wire (%v at the kills, payload %d)", used, sent, killedAt, payload)
	}
	t.Logf("killed at %v bytes; %d crossed the wire in all, the budget counts %d", killedAt, sent, used)
}
