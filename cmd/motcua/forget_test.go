package main

import (
	"bufio"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/motcua/motcua/internal/s3test"
)

// runPortal runs `motcua portal` with args on listen with its records in
// dir and returns its URL and a function that stops it (also run when the
// test ends).
func runPortal(t *testing.T, listen, dir string, args ...string) (string, func()) {
	t.Helper()
	// The tests' kiosks enroll without a code, from loopback.
	return runClosedPortal(t, listen, dir, append([]string{"--open-enrollment"}, args...)...)
}

// runClosedPortal is runPortal for a portal that asks kiosks for a code.
func runClosedPortal(t *testing.T, listen, dir string, args ...string) (string, func()) {
	t.Helper()
	if s3test.Wanted() && !slices.Contains(args, "--uploads") {
		// The run keeps the portals' uploads in S3 (MOTCUA_TEST_PORTAL_UPLOADS=s3).
		args = append(args, "--uploads", s3test.Bucket(t))
	}
	cmd := exec.Command(motcua, append([]string{"portal", "--listen", listen, "--data-dir", dir}, args...)...)
	cmd.Env = append(os.Environ(), "LANG=C.UTF-8")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stop := func() { cmd.Process.Kill(); cmd.Wait() }
	t.Cleanup(stop)
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if _, rest, ok := strings.Cut(sc.Text(), "listening on "); ok {
				found <- strings.Fields(rest)[0]
			}
		}
	}()
	select {
	case u := <-found:
		return u, stop
	case <-time.After(30 * time.Second):
		t.Fatal("the portal did not start")
	}
	return "", nil
}

// A portal restored from nothing at the same address issues ...-0001
// again. Doctor tells staff the portal changed identity; the next sync
// delivers again the files the new portal does not have (it used to leave
// them, and every new one, queued for ever), says so in its summary, and
// the kiosk's files carry the new portal's codes.
func TestPortalRestoredFromNothingGetsTheFilesAgain(t *testing.T) {
	portalURL, stop := runPortal(t, "127.0.0.1:0", t.TempDir())
	u, _ := url.Parse(portalURL)
	data := t.TempDir()
	form := writeFile(t, t.TempDir(), "f.json", cli(t, data, "", "procedures", "example", "1.001193").stdout)
	for range 2 {
		if r := cli(t, data, "", "submit", "--procedure", "1.001193", "--form", form); r.code != 0 {
			t.Fatal(r.stderr)
		}
	}
	if r := cli(t, data, "", "sync", "--once", "--portal", portalURL); r.code != 0 {
		t.Fatalf("sync: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	var before []queueRow
	mustJSON(t, cli(t, data, "", "queue", "--json").stdout, &before)
	stop()

	freshDir := t.TempDir()
	again, _ := runPortal(t, u.Host, freshDir)
	if again != portalURL {
		t.Fatalf("the new portal listens on %s, not %s", again, portalURL)
	}
	if r := cli(t, data, "", "submit", "--procedure", "1.001193", "--form", form); r.code != 0 {
		t.Fatal(r.stderr)
	}
	cfg := writeFile(t, t.TempDir(), "c.toml", fmt.Sprintf("devices = \"real\"\n[portal]\nurl = %q\n", portalURL))
	r := cliEnv(t, data, nil, "doctor", "--config", cfg)
	if line, hint := doctorLine(t, r.stdout, "portal"); !strings.HasPrefix(line, "FAIL portal: ") ||
		!strings.Contains(line, "changed identity") || len(hint) != 2 {
		t.Errorf("doctor after the reset: %q %q", line, hint)
	}

	r = cli(t, data, "", "sync", "--once", "--portal", portalURL)
	if r.code != 0 {
		t.Fatalf("sync after the reset: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	var sum struct {
		Delivered     int    `json:"delivered"`
		PortalChanged string `json:"portal_changed"`
	}
	mustJSON(t, r.stdout, &sum)
	if sum.Delivered != 3 || !strings.Contains(sum.PortalChanged, before[0].FileCode) {
		t.Errorf("sync summary %s", r.stdout)
	}
	var after []queueRow
	mustJSON(t, cli(t, data, "", "queue", "--json").stdout, &after)
	var subs []struct {
		FileCode       string `json:"file_code"`
		IdempotencyKey string `json:"idempotency_key"`
	}
	mustJSON(t, cli(t, freshDir, "", "portal", "list", "--json", "--data-dir", freshDir).stdout, &subs)
	codes := map[string]string{}
	for _, s := range subs {
		codes[s.IdempotencyKey] = s.FileCode
	}
	if len(after) != 3 || len(subs) != 3 {
		t.Fatalf("kiosk %+v, portal %+v", after, subs)
	}
	for _, a := range after {
		if a.State != "received" || a.FileCode == "" || a.FileCode != codes[a.IdempotencyKey] {
			t.Errorf("%s: %s %q, the portal has %q", a.IdempotencyKey, a.State, a.FileCode, codes[a.IdempotencyKey])
		}
	}
	if line, _ := doctorLine(t, cliEnv(t, data, nil, "doctor", "--config", cfg).stdout, "portal"); !strings.HasPrefix(line, "OK   portal: ") {
		t.Errorf("doctor after the re-delivery: %q", line)
	}
	if r := cli(t, data, "", "audit", "verify"); r.code != 0 {
		t.Fatal(r.stderr)
	}
}
