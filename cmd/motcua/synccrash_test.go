package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
)

// slowLink puts a toxiproxy proxy with a bandwidth limit in front of the
// portal at portalURL and returns the proxy's URL.
func slowLink(t *testing.T, portalURL string, bytesPerMs int) string {
	t.Helper()
	server := toxiproxy.NewServer(toxiproxy.NewMetricsContainer(prometheus.NewRegistry()), zerolog.Nop())
	u, _ := url.Parse(portalURL)
	proxy := toxiproxy.NewProxy(server, "portal", "127.0.0.1:0", u.Host)
	if err := proxy.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(proxy.Stop)
	tx := fmt.Sprintf(`{"name":"bw","type":"bandwidth","stream":"upstream","attributes":{"rate":%d}}`, bytesPerMs)
	if _, err := proxy.Toxics.AddToxicJson(strings.NewReader(tx)); err != nil {
		t.Fatal(err)
	}
	return "http://" + proxy.Listen
}

// TestSyncKilledManyTimes kills `motcua sync` with SIGKILL at random moments,
// over and over, while it uploads through a slow link, then lets one run
// finish. Each application is then filed exactly once, every attachment is
// byte-identical at the portal, and the local states equal the portal's.
func TestSyncKilledManyTimes(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns many processes")
	}
	portalURL, portalDir := startPortal(t)
	link := slowLink(t, portalURL, 400) // 400 KB/s: an upload spans many kills
	data := t.TempDir()
	dir := t.TempDir()
	form := writeFile(t, dir, "f.json", cli(t, data, "", "procedures", "example", "1.001193").stdout)
	sums := map[string]bool{}
	for i := 0; i < 6; i++ {
		b := make([]byte, 100<<10+rand.IntN(200<<10))
		for j := range b {
			b[j] = byte(rand.Uint32())
		}
		page := filepath.Join(dir, fmt.Sprintf("scan-%d.jpg", i))
		os.WriteFile(page, append([]byte("\xff\xd8\xff\xe0"), b...), 0o600)
		content, _ := os.ReadFile(page)
		sum := sha256.Sum256(content)
		sums[hex.EncodeToString(sum[:])] = true
		if r := cli(t, data, "", "submit", "--procedure", "1.001193", "--form", form, "--attach", page); r.code != 0 {
			t.Fatal(r.stderr)
		}
	}
	kills := 0
	for i := 0; i < 30; i++ {
		cmd := exec.Command(motcua, "sync", "--once", "--portal", link, "--log-level", "error")
		cmd.Env = append(os.Environ(), "LANG=C.UTF-8", "MOTCUA_DATA_DIR="+data)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(20+rand.IntN(400)) * time.Millisecond)
		cmd.Process.Kill()
		cmd.Wait()
		if !cmd.ProcessState.Success() {
			kills++
		}
	}
	if kills < 10 {
		t.Fatalf("only %d of 30 syncs were killed before finishing: the test did not test", kills)
	}
	if r := cli(t, data, "", "sync", "--once", "--portal", link, "--timeout", "2m"); r.code != 0 {
		t.Fatalf("final sync: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	var rows []queueRow
	mustJSON(t, cli(t, data, "", "queue", "--json").stdout, &rows)
	var subs []struct {
		FileCode       string `json:"file_code"`
		IdempotencyKey string `json:"idempotency_key"`
		State          string `json:"state"`
		Attachments    []struct {
			SHA256Received string `json:"sha256_received"`
		} `json:"attachments"`
	}
	mustJSON(t, cli(t, portalDir, "", "portal", "list", "--json", "--data-dir", portalDir).stdout, &subs)
	if len(subs) != len(rows) {
		t.Fatalf("the portal filed %d submissions for %d applications", len(subs), len(rows))
	}
	byKey := map[string]int{}
	for i, s := range subs {
		if _, dup := byKey[s.IdempotencyKey]; dup {
			t.Fatalf("%s filed twice", s.IdempotencyKey)
		}
		byKey[s.IdempotencyKey] = i
		if len(s.Attachments) != 1 || !sums[s.Attachments[0].SHA256Received] {
			t.Errorf("%s: attachment bytes differ at the portal: %+v", s.FileCode, s.Attachments)
		}
	}
	for _, r := range rows {
		i, ok := byKey[r.IdempotencyKey]
		if !ok || subs[i].FileCode != r.FileCode || subs[i].State != string(r.State) {
			t.Errorf("local %s %s %s does not match the portal", r.IdempotencyKey, r.FileCode, r.State)
		}
	}
	if r := cli(t, data, "", "audit", "verify"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	t.Logf("%d kills; %d applications filed once each", kills, len(subs))
}
